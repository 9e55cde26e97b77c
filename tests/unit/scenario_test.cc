// Tests of the scenario parser (src/sim/scenario.h): what good scenarios turn into, and that every
// kind of bad input is refused with the file, line and field path in the message.
#include "sim/scenario.h"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

namespace tamas::sim {
namespace {

using core::Channel;
using core::EmptyPolicy;
using core::Strategy;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr const char* kMinimal = R"(seed: 7
duration: 8h
warmup: 30m
queues:
  - {id: support, strategy: longest-idle, sl_seconds: 20}
agents:
  - {count: 12, prefix: s, queues: [support], skills: {support: 5}}
arrivals:
  - queue: support
    per_hour: 100
    handle: {dist: exponential, mean: 180s}
    patience: {dist: exponential, mean: 90s}
)";

TEST(ScenarioTest, MinimalExampleFromTheDocs) {
  Result<Scenario> r = parse_scenario(kMinimal, "min.yaml");
  ASSERT_TRUE(r.is_ok()) << r.message();
  const Scenario& s = *r;
  EXPECT_EQ(s.source, "min.yaml");
  EXPECT_EQ(s.seed, 7u);
  EXPECT_EQ(s.duration, hours(8));
  EXPECT_EQ(s.warmup, minutes(30));
  EXPECT_EQ(s.answer_delay.kind, Distribution::Kind::kFixed);
  EXPECT_EQ(s.answer_delay.mean, Duration::zero());
  ASSERT_EQ(s.queues.size(), 1u);
  EXPECT_EQ(s.queues[0].id, "support");
  EXPECT_EQ(s.queues[0].config.name, "support");
  EXPECT_EQ(s.queues[0].config.strategy, Strategy::kLongestIdle);
  EXPECT_EQ(s.queues[0].config.sl_threshold, seconds(20));
  ASSERT_EQ(s.agents.size(), 1u);
  EXPECT_EQ(s.agents[0].count, 12u);
  EXPECT_EQ(s.agents[0].prefix, "s");
  ASSERT_EQ(s.agents[0].queues.size(), 1u);
  EXPECT_EQ(s.agents[0].queues[0].queue, "support");
  EXPECT_EQ(s.agents[0].queues[0].tier, 1);
  ASSERT_EQ(s.agents[0].skills.size(), 1u);
  EXPECT_EQ(s.agents[0].skills[0].skill, "support");
  EXPECT_EQ(s.agents[0].skills[0].level, 5);
  EXPECT_FALSE(s.agents[0].shift.has_value());
  ASSERT_EQ(s.arrivals.size(), 1u);
  const ArrivalSpec& a = s.arrivals[0];
  EXPECT_EQ(a.name, "support");
  EXPECT_EQ(a.channel, Channel::kVoice);
  ASSERT_EQ(a.profile.size(), 1u);
  EXPECT_EQ(a.profile[0].from, Duration::zero());
  EXPECT_DOUBLE_EQ(a.profile[0].per_hour, 100);
  EXPECT_EQ(a.handle.kind, Distribution::Kind::kExponential);
  EXPECT_EQ(a.handle.mean, seconds(180));
  ASSERT_TRUE(a.patience.has_value());
  EXPECT_EQ(a.patience->mean, seconds(90));
}

TEST(ScenarioTest, EveryFieldIsRead) {
  constexpr const char* kFull = R"(
description: every field at least once
seed: 18446744073709551615
duration: 1h30m
answer_delay: {dist: lognormal, mean: 4s, sd: 2s}
no_answer_break: 2m
queues:
  - id: sales
    strategy: round-robin
    sl_seconds: 15.5
    wrap_up: 10s
    ring_timeout: 12s
    max_no_answer: 0
    retry_after: 250ms
    max_wait: 10m
    max_waiting: 40
    join_empty: no-agents-logged-in
    leave_empty: no-agents-available
    skills: {english: 3}
    escalation:
      - {after: 30s, action: next-tier}
      - {after: 60s, action: lower-skill, amount: 2}
      - {after: 90s, action: overflow, queue: support}
      - {after: 5m, action: exit, branch: voicemail}
  - {id: support, strategy: top-down}
agents:
  - count: 3
    prefix: a
    queues: [sales, {queue: support, tier: 2}]
    skills: {english: 7, french: 2}
    wrap_up: 0s
    capacity: {voice: 1, chat: 3}
    voice_exclusive: false
    shift: {from: 22h, to: 6h}
  - {count: 0, prefix: b, queues: [support]}
arrivals:
  - name: sales-chat
    queue: sales
    channel: chat
    priority: -3
    skills: {french: 1}
    profile:
      - {from: 0h, per_hour: 0}
      - {from: 9h, per_hour: 120.5}
      - {from: 17h30m, per_hour: 10}
    handle: {dist: fixed, value: 5m}
    patience: {dist: lognormal, mean: 2m, sd: 1m}
  - queue: support
    per_hour: 10
    handle: {dist: fixed, mean: 90}
  - queue: support
    per_hour: 1
    handle: {dist: exponential, mean: 1m}
)";
  Result<Scenario> r = parse_scenario(kFull, "full.yaml");
  ASSERT_TRUE(r.is_ok()) << r.message();
  const Scenario& s = *r;
  EXPECT_EQ(s.seed, 18446744073709551615ull);
  EXPECT_EQ(s.duration, minutes(90));
  EXPECT_EQ(s.answer_delay.kind, Distribution::Kind::kLognormal);
  EXPECT_EQ(s.answer_delay.mean, seconds(4));
  EXPECT_EQ(s.answer_delay.sd, seconds(2));
  EXPECT_EQ(s.no_answer_break, minutes(2));
  const core::QueueConfig& c = s.queues[0].config;
  EXPECT_EQ(c.strategy, Strategy::kRoundRobin);
  EXPECT_EQ(c.sl_threshold, milliseconds(15500));
  EXPECT_EQ(c.wrap_up, seconds(10));
  EXPECT_EQ(c.ring_timeout, seconds(12));
  EXPECT_EQ(c.max_no_answer, 0u);
  EXPECT_EQ(c.retry_after, milliseconds(250));
  EXPECT_EQ(c.max_wait, minutes(10));
  EXPECT_EQ(c.max_waiting, 40u);
  EXPECT_EQ(c.join_empty, EmptyPolicy::kNoAgentsLoggedIn);
  EXPECT_EQ(c.leave_empty, EmptyPolicy::kNoAgentsAvailable);
  ASSERT_EQ(s.queues[0].skills.size(), 1u);
  EXPECT_EQ(s.queues[0].skills[0].skill, "english");
  EXPECT_EQ(s.queues[0].skills[0].level, 3);
  const auto& e = s.queues[0].escalation;
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ(e[0].action, core::EscalationStep::Action::kNextTier);
  EXPECT_EQ(e[0].after, seconds(30));
  EXPECT_EQ(e[0].amount, 1);
  EXPECT_EQ(e[1].action, core::EscalationStep::Action::kLowerSkill);
  EXPECT_EQ(e[1].amount, 2);
  EXPECT_EQ(e[2].action, core::EscalationStep::Action::kOverflow);
  EXPECT_EQ(e[2].overflow_queue, "support");
  EXPECT_EQ(e[3].action, core::EscalationStep::Action::kExit);
  EXPECT_EQ(e[3].branch, "voicemail");
  EXPECT_EQ(s.queues[1].config.strategy, Strategy::kLinear);  // "top-down" is an alias

  const AgentGroupSpec& g = s.agents[0];
  ASSERT_EQ(g.queues.size(), 2u);
  EXPECT_EQ(g.queues[1].queue, "support");
  EXPECT_EQ(g.queues[1].tier, 2);
  EXPECT_EQ(g.skills.size(), 2u);
  ASSERT_TRUE(g.wrap_up.has_value());
  EXPECT_EQ(*g.wrap_up, Duration::zero());
  EXPECT_EQ(g.capacity[static_cast<size_t>(Channel::kVoice)], 1);
  EXPECT_EQ(g.capacity[static_cast<size_t>(Channel::kChat)], 3);
  EXPECT_EQ(g.capacity[static_cast<size_t>(Channel::kEmail)], 0);  // unlisted channels: none
  EXPECT_FALSE(g.voice_exclusive);
  ASSERT_TRUE(g.shift.has_value());
  EXPECT_EQ(g.shift->from, hours(22));
  EXPECT_EQ(g.shift->to, hours(6));
  EXPECT_EQ(s.agents[1].count, 0u);
  EXPECT_EQ(s.agents[1].capacity, core::AgentConfig{}.capacity);

  const ArrivalSpec& a = s.arrivals[0];
  EXPECT_EQ(a.name, "sales-chat");
  EXPECT_EQ(a.channel, Channel::kChat);
  EXPECT_EQ(a.priority, -3);
  ASSERT_EQ(a.profile.size(), 3u);
  EXPECT_EQ(a.profile[1].from, hours(9));
  EXPECT_DOUBLE_EQ(a.profile[1].per_hour, 120.5);
  EXPECT_EQ(a.profile[2].from, minutes(17 * 60 + 30));
  EXPECT_EQ(a.handle.kind, Distribution::Kind::kFixed);
  EXPECT_EQ(a.handle.mean, minutes(5));
  EXPECT_EQ(a.patience->kind, Distribution::Kind::kLognormal);
  EXPECT_EQ(s.arrivals[1].name, "support");
  EXPECT_EQ(s.arrivals[1].handle.mean, seconds(90));
  EXPECT_FALSE(s.arrivals[1].patience.has_value());
  EXPECT_EQ(s.arrivals[2].name, "support#2");
}

TEST(ScenarioTest, AnswerDelayMayBeAPlainDuration) {
  std::string yaml = kMinimal;
  yaml += "answer_delay: 3s\n";
  Result<Scenario> r = parse_scenario(yaml, "x.yaml");
  ASSERT_TRUE(r.is_ok()) << r.message();
  EXPECT_EQ(r->answer_delay.kind, Distribution::Kind::kFixed);
  EXPECT_EQ(r->answer_delay.mean, seconds(3));
}

// ---- Bad scenarios ------------------------------------------------------------------------------

struct BadCase {
  const char* name;
  std::string yaml;
  int line;             // expected in the message as "bad.yaml:<line>: "
  const char* path;     // the field path, right after the line
  const char* message;  // a part of what follows
};

// kMinimal with its line `line` (1-based) replaced by `text` (which may span several lines).
std::string edit(int line, const std::string& text) {
  std::string out;
  size_t start = 0;
  for (int i = 1; start <= std::string(kMinimal).size(); ++i) {
    std::string_view all(kMinimal);
    size_t end = all.find('\n', start);
    if (end == std::string_view::npos) break;
    out += (i == line) ? text : std::string(all.substr(start, end - start));
    out += '\n';
    start = end + 1;
  }
  return out;
}

std::string append(const std::string& text) { return std::string(kMinimal) + text; }

std::vector<BadCase> bad_cases() {
  return {
      {"UnknownStrategy", edit(5, "  - {id: support, strategy: longest, sl_seconds: 20}"), 5,
       "queues[0].strategy", "unknown strategy 'longest' (expected one of longest-idle, ring-all"},
      {"UnknownTopLevelKey", edit(1, "sed: 7"), 1, "sed", "unknown field (expected one of"},
      {"UnknownQueueKey", edit(5, "  - {id: support, stratgy: linear}"), 5, "queues[0].stratgy",
       "unknown field"},
      {"UnknownAgentKey", edit(7, "  - {count: 12, prefix: s, queue: [support]}"), 7,
       "agents[0].queue", "unknown field"},
      {"UnknownArrivalKey", edit(10, "    perhour: 100"), 10, "arrivals[0].perhour",
       "unknown field"},
      {"UnknownDistributionKey", edit(11, "    handle: {dist: exponential, mean: 180s, sd: 3s}"),
       11, "arrivals[0].handle.sd", "only for dist: lognormal"},
      {"DuplicateKey", edit(1, "seed: 7\nseed: 8"), 2, "seed", "given twice (first at line 1)"},
      {"MissingDuration", edit(2, "# no duration"), 1, "duration", "required field is missing"},
      {"MissingQueueId", edit(5, "  - {strategy: linear}"), 5, "queues[0].id",
       "required field is missing"},
      {"MissingHandle", edit(11, "    # no handle"), 9, "arrivals[0].handle",
       "required field is missing"},
      {"MissingRate", edit(10, "    # no rate"), 9, "arrivals[0].per_hour",
       "give per_hour or profile"},
      {"BothRates", edit(10, "    per_hour: 100\n    profile: [{from: 0h, per_hour: 3}]"), 11,
       "arrivals[0].profile", "either per_hour or profile"},
      {"MissingAgentCount", edit(7, "  - {prefix: s, queues: [support]}"), 7, "agents[0].count",
       "required field is missing"},
      {"SeedNotANumber", edit(1, "seed: seven"), 1, "seed",
       "expected a non-negative integer, got 'seven'"},
      {"DurationNotADuration", edit(2, "duration: 8 hours"), 2, "duration",
       "'8 hours' is not a duration"},
      {"ZeroDuration", edit(2, "duration: 0s"), 2, "duration", "must be longer than 0"},
      {"WarmupTooLong", edit(3, "warmup: 8h"), 3, "warmup", "must be shorter than duration (8h)"},
      {"QueuesNotAList", edit(5, "  support"), 5, "queues", "expected a list of queues"},
      {"EmptyQueues", edit(5, "  []"), 5, "queues", "expected a list of queues, got an empty list"},
      {"DuplicateQueue", edit(5, "  - {id: support}\n  - {id: support}"), 6, "queues[1].id",
       "duplicate queue id 'support' (first at line 5)"},
      {"SlNotANumber", edit(5, "  - {id: support, sl_seconds: soon}"), 5, "queues[0].sl_seconds",
       "expected a number from 0 to 86400, got 'soon'"},
      {"NegativeSl", edit(5, "  - {id: support, sl_seconds: -1}"), 5, "queues[0].sl_seconds",
       "expected a number"},
      {"UnknownEmptyPolicy", edit(5, "  - {id: support, join_empty: never}"), 5,
       "queues[0].join_empty", "unknown empty policy 'never' (expected one of ignore, "},
      {"ZeroRingTimeout", edit(5, "  - {id: support, ring_timeout: 0s}"), 5,
       "queues[0].ring_timeout", "must be longer than 0"},
      {"SkillLevelTooHigh",
       edit(7,
            "  - {count: 12, prefix: s, queues: [support], skills: "
            "{support: 11}}"),
       7, "agents[0].skills.support", "expected an integer from 1 to 10, got '11'"},
      {"QueueSkillsNotAMap", edit(5, "  - {id: support, skills: [support]}"), 5, "queues[0].skills",
       "expected a mapping of skill names to levels"},
      {"UnknownEscalationAction",
       edit(5, "  - id: support\n    escalation:\n      - {after: 30s, action: later}"), 7,
       "queues[0].escalation[0].action", "unknown action 'later' (expected one of next-tier,"},
      {"EscalationWithoutAfter",
       edit(5, "  - id: support\n    escalation:\n      - {action: next-tier}"), 7,
       "queues[0].escalation[0].after", "required field is missing"},
      {"OverflowWithoutQueue",
       edit(5, "  - id: support\n    escalation:\n      - {after: 1m, action: overflow}"), 7,
       "queues[0].escalation[0].queue", "required field is missing"},
      {"OverflowToUnknownQueue",
       edit(5,
            "  - id: support\n    escalation:\n      - {after: 1m, action: overflow, queue: "
            "sales}"),
       7, "queues[0].escalation[0].queue", "no queue 'sales' (queues: support)"},
      {"OverflowToItself",
       edit(5,
            "  - id: support\n    escalation:\n      - {after: 1m, action: overflow, queue: "
            "support}"),
       7, "queues[0].escalation[0].queue", "cannot overflow into itself"},
      {"QueueOnNextTier",
       edit(5,
            "  - id: support\n    escalation:\n      - {after: 1m, action: next-tier, queue: "
            "support}"),
       7, "queues[0].escalation[0].queue", "only for action: overflow"},
      {"AgentInUnknownQueue", edit(7, "  - {count: 12, prefix: s, queues: [support, sales]}"), 7,
       "agents[0].queues[1]", "no queue 'sales'"},
      {"AgentTierZero", edit(7, "  - {count: 2, prefix: s, queues: [{queue: support, tier: 0}]}"),
       7, "agents[0].queues[0].tier", "expected an integer from 1 to 255, got '0'"},
      {"AgentQueueTwice", edit(7, "  - {count: 2, prefix: s, queues: [support, support]}"), 7,
       "agents[0].queues[1]", "listed twice"},
      {"AgentWithoutQueues", edit(7, "  - {count: 2, prefix: s, queues: []}"), 7,
       "agents[0].queues", "got an empty list"},
      {"NegativeCount", edit(7, "  - {count: -1, prefix: s, queues: [support]}"), 7,
       "agents[0].count", "expected an integer from 0 to 100000, got '-1'"},
      {"CollidingPrefixes",
       edit(7,
            "  - {count: 12, prefix: s, queues: [support]}\n  - {count: 2, prefix: s1, "
            "queues: [support]}"),
       8, "agents[1].prefix", "agent name 's11' is also made by the group at line 7"},
      {"UnknownCapacityChannel",
       edit(7, "  - {count: 2, prefix: s, queues: [support], capacity: {fax: 1}}"), 7,
       "agents[0].capacity",
       "unknown channel 'fax' (expected one of voice, chat, email, sms, "
       "callback)"},
      {"ShiftEndsWhenItStarts",
       edit(7, "  - {count: 2, prefix: s, queues: [support], shift: {from: 8h, to: 8h}}"), 7,
       "agents[0].shift.to", "must not end when it starts"},
      {"ShiftPastMidnight",
       edit(7, "  - {count: 2, prefix: s, queues: [support], shift: {from: 8h, to: 25h}}"), 7,
       "agents[0].shift.to", "before 24h"},
      {"ArrivalToUnknownQueue", edit(9, "  - queue: sales"), 9, "arrivals[0].queue",
       "no queue 'sales'"},
      {"UnknownChannel", edit(10, "    per_hour: 100\n    channel: pigeon"), 11,
       "arrivals[0].channel", "unknown channel 'pigeon'"},
      {"UnknownDistribution", edit(11, "    handle: {dist: normal, mean: 180s}"), 11,
       "arrivals[0].handle.dist", "unknown distribution 'normal' (expected one of exponential,"},
      {"LognormalWithoutSd", edit(11, "    handle: {dist: lognormal, mean: 180s}"), 11,
       "arrivals[0].handle.sd", "required field is missing"},
      {"ZeroMean", edit(12, "    patience: {dist: exponential, mean: 0s}"), 12,
       "arrivals[0].patience.mean", "must be longer than 0"},
      {"HandleNotAMap", edit(11, "    handle: 180s"), 11, "arrivals[0].handle",
       "expected a mapping with dist, mean, sd, value, got '180s'"},
      {"RateNegative", edit(10, "    per_hour: -5"), 10, "arrivals[0].per_hour",
       "expected a number from 0 to 1000000"},
      {"ProfileNotFromZero", edit(10, "    profile: [{from: 9h, per_hour: 3}]"), 10,
       "arrivals[0].profile[0].from", "the first interval must start at 0h"},
      {"ProfileOutOfOrder",
       edit(10,
            "    profile:\n      - {from: 0h, per_hour: 3}\n      - {from: 12h, per_hour: 4}\n"
            "      - {from: 9h, per_hour: 5}"),
       13, "arrivals[0].profile[2].from", "increasing order"},
      {"DuplicateArrivalName",
       append("  - {name: support, queue: support, per_hour: 1, handle: {dist: fixed, value: "
              "1s}}"),
       13, "arrivals[1].name", "duplicate arrival name 'support' (first at line 9)"},
      {"SyntaxError", edit(7, "  - {count: 12, prefix: s, queues: [support}"), 7, "",
       "YAML syntax error"},
      {"BadIndentation", edit(10, "  per_hour: 100"), 10, "", "YAML syntax error"},
      {"NotAMapping", "- just\n- a list\n", 1, "(top level)", "expected a mapping with duration"},
      {"EmptyFile", "", 1, "(top level)", "expected a mapping"},
  };
}

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

class BadScenarioTest : public testing::TestWithParam<BadCase> {};

TEST_P(BadScenarioTest, IsRefusedWithLineAndField) {
  const BadCase& c = GetParam();
  Result<Scenario> r = parse_scenario(c.yaml, "bad.yaml");
  ASSERT_FALSE(r.is_ok()) << "accepted:\n" << c.yaml;
  std::string prefix = "bad.yaml:" + std::to_string(c.line) + ": ";
  if (*c.path != '\0') prefix += std::string(c.path) + ": ";
  EXPECT_EQ(r.message().rfind(prefix, 0), 0u)
      << r.message() << "\nexpected to start with: " << prefix << "\n"
      << c.yaml;
  EXPECT_NE(r.message().find(c.message), std::string::npos)
      << r.message() << "\nexpected to contain: " << c.message;
}

INSTANTIATE_TEST_SUITE_P(All, BadScenarioTest, testing::ValuesIn(bad_cases()),
                         [](const testing::TestParamInfo<BadCase>& param) {
                           return std::string(param.param.name);
                         });

TEST(ScenarioTest, MissingFileSaysSo) {
  Result<Scenario> r = parse_scenario_file("/nonexistent/scenario.yaml");
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.message().find("/nonexistent/scenario.yaml"), std::string::npos) << r.message();
  EXPECT_NE(r.message().find("No such file"), std::string::npos) << r.message();
}

TEST(ScenarioTest, ShippedScenariosParse) {
  for (const char* file : {"config/demo-sim.yaml", "tests/data/sim/mmc.yaml"}) {
    Result<Scenario> r = parse_scenario_file(std::string(TAMAS_SOURCE_DIR) + "/" + file);
    EXPECT_TRUE(r.is_ok()) << r.message();
  }
}

TEST(ScenarioTest, BadFixtureNamesTheFileAndLine) {
  const std::string path = std::string(TAMAS_SOURCE_DIR) + "/tests/data/sim/bad-strategy.yaml";
  Result<Scenario> r = parse_scenario_file(path);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.message().rfind(path + ":6: queues[1].strategy: unknown strategy", 0), 0u)
      << r.message();
}

}  // namespace
}  // namespace tamas::sim
