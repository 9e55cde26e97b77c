// Black-box tests of `tamas sim`: runs the built binary (TAMAS_BINARY) on the shipped demo and on
// bad input, and checks the exit status, the JSON shape and sanity, and the error messages.
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "support/run_tamas.h"

extern char** environ;

namespace {

const std::string kSource = TAMAS_SOURCE_DIR;
const std::string kDemo = kSource + "/config/demo-sim.yaml";

using tamas::test::Outcome;

// Runs `tamas sim args...`.
Outcome run_sim(const std::vector<std::string>& args) {
  return tamas::test::run_tamas("sim", args);
}

// Writes `text` to a new temporary file and returns its path.
std::string temp_scenario(const std::string& text) {
  std::string path = testing::TempDir() + "tamas_sim_scenario_XXXXXX";
  const int fd = mkstemp(path.data());
  EXPECT_GE(fd, 0);
  EXPECT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  return path;
}

nlohmann::json parse_json(const Outcome& o) {
  nlohmann::json j = nlohmann::json::parse(o.out, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << "not JSON:\n" << o.out;
  return j;
}

TEST(CliSimTest, DemoAsJson) {
  Outcome o = run_sim({kDemo, "--json"});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.err, "");
  nlohmann::json j = parse_json(o);
  ASSERT_TRUE(j.is_object());
  ASSERT_TRUE(j.contains("queues") && j["queues"].is_object());
  for (const char* id : {"sales", "support"}) {
    ASSERT_TRUE(j["queues"].contains(id)) << j.dump(2);
  }
  uint64_t offered_total = 0;
  for (const auto& [id, q] : j["queues"].items()) {
    for (const char* key :
         {"offered", "answered", "abandoned", "service_level", "asa_seconds", "aht_seconds"}) {
      ASSERT_TRUE(q.contains(key) && q[key].is_number()) << id << "." << key;
    }
    const uint64_t offered = q["offered"], answered = q["answered"], abandoned = q["abandoned"];
    EXPECT_LE(answered, offered) << id;
    EXPECT_LE(answered + abandoned, offered) << id;
    const double sl = q["service_level"];
    EXPECT_GE(sl, 0.0) << id;
    EXPECT_LE(sl, 1.0) << id;
    EXPECT_GE(q["asa_seconds"].get<double>(), 0.0) << id;
    EXPECT_GT(q["aht_seconds"].get<double>(), 0.0) << id;
    offered_total += offered;
  }
  EXPECT_GT(offered_total, 1000u);  // a day of a busy center
  ASSERT_TRUE(j.contains("agents"));
  ASSERT_TRUE(j["agents"].contains("occupancy"));
  const double occupancy = j["agents"]["occupancy"];
  EXPECT_GT(occupancy, 0.0);
  EXPECT_LE(occupancy, 1.0);
  EXPECT_EQ(j["scenario"], kDemo);
}

TEST(CliSimTest, SameSeedSameOutputOtherSeedOther) {
  Outcome a = run_sim({kDemo, "--json"});
  Outcome b = run_sim({kDemo, "--json"});
  Outcome c = run_sim({kDemo, "--json", "--seed", "2"});
  ASSERT_EQ(a.status, 0) << a.err;
  ASSERT_EQ(b.status, 0) << b.err;
  ASSERT_EQ(c.status, 0) << c.err;
  nlohmann::json ja = parse_json(a), jb = parse_json(b), jc = parse_json(c);
  EXPECT_EQ(ja["queues"], jb["queues"]);
  EXPECT_EQ(ja["agents"], jb["agents"]);
  EXPECT_NE(ja["queues"], jc["queues"]);
  EXPECT_EQ(jc["seed"], 2);
}

TEST(CliSimTest, DemoAsTable) {
  Outcome o = run_sim({kDemo});
  ASSERT_EQ(o.status, 0) << o.err;
  for (const char* text : {"queue", "offered", "sales", "support", "occupancy", "all"}) {
    EXPECT_NE(o.out.find(text), std::string::npos) << text << " missing in\n" << o.out;
  }
}

TEST(CliSimTest, BadScenarioNamesFileAndLine) {
  const std::string path = kSource + "/tests/data/sim/bad-strategy.yaml";
  Outcome o = run_sim({path, "--json"});
  EXPECT_EQ(o.status, 2);
  EXPECT_EQ(o.out, "");
  EXPECT_NE(o.err.find(path + ":6: queues[1].strategy: unknown strategy 'longest'"),
            std::string::npos)
      << o.err;
}

TEST(CliSimTest, YamlSyntaxErrorNamesFileAndLine) {
  const std::string path = temp_scenario("duration: 1h\nqueues: [{id: q}\nagents: []\n");
  Outcome o = run_sim({path});
  std::remove(path.c_str());
  EXPECT_EQ(o.status, 2);
  EXPECT_NE(o.err.find(path + ":3: YAML syntax error"), std::string::npos) << o.err;
}

TEST(CliSimTest, MissingFile) {
  const std::string path = kSource + "/tests/data/sim/no-such-scenario.yaml";
  Outcome o = run_sim({path});
  EXPECT_EQ(o.status, 2);
  EXPECT_EQ(o.out, "");
  EXPECT_NE(o.err.find(path), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("No such file"), std::string::npos) << o.err;
}

TEST(CliSimTest, UsageErrors) {
  EXPECT_EQ(run_sim({}).status, 2);
  EXPECT_EQ(run_sim({kDemo, "--no-such-option"}).status, 2);
  EXPECT_EQ(run_sim({kDemo, "--seed", "minus-one"}).status, 2);
}

}  // namespace
