// Tests of the discrete-event simulator (src/sim/simulator.h) running the real core::Router:
// reproducibility from the seed, agreement with exact queueing theory (Erlang C for M/M/c, Erlang A
// for M/M/c+M, from src/wfm/erlang.h), and routing behaviour seen through whole simulated days.
//
// The long runs are scaled down under the sanitizers (several times slower); their tolerances then
// widen by the square root of the scale, as the statistical error of a run shrinks with the square
// root of its length.
#include "sim/simulator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "sim/scenario.h"
#include "wfm/erlang.h"

#if defined(__SANITIZE_ADDRESS__)
#define TAMAS_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define TAMAS_SANITIZED 1
#endif
#endif

namespace tamas::sim {
namespace {

// Measured hours of the Erlang C and Erlang A runs (each takes about 1-2 s in RelWithDebInfo).
#ifdef TAMAS_SANITIZED
constexpr int kErlangCHours = 1000;
constexpr int kErlangAHours = 500;
#else
constexpr int kErlangCHours = 4000;
constexpr int kErlangAHours = 2000;
#endif
// The tolerances below are set for the full lengths and widen as 1/sqrt(length) for shorter runs.
const double kWidenC = std::sqrt(4000.0 / kErlangCHours);
const double kWidenA = std::sqrt(2000.0 / kErlangAHours);

Scenario parse(const std::string& yaml) {
  Result<Scenario> r = parse_scenario(yaml, "test.yaml");
  EXPECT_TRUE(r.is_ok()) << r.message() << "\n" << yaml;
  return r.is_ok() ? *r : Scenario{};
}

SimResult run(const Scenario& s, SimObserver* observer = nullptr) {
  Result<SimResult> r = simulate(s, observer);
  EXPECT_TRUE(r.is_ok()) << r.message();
  return r.is_ok() ? *r : SimResult{};
}

// One queue of `agents` agents, Poisson arrivals, exponential talk time: M/M/c, or M/M/c+M with a
// mean patience. One hour of warm-up on top of `hours`.
std::string mmc(int hours, int agents, double per_hour, double aht_seconds,
                double patience_seconds = 0, uint64_t seed = 1) {
  std::string y = "seed: " + std::to_string(seed) + "\nduration: " + std::to_string(hours + 1) +
                  "h\nwarmup: 1h\n"
                  "queues:\n  - {id: q, sl_seconds: 20}\n"
                  "agents:\n  - {count: " +
                  std::to_string(agents) +
                  ", prefix: a, queues: [q]}\n"
                  "arrivals:\n  - queue: q\n    per_hour: " +
                  std::to_string(per_hour) +
                  "\n    handle: {dist: exponential, mean: " + std::to_string(aht_seconds) + "s}\n";
  if (patience_seconds > 0) {
    y += "    patience: {dist: exponential, mean: " + std::to_string(patience_seconds) + "s}\n";
  }
  return y;
}

// ---- Reproducibility ----------------------------------------------------------------------------

// Two queues, patience, lognormal talk, random answer delay, wrap-up, escalation: most code paths.
std::string busy_day(uint64_t seed) {
  return "seed: " + std::to_string(seed) + R"(
duration: 10h
warmup: 1h
answer_delay: {dist: lognormal, mean: 3s, sd: 2s}
queues:
  - id: sales
    wrap_up: 15s
    escalation: [{after: 40s, action: overflow, queue: support}]
  - {id: support, strategy: round-robin, max_wait: 60s}
agents:
  - {count: 6, prefix: s, queues: [sales]}
  - {count: 8, prefix: t, queues: [support, {queue: sales, tier: 2}]}
arrivals:
  - queue: sales
    per_hour: 90
    handle: {dist: lognormal, mean: 200s, sd: 120s}
    patience: {dist: exponential, mean: 100s}
  - queue: support
    per_hour: 120
    handle: {dist: exponential, mean: 180s}
    patience: {dist: lognormal, mean: 150s, sd: 60s}
)";
}

bool same(const core::QueueCounters& a, const core::QueueCounters& b) {
  return a.offered == b.offered && a.answered == b.answered &&
         a.answered_in_sl == b.answered_in_sl && a.abandoned == b.abandoned && a.left == b.left &&
         a.rejected == b.rejected && a.handled == b.handled && a.wait_answered == b.wait_answered &&
         a.wait_abandoned == b.wait_abandoned && a.handle_time == b.handle_time;
}

bool same(const core::AgentTimes& a, const core::AgentTimes& b) {
  return a.idle == b.idle && a.reserved == b.reserved && a.on_contact == b.on_contact &&
         a.wrap_up == b.wrap_up && a.on_break == b.on_break && a.handled == b.handled &&
         a.talk == b.talk;
}

bool same(const SimResult& a, const SimResult& b) {
  if (a.queues.size() != b.queues.size() || a.groups.size() != b.groups.size()) return false;
  for (size_t i = 0; i < a.queues.size(); ++i) {
    if (!same(a.queues[i].totals, b.queues[i].totals) ||
        a.queues[i].max_waiting != b.queues[i].max_waiting ||
        a.queues[i].max_wait != b.queues[i].max_wait) {
      return false;
    }
  }
  for (size_t i = 0; i < a.groups.size(); ++i) {
    if (!same(a.groups[i].totals, b.groups[i].totals)) return false;
  }
  return a.events == b.events && a.tasks_created == b.tasks_created;
}

TEST(SimulatorTest, SameSeedSameResults) {
  SimResult a = run(parse(busy_day(7)));
  SimResult b = run(parse(busy_day(7)));
  ASSERT_EQ(a.queues.size(), 2u);
  EXPECT_GT(a.queues[0].totals.offered, 700u);
  EXPECT_GT(a.queues[0].totals.abandoned, 0u);
  EXPECT_TRUE(same(a, b));
}

TEST(SimulatorTest, DifferentSeedDifferentResults) {
  SimResult a = run(parse(busy_day(7)));
  SimResult b = run(parse(busy_day(8)));
  EXPECT_FALSE(same(a, b));
  EXPECT_NE(a.tasks_created, b.tasks_created);
}

// Adding an unrelated queue with its own agents and callers changes nothing for the first queue:
// each arrival stream draws from its own random streams.
TEST(SimulatorTest, AddingAQueueLeavesTheOthersAlone) {
  const std::string base = mmc(20, 10, 150, 200, 120, 3);
  const std::string extended = base + R"(  - queue: other
    per_hour: 60
    handle: {dist: exponential, mean: 100s}
    patience: {dist: exponential, mean: 30s}
)";
  std::string with_queue = extended;
  with_queue.replace(with_queue.find("queues:\n"), 8, "queues:\n  - {id: other, sl_seconds: 10}\n");
  with_queue.replace(with_queue.find("agents:\n"), 8,
                     "agents:\n  - {count: 2, prefix: o, queues: [other]}\n");
  SimResult a = run(parse(base));
  SimResult b = run(parse(with_queue));
  ASSERT_EQ(a.queues.size(), 1u);
  ASSERT_EQ(b.queues.size(), 2u);
  EXPECT_EQ(a.arrivals[0].arrived, b.arrivals[0].arrived);
  EXPECT_TRUE(same(a.queues[0].totals, b.queues[1].totals));
  EXPECT_TRUE(same(a.groups[0].totals, b.groups[1].totals));
  EXPECT_GT(b.queues[0].totals.offered, 0u);
}

// The router's counters per queue and the simulator's own count of the commands it executed agree,
// and every task is accounted for: answered, abandoned, left, or still in the system at the end.
TEST(SimulatorTest, CountersAgreeWithTheCommands) {
  std::string yaml = busy_day(11);
  yaml.replace(yaml.find("warmup: 1h\n"), 11, "");  // count everything from the start
  SimResult r = run(parse(yaml));
  ASSERT_EQ(r.queues.size(), 2u);
  uint64_t offered = 0, accounted = 0;
  for (size_t i = 0; i < 2; ++i) {
    const core::QueueCounters& q = r.queues[i].totals;
    const StreamResult& st = r.arrivals[i];
    EXPECT_EQ(q.offered, st.offered) << r.queues[i].id;
    EXPECT_EQ(q.answered, st.answered) << r.queues[i].id;
    EXPECT_EQ(q.abandoned, st.abandoned) << r.queues[i].id;
    EXPECT_EQ(q.left, st.left) << r.queues[i].id;
    EXPECT_EQ(q.rejected, st.rejected) << r.queues[i].id;
    EXPECT_EQ(q.answered_in_sl, st.answered_in_sl) << r.queues[i].id;
    EXPECT_EQ(q.wait_answered, st.wait_answered) << r.queues[i].id;
    offered += q.offered;
    accounted += q.answered + q.abandoned + q.left;
  }
  EXPECT_GT(r.queues[1].totals.left, 0u);  // max_wait 60s on support
  EXPECT_EQ(offered, r.tasks_created);
  // Tasks still waiting or ringing at the end are neither answered nor gone.
  EXPECT_LE(accounted, offered);
  EXPECT_GE(accounted + r.tasks_in_system, offered);
}

// ---- Queueing theory ----------------------------------------------------------------------------

// M/M/29 at 25 erlangs (500 calls/h, 180 s): Erlang C gives SL(20 s) 0.7813, ASA 15.35 s.
// Tolerances: the spread between seeds was measured (12 runs of 300 h: SL sd 0.016, ASA sd 1.45 s;
// 8 runs of 4000 h: SL sd 0.0037, ASA sd 0.34 s, occupancy sd 0.001, means within one standard
// error of Erlang C). So 4000 hours, where SL within 0.015 and ASA within 10% are about four
// standard deviations: a correct router does not fail by chance, while an error the size of one
// agent (c = 28: SL 0.70, ASA 25 s) fails at once. 300 hours would not do: one standard deviation
// of ASA is then 10%.
TEST(SimulatorTest, MmcAgreesWithErlangC) {
  SimResult r = run(parse(mmc(kErlangCHours, 29, 500, 180)));
  ASSERT_EQ(r.queues.size(), 1u);
  Result<wfm::Staffing> exact = wfm::evaluate({500, 180, 20, std::nullopt}, 29);
  ASSERT_TRUE(exact.is_ok()) << exact.message();
  const QueueResult& q = r.queues[0];
  std::printf(
      "M/M/29, A=25, %d h: SL %.4f (Erlang C %.4f), ASA %.2f s (%.2f s), occupancy %.4f "
      "(%.4f), AHT %.1f s, %lu calls\n",
      kErlangCHours, q.service_level(), exact->service_level, q.asa_seconds(), exact->asa_seconds,
      r.occupancy(), exact->occupancy, q.aht_seconds(),
      static_cast<unsigned long>(q.totals.offered));
  const double calls = 500.0 * kErlangCHours;
  EXPECT_NEAR(static_cast<double>(q.totals.offered), calls, 5 * std::sqrt(calls));
  EXPECT_NEAR(q.service_level(), exact->service_level, 0.015 * kWidenC);
  EXPECT_NEAR(q.asa_seconds(), exact->asa_seconds, 0.10 * kWidenC * exact->asa_seconds);
  EXPECT_NEAR(q.aht_seconds(), 180, 0.01 * kWidenC * 180);
  EXPECT_NEAR(r.occupancy(), 25.0 / 29, 0.005 * kWidenC);
  EXPECT_EQ(q.totals.abandoned, 0u);
}

// M/M/24+M: 25 erlangs on 24 agents (overloaded: only abandonment keeps it stable), mean patience
// 2 min. Erlang A: 10.9% abandoned, SL 0.666, ASA 12.28 s, occupancy 0.928. Measured spread (12
// runs of 300 h): abandoned sd 0.0029, SL sd 0.0077, ASA sd 0.30 s; over 2000 hours these shrink
// by 2.6, so the tolerances (0.005, 0.015, 5%, 0.005) are four to five standard deviations.
TEST(SimulatorTest, MmcmAgreesWithErlangA) {
  SimResult r = run(parse(mmc(kErlangAHours, 24, 500, 180, 120)));
  Result<wfm::Staffing> exact = wfm::evaluate({500, 180, 20, 120.0}, 24);
  ASSERT_TRUE(exact.is_ok()) << exact.message();
  const QueueResult& q = r.queues[0];
  std::printf(
      "M/M/24+M, A=25, patience 120 s, %d h: abandoned %.4f (Erlang A %.4f), SL %.4f "
      "(%.4f), ASA %.2f s (%.2f s), occupancy %.4f (%.4f)\n",
      kErlangAHours, q.abandon_rate(), exact->abandon_probability, q.service_level(),
      exact->service_level, q.asa_seconds(), exact->asa_seconds, r.occupancy(), exact->occupancy);
  EXPECT_NEAR(q.abandon_rate(), exact->abandon_probability, 0.005 * kWidenA);
  EXPECT_NEAR(q.service_level(), exact->service_level, 0.015 * kWidenA);
  EXPECT_NEAR(q.asa_seconds(), exact->asa_seconds, 0.05 * kWidenA * exact->asa_seconds);
  EXPECT_NEAR(r.occupancy(), exact->occupancy, 0.005 * kWidenA);
}

// ---- Behaviour ----------------------------------------------------------------------------------

// Records who got which task after how long.
class Assignments : public SimObserver {
 public:
  struct Entry {
    std::string agent;
    Duration waited;
  };
  void on_command(TimePoint, const core::Command& c, const core::Router& router) override {
    if (const auto* a = std::get_if<core::TaskAssigned>(&c)) {
      entries.push_back({std::string(router.agent_name(a->agent)), a->waited});
    } else if (const auto* l = std::get_if<core::TaskLeftQueue>(&c)) {
      left.push_back(*l);
    }
  }
  std::vector<Entry> entries;
  std::vector<core::TaskLeftQueue> left;
};

// Two streams into one queue: the one with the higher priority is served first.
TEST(SimulatorTest, HigherPriorityWaitsLess) {
  Scenario s = parse(R"(
seed: 3
duration: 41h
warmup: 1h
queues: [{id: q}]
agents: [{count: 10, prefix: a, queues: [q]}]
arrivals:
  - {name: vip, queue: q, priority: 10, per_hour: 40, handle: {dist: exponential, mean: 180s}}
  - {name: rest, queue: q, per_hour: 150, handle: {dist: exponential, mean: 180s}}
)");
  SimResult r = run(s);
  ASSERT_EQ(r.arrivals.size(), 2u);
  const StreamResult& vip = r.arrivals[0];
  const StreamResult& rest = r.arrivals[1];
  std::printf("priority: vip ASA %.1f s SL %.3f, rest ASA %.1f s SL %.3f\n", vip.asa_seconds(),
              vip.service_level(), rest.asa_seconds(), rest.service_level());
  EXPECT_GT(rest.asa_seconds(), 10.0);
  EXPECT_LT(vip.asa_seconds(), rest.asa_seconds() / 3);
  EXPECT_GT(vip.service_level(), rest.service_level());
  // The streams add up to the router's count for the queue.
  EXPECT_EQ(vip.answered + rest.answered, r.queues[0].totals.answered);
}

// Tier-2 members are offered a task only after the next-tier step has opened their tier.
TEST(SimulatorTest, TierTwoOnlyAfterEscalation) {
  auto yaml = [](const std::string& escalation) {
    return R"(
seed: 5
duration: 20h
queues:
  - {id: q)" +
           escalation +
           R"(}
agents:
  - {count: 5, prefix: first, queues: [q]}
  - {count: 5, prefix: second, queues: [{queue: q, tier: 2}]}
arrivals:
  - {queue: q, per_hour: 100, handle: {dist: exponential, mean: 180s}}
)";
  };
  Assignments seen;
  SimResult r = run(parse(yaml(", escalation: [{after: 30s, action: next-tier}]")), &seen);
  size_t second = 0;
  for (const auto& e : seen.entries) {
    if (e.agent.starts_with("second")) {
      ++second;
      EXPECT_GE(e.waited, std::chrono::seconds(30)) << e.agent;
    }
  }
  EXPECT_GT(second, 50u);  // 5 erlangs on 5 agents: many wait 30 s
  EXPECT_GT(r.groups[1].totals.handled, 0u);

  SimResult without = run(parse(yaml("")));
  EXPECT_EQ(without.groups[1].totals.handled, 0u);
  EXPECT_GT(without.groups[0].totals.handled, 0u);
}

// An overflow step lets the other queue's agents take the task, after the given wait.
TEST(SimulatorTest, OverflowAfterItsDelay) {
  Assignments seen;
  SimResult r = run(parse(R"(
duration: 20h
queues:
  - {id: sales, escalation: [{after: 45s, action: overflow, queue: support}]}
  - {id: support}
agents:
  - {count: 3, prefix: sales, queues: [sales]}
  - {count: 6, prefix: support, queues: [support]}
arrivals:
  - {queue: sales, per_hour: 70, handle: {dist: exponential, mean: 180s}}
  - {queue: support, per_hour: 40, handle: {dist: exponential, mean: 180s}}
)"),
                    &seen);
  size_t helped = 0;
  for (const auto& e : seen.entries) {
    if (e.agent.starts_with("support") && e.waited >= std::chrono::seconds(45)) ++helped;
  }
  EXPECT_GT(helped, 20u);
  EXPECT_LE(r.queues[0].max_wait, std::chrono::minutes(60));
}

// max_wait: callers leave the queue (TaskLeftQueue kTimeout) after waiting that long, counted as
// left, not abandoned.
TEST(SimulatorTest, MaxWaitMakesTasksLeave) {
  Assignments seen;
  SimResult r = run(parse(R"(
duration: 10h
queues: [{id: q, max_wait: 60s}]
agents: [{count: 2, prefix: a, queues: [q]}]
arrivals: [{queue: q, per_hour: 60, handle: {dist: exponential, mean: 180s}}]
)"),
                    &seen);
  const QueueResult& q = r.queues[0];
  EXPECT_GT(q.totals.left, 50u);
  EXPECT_EQ(q.totals.abandoned, 0u);
  EXPECT_EQ(q.totals.left, r.arrivals[0].left);
  ASSERT_FALSE(seen.left.empty());
  for (const auto& l : seen.left) {
    EXPECT_EQ(l.reason, core::LeaveReason::kTimeout);
    EXPECT_EQ(l.waited, std::chrono::seconds(60));
  }
  EXPECT_LE(q.max_wait, std::chrono::seconds(60));
}

// The answer delay is part of the wait (the caller hears ringing); wrap-up is part of the handle
// time and of the agents' busy time.
TEST(SimulatorTest, AnswerDelayAndWrapUp) {
  SimResult r = run(parse(R"(
duration: 20h
answer_delay: 4s
queues: [{id: q, wrap_up: 30s}]
agents: [{count: 20, prefix: a, queues: [q]}]
arrivals: [{queue: q, per_hour: 30, handle: {dist: fixed, value: 120s}}]
)"));
  const QueueResult& q = r.queues[0];
  EXPECT_NEAR(q.asa_seconds(), 4.0, 0.01);  // 20 agents for 1.25 erlangs: nobody queues
  EXPECT_NEAR(q.aht_seconds(), 150.0, 0.01);
  EXPECT_EQ(q.totals.answered_in_sl, q.totals.answered);
  // Busy = ring + talk + wrap-up = 154 s per call.
  const double busy = 154.0 * static_cast<double>(q.totals.handled);
  const double staffed = 20 * 20 * 3600.0;
  EXPECT_NEAR(r.occupancy(), busy / staffed, 0.002);
}

// Offers that ring out put agents on the router's "no answer" break; the simulated agents come
// back after no_answer_break, so the center keeps answering all day instead of dying out.
class Breaks : public SimObserver {
 public:
  void on_command(TimePoint now, const core::Command& c, const core::Router&) override {
    if (const auto* a = std::get_if<core::AgentChanged>(&c)) {
      if (a->status == core::AgentStatus::kBreak) {
        ++breaks;
        on_break_since[a->agent.value] = now;
      } else if (a->status == core::AgentStatus::kAvailable &&
                 on_break_since.count(a->agent.value) != 0) {
        EXPECT_EQ(now - on_break_since[a->agent.value], std::chrono::seconds(90));
        on_break_since.erase(a->agent.value);
        ++returns;
      }
    } else if (std::holds_alternative<core::TaskAssigned>(c)) {
      last_assigned = now;
    }
  }
  int breaks = 0, returns = 0;
  std::map<uint32_t, TimePoint> on_break_since;
  TimePoint last_assigned{};
};

TEST(SimulatorTest, AgentsComeBackFromNoAnswerBreak) {
  Breaks seen;
  SimResult r = run(parse(R"(
duration: 20h
answer_delay: {dist: lognormal, mean: 7s, sd: 6s}
no_answer_break: 90s
queues: [{id: q, ring_timeout: 10s, max_no_answer: 2}]
agents: [{count: 8, prefix: a, queues: [q]}]
arrivals:
  - {queue: q, per_hour: 80, handle: {dist: exponential, mean: 180s},
     patience: {dist: exponential, mean: 300s}}
)"),
                    &seen);
  EXPECT_GT(seen.breaks, 10);
  EXPECT_GE(seen.returns, seen.breaks - 8);
  EXPECT_GT(seen.last_assigned, kEpoch + std::chrono::hours(19));
  EXPECT_GT(r.queues[0].totals.answered, 1400u);
}

// A shift logs its agents in and out every day: staffed time is the shift's length.
TEST(SimulatorTest, ShiftsLogAgentsInAndOut) {
  SimResult r = run(parse(R"(
duration: 48h
queues: [{id: q}]
agents:
  - {count: 2, prefix: day, queues: [q], shift: {from: 8h, to: 16h}}
  - {count: 1, prefix: night, queues: [q], shift: {from: 22h, to: 2h}}
arrivals: [{queue: q, per_hour: 1, handle: {dist: fixed, value: 10s}}]
)"));
  ASSERT_EQ(r.groups.size(), 2u);
  // Two days x 8 hours x 2 agents, two days x 4 hours (22h-2h, the first night counting 0h-2h
  // and 22h-24h of day one, then 0h-2h and 22h-24h of day two).
  EXPECT_EQ(r.groups[0].totals.staffed(), std::chrono::hours(2 * 8 * 2));
  EXPECT_EQ(r.groups[1].totals.staffed(), std::chrono::hours(2 * 4));
}

// A profile makes arrivals follow the day: none at night, many in the peak.
TEST(SimulatorTest, ProfileShapesArrivals) {
  auto count = [](const char* profile) {
    std::string y = R"(
duration: 240h
queues: [{id: q}]
agents: [{count: 50, prefix: a, queues: [q]}]
arrivals:
  - queue: q
    handle: {dist: fixed, value: 1s}
    profile: )";
    return run(parse(y + profile + "\n")).arrivals[0].arrived;
  };
  // 10 days x (8 h x 100 + 4 h x 400) = 24,000 expected.
  const double n = static_cast<double>(
      count("[{from: 0h, per_hour: 0}, {from: 8h, per_hour: 100}, {from: 12h, per_hour: 400}, "
            "{from: 16h, per_hour: 100}, {from: 20h, per_hour: 0}]"));
  EXPECT_NEAR(n, 24000, 5 * std::sqrt(24000.0));
  EXPECT_EQ(count("[{from: 0h, per_hour: 0}]"), 0u);
}

// Queues may overflow into each other (the router takes escalation after all queues exist).
// Callers of `a` are served by `b`'s only agent once a's overflow step has passed, and vice versa.
TEST(SimulatorTest, QueuesOverflowIntoEachOther) {
  Scenario s = parse(R"(
duration: 20h
queues:
  - {id: a, escalation: [{after: 10s, action: overflow, queue: b}]}
  - {id: b, escalation: [{after: 10s, action: overflow, queue: a}]}
agents:
  - {count: 1, prefix: x, queues: [b]}
  - {count: 1, prefix: y, queues: [a]}
arrivals:
  - {queue: a, per_hour: 2, handle: {dist: fixed, value: 1s}}
  - {queue: b, per_hour: 2, handle: {dist: fixed, value: 1s}}
)");
  Result<SimResult> r = simulate(s);
  ASSERT_TRUE(r.is_ok()) << r.message();
  for (const auto& q : r->queues) {
    EXPECT_GT(q.totals.answered, 20u) << q.id;
    EXPECT_EQ(q.totals.answered, q.totals.offered) << q.id;
  }
}

// Errors of the run itself name the scenario: an overflow to a queue a Scenario built in code
// does not have is refused by the router, not silently dropped.
TEST(SimulatorTest, OverflowToAMissingQueueIsAnError) {
  Scenario s = parse(R"(
duration: 1h
queues:
  - {id: a}
  - {id: b}
agents: [{count: 1, prefix: x, queues: [a, b]}]
arrivals: [{queue: a, per_hour: 1, handle: {dist: fixed, value: 1s}}]
)");
  EscalationSpec step;
  step.after = std::chrono::seconds(10);
  step.action = core::EscalationStep::Action::kOverflow;
  step.overflow_queue = "nowhere";
  s.queues[1].escalation.push_back(step);
  Result<SimResult> r = simulate(s);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.message().rfind("test.yaml: simulation: ", 0), 0u) << r.message();
  EXPECT_NE(r.message().find("does not exist"), std::string::npos) << r.message();
}

}  // namespace
}  // namespace tamas::sim
