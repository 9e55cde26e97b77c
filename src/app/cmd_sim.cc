// `tamas sim`: runs a scenario through the discrete-event simulator and prints what the center
// would have measured, as tables or as one JSON object.
//
//   tamas sim SCENARIO.yaml [--json] [--seed N]
//
// The scenario format is in docs/simulator.md; the simulation is src/sim/simulator.h. This file
// only reads the options, runs, and prints. Exit status: 0 ok, 2 a scenario that cannot be read or
// is not valid (the message names file:line and field), 1 a failure during the run itself.
// Runs on the main thread; the wall-clock time it reports is only for the reader.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "app/commands.h"
#include "common/time.h"
#include "sim/scenario.h"
#include "sim/simulator.h"

namespace tamas::app {
namespace {

struct SimOptions {
  std::string scenario;
  bool json = false;
  std::optional<uint64_t> seed;
};

double hours(Duration d) { return to_seconds(d) / 3600.0; }

std::string percent(double fraction) { return fmt::format("{:.1f}%", 100.0 * fraction); }

nlohmann::json to_json(const sim::Scenario& s, const sim::SimResult& r, double wall_seconds) {
  nlohmann::json out;
  out["scenario"] = r.scenario;
  out["seed"] = r.seed;
  out["duration_hours"] = hours(s.duration);
  out["warmup_hours"] = hours(s.warmup);
  out["measured_hours"] = hours(r.measured);
  out["sim_seconds"] = wall_seconds;
  out["events"] = r.events;
  out["tasks_created"] = r.tasks_created;
  out["tasks_in_system_at_end"] = r.tasks_in_system;

  nlohmann::json queues = nlohmann::json::object();
  for (size_t i = 0; i < r.queues.size(); ++i) {
    const sim::QueueResult& q = r.queues[i];
    queues[q.id] = {
        {"offered", q.totals.offered},
        {"answered", q.totals.answered},
        {"answered_in_sl", q.totals.answered_in_sl},
        {"abandoned", q.totals.abandoned},
        {"left", q.totals.left},
        {"rejected", q.totals.rejected},
        {"handled", q.totals.handled},
        {"service_level", q.service_level()},
        {"sl_seconds", to_seconds(s.queues[i].config.sl_threshold)},
        {"asa_seconds", q.asa_seconds()},
        {"aht_seconds", q.aht_seconds()},
        {"abandon_rate", q.abandon_rate()},
        {"max_waiting", q.max_waiting},
        {"max_wait_seconds", to_seconds(q.max_wait)},
    };
  }
  out["queues"] = std::move(queues);

  nlohmann::json arrivals = nlohmann::json::object();
  for (const sim::StreamResult& a : r.arrivals) {
    arrivals[a.name] = {
        {"queue", a.queue},
        {"arrived", a.arrived},
        {"offered", a.offered},
        {"rejected", a.rejected},
        {"answered", a.answered},
        {"abandoned", a.abandoned},
        {"left", a.left},
        {"service_level", a.service_level()},
        {"asa_seconds", a.asa_seconds()},
    };
  }
  out["arrivals"] = std::move(arrivals);

  nlohmann::json groups = nlohmann::json::object();
  uint32_t count = 0;
  for (const sim::GroupResult& g : r.groups) {
    count += g.count;
    groups[g.prefix] = {
        {"count", g.count},
        {"handled", g.totals.handled},
        {"occupancy", g.occupancy()},
        {"staffed_hours", hours(g.totals.staffed())},
    };
  }
  out["agents"] = {
      {"occupancy", r.occupancy()},  {"count", count},
      {"handled", r.agents.handled}, {"staffed_hours", hours(r.agents.staffed())},
      {"groups", std::move(groups)},
  };
  return out;
}

void print_tables(const sim::Scenario& s, const sim::SimResult& r, double wall_seconds) {
  fmt::print("{}: seed {}, {} simulated", r.scenario, r.seed, format_duration(s.duration));
  if (s.warmup > Duration::zero()) {
    fmt::print(", statistics over the last {} (after {} of warm-up)", format_duration(r.measured),
               format_duration(s.warmup));
  }
  fmt::print("\n{} tasks, {} events in {:.2f} s\n\n", r.tasks_created, r.events, wall_seconds);

  fmt::print("{:<12} {:>8} {:>8} {:>9} {:>6} {:>8} {:>14} {:>7} {:>7} {:>8} {:>9}\n", "queue",
             "offered", "answered", "abandoned", "left", "rejected", "service level", "ASA", "AHT",
             "max wait", "max queue");
  for (size_t i = 0; i < r.queues.size(); ++i) {
    const sim::QueueResult& q = r.queues[i];
    const std::string sl =
        percent(q.service_level()) + " in " + format_duration(s.queues[i].config.sl_threshold);
    fmt::print("{:<12} {:>8} {:>8} {:>9} {:>6} {:>8} {:>14} {:>6.1f}s {:>6.0f}s {:>7.0f}s {:>9}\n",
               q.id, q.totals.offered, q.totals.answered, q.totals.abandoned, q.totals.left,
               q.totals.rejected, sl, q.asa_seconds(), q.aht_seconds(), to_seconds(q.max_wait),
               q.max_waiting);
  }

  if (r.arrivals.size() > 1 ||
      (r.arrivals.size() == 1 && r.arrivals[0].name != r.arrivals[0].queue)) {
    fmt::print("\n{:<16} {:<12} {:>8} {:>8} {:>9} {:>6} {:>7} {:>7}\n", "arrivals", "queue",
               "arrived", "answered", "abandoned", "left", "SL", "ASA");
    for (const sim::StreamResult& a : r.arrivals) {
      fmt::print("{:<16} {:<12} {:>8} {:>8} {:>9} {:>6} {:>7} {:>6.1f}s\n", a.name, a.queue,
                 a.arrived, a.answered, a.abandoned, a.left, percent(a.service_level()),
                 a.asa_seconds());
    }
  }

  fmt::print("\n{:<16} {:>6} {:>8} {:>9} {:>9}\n", "agents", "count", "handled", "staffed",
             "occupancy");
  uint32_t count = 0;
  for (const sim::GroupResult& g : r.groups) {
    count += g.count;
    fmt::print("{:<16} {:>6} {:>8} {:>8.1f}h {:>9}\n", g.prefix, g.count, g.totals.handled,
               hours(g.totals.staffed()), percent(g.occupancy()));
  }
  fmt::print("{:<16} {:>6} {:>8} {:>8.1f}h {:>9}\n", "all", count, r.agents.handled,
             hours(r.agents.staffed()), percent(r.occupancy()));
}

int run_sim(const SimOptions& o) {
  Result<sim::Scenario> scenario = sim::parse_scenario_file(o.scenario);
  if (!scenario) {
    fmt::print(stderr, "tamas sim: {}\n", scenario.message());
    return 2;
  }
  if (o.seed) scenario->seed = *o.seed;
  const auto started = std::chrono::steady_clock::now();
  Result<sim::SimResult> result = sim::simulate(*scenario);
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!result) {
    fmt::print(stderr, "tamas sim: {}\n", result.message());
    return 1;
  }
  if (o.json) {
    fmt::print("{}\n", to_json(*scenario, *result, wall).dump(2));
  } else {
    print_tables(*scenario, *result, wall);
  }
  return 0;
}

}  // namespace

void register_sim(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<SimOptions>();
  CLI::App* sim = app.add_subcommand(
      "sim", "Simulate a contact center scenario (YAML) through the routing engine");
  sim->add_option("scenario", options->scenario, "The scenario file (see docs/simulator.md)")
      ->required();
  sim->add_flag("--json", options->json, "Print one JSON object instead of tables");
  sim->add_option("--seed", options->seed, "Override the scenario's random seed");
  sim->callback([options, &exit_code] { exit_code = run_sim(*options); });
}

}  // namespace tamas::app
