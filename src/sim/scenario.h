// A simulation scenario: the queues, agents and traffic of a contact center, read from YAML.
//
// The format is documented field by field in docs/simulator.md. Parsing is strict: an unknown key,
// a missing required field, a value of the wrong type or out of range, or a name that refers to
// nothing is an error whose message names the file, the line and the field path, e.g.
//   scenario.yaml:7: queues[0].strategy: unknown strategy 'longest' (expected one of ...)
// The parsed Scenario is plain data; the simulator (simulator.h) turns it into a core::Router.
// No shared state: parse functions may be called from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "core/routing/router.h"

namespace tamas::sim {

// A random duration: handle time, patience, answer delay.
struct Distribution {
  enum class Kind : uint8_t { kExponential, kLognormal, kFixed };
  Kind kind = Kind::kFixed;
  Duration mean{};  // for kFixed: the value
  Duration sd{};    // kLognormal only
};

// From `from` (time of day) until the next segment's `from` (or the end of the day), tasks arrive
// at `per_hour` on average. The profile repeats every 24 hours; the first segment starts at 0h.
struct RateSegment {
  Duration from{};
  double per_hour = 0;
};

// A queue's skill requirement, an agent's skill, or a task's extra requirement, by skill name.
struct NamedSkill {
  std::string skill;
  uint8_t level = 1;  // 1..10: the agent's level, or the minimum level required
};

struct EscalationSpec {
  Duration after{};
  core::EscalationStep::Action action = core::EscalationStep::Action::kNextTier;
  uint8_t amount = 1;
  std::string overflow_queue;  // kOverflow only: the id of a queue in the scenario
  std::string branch;          // kExit only (may be empty)
};

struct QueueSpec {
  std::string id;
  // Every field but `name`, `skills` and `escalation` (given by name below) is used as is.
  core::QueueConfig config;
  std::vector<NamedSkill> skills;
  std::vector<EscalationSpec> escalation;
};

struct MembershipSpec {
  std::string queue;
  uint8_t tier = 1;
};

// Agents are logged in from `from` to `to` every day (to < from: across midnight).
struct Shift {
  Duration from{};
  Duration to{};
};

// `count` agents named <prefix>1 .. <prefix><count>, all alike.
struct AgentGroupSpec {
  std::string prefix;
  uint32_t count = 0;
  std::vector<MembershipSpec> queues;
  std::vector<NamedSkill> skills;
  std::optional<Duration> wrap_up;  // overrides the queues' wrap-up
  std::array<uint8_t, core::kChannelCount> capacity = core::AgentConfig{}.capacity;
  bool voice_exclusive = true;
  std::optional<Shift> shift;  // unset: logged in the whole time
};

// One stream of arriving tasks (a Poisson process, possibly with a daily profile).
struct ArrivalSpec {
  std::string name;  // unique; defaults to the queue id (then "<queue>#2", ...)
  std::string queue;
  core::Channel channel = core::Channel::kVoice;
  int32_t priority = 0;
  std::vector<NamedSkill> skills;        // on top of the queue's
  std::vector<RateSegment> profile;      // `per_hour: N` is one segment from 0h
  Distribution handle;                   // talk time (wrap-up comes on top, from the queue/agent)
  std::optional<Distribution> patience;  // unset: callers never abandon
};

struct Scenario {
  std::string source;  // the file (or display name) it was read from, for messages and reports
  uint64_t seed = 1;
  Duration duration{};        // simulated time from kEpoch, warm-up included
  Duration warmup{};          // statistics are reset at this time
  Distribution answer_delay;  // ring time before an agent answers; fixed 0 by default
  // An agent the router put on break for letting offers ring out (QueueConfig::max_no_answer)
  // makes itself available again after this long.
  Duration no_answer_break = std::chrono::minutes(1);
  std::vector<QueueSpec> queues;
  std::vector<AgentGroupSpec> agents;
  std::vector<ArrivalSpec> arrivals;
};

// Reads and validates a scenario file. Fails with "<path>: cannot read ..." when the file cannot
// be opened, otherwise with "<path>:<line>: <field>: <what was expected>".
Result<Scenario> parse_scenario_file(const std::string& path);

// The same from text already in memory; `display_name` stands for the file name in messages.
Result<Scenario> parse_scenario(std::string_view yaml, std::string_view display_name);

std::string_view to_string(Distribution::Kind k);
std::string_view to_string(core::EscalationStep::Action a);

}  // namespace tamas::sim
