// Black-box tests of `tamas erlang`: runs the built binary (TAMAS_BINARY) and checks its exit
// status, its stderr messages and the JSON it prints, against figures computed here
// independently (Erlang C from factorial sums).
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "support/run_tamas.h"

extern char** environ;

namespace {

using tamas::test::Outcome;

// Runs `tamas erlang args...`.
Outcome run_erlang(const std::vector<std::string>& args) {
  return tamas::test::run_tamas("erlang", args);
}

// Erlang C service level and ASA at c agents from the textbook formula (factorials).
struct ErlangC {
  double wait, service_level, asa;
};
ErlangC erlang_c(int c, double load, double aht, double t) {
  long double term = 1, below = 0;
  for (int k = 0; k < c; ++k) {
    below += term;
    term = term * load / (k + 1);
  }
  const long double top = term * c / (c - load);
  const double wait = static_cast<double>(top / (below + top));
  return {wait, 1 - wait * std::exp(-(c - load) * t / aht), wait * aht / (c - load)};
}

const std::vector<std::string> kUsual = {"--calls-per-hour", "100", "--aht",       "180",
                                         "--sl-seconds",     "20",  "--sl-target", "80%"};

std::vector<std::string> with(std::vector<std::string> base, std::vector<std::string> more) {
  base.insert(base.end(), more.begin(), more.end());
  return base;
}

TEST(CliErlang, JsonForErlangCMatchesTheTextbookFormula) {
  const Outcome o = run_erlang(with(kUsual, {"--json"}));
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.err, "");
  const nlohmann::json j = nlohmann::json::parse(o.out);
  ASSERT_TRUE(j.is_object());
  // 100 calls/h × 180 s = 5 erlangs: the first c > 5 whose SL reaches 80%.
  int expected = 6;
  while (erlang_c(expected, 5, 180, 20).service_level < 0.8) ++expected;
  const ErlangC ref = erlang_c(expected, 5, 180, 20);
  EXPECT_EQ(j.at("model"), "erlang-c");
  EXPECT_DOUBLE_EQ(j.at("offered_load_erlangs").get<double>(), 5.0);
  EXPECT_EQ(j.at("agents").get<int>(), expected);
  EXPECT_NEAR(j.at("service_level").get<double>(), ref.service_level, 1e-9);
  EXPECT_NEAR(j.at("asa_seconds").get<double>(), ref.asa, 1e-9);
  EXPECT_NEAR(j.at("wait_probability").get<double>(), ref.wait, 1e-9);
  EXPECT_NEAR(j.at("occupancy").get<double>(), 5.0 / expected, 1e-12);
  EXPECT_FALSE(j.contains("abandon_probability"));
}

TEST(CliErlang, TargetAsFractionOrPercent) {
  const Outcome percent = run_erlang(with(kUsual, {"--json"}));
  std::vector<std::string> args = kUsual;
  args.back() = "0.8";
  const Outcome fraction = run_erlang(with(args, {"--json"}));
  ASSERT_EQ(fraction.status, 0) << fraction.err;
  EXPECT_EQ(percent.out, fraction.out);
}

TEST(CliErlang, JsonForErlangAHasAbandonment) {
  const Outcome o = run_erlang(with(kUsual, {"--patience", "90", "--json", "--from", "1"}));
  ASSERT_EQ(o.status, 0) << o.err;
  const nlohmann::json j = nlohmann::json::parse(o.out);
  EXPECT_EQ(j.at("model"), "erlang-a");
  for (const char* key : {"agents", "service_level", "asa_seconds", "occupancy", "wait_probability",
                          "abandon_probability", "offered_load_erlangs"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  const int agents = j.at("agents").get<int>();
  const double abandon = j.at("abandon_probability").get<double>();
  EXPECT_GT(abandon, 0);
  EXPECT_LT(abandon, 0.2);
  EXPECT_GE(j.at("service_level").get<double>(), 0.8);
  // What is answered is what keeps agents busy: occupancy · c = A · (1 − P(abandon)).
  EXPECT_NEAR(j.at("occupancy").get<double>() * agents, 5 * (1 - abandon), 1e-9);
  // The rows (asked for by --from) show one agent fewer missing the target: the fewest.
  const nlohmann::json& rows = j.at("rows");
  ASSERT_GE(static_cast<int>(rows.size()), agents);
  EXPECT_EQ(rows.at(0).at("agents"), 1);
  EXPECT_LT(rows.at(static_cast<size_t>(agents - 2)).at("service_level").get<double>(), 0.8);
  EXPECT_EQ(rows.at(static_cast<size_t>(agents - 1)).at("service_level"), j.at("service_level"));
  // Abandonment lets fewer agents than Erlang C reach the same target here (at most as many).
  const Outcome c = run_erlang(with(kUsual, {"--json"}));
  EXPECT_LE(agents, nlohmann::json::parse(c.out).at("agents").get<int>());
}

TEST(CliErlang, TableMarksTheAnswer) {
  const Outcome o = run_erlang(kUsual);
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_NE(o.out.find("Erlang C"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("-> 8 agents"), std::string::npos) << o.out;
  // The marked row is the one for 8 agents, and only it is marked.
  std::istringstream lines(o.out);
  std::string line;
  int marked = 0;
  while (std::getline(lines, line)) {
    if (!line.empty() && line[0] == '>') {
      ++marked;
      std::istringstream fields(line.substr(1));
      int agents = 0;
      fields >> agents;
      EXPECT_EQ(agents, 8) << line;
    }
  }
  EXPECT_EQ(marked, 1) << o.out;
  // Asked for rows below the stable count, it says why they have no figures.
  const Outcome low = run_erlang(with(kUsual, {"--from", "4", "--to", "9"}));
  ASSERT_EQ(low.status, 0) << low.err;
  EXPECT_NE(low.out.find("grows without bound"), std::string::npos) << low.out;
}

TEST(CliErlang, BadInputExitsTwoNamingTheOption) {
  struct Case {
    std::vector<std::string> args;
    std::string option;
  };
  const std::vector<Case> cases = {
      {{"--aht", "180", "--sl-seconds", "20", "--sl-target", "0.8"}, "--calls-per-hour"},
      {{"--calls-per-hour", "-3", "--aht", "180", "--sl-seconds", "20", "--sl-target", "0.8"},
       "--calls-per-hour"},
      {{"--calls-per-hour", "100", "--aht", "abc", "--sl-seconds", "20", "--sl-target", "0.8"},
       "--aht"},
      {{"--calls-per-hour", "100", "--aht", "0", "--sl-seconds", "20", "--sl-target", "0.8"},
       "--aht"},
      {{"--calls-per-hour", "100", "--aht", "nan", "--sl-seconds", "20", "--sl-target", "0.8"},
       "--aht"},
      {{"--calls-per-hour", "100", "--aht", "180", "--sl-seconds", "-1", "--sl-target", "0.8"},
       "--sl-seconds"},
      {{"--calls-per-hour", "100", "--aht", "180", "--sl-seconds", "20", "--sl-target", "150%"},
       "--sl-target"},
      {{"--calls-per-hour", "100", "--aht", "180", "--sl-seconds", "20", "--sl-target", "0"},
       "--sl-target"},
      {{"--calls-per-hour", "100", "--aht", "180", "--sl-seconds", "20", "--sl-target", "80"},
       "--sl-target"},
      {with(kUsual, {"--patience", "-5"}), "--patience"},
      {with(kUsual, {"--from", "0"}), "--from"},
      {with(kUsual, {"--from", "9", "--to", "3"}), "--from"},
      {with(kUsual, {"--to", "many"}), "--to"},
  };
  for (const Case& k : cases) {
    std::string joined;
    for (const std::string& a : k.args) joined += a + " ";
    const Outcome o = run_erlang(k.args);
    EXPECT_EQ(o.status, 2) << joined;
    EXPECT_NE(o.err.find(k.option), std::string::npos) << joined << "\n" << o.err;
    EXPECT_EQ(o.out, "") << joined;
  }
}

}  // namespace
