// `tamas erlang`: how many agents one queue needs, by Erlang C, or by Erlang A when a mean
// patience is given. Prints a table of agent counts around the answer, or one JSON object.
// The math is in src/wfm/erlang.h; this file only reads options, checks them and prints.
//
//   tamas erlang --calls-per-hour 100 --aht 180 --sl-seconds 20 --sl-target 80% [--patience 90]
//                [--json] [--from N] [--to M]
//
// --sl-target takes a fraction (0.8) or a percentage (80%); a bare number above 1 is refused
// rather than guessed at. Exit status: 0 ok, 2 bad options or a target that cannot be met.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "app/commands.h"
#include "common/status.h"
#include "wfm/erlang.h"

namespace tamas::app {
namespace {

// Rows shown around the answer unless --from/--to say otherwise, and the most rows allowed.
constexpr int kRowsBelow = 3;
constexpr int kRowsAbove = 5;
constexpr int kMaxRows = 10'000;

struct ErlangOptions {
  // Kept as text and parsed here, so an error can say which option and what it expected.
  std::string calls_per_hour;
  std::string aht;
  std::string sl_seconds;
  std::string sl_target;
  std::string patience;
  std::string from;
  std::string to;
  bool json = false;
};

std::string in_quotes(std::string_view text) { return "'" + std::string(text) + "'"; }

// A finite number spelled entirely by `text` (no trailing garbage, no "inf" or "nan").
std::optional<double> parse_double(std::string_view text) {
  double value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

// `option` must hold a number > 0 (or >= 0 when `zero_ok`); `what` says what it counts.
Result<double> parse_amount(const char* option, const std::string& text, const char* what,
                            bool zero_ok) {
  auto value = parse_double(text);
  if (!value || *value < 0 || (!zero_ok && *value == 0)) {
    return Status::error(std::string(option) + ": expected " +
                         (zero_ok ? "a number >= 0" : "a number > 0") + " (" + what + "), got " +
                         in_quotes(text));
  }
  return *value;
}

// "0.8" or "80%": above 0 and below 1 (100%).
Result<double> parse_target(const std::string& text) {
  std::string_view t = text;
  const bool percent = !t.empty() && t.back() == '%';
  if (percent) t.remove_suffix(1);
  auto value = parse_double(t);
  if (value && percent) *value /= 100;
  if (!value || !(*value > 0 && *value < 1)) {
    return Status::error(
        "--sl-target: expected a fraction above 0 and below 1 (e.g. 0.8) or a percentage "
        "above 0% and below 100% (e.g. 80%), got " +
        in_quotes(text));
  }
  return *value;
}

Result<int> parse_agents(const char* option, const std::string& text) {
  int value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value < 1 || value > wfm::kMaxAgents) {
    return Status::error(std::string(option) + ": expected a whole number of agents from 1 to " +
                         std::to_string(wfm::kMaxAgents) + ", got " + in_quotes(text));
  }
  return value;
}

nlohmann::json to_json(const wfm::Staffing& s, bool erlang_a) {
  nlohmann::json j = {{"agents", s.agents},
                      {"service_level", s.service_level},
                      {"asa_seconds", s.asa_seconds},
                      {"occupancy", s.occupancy},
                      {"wait_probability", s.wait_probability}};
  if (erlang_a) j["abandon_probability"] = s.abandon_probability;
  return j;
}

std::string percent(double fraction) { return fmt::format("{:.1f}%", 100 * fraction); }

// Checks and runs; returns the exit status.
int run(const ErlangOptions& o) {
  auto fail = [](const std::string& message) {
    fmt::print(stderr, "tamas erlang: {}\n", message);
    return 2;
  };
  wfm::Workload w;
  auto rate = parse_amount("--calls-per-hour", o.calls_per_hour, "calls per hour", false);
  if (!rate) return fail(rate.message());
  w.calls_per_hour = *rate;
  auto aht = parse_amount("--aht", o.aht, "mean handle time in seconds", false);
  if (!aht) return fail(aht.message());
  w.aht_seconds = *aht;
  auto sl_seconds = parse_amount("--sl-seconds", o.sl_seconds, "seconds", true);
  if (!sl_seconds) return fail(sl_seconds.message());
  w.sl_seconds = *sl_seconds;
  auto target = parse_target(o.sl_target);
  if (!target) return fail(target.message());
  if (!o.patience.empty()) {
    auto patience = parse_amount("--patience", o.patience, "mean patience in seconds", true);
    if (!patience) return fail(patience.message());
    w.patience_seconds = *patience;
  }
  std::optional<int> from, to;
  if (!o.from.empty()) {
    auto v = parse_agents("--from", o.from);
    if (!v) return fail(v.message());
    from = *v;
  }
  if (!o.to.empty()) {
    auto v = parse_agents("--to", o.to);
    if (!v) return fail(v.message());
    to = *v;
  }
  if (from && to && *from > *to) {
    return fail(fmt::format("--from ({}) must not be above --to ({})", *from, *to));
  }
  if (from && to && *to - *from >= kMaxRows) {
    return fail(fmt::format("--from/--to: at most {} rows, got {}", kMaxRows, *to - *from + 1));
  }

  if (wfm::offered_load(w) > wfm::kMaxOfferedLoad) {
    return fail(fmt::format(
        "--calls-per-hour × --aht / 3600 is an offered load of {:g} erlangs, above the {:g} "
        "this calculator supports",
        wfm::offered_load(w), wfm::kMaxOfferedLoad));
  }

  auto answer = wfm::required_agents(w, *target);
  if (!answer) return fail(answer.message());
  const bool erlang_a = w.patience_seconds.has_value();
  const double load = wfm::offered_load(w);

  // The rows: around the answer, or as asked (a missing end is filled in, same number of rows).
  const bool ranged = from || to;
  int first = 0, last = 0;
  if (!ranged) {
    first = std::max(wfm::min_agents(w), answer->agents - kRowsBelow);
    last = std::min(wfm::kMaxAgents, answer->agents + kRowsAbove);
  } else if (!to) {
    first = *from;
    last = std::min(wfm::kMaxAgents, first + kRowsBelow + kRowsAbove);
  } else if (!from) {
    last = *to;
    first = std::max(std::min(wfm::min_agents(w), last), last - kRowsBelow - kRowsAbove);
  } else {
    first = *from;
    last = *to;
  }

  if (o.json) {
    nlohmann::json j = to_json(*answer, erlang_a);
    j["model"] = erlang_a ? "erlang-a" : "erlang-c";
    j["offered_load_erlangs"] = load;
    if (ranged) {
      nlohmann::json rows = nlohmann::json::array();
      for (int c = first; c <= last; ++c) {
        auto s = wfm::evaluate(w, c);
        if (s) {
          rows.push_back(to_json(*s, erlang_a));
        } else {
          rows.push_back({{"agents", c}, {"error", s.message()}});
        }
      }
      j["rows"] = std::move(rows);
    }
    fmt::print("{}\n", j.dump(2));
    return 0;
  }

  fmt::print("{} for {:g} calls/h, AHT {:g} s{}: offered load {:.2f} erlangs\n",
             erlang_a ? "Erlang A" : "Erlang C", w.calls_per_hour, w.aht_seconds,
             erlang_a ? fmt::format(", mean patience {:g} s", *w.patience_seconds) : "", load);
  fmt::print("Target: {:g}% of calls answered within {:g} s -> {} agents\n\n", 100 * *target,
             w.sl_seconds, answer->agents);
  fmt::print("  {:>8}  {:>13}  {:>9}  {:>9}  {:>8}{}\n", "agents", "service level", "ASA (s)",
             "occupancy", "P(wait)", erlang_a ? "  abandoned" : "");
  for (int c = first; c <= last; ++c) {
    const char* mark = c == answer->agents ? ">" : " ";
    auto s = wfm::evaluate(w, c);
    if (!s) {
      fmt::print("{} {:>8}  {}\n", mark, c,
                 !erlang_a && c <= load ? "too few: the queue grows without bound" : s.message());
      continue;
    }
    fmt::print("{} {:>8}  {:>13}  {:>9.1f}  {:>9}  {:>8}{}\n", mark, c, percent(s->service_level),
               s->asa_seconds, percent(s->occupancy), percent(s->wait_probability),
               erlang_a ? fmt::format("  {:>9}", percent(s->abandon_probability)) : "");
  }
  return 0;
}

}  // namespace

void register_erlang(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<ErlangOptions>();
  CLI::App* cmd = app.add_subcommand(
      "erlang", "Agents needed for a service-level target (Erlang C, or Erlang A with --patience)");
  cmd->add_option("--calls-per-hour", options->calls_per_hour, "Offered calls per hour")
      ->required()
      ->type_name("RATE");
  cmd->add_option("--aht", options->aht, "Mean handle time (talk + hold + wrap-up), seconds")
      ->required()
      ->type_name("SECONDS");
  cmd->add_option("--sl-seconds", options->sl_seconds, "Service-level threshold T, seconds")
      ->required()
      ->type_name("SECONDS");
  cmd->add_option("--sl-target", options->sl_target,
                  "Share of offered calls to answer within T: a fraction (0.8) or a percentage "
                  "(80%)")
      ->required()
      ->type_name("TARGET");
  cmd->add_option("--patience", options->patience,
                  "Mean patience of waiting callers, seconds: switches to Erlang A (abandonment)")
      ->type_name("SECONDS");
  cmd->add_flag("--json", options->json, "Print one JSON object instead of a table");
  cmd->add_option("--from", options->from, "First agent count in the table")->type_name("N");
  cmd->add_option("--to", options->to, "Last agent count in the table")->type_name("M");
  // `exit_code` is main's, which outlives parsing; `options` is shared with this callback.
  cmd->callback([options, &exit_code] { exit_code = run(*options); });
}

}  // namespace tamas::app
