// Unit tests of the routing engine, driven with a manual clock.
#include "core/routing/router.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

namespace tamas::core {
namespace {

using namespace std::chrono_literals;

// A router, a manual clock and the commands it has sent, with helpers to read them.
class RouterTest : public ::testing::Test {
 protected:
  explicit RouterTest(RouterConfig cfg = {}) : r_(std::move(cfg)) {}

  QueueId queue(QueueConfig cfg) {
    auto q = r_.add_queue(std::move(cfg));
    EXPECT_TRUE(q.is_ok()) << q.message();
    return *q;
  }
  QueueId queue(const std::string& name, Strategy s = Strategy::kLongestIdle) {
    QueueConfig cfg;
    cfg.name = name;
    cfg.strategy = s;
    return queue(std::move(cfg));
  }
  AgentId agent(const std::string& name, std::vector<QueueMembership> queues,
                std::vector<std::pair<SkillId, uint8_t>> skills = {}) {
    AgentConfig cfg;
    cfg.name = name;
    cfg.queues = std::move(queues);
    cfg.skills = std::move(skills);
    return agent(std::move(cfg));
  }
  AgentId agent(AgentConfig cfg) {
    auto a = r_.add_agent(std::move(cfg));
    EXPECT_TRUE(a.is_ok()) << a.message();
    return *a;
  }

  void send(const Event& e) {
    Status s = r_.handle(e, now_, out_);
    ASSERT_TRUE(s.is_ok()) << s.message();
  }
  Status try_send(const Event& e) { return r_.handle(e, now_, out_); }
  void wait(Duration d) {
    now_ += d;
    r_.advance(now_, out_);
  }

  void login(AgentId a) { send(SetAgentStatus{a, AgentStatus::kAvailable, ""}); }
  // A supervisor's live change of an agent's queues (and skills) at the current time.
  Status update(AgentId a, std::vector<QueueMembership> queues,
                std::vector<std::pair<SkillId, uint8_t>> skills = {}) {
    return r_.update_agent(a, std::move(skills), std::move(queues), now_, out_);
  }
  // A supervisor's (or a reload's) live change of a queue's settings at the current time.
  Status reconfigure(QueueId q, QueueConfig cfg) {
    return r_.update_queue(q, std::move(cfg), now_, out_);
  }
  // The queue's settings as the router holds them, to change one field.
  QueueConfig config_of(QueueId q) {
    const QueueConfig* cfg = r_.queue_config(q);
    EXPECT_NE(cfg, nullptr);
    return cfg == nullptr ? QueueConfig{} : *cfg;
  }
  TaskId arrive(QueueId q, int priority = 0, std::vector<SkillRequirement> skills = {},
                Channel ch = Channel::kVoice) {
    TaskSpec t;
    t.id = TaskId{++next_task_};
    t.queue = q;
    t.priority = priority;
    t.skills = std::move(skills);
    t.channel = ch;
    send(TaskArrived{std::move(t)});
    return TaskId{next_task_};
  }

  template <typename C>
  std::vector<C> take() {
    std::vector<C> found;
    std::vector<Command> rest;
    for (auto& c : out_) {
      if (auto* p = std::get_if<C>(&c)) {
        found.push_back(*p);
      } else {
        rest.push_back(std::move(c));
      }
    }
    out_ = std::move(rest);
    return found;
  }
  // The agents offered `task` since the last take, in order.
  std::vector<AgentId> offered(TaskId task) {
    std::vector<AgentId> a;
    for (const OfferTask& o : take<OfferTask>()) {
      if (o.task == task) a.push_back(o.agent);
    }
    return a;
  }
  // The single agent offered `task`; fails the test otherwise.
  AgentId offered_one(TaskId task) {
    auto a = offered(task);
    EXPECT_EQ(a.size(), 1u) << "task " << task.value;
    return a.empty() ? AgentId{UINT32_MAX} : a.front();
  }
  // Arrive, get offered, accept: returns the agent.
  AgentId serve(QueueId q) {
    TaskId t = arrive(q);
    AgentId a = offered_one(t);
    send(OfferAccepted{t, a});
    return a;
  }

  Router r_;
  TimePoint now_ = kEpoch + 1h;
  CommandSink out_;
  uint64_t next_task_ = 0;
};

// ---- configuration ----

TEST_F(RouterTest, RejectsBadConfigurationWithTheField) {
  queue("sales");
  QueueConfig dup;
  dup.name = "sales";
  auto q = r_.add_queue(dup);
  ASSERT_FALSE(q.is_ok());
  EXPECT_NE(q.message().find("queue 'sales': the name is already used"), std::string::npos);

  QueueConfig bad_overflow;
  bad_overflow.name = "x";
  bad_overflow.escalation.push_back({30s, EscalationStep::Action::kOverflow, 1, QueueId{9}, ""});
  q = r_.add_queue(bad_overflow);
  ASSERT_FALSE(q.is_ok());
  EXPECT_NE(q.message().find("escalation[0]"), std::string::npos) << q.message();

  SkillId s = r_.add_skill("fa");
  EXPECT_EQ(r_.add_skill("fa"), s);
  AgentConfig a;
  a.name = "1001";
  a.skills = {{s, 11}};
  auto ar = r_.add_agent(a);
  ASSERT_FALSE(ar.is_ok());
  EXPECT_NE(ar.message().find("level 11 is outside 1..10"), std::string::npos) << ar.message();

  a.skills = {{s, 5}};
  a.queues = {{QueueId{0}, 0}};
  ar = r_.add_agent(a);
  ASSERT_FALSE(ar.is_ok());
  EXPECT_NE(ar.message().find("tier"), std::string::npos);
  a.queues = {{QueueId{7}, 1}};
  EXPECT_FALSE(r_.add_agent(a).is_ok());
}

TEST_F(RouterTest, UnknownIdsAndBadTransitionsAreErrorsNotCrashes) {
  QueueId q = queue("q");
  AgentId a = agent("a", {{q, 1}});
  EXPECT_FALSE(try_send(SetAgentStatus{AgentId{42}, AgentStatus::kAvailable, ""}).is_ok());
  EXPECT_FALSE(try_send(TaskAbandoned{TaskId{777}}).is_ok());
  EXPECT_FALSE(try_send(TaskCompleted{TaskId{777}}).is_ok());
  Status s = try_send(SetAgentStatus{a, AgentStatus::kBreak, "nap"});
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("unknown break reason 'nap'"), std::string::npos) << s.message();

  TaskId t = arrive(q);  // nobody logged in: waits
  EXPECT_FALSE(try_send(OfferAccepted{t, a}).is_ok()) << "accept of a task never offered";
  EXPECT_FALSE(try_send(TaskCompleted{t}).is_ok()) << "completing a task still waiting";

  TaskSpec unknown_queue;
  unknown_queue.id = TaskId{999};
  unknown_queue.queue = QueueId{55};
  send(TaskArrived{unknown_queue});
  auto rej = take<TaskRejected>();
  ASSERT_EQ(rej.size(), 1u);
  EXPECT_EQ(rej[0].reason, RejectReason::kUnknownQueue);

  TaskSpec dup;
  dup.id = t;
  dup.queue = q;
  send(TaskArrived{dup});
  rej = take<TaskRejected>();
  ASSERT_EQ(rej.size(), 1u);
  EXPECT_EQ(rej[0].reason, RejectReason::kDuplicateTask);
  EXPECT_EQ(r_.task_count(), 1u);
}

// ---- agents: status and state ----

TEST_F(RouterTest, StatusIsChosenStateIsDerived) {
  QueueId q = queue("q");
  AgentId a = agent("a", {{q, 1}});
  EXPECT_EQ(r_.agent_snapshot(a, now_).status, AgentStatus::kLoggedOut);
  login(a);
  auto changes = take<AgentChanged>();
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].status, AgentStatus::kAvailable);
  EXPECT_EQ(changes[0].state, AgentState::kIdle);

  TaskId t = arrive(q);
  EXPECT_EQ(offered_one(t), a);
  EXPECT_EQ(r_.agent_snapshot(a, now_).state, AgentState::kReserved);
  send(OfferAccepted{t, a});
  EXPECT_EQ(r_.agent_snapshot(a, now_).state, AgentState::kOnContact);

  // A break taken on a call applies to what comes next; the call goes on.
  send(SetAgentStatus{a, AgentStatus::kBreak, "lunch"});
  auto snap = r_.agent_snapshot(a, now_);
  EXPECT_EQ(snap.status, AgentStatus::kBreak);
  EXPECT_EQ(snap.state, AgentState::kOnContact);
  EXPECT_EQ(snap.reason, "lunch");
  send(TaskCompleted{t});
  EXPECT_EQ(r_.agent_snapshot(a, now_).state, AgentState::kIdle);
  TaskId t2 = arrive(q);
  EXPECT_TRUE(offered(t2).empty()) << "an agent on break gets no offers";
  login(a);
  EXPECT_EQ(offered_one(t2), a);
}

TEST_F(RouterTest, BreakWithoutReasonTakesTheFirstConfiguredOne) {
  QueueId q = queue("q");
  AgentId a = agent("a", {{q, 1}});
  login(a);
  send(SetAgentStatus{a, AgentStatus::kBreak, ""});
  EXPECT_EQ(r_.agent_snapshot(a, now_).reason, "break");
  EXPECT_EQ(r_.break_reasons().front(), "no answer");
}

TEST_F(RouterTest, LogoutWhileRingingGivesTheTaskToTheNextAgent) {
  QueueId q = queue("q");
  AgentId a = agent("a", {{q, 1}});
  login(a);
  wait(1s);
  AgentId b = agent("b", {{q, 1}});
  login(b);
  TaskId t = arrive(q);
  EXPECT_EQ(offered_one(t), a);
  send(SetAgentStatus{a, AgentStatus::kLoggedOut, ""});
  auto cancels = take<CancelOffer>();
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].reason, CancelReason::kAgentUnavailable);
  EXPECT_EQ(offered_one(t), b);
}

// ---- capacity per channel ----

TEST_F(RouterTest, ChatCapacityAndVoiceExclusivity) {
  QueueId q = queue("q");
  AgentConfig cfg;
  cfg.name = "a";
  cfg.queues = {{q, 1}};
  cfg.capacity = {1, 2, 0, 0, 0};
  AgentId a = agent(cfg);
  login(a);
  TaskId c1 = arrive(q, 0, {}, Channel::kChat);
  TaskId c2 = arrive(q, 0, {}, Channel::kChat);
  TaskId c3 = arrive(q, 0, {}, Channel::kChat);
  auto offers = take<OfferTask>();
  ASSERT_EQ(offers.size(), 2u);
  EXPECT_EQ(offers[0].task, c1);
  EXPECT_EQ(offers[1].task, c2);
  // Two chats at once, not three.
  auto snap = r_.agent_snapshot(a, now_);
  EXPECT_EQ(snap.load[static_cast<size_t>(Channel::kChat)], 2);
  EXPECT_FALSE(r_.standing(c1, now_).has_value());
  EXPECT_FALSE(r_.standing(c2, now_).has_value());
  ASSERT_TRUE(r_.standing(c3, now_).has_value());
  EXPECT_EQ(r_.standing(c3, now_)->position, 1u);
  // While chats are open, no voice call is offered (voice takes the whole agent).
  TaskId v = arrive(q);
  EXPECT_TRUE(offered(v).empty());
  send(OfferAccepted{c1, a});
  send(OfferAccepted{c2, a});
  send(TaskCompleted{c1});
  // One chat slot is free: the waiting chat (older than the call and same priority) comes first;
  // the call still waits because a chat is open.
  EXPECT_EQ(offered_one(c3), a);
  EXPECT_TRUE(offered(v).empty());
  send(OfferAccepted{c3, a});
  send(TaskCompleted{c2});
  send(TaskCompleted{c3});
  EXPECT_EQ(offered_one(v), a);
  // And while on voice, no chat.
  send(OfferAccepted{v, a});
  TaskId c4 = arrive(q, 0, {}, Channel::kChat);
  EXPECT_TRUE(offered(c4).empty());
}

TEST_F(RouterTest, NoCapacityForAChannelMeansNoOffers) {
  QueueId q = queue("q");
  AgentConfig cfg;
  cfg.name = "a";
  cfg.queues = {{q, 1}};
  cfg.capacity = {1, 0, 0, 0, 0};
  AgentId a = agent(cfg);
  login(a);
  TaskId e = arrive(q, 0, {}, Channel::kEmail);
  EXPECT_TRUE(offered(e).empty());
}

// ---- skills ----

TEST_F(RouterTest, SkillLevelsAreMinimums) {
  SkillId fa = r_.add_skill("fa");
  QueueId q = queue("q");
  AgentId low = agent("low", {{q, 1}}, {{fa, 3}});
  login(low);
  wait(1s);
  AgentId high = agent("high", {{q, 1}}, {{fa, 8}});
  login(high);
  TaskId t = arrive(q, 0, {{fa, 5}});
  EXPECT_EQ(offered_one(t), high) << "low is idle longer but below level 5";
  TaskId t2 = arrive(q, 0, {{fa, 1}});
  EXPECT_EQ(offered_one(t2), low);
}

TEST_F(RouterTest, QueueSkillsApplyToEveryTask) {
  SkillId ar = r_.add_skill("ar");
  QueueConfig qc;
  qc.name = "arabic";
  qc.skills = {{ar, 4}};
  QueueId q = queue(qc);
  AgentId none = agent("none", {{q, 1}});
  login(none);
  TaskId t = arrive(q);
  EXPECT_TRUE(offered(t).empty());
  AgentId speaker = agent("speaker", {{q, 1}}, {{ar, 4}});
  login(speaker);
  EXPECT_EQ(offered_one(t), speaker);
}

// ---- strategies ----

TEST_F(RouterTest, LongestIdleGetsTheTask) {
  QueueId q = queue("q");
  AgentId a = agent("a", {{q, 1}});
  AgentId b = agent("b", {{q, 1}});
  AgentId c = agent("c", {{q, 1}});
  login(b);
  wait(1s);
  login(a);
  wait(1s);
  login(c);
  EXPECT_EQ(serve(q), b);
  EXPECT_EQ(serve(q), a);
  EXPECT_EQ(serve(q), c);
  // b finishes last: it is now the most recently idle.
  send(TaskCompleted{TaskId{2}});  // a
  wait(1s);
  send(TaskCompleted{TaskId{3}});  // c
  wait(1s);
  send(TaskCompleted{TaskId{1}});  // b
  EXPECT_EQ(serve(q), a);
  EXPECT_EQ(serve(q), c);
  EXPECT_EQ(serve(q), b);
}

TEST_F(RouterTest, LinearAlwaysTriesTheListInOrder) {
  QueueId q = queue("q", Strategy::kLinear);
  AgentId a = agent("a", {{q, 1}});
  AgentId b = agent("b", {{q, 1}});
  login(b);
  wait(5s);
  login(a);
  TaskId t = arrive(q);
  EXPECT_EQ(offered_one(t), a) << "first in the list, though b was idle longer";
  send(OfferAccepted{t, a});
  EXPECT_EQ(serve(q), b);
  send(TaskCompleted{t});
  EXPECT_EQ(serve(q), a);
}

TEST_F(RouterTest, RoundRobinRemembersWhoWasServed) {
  QueueId q = queue("q", Strategy::kRoundRobin);
  std::vector<AgentId> agents;
  for (const char* n : {"a", "b", "c"}) agents.push_back(agent(n, {{q, 1}}));
  for (AgentId a : agents) login(a);
  std::vector<AgentId> order;
  for (int i = 0; i < 6; ++i) {
    TaskId t = arrive(q);
    AgentId a = offered_one(t);
    order.push_back(a);
    send(OfferAccepted{t, a});
    send(TaskCompleted{t});
  }
  std::vector<AgentId> expected = {agents[0], agents[1], agents[2],
                                   agents[0], agents[1], agents[2]};
  EXPECT_EQ(order, expected);
}

TEST_F(RouterTest, FewestContactsAndLeastTalkTime) {
  QueueId fewest = queue("fewest", Strategy::kFewestContacts);
  QueueId least = queue("least", Strategy::kLeastTalkTime);
  QueueId only_a = queue("only-a");
  QueueId only_b = queue("only-b");
  AgentId a = agent("a", {{fewest, 1}, {least, 1}, {only_a, 1}});
  AgentId b = agent("b", {{fewest, 1}, {least, 1}, {only_b, 1}});
  login(a);
  login(b);
  // a handles two contacts of 10 s, b one of 100 s.
  for (int i = 0; i < 2; ++i) {
    TaskId t = arrive(only_a);
    ASSERT_EQ(offered_one(t), a);
    send(OfferAccepted{t, a});
    wait(10s);
    send(TaskCompleted{t});
  }
  TaskId long_one = arrive(only_b);
  ASSERT_EQ(offered_one(long_one), b);
  send(OfferAccepted{long_one, b});
  wait(100s);
  send(TaskCompleted{long_one});
  // b has been idle for less time than a, so longest-idle would pick a for both.
  TaskId t1 = arrive(fewest);
  EXPECT_EQ(offered_one(t1), b) << "fewest contacts: b (1) before a (2)";
  TaskId t2 = arrive(least);
  EXPECT_EQ(offered_one(t2), a) << "least talk time: a (20 s) before b (100 s)";
}

TEST_F(RouterTest, BestSkillLevelFirst) {
  SkillId s = r_.add_skill("billing");
  QueueConfig qc;
  qc.name = "billing";
  qc.strategy = Strategy::kBestSkill;
  qc.skills = {{s, 1}};
  QueueId q = queue(qc);
  AgentId mid = agent("mid", {{q, 1}}, {{s, 5}});
  AgentId top = agent("top", {{q, 1}}, {{s, 9}});
  AgentId low = agent("low", {{q, 1}}, {{s, 2}});
  login(mid);
  login(low);
  wait(5s);
  login(top);
  EXPECT_EQ(serve(q), top);
  EXPECT_EQ(serve(q), mid);
  EXPECT_EQ(serve(q), low);
}

TEST_F(RouterTest, RandomSpreadsOverAllAgentsAndIsReproducible) {
  auto run = [](uint64_t seed) {
    RouterConfig rc;
    rc.seed = seed;
    Router r(rc);
    QueueConfig qc;
    qc.name = "q";
    qc.strategy = Strategy::kRandom;
    QueueId q = *r.add_queue(qc);
    CommandSink out;
    TimePoint now = kEpoch;
    for (int i = 0; i < 4; ++i) {
      AgentConfig ac;
      ac.name = "a" + std::to_string(i);
      ac.queues = {{q, 1}};
      AgentId a = *r.add_agent(ac);
      EXPECT_TRUE(r.handle(SetAgentStatus{a, AgentStatus::kAvailable, ""}, now, out).is_ok());
    }
    std::vector<uint32_t> picks;
    for (uint64_t i = 1; i <= 400; ++i) {
      out.clear();
      TaskSpec t;
      t.id = TaskId{i};
      t.queue = q;
      EXPECT_TRUE(r.handle(TaskArrived{t}, now, out).is_ok());
      AgentId who{};
      for (auto& c : out) {
        if (auto* o = std::get_if<OfferTask>(&c)) who = o->agent;
      }
      picks.push_back(who.value);
      EXPECT_TRUE(r.handle(OfferAccepted{t.id, who}, now, out).is_ok());
      EXPECT_TRUE(r.handle(TaskCompleted{t.id}, now, out).is_ok());
    }
    return picks;
  };
  auto picks = run(7);
  EXPECT_EQ(picks, run(7));
  EXPECT_NE(picks, run(8));
  std::map<uint32_t, int> counts;
  for (uint32_t p : picks) counts[p]++;
  ASSERT_EQ(counts.size(), 4u);
  for (auto [agent, n] : counts) {
    EXPECT_GT(n, 60) << "agent " << agent;  // 100 expected each; far from a fixed order
    EXPECT_LT(n, 140) << "agent " << agent;
  }
}

TEST_F(RouterTest, RingAllOffersToEveryoneFirstAcceptWins) {
  QueueId q = queue("q", Strategy::kRingAll);
  AgentId a = agent("a", {{q, 1}});
  AgentId b = agent("b", {{q, 1}});
  AgentId c = agent("c", {{q, 1}});
  AgentId d = agent("d", {{q, 2}});  // tier 2: not rung yet
  for (AgentId x : {a, b, c, d}) login(x);
  TaskId t = arrive(q);
  auto rung = offered(t);
  EXPECT_EQ(std::set<AgentId>(rung.begin(), rung.end()), (std::set<AgentId>{a, b, c}));
  send(OfferAccepted{t, b});
  auto assigned = take<TaskAssigned>();
  ASSERT_EQ(assigned.size(), 1u);
  EXPECT_EQ(assigned[0].agent, b);
  auto cancels = take<CancelOffer>();
  ASSERT_EQ(cancels.size(), 2u);
  for (auto& cx : cancels) EXPECT_EQ(cx.reason, CancelReason::kTakenByOther);
  // c's accept crossed the cancel: it is told the task was taken.
  send(OfferAccepted{t, c});
  cancels = take<CancelOffer>();
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].agent, c);
  EXPECT_EQ(cancels[0].reason, CancelReason::kTakenByOther);
  EXPECT_TRUE(take<TaskAssigned>().empty());
}

TEST_F(RouterTest, RingAllAddsAgentsWhoBecomeFreeWhileRinging) {
  QueueId q = queue("q", Strategy::kRingAll);
  AgentId a = agent("a", {{q, 1}});
  AgentId b = agent("b", {{q, 1}});
  login(a);
  TaskId t = arrive(q);
  EXPECT_EQ(offered(t), std::vector<AgentId>{a});
  login(b);
  EXPECT_EQ(offered(t), std::vector<AgentId>{b});
}

TEST_F(RouterTest, RingAllTimeoutRingsAgainWithoutPausingAnyone) {
  QueueConfig qc;
  qc.name = "q";
  qc.strategy = Strategy::kRingAll;
  qc.ring_timeout = 10s;
  qc.retry_after = 2s;
  qc.max_no_answer = 1;
  QueueId q = queue(qc);
  AgentId a = agent("a", {{q, 1}});
  AgentId b = agent("b", {{q, 1}});
  login(a);
  login(b);
  TaskId t = arrive(q);
  EXPECT_EQ(offered(t).size(), 2u);
  wait(10s);
  EXPECT_EQ(take<CancelOffer>().size(), 2u);
  EXPECT_EQ(r_.agent_snapshot(a, now_).status, AgentStatus::kAvailable)
      << "nobody in particular missed a ring-all call";
  EXPECT_TRUE(offered(t).empty());
  wait(2s);
  EXPECT_EQ(offered(t).size(), 2u) << "rings everyone again after the retry pause";
}

TEST_F(RouterTest, LateDeclineAfterTimeoutIsHarmless) {
  QueueConfig qc;
  qc.name = "q";
  qc.ring_timeout = 10s;
  QueueId q = queue(qc);
  AgentId a = agent("a", {{q, 1}});
  login(a);
  TaskId t = arrive(q);
  EXPECT_EQ(offered_one(t), a);
  wait(10s);
  send(OfferDeclined{t, a, DeclineReason::kBusy});  // crossed the timeout: no error
  send(OfferAccepted{t, a});                         // likewise answered with a cancel
  auto cancels = take<CancelOffer>();
  ASSERT_EQ(cancels.size(), 2u);
  EXPECT_EQ(cancels[1].reason, CancelReason::kRingTimeout);
  EXPECT_EQ(r_.agent_snapshot(a, now_).missed_in_row, 1u) << "counted once";
}

TEST_F(RouterTest, BreakWhileRingingSendsTheTaskToSomeoneElse) {
  QueueId q = queue("q");
  AgentId a = agent("a", {{q, 1}});
  AgentId b = agent("b", {{q, 1}});
  login(a);
  wait(1s);
  login(b);
  TaskId t = arrive(q);
  EXPECT_EQ(offered_one(t), a);
  send(SetAgentStatus{a, AgentStatus::kBreak, "meeting"});
  EXPECT_EQ(offered_one(t), b);
  EXPECT_EQ(r_.agent_snapshot(a, now_).state, AgentState::kIdle);
  EXPECT_EQ(r_.agent_snapshot(a, now_).missed_in_row, 0u);
}

TEST_F(RouterTest, EscalationStepsDueTogetherAllApply) {
  SkillId s = r_.add_skill("s");
  QueueId other = queue("other");
  QueueConfig qc;
  qc.name = "q";
  qc.skills = {{s, 9}};
  qc.escalation = {{30s, EscalationStep::Action::kLowerSkill, 5, {}, ""},
                   {30s, EscalationStep::Action::kNextTier, 1, {}, ""},
                   {30s, EscalationStep::Action::kOverflow, 1, other, ""}};
  QueueId q = queue(qc);
  AgentId helper = agent("helper", {{other, 2}}, {{s, 4}});
  login(helper);
  TaskId t = arrive(q);
  wait(29s);
  EXPECT_TRUE(offered(t).empty());
  wait(1s);
  EXPECT_EQ(offered_one(t), helper) << "overflowed, tier 2 opened, level 9 lowered to 4";
}

TEST_F(RouterTest, LeaveEmptyWhenNoAgentIsAvailable) {
  QueueConfig qc;
  qc.name = "q";
  qc.leave_empty = EmptyPolicy::kNoAgentsAvailable;
  QueueId q = queue(qc);
  AgentId a = agent("a", {{q, 1}});
  login(a);
  TaskId busy = arrive(q);
  send(OfferAccepted{busy, offered_one(busy)});
  TaskId t = arrive(q);
  EXPECT_TRUE(take<TaskLeftQueue>().empty()) << "the agent is busy but available";
  send(SetAgentStatus{a, AgentStatus::kBreak, ""});
  auto left = take<TaskLeftQueue>();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].task, t);
  EXPECT_EQ(r_.task_count(), 1u) << "the connected call goes on";
}

// ---- ringing: timeouts, declines, no-answer pause ----

TEST_F(RouterTest, RingTimeoutReturnsTheTaskToTheHeadAndTriesTheNextAgent) {
  QueueConfig qc;
  qc.name = "q";
  qc.ring_timeout = 15s;
  QueueId q = queue(qc);
  AgentId a = agent("a", {{q, 1}});
  login(a);
  TaskId first = arrive(q);
  EXPECT_EQ(offered_one(first), a);
  wait(5s);
  TaskId second = arrive(q);  // waits behind
  EXPECT_TRUE(offered(second).empty());
  EXPECT_EQ(r_.standing(second, now_)->position, 1u);
  wait(10s);  // the ring times out
  auto cancels = take<CancelOffer>();
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].reason, CancelReason::kRingTimeout);
  // first is back ahead of second; a sits out first for retry_after, so second goes to a.
  EXPECT_EQ(r_.standing(first, now_)->position, 1u);
  EXPECT_EQ(offered_one(second), a);
  EXPECT_EQ(r_.agent_snapshot(a, now_).missed_in_row, 1u);
  send(OfferAccepted{second, a});
  EXPECT_EQ(r_.agent_snapshot(a, now_).missed_in_row, 0u);
  send(TaskCompleted{second});
  EXPECT_TRUE(offered(first).empty()) << "a sits out `first` for the retry pause (5 s)";
  wait(5s);
  EXPECT_EQ(offered_one(first), a) << "free, and past the retry pause";
  EXPECT_EQ(r_.queue_snapshot(q, now_).waiting, 1u);
}

TEST_F(RouterTest, RetryPauseEndsAndTheSameAgentIsTriedAgain) {
  QueueConfig qc;
  qc.name = "q";
  qc.retry_after = 5s;
  QueueId q = queue(qc);
  AgentId a = agent("a", {{q, 1}});
  login(a);
  TaskId t = arrive(q);
  EXPECT_EQ(offered_one(t), a);
  send(OfferDeclined{t, a, DeclineReason::kBusy});
  EXPECT_TRUE(offered(t).empty());
  wait(4s);
  EXPECT_TRUE(offered(t).empty());
  wait(1s);
  EXPECT_EQ(offered_one(t), a);
}

TEST_F(RouterTest, MaxNoAnswerPutsTheAgentOnBreak) {
  QueueConfig qc;
  qc.name = "q";
  qc.max_no_answer = 2;
  qc.ring_timeout = 10s;
  QueueId q = queue(qc);
  AgentId a = agent("a", {{q, 1}});
  login(a);
  TaskId t1 = arrive(q);
  TaskId t2 = arrive(q);
  EXPECT_EQ(offered_one(t1), a);
  wait(10s);
  EXPECT_EQ(offered_one(t2), a);
  wait(10s);
  auto snap = r_.agent_snapshot(a, now_);
  EXPECT_EQ(snap.status, AgentStatus::kBreak);
  EXPECT_EQ(snap.reason, "no answer");
  wait(60s);
  EXPECT_TRUE(take<OfferTask>().empty());
  EXPECT_EQ(r_.queue_snapshot(q, now_).waiting, 2u);
}

// ---- matching across queues ----

TEST_F(RouterTest, FreedAgentTakesHighestPriorityThenLongestWaitAcrossQueues) {
  QueueId sales = queue("sales");
  QueueId support = queue("support");
  AgentId a = agent("a", {{sales, 1}, {support, 1}});
  login(a);
  TaskId busy = arrive(sales);
  send(OfferAccepted{busy, offered_one(busy)});
  TaskId s1 = arrive(support);  // oldest
  wait(1s);
  TaskId sa1 = arrive(sales);
  wait(1s);
  TaskId vip = arrive(support, /*priority=*/5);  // newest, but VIP
  send(TaskCompleted{busy});
  EXPECT_EQ(offered_one(vip), a);
  send(OfferAccepted{vip, a});
  send(TaskCompleted{vip});
  EXPECT_EQ(offered_one(s1), a) << "support's caller waited longer than sales's";
  send(OfferAccepted{s1, a});
  send(TaskCompleted{s1});
  EXPECT_EQ(offered_one(sa1), a);
}

// ---- tiers and escalation ----

TEST_F(RouterTest, HigherTierOnlyAfterEscalationOpensIt) {
  QueueConfig qc;
  qc.name = "q";
  qc.escalation.push_back({30s, EscalationStep::Action::kNextTier, 1, {}, ""});
  QueueId q = queue(qc);
  AgentId first = agent("first", {{q, 1}});
  AgentId backup = agent("backup", {{q, 2}});
  login(first);
  login(backup);
  TaskId busy = arrive(q);
  EXPECT_EQ(offered_one(busy), first);
  send(OfferAccepted{busy, first});
  TaskId t = arrive(q);
  wait(29s);
  EXPECT_TRUE(offered(t).empty());
  wait(1s);
  EXPECT_EQ(offered_one(t), backup);
}

TEST_F(RouterTest, TierOneIsPreferredWhenBothAreOpen) {
  QueueId q = queue("q");
  AgentId backup = agent("backup", {{q, 2}});
  AgentId first = agent("first", {{q, 1}});
  login(backup);
  wait(10s);
  login(first);
  TaskId t = arrive(q);
  EXPECT_EQ(offered_one(t), first);
}

TEST_F(RouterTest, LowerSkillEscalation) {
  SkillId s = r_.add_skill("en");
  QueueConfig qc;
  qc.name = "q";
  qc.skills = {{s, 8}};
  qc.escalation.push_back({20s, EscalationStep::Action::kLowerSkill, 3, {}, ""});
  QueueId q = queue(qc);
  AgentId junior = agent("junior", {{q, 1}}, {{s, 5}});
  login(junior);
  TaskId t = arrive(q);
  wait(19s);
  EXPECT_TRUE(offered(t).empty());
  wait(1s);
  EXPECT_EQ(offered_one(t), junior);
}

TEST_F(RouterTest, OverflowLetsAnotherQueuesAgentsHelp) {
  QueueId helpers = queue("helpers");
  QueueConfig qc;
  qc.name = "vip";
  qc.escalation.push_back({45s, EscalationStep::Action::kOverflow, 1, helpers, ""});
  QueueId vip = queue(qc);
  AgentId h = agent("h", {{helpers, 1}});
  login(h);
  TaskId t = arrive(vip);
  wait(44s);
  EXPECT_TRUE(offered(t).empty());
  wait(1s);
  auto offers = take<OfferTask>();
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].agent, h);
  EXPECT_EQ(offers[0].queue, helpers) << "offered through the overflow queue";
  send(OfferAccepted{t, h});
  // Counted in its own queue.
  EXPECT_EQ(r_.queue_snapshot(vip, now_).totals.answered, 1u);
  EXPECT_EQ(r_.queue_snapshot(helpers, now_).totals.answered, 0u);
}

// set_escalation while a task waits: it goes on from the point its waiting time has reached in
// the new list; a step already due by then is not applied afterwards, a later one is, on time.
TEST_F(RouterTest, SetEscalationWhileATaskWaitsGoesOnByTheTimeWaited) {
  QueueConfig qc;
  qc.name = "q";
  QueueId q = queue(qc);
  AgentId second = agent("second", {{q, 2}});
  login(second);
  TaskId t = arrive(q);
  wait(30s);
  EXPECT_TRUE(offered(t).empty()) << "tier 2 is not open: no escalation yet";
  ASSERT_TRUE(r_.set_escalation(q, {{10s, EscalationStep::Action::kNextTier, 1, {}, ""},
                                    {40s, EscalationStep::Action::kNextTier, 1, {}, ""}}));
  wait(9s);
  EXPECT_TRUE(offered(t).empty()) << "the 10 s step was due when the list changed: not applied";
  wait(1s);
  EXPECT_EQ(offered_one(t), second) << "the 40 s step opens tier 2";
}

TEST_F(RouterTest, QueuesOverflowIntoEachOtherViaSetEscalation) {
  QueueId sales = queue("sales");
  QueueId support = queue("support");
  ASSERT_TRUE(r_.set_escalation(sales, {{20s, EscalationStep::Action::kOverflow, 1, support, ""}}));
  ASSERT_TRUE(r_.set_escalation(support, {{20s, EscalationStep::Action::kOverflow, 1, sales, ""}}));
  Status self = r_.set_escalation(sales, {{20s, EscalationStep::Action::kOverflow, 1, sales, ""}});
  ASSERT_FALSE(self.is_ok());
  EXPECT_NE(self.message().find("cannot overflow into itself"), std::string::npos);
  EXPECT_FALSE(r_.set_escalation(QueueId{9}, {}).is_ok());

  AgentId s = agent("s", {{sales, 1}});
  AgentId p = agent("p", {{support, 1}});
  login(s);
  login(p);
  TaskId busy_s = arrive(sales);
  send(OfferAccepted{busy_s, offered_one(busy_s)});
  TaskId to_support = arrive(sales);
  EXPECT_TRUE(offered(to_support).empty());
  wait(20s);
  EXPECT_EQ(offered_one(to_support), p) << "p, idle in support, helps sales after 20 s";
  send(OfferAccepted{to_support, p});
  send(TaskCompleted{busy_s});
  TaskId to_sales = arrive(support);
  EXPECT_TRUE(offered(to_sales).empty()) << "s is idle but only in sales";
  wait(20s);
  EXPECT_EQ(offered_one(to_sales), s);
}

TEST_F(RouterTest, ExitStepAndMaxWaitHandTheTaskBackToTheFlow) {
  QueueConfig qc;
  qc.name = "q";
  qc.max_wait = 120s;
  qc.escalation.push_back({60s, EscalationStep::Action::kExit, 0, {}, "voicemail"});
  QueueId q = queue(qc);
  QueueConfig qc2;
  qc2.name = "q2";
  qc2.max_wait = 120s;
  QueueId q2 = queue(qc2);
  TaskId t = arrive(q);
  TaskId t2 = arrive(q2);
  wait(60s);
  auto left = take<TaskLeftQueue>();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].task, t);
  EXPECT_EQ(left[0].reason, LeaveReason::kEscalation);
  EXPECT_EQ(left[0].branch, "voicemail");
  EXPECT_EQ(left[0].waited, 60s);
  wait(60s);
  left = take<TaskLeftQueue>();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].task, t2);
  EXPECT_EQ(left[0].reason, LeaveReason::kTimeout);
  EXPECT_EQ(r_.task_count(), 0u);
  EXPECT_EQ(r_.queue_snapshot(q2, now_).totals.left, 1u);
}

// ---- join and leave policies, limits ----

TEST_F(RouterTest, MaxWaitingRejectsWhenFull) {
  QueueConfig qc;
  qc.name = "q";
  qc.max_waiting = 2;
  QueueId q = queue(qc);
  arrive(q);
  arrive(q);
  TaskId third = arrive(q);
  auto rej = take<TaskRejected>();
  ASSERT_EQ(rej.size(), 1u);
  EXPECT_EQ(rej[0].task, third);
  EXPECT_EQ(rej[0].reason, RejectReason::kQueueFull);
}

TEST_F(RouterTest, JoinEmptyAndLeaveEmpty) {
  QueueConfig qc;
  qc.name = "q";
  qc.join_empty = EmptyPolicy::kNoAgentsLoggedIn;
  qc.leave_empty = EmptyPolicy::kNoAgentsLoggedIn;
  QueueId q = queue(qc);
  AgentId a = agent("a", {{q, 1}});
  TaskId t = arrive(q);
  auto rej = take<TaskRejected>();
  ASSERT_EQ(rej.size(), 1u);
  EXPECT_EQ(rej[0].reason, RejectReason::kQueueEmpty);
  (void)t;

  login(a);
  send(SetAgentStatus{a, AgentStatus::kBreak, "lunch"});
  TaskId waits = arrive(q);  // logged in (on break) counts for kNoAgentsLoggedIn
  EXPECT_TRUE(take<TaskRejected>().empty());
  EXPECT_TRUE(r_.standing(waits, now_).has_value());
  send(SetAgentStatus{a, AgentStatus::kLoggedOut, ""});
  auto left = take<TaskLeftQueue>();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].task, waits);
  EXPECT_EQ(left[0].reason, LeaveReason::kQueueEmpty);
}

TEST_F(RouterTest, JoinEmptyNoAgentsAvailableCountsBreaksAsEmpty) {
  QueueConfig qc;
  qc.name = "q";
  qc.join_empty = EmptyPolicy::kNoAgentsAvailable;
  QueueId q = queue(qc);
  AgentId a = agent("a", {{q, 1}});
  login(a);
  send(SetAgentStatus{a, AgentStatus::kBreak, ""});
  arrive(q);
  auto rej = take<TaskRejected>();
  ASSERT_EQ(rej.size(), 1u);
  EXPECT_EQ(rej[0].reason, RejectReason::kQueueEmpty);
  EXPECT_EQ(r_.queue_snapshot(q, now_).totals.rejected, 1u);
}

// ---- wrap-up ----

TEST_F(RouterTest, WrapUpPerQueueOverriddenPerAgent) {
  QueueConfig qc;
  qc.name = "q";
  qc.wrap_up = 30s;
  QueueId q = queue(qc);
  AgentId a = agent("a", {{q, 1}});
  AgentConfig fast;
  fast.name = "fast";
  fast.queues = {{q, 1}};
  fast.wrap_up = 5s;
  AgentId f = agent(fast);
  login(a);
  login(f);
  TaskId t1 = arrive(q);
  TaskId t2 = arrive(q);
  for (const OfferTask& o : take<OfferTask>()) send(OfferAccepted{o.task, o.agent});
  send(TaskCompleted{t1});
  send(TaskCompleted{t2});
  EXPECT_EQ(r_.agent_snapshot(a, now_).state, AgentState::kWrapUp);
  EXPECT_EQ(r_.agent_snapshot(f, now_).state, AgentState::kWrapUp);
  TaskId t3 = arrive(q);
  EXPECT_TRUE(offered(t3).empty());
  wait(5s);
  EXPECT_EQ(offered_one(t3), f) << "f's wrap-up (5 s) is over; a's (30 s) is not";
  send(TaskAbandoned{t3});
  wait(24s);
  EXPECT_EQ(r_.agent_snapshot(a, now_).state, AgentState::kWrapUp);
  wait(1s);
  EXPECT_EQ(r_.agent_snapshot(a, now_).state, AgentState::kIdle);
}

TEST_F(RouterTest, WrapUpDoneEndsWrapUpEarly) {
  QueueConfig qc;
  qc.name = "q";
  qc.wrap_up = 60s;
  QueueId q = queue(qc);
  AgentId a = agent("a", {{q, 1}});
  login(a);
  TaskId t = arrive(q);
  send(OfferAccepted{t, offered_one(t)});
  send(TaskCompleted{t});
  TaskId next = arrive(q);
  wait(10s);
  EXPECT_TRUE(offered(next).empty());
  send(WrapUpDone{a, t});
  EXPECT_EQ(offered_one(next), a);
  EXPECT_FALSE(try_send(WrapUpDone{a, t}).is_ok()) << "already done";
}

// ---- abandon ----

TEST_F(RouterTest, AbandonWhileRingingCancelsTheOffer) {
  QueueId q = queue("q");
  AgentId a = agent("a", {{q, 1}});
  login(a);
  TaskId t = arrive(q);
  EXPECT_EQ(offered_one(t), a);
  wait(3s);
  send(TaskAbandoned{t});
  auto cancels = take<CancelOffer>();
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].reason, CancelReason::kTaskGone);
  EXPECT_EQ(r_.agent_snapshot(a, now_).state, AgentState::kIdle);
  // The accept that crossed the hang-up is answered, not an error.
  send(OfferAccepted{t, a});
  cancels = take<CancelOffer>();
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].reason, CancelReason::kTaskGone);
  auto snap = r_.queue_snapshot(q, now_);
  EXPECT_EQ(snap.totals.abandoned, 1u);
  EXPECT_EQ(snap.totals.wait_abandoned, 3s);
  EXPECT_EQ(r_.agent_snapshot(a, now_).missed_in_row, 0u) << "the caller left: not the agent's miss";
}

TEST_F(RouterTest, WithdrawnCountsAsLeftNotAbandoned) {
  QueueId q = queue("q");
  TaskId waiting = arrive(q);  // nobody logged in: it waits
  AgentId a = agent("a", {{q, 1}});
  wait(2s);
  send(TaskWithdrawn{waiting});
  auto snap = r_.queue_snapshot(q, now_);
  EXPECT_EQ(snap.waiting, 0u);
  EXPECT_EQ(snap.totals.left, 1u);
  EXPECT_EQ(snap.totals.abandoned, 0u);
  EXPECT_EQ(snap.totals.wait_abandoned, 0s);
  // Withdrawn while ringing: the offer is cancelled, the agent is idle again, not charged a miss.
  login(a);
  TaskId ringing = arrive(q);
  EXPECT_EQ(offered_one(ringing), a);
  send(TaskWithdrawn{ringing});
  auto cancels = take<CancelOffer>();
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].reason, CancelReason::kTaskGone);
  EXPECT_EQ(r_.agent_snapshot(a, now_).state, AgentState::kIdle);
  EXPECT_EQ(r_.queue_snapshot(q, now_).totals.left, 2u);
  EXPECT_FALSE(try_send(TaskWithdrawn{ringing}).is_ok()) << "already gone";
}

// ---- position and expected wait ----

TEST_F(RouterTest, PositionAndExpectedWait) {
  QueueConfig qc;
  qc.name = "q";
  qc.default_handle_time = 120s;
  QueueId q = queue(qc);
  AgentId a = agent("a", {{q, 1}});
  AgentId b = agent("b", {{q, 1}});
  login(a);
  login(b);
  for (int i = 0; i < 2; ++i) send(OfferAccepted{arrive(q), AgentId{static_cast<uint32_t>(i)}});
  out_.clear();
  TaskId t1 = arrive(q);
  TaskId t2 = arrive(q);
  TaskId vip = arrive(q, 9);
  wait(10s);
  auto s1 = r_.standing(t1, now_);
  auto s2 = r_.standing(t2, now_);
  auto sv = r_.standing(vip, now_);
  ASSERT_TRUE(s1 && s2 && sv);
  EXPECT_EQ(sv->position, 1u);
  EXPECT_EQ(s1->position, 2u);
  EXPECT_EQ(s2->position, 3u);
  EXPECT_EQ(s1->waited, 10s);
  // No handled contact yet: default handle time 120 s, two agents logged in.
  EXPECT_EQ(s1->expected_wait, 120s);
  EXPECT_EQ(s2->expected_wait, 180s);
  // After contacts of 60 s each, the estimate follows the data.
  wait(50s);
  send(TaskCompleted{TaskId{1}});
  send(TaskCompleted{TaskId{2}});
  auto snap = r_.queue_snapshot(q, now_);
  EXPECT_EQ(snap.totals.handled, 2u);
  EXPECT_DOUBLE_EQ(snap.totals.aht_seconds(), 60.0);
  // vip and t1 are now ringing; t2 is first in line.
  auto s2b = r_.standing(t2, now_);
  ASSERT_TRUE(s2b);
  EXPECT_EQ(s2b->position, 1u);
  EXPECT_EQ(s2b->expected_wait, 30s);
  EXPECT_FALSE(r_.standing(t1, now_).has_value()) << "ringing, not waiting";
}

// ---- statistics ----

TEST_F(RouterTest, QueueStatisticsServiceLevelAsaAht) {
  QueueConfig qc;
  qc.name = "q";
  qc.sl_threshold = 20s;
  qc.wrap_up = 10s;
  QueueId q = queue(qc);
  AgentId a = agent("a", {{q, 1}});
  login(a);
  // 1: answered at once, 50 s talk + 10 s wrap-up.
  TaskId t1 = arrive(q);
  send(OfferAccepted{t1, offered_one(t1)});
  // 2: waits 30 s then abandons; 3: waits 40 s (answered outside SL after wrap-up).
  TaskId t2 = arrive(q);
  wait(10s);
  TaskId t3 = arrive(q);
  wait(20s);
  send(TaskAbandoned{t2});
  wait(20s);
  send(TaskCompleted{t1});
  auto snap = r_.queue_snapshot(q, now_);
  EXPECT_EQ(snap.waiting, 1u);
  EXPECT_EQ(snap.longest_wait, 40s);
  wait(10s);  // wrap-up ends; t3 is offered after 50 s
  send(OfferAccepted{t3, offered_one(t3)});
  snap = r_.queue_snapshot(q, now_);
  EXPECT_EQ(snap.waiting, 0u);
  EXPECT_EQ(snap.totals.offered, 3u);
  EXPECT_EQ(snap.totals.answered, 2u);
  EXPECT_EQ(snap.totals.answered_in_sl, 1u);
  EXPECT_EQ(snap.totals.abandoned, 1u);
  EXPECT_DOUBLE_EQ(snap.totals.service_level(), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(snap.totals.asa_seconds(), 25.0);  // (0 + 50) / 2
  EXPECT_DOUBLE_EQ(snap.totals.aht_seconds(), 60.0);   // 50 talk + 10 wrap-up
  ASSERT_EQ(snap.windows.size(), 2u);
  EXPECT_EQ(snap.windows[0].offered, 3u);

  // 20 minutes later the 15-minute window has forgotten them; the totals have not.
  wait(20min);
  snap = r_.queue_snapshot(q, now_);
  EXPECT_EQ(snap.windows[0].offered, 0u);
  EXPECT_EQ(snap.windows[1].offered, 3u);
  EXPECT_EQ(snap.totals.offered, 3u);
  r_.reset_statistics(now_);
  EXPECT_EQ(r_.queue_snapshot(q, now_).totals.offered, 0u);
  EXPECT_EQ(r_.queue_snapshot(q, now_).windows[1].offered, 3u);
}

TEST_F(RouterTest, AgentTimeInStateAndOccupancy) {
  QueueConfig qc;
  qc.name = "q";
  qc.wrap_up = 20s;
  QueueId q = queue(qc);
  AgentId a = agent("a", {{q, 1}});
  login(a);
  wait(60s);  // idle 60
  TaskId t = arrive(q);
  offered_one(t);
  wait(10s);  // ringing 10
  send(OfferAccepted{t, a});
  wait(90s);  // talking 90
  send(TaskCompleted{t});
  wait(20s);  // wrap-up 20
  send(SetAgentStatus{a, AgentStatus::kBreak, "lunch"});
  wait(30min);
  auto snap = r_.agent_snapshot(a, now_);
  EXPECT_EQ(snap.totals.idle, 60s);
  EXPECT_EQ(snap.totals.reserved, 10s);
  EXPECT_EQ(snap.totals.on_contact, 90s);
  EXPECT_EQ(snap.totals.wrap_up, 20s);
  EXPECT_EQ(snap.totals.on_break, 30min);
  EXPECT_EQ(snap.totals.talk, 90s);
  EXPECT_EQ(snap.totals.handled, 1u);
  EXPECT_DOUBLE_EQ(snap.totals.occupancy(), 120.0 / 180.0);
  EXPECT_EQ(snap.in_state, 30min);
  // The 15-minute window holds only the break.
  EXPECT_EQ(snap.windows[0].idle, 0s);
  EXPECT_GE(snap.windows[0].on_break, 15min);
  EXPECT_LE(snap.windows[0].on_break, 15min + 75s);  // one bucket of resolution
  EXPECT_EQ(snap.windows[1].on_contact, 90s);
}

// ---- the invariant, under random traffic ----

// After every event: no available agent with free capacity is idle while a task it could take
// waits. Checked against a brute-force scan of everything the test knows.
// ---- live changes to an agent's skills and queues ----

// What a queue shows a supervisor, for comparing before and after.
std::string describe(const QueueSnapshot& s) {
  return std::string(s.name) + " waiting=" + std::to_string(s.waiting) +
         " longest=" + std::to_string(s.longest_wait.count()) +
         " in=" + std::to_string(s.agents_logged_in) +
         " avail=" + std::to_string(s.agents_available) + " idle=" + std::to_string(s.agents_idle) +
         " offered=" + std::to_string(s.totals.offered) +
         " answered=" + std::to_string(s.totals.answered) +
         " left=" + std::to_string(s.totals.left) + " handled=" + std::to_string(s.totals.handled);
}
std::string describe(const AgentSnapshot& s) {
  std::string d = std::string(s.name) + " status=" + std::to_string(static_cast<int>(s.status)) +
                  " state=" + std::to_string(static_cast<int>(s.state)) + " load=";
  for (uint8_t l : s.load) d += std::to_string(l) + ",";
  return d + " missed=" + std::to_string(s.missed_in_row);
}

TEST_F(RouterTest, UpdateAgentJoiningAQueueOffersItsWaitingTaskAtOnce) {
  QueueId sales = queue("sales");
  QueueId support = queue("support");
  AgentId a = agent("a", {{sales, 1}});
  login(a);
  TaskId t = arrive(support);
  EXPECT_TRUE(offered(t).empty());
  EXPECT_EQ(r_.queue_snapshot(support, now_).agents_logged_in, 0u);
  take<AgentChanged>();

  ASSERT_TRUE(update(a, {{sales, 1}, {support, 1}}).is_ok());
  auto offers = take<OfferTask>();
  ASSERT_EQ(offers.size(), 1u) << "appended to out by update_agent itself";
  EXPECT_EQ(offers[0].task, t);
  EXPECT_EQ(offers[0].agent, a);
  EXPECT_EQ(offers[0].queue, support);
  auto s = r_.queue_snapshot(support, now_);
  EXPECT_EQ(s.agents_logged_in, 1u);
  EXPECT_EQ(s.agents_available, 1u);
  EXPECT_EQ(s.waiting, 1u) << "ringing, not yet answered";
  send(OfferAccepted{t, a});
  EXPECT_EQ(take<TaskAssigned>().size(), 1u);
  EXPECT_EQ(r_.queue_snapshot(support, now_).totals.answered, 1u);
}

TEST_F(RouterTest, UpdateAgentLeavingAQueueStopsItsOffersAndCounts) {
  QueueId q = queue("q");
  QueueId other = queue("other");
  AgentId a = agent("a", {{q, 1}});
  AgentId b = agent("b", {{q, 1}});
  login(a);
  wait(10s);
  login(b);
  auto before = r_.queue_snapshot(q, now_);
  EXPECT_EQ(before.agents_logged_in, 2u);
  EXPECT_EQ(before.agents_available, 2u);
  EXPECT_EQ(before.agents_idle, 2u);

  take<AgentChanged>();
  ASSERT_TRUE(update(a, {{other, 1}}).is_ok());
  EXPECT_TRUE(out_.empty()) << "nothing waits: no commands";
  auto after = r_.queue_snapshot(q, now_);
  EXPECT_EQ(after.agents_logged_in, 1u);
  EXPECT_EQ(after.agents_available, 1u);
  EXPECT_EQ(after.agents_idle, 1u);
  EXPECT_EQ(r_.queue_snapshot(other, now_).agents_logged_in, 1u);
  EXPECT_EQ(r_.queue_snapshot(other, now_).agents_idle, 1u);

  TaskId t1 = arrive(q);
  EXPECT_EQ(offered_one(t1), b) << "a was idle longer but left the queue";
  send(OfferAccepted{t1, b});
  TaskId t2 = arrive(q);
  EXPECT_TRUE(offered(t2).empty()) << "a is idle, but no longer a member";
  EXPECT_EQ(r_.standing(t2, now_)->expected_wait, Duration(180s))
      << "position 1 x 180 s / 1 member logged in (not 2)";
  TaskId t3 = arrive(other);
  EXPECT_EQ(offered_one(t3), a);
}

TEST_F(RouterTest, UpdateAgentTierChangeReordersALinearQueue) {
  QueueConfig qc;
  qc.name = "q";
  qc.strategy = Strategy::kLinear;
  qc.escalation.push_back({30s, EscalationStep::Action::kNextTier, 1, {}, ""});
  QueueId q = queue(qc);
  AgentId a = agent("a", {{q, 1}});
  AgentId b = agent("b", {{q, 2}});
  login(a);
  login(b);
  TaskId t1 = arrive(q);
  EXPECT_EQ(offered_one(t1), a);
  send(TaskAbandoned{t1});
  take<CancelOffer>();

  // Swap the tiers: b is now first choice, a the backup.
  ASSERT_TRUE(update(a, {{q, 2}}).is_ok());
  ASSERT_TRUE(update(b, {{q, 1}}).is_ok());
  TaskId t2 = arrive(q);
  EXPECT_EQ(offered_one(t2), b);
  send(OfferAccepted{t2, b});
  TaskId t3 = arrive(q);
  wait(29s);
  EXPECT_TRUE(offered(t3).empty()) << "a is tier 2 now: only after escalation";
  wait(1s);
  EXPECT_EQ(offered_one(t3), a);
}

TEST_F(RouterTest, UpdateAgentKeepsItsLinearPlaceAndAJoinerGoesLast) {
  QueueId q = queue("q", Strategy::kLinear);
  QueueId other = queue("other");
  AgentId a = agent("a", {{q, 1}});
  AgentId b = agent("b", {{q, 1}});
  AgentId c = agent("c", {{q, 1}});
  for (AgentId x : {c, b, a}) login(x);
  // b changes only its skills: it stays second.
  SkillId fr = r_.add_skill("fr");
  ASSERT_TRUE(update(b, {{q, 1}, {other, 1}}, {{fr, 5}}).is_ok());
  TaskId t1 = arrive(q);
  EXPECT_EQ(offered_one(t1), a);
  send(OfferAccepted{t1, a});
  TaskId t2 = arrive(q);
  EXPECT_EQ(offered_one(t2), b);
  send(TaskAbandoned{t2});
  take<CancelOffer>();
  send(TaskCompleted{t1});
  // a leaves and rejoins: it is now last, behind c.
  ASSERT_TRUE(update(a, {}).is_ok());
  ASSERT_TRUE(update(a, {{q, 1}}).is_ok());
  std::vector<AgentId> order;
  for (int i = 0; i < 3; ++i) {
    TaskId t = arrive(q);
    AgentId x = offered_one(t);
    order.push_back(x);
    send(OfferAccepted{t, x});
  }
  EXPECT_EQ(order, (std::vector<AgentId>{b, c, a}));
}

TEST_F(RouterTest, UpdateAgentJoinerIsNextInRoundRobin) {
  QueueId q = queue("q", Strategy::kRoundRobin);
  AgentId a = agent("a", {{q, 1}});
  AgentId b = agent("b", {{q, 1}});
  AgentId c = agent("c", {});
  for (AgentId x : {a, b, c}) login(x);
  auto serve_and_finish = [&] {
    TaskId t = arrive(q);
    AgentId x = offered_one(t);
    send(OfferAccepted{t, x});
    send(TaskCompleted{t});
    return x;
  };
  EXPECT_EQ(serve_and_finish(), a);
  EXPECT_EQ(serve_and_finish(), b);
  ASSERT_TRUE(update(c, {{q, 1}}).is_ok());
  EXPECT_EQ(serve_and_finish(), c) << "never served in this queue";
  EXPECT_EQ(serve_and_finish(), a);
  ASSERT_TRUE(update(a, {{q, 3}}).is_ok());
  ASSERT_TRUE(update(a, {{q, 1}}).is_ok());
  EXPECT_EQ(serve_and_finish(), b) << "a tier change keeps a's turn";
}

TEST_F(RouterTest, UpdateAgentSkillsMakeItEligibleOrNot) {
  SkillId fa = r_.add_skill("fa");
  SkillId en = r_.add_skill("en");
  QueueId q = queue("q");
  AgentId a = agent("a", {{q, 1}}, {{fa, 3}});
  login(a);
  TaskId t1 = arrive(q, 0, {{fa, 5}});
  EXPECT_TRUE(offered(t1).empty());
  ASSERT_TRUE(update(a, {{q, 1}}, {{en, 2}, {fa, 6}}).is_ok());
  EXPECT_EQ(offered_one(t1), a) << "now at level 6";
  send(OfferAccepted{t1, a});
  send(TaskCompleted{t1});
  ASSERT_TRUE(update(a, {{q, 1}}, {{en, 2}}).is_ok());
  TaskId t2 = arrive(q, 0, {{fa, 1}});
  EXPECT_TRUE(offered(t2).empty()) << "fa removed";
  TaskId t3 = arrive(q, 0, {{en, 2}});
  EXPECT_EQ(offered_one(t3), a) << "en kept";
  EXPECT_EQ(r_.standing(t2, now_)->position, 1u);
}

TEST_F(RouterTest, UpdateAgentSkillLevelReordersBestSkill) {
  SkillId s = r_.add_skill("billing");
  QueueConfig qc;
  qc.name = "billing";
  qc.strategy = Strategy::kBestSkill;
  qc.skills = {{s, 1}};
  QueueId q = queue(qc);
  AgentId mid = agent("mid", {{q, 1}}, {{s, 5}});
  AgentId top = agent("top", {{q, 1}}, {{s, 9}});
  login(mid);
  login(top);
  ASSERT_TRUE(update(mid, {{q, 1}}, {{s, 10}}).is_ok());
  EXPECT_EQ(serve(q), mid) << "the ready index is re-keyed by the new level";
  EXPECT_EQ(serve(q), top);
}

TEST_F(RouterTest, UpdateAgentInvalidInputFailsAndChangesNothing) {
  SkillId fa = r_.add_skill("fa");
  QueueConfig qc;
  qc.name = "q";
  qc.ring_timeout = 10s;
  QueueId q = queue(qc);
  QueueId other = queue("other");
  AgentId a = agent("a", {{q, 1}}, {{fa, 4}});
  AgentId b = agent("b", {{q, 1}});
  login(a);
  login(b);
  TaskId ringing = arrive(q);
  AgentId rung = offered_one(ringing);
  TaskId waiting = arrive(other);
  take<AgentChanged>();
  const auto deadline = r_.next_deadline();
  auto snapshot = [&] {
    std::string s;
    for (QueueId x : {q, other}) s += describe(r_.queue_snapshot(x, now_)) + "\n";
    for (AgentId x : {a, b}) s += describe(r_.agent_snapshot(x, now_)) + "\n";
    return s;
  };
  const std::string before = snapshot();

  struct Case {
    const char* what;
    std::vector<QueueMembership> queues;
    std::vector<std::pair<SkillId, uint8_t>> skills;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"unknown queue", {{other, 1}, {QueueId{9}, 1}}, {}, "agent 'a'.queues[1]: unknown queue"},
      {"tier 0", {{other, 0}}, {}, "agent 'a'.queues[0]: tier must be 1 or more"},
      {"queue twice", {{other, 1}, {other, 2}}, {}, "queue 'other' is listed twice"},
      {"level 0", {{other, 1}}, {{fa, 0}}, "agent 'a'.skills[0]: level 0 is outside 1..10"},
      {"level 11", {{other, 1}}, {{fa, 11}}, "level 11 is outside 1..10"},
      {"unknown skill", {{other, 1}}, {{SkillId{7}, 3}}, "unknown skill id"},
      {"skill twice", {{other, 1}}, {{fa, 3}, {fa, 4}}, "skill 'fa' is listed twice"},
  };
  // Later than the ring timeout: a refused change must not fire it either.
  const TimePoint later = now_ + 1min;
  for (const Case& c : cases) {
    Status s = r_.update_agent(a, c.skills, c.queues, later, out_);
    ASSERT_FALSE(s.is_ok()) << c.what;
    EXPECT_NE(s.message().find(c.message), std::string::npos) << c.what << ": " << s.message();
    EXPECT_TRUE(out_.empty()) << c.what;
    EXPECT_EQ(snapshot(), before) << c.what;
    EXPECT_EQ(r_.next_deadline(), deadline) << c.what;
  }
  Status s = r_.update_agent(AgentId{42}, {}, {}, later, out_);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("unknown agent id 42"), std::string::npos) << s.message();
  EXPECT_TRUE(out_.empty());

  // Everything goes on as before: the ring is answered, the other task still waits for nobody.
  send(OfferAccepted{ringing, rung});
  EXPECT_EQ(take<TaskAssigned>().size(), 1u);
  EXPECT_TRUE(offered(waiting).empty());
  EXPECT_EQ(r_.queue_snapshot(q, now_).agents_logged_in, 2u);
}

TEST_F(RouterTest, UpdateAgentLeavesAConnectedContactAlone) {
  QueueConfig qc;
  qc.name = "q";
  qc.wrap_up = 30s;
  QueueId q = queue(qc);
  QueueId other = queue("other");
  AgentId a = agent("a", {{q, 1}});
  login(a);
  TaskId t = arrive(q);
  send(OfferAccepted{t, offered_one(t)});
  take<TaskAssigned>();
  take<AgentChanged>();

  ASSERT_TRUE(update(a, {{other, 1}}).is_ok());
  EXPECT_TRUE(out_.empty()) << "no cancel, no leave, no state change";
  EXPECT_EQ(r_.agent_snapshot(a, now_).state, AgentState::kOnContact);
  EXPECT_EQ(r_.queue_snapshot(q, now_).agents_logged_in, 0u);
  EXPECT_EQ(r_.task_count(), 1u);

  TaskId next = arrive(q);
  wait(20s);
  send(TaskCompleted{t});
  EXPECT_EQ(r_.agent_snapshot(a, now_).state, AgentState::kWrapUp) << "q's wrap-up still applies";
  TaskId o = arrive(other);
  EXPECT_TRUE(offered(o).empty()) << "wrapping up";
  send(WrapUpDone{a, t});
  auto offers = take<OfferTask>();
  ASSERT_EQ(offers.size(), 1u) << "not `next`: q is no longer a's";
  EXPECT_EQ(offers[0].task, o);
  EXPECT_EQ(r_.standing(next, now_)->position, 1u);
  auto s = r_.queue_snapshot(q, now_);
  EXPECT_EQ(s.totals.answered, 1u);
  EXPECT_EQ(s.totals.handled, 1u) << "counted in the task's own queue";
  EXPECT_EQ(r_.agent_snapshot(a, now_).totals.handled, 1u);
}

TEST_F(RouterTest, UpdateAgentLetsAnOfferFromAQueueItLeftRingOut) {
  QueueConfig qc;
  qc.name = "q";
  qc.ring_timeout = 10s;
  QueueId q = queue(qc);
  AgentId a = agent("a", {{q, 1}});
  AgentId b = agent("b", {{q, 1}});
  login(a);
  wait(1s);
  login(b);
  // The ring is answered after the change: the accept stands.
  TaskId t1 = arrive(q);
  ASSERT_EQ(offered_one(t1), a);
  ASSERT_TRUE(update(a, {}).is_ok());
  EXPECT_TRUE(take<CancelOffer>().empty());
  send(OfferAccepted{t1, a});
  auto assigned = take<TaskAssigned>();
  ASSERT_EQ(assigned.size(), 1u);
  EXPECT_EQ(assigned[0].queue, q);
  wait(5s);
  send(TaskCompleted{t1});

  // The ring times out after the change: the task goes on to a, never back to b.
  ASSERT_TRUE(update(a, {{q, 1}}).is_ok());  // back in q; idle since t1 ended, after b
  TaskId t2 = arrive(q);
  ASSERT_EQ(offered_one(t2), b);
  ASSERT_TRUE(update(b, {}).is_ok());
  EXPECT_TRUE(take<CancelOffer>().empty());
  wait(10s);
  auto cancels = take<CancelOffer>();
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].agent, b);
  EXPECT_EQ(cancels[0].reason, CancelReason::kRingTimeout);
  EXPECT_EQ(offered_one(t2), a);
  send(OfferDeclined{t2, a, DeclineReason::kRejected});
  wait(5s);
  EXPECT_EQ(offered(t2), std::vector<AgentId>{a})
      << "both retry pauses end now, and b is free, but b left q";
}

TEST_F(RouterTest, UpdateAgentAddsAMemberToARingAllInProgress) {
  QueueId q = queue("q", Strategy::kRingAll);
  AgentId a = agent("a", {{q, 1}});
  AgentId b = agent("b", {});
  login(a);
  login(b);
  TaskId t = arrive(q);
  EXPECT_EQ(offered(t), std::vector<AgentId>{a});
  ASSERT_TRUE(update(b, {{q, 1}}).is_ok());
  EXPECT_EQ(offered(t), std::vector<AgentId>{b});
}

TEST_F(RouterTest, UpdateAgentLastMemberLeavingAppliesLeaveEmpty) {
  QueueConfig qc;
  qc.name = "q";
  qc.leave_empty = EmptyPolicy::kNoAgentsLoggedIn;
  QueueId q = queue(qc);
  QueueId other = queue("other");
  AgentId a = agent("a", {{q, 1}});
  send(SetAgentStatus{a, AgentStatus::kBreak, ""});  // logged in, so tasks may wait
  TaskId t = arrive(q);
  EXPECT_TRUE(take<TaskLeftQueue>().empty());
  ASSERT_TRUE(update(a, {{other, 1}}).is_ok());
  auto left = take<TaskLeftQueue>();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].task, t);
  EXPECT_EQ(left[0].reason, LeaveReason::kQueueEmpty);
  EXPECT_EQ(r_.queue_snapshot(q, now_).totals.left, 1u);
  EXPECT_EQ(r_.task_count(), 0u);
}

TEST_F(RouterTest, UpdateAgentWhileLoggedOutCountsNowhereUntilLogin) {
  QueueId q = queue("q");
  AgentId a = agent("a", {});
  TaskId t = arrive(q);
  ASSERT_TRUE(update(a, {{q, 1}}).is_ok());
  EXPECT_TRUE(out_.empty());
  EXPECT_EQ(r_.queue_snapshot(q, now_).agents_logged_in, 0u);
  login(a);
  EXPECT_EQ(offered_one(t), a);
  EXPECT_EQ(r_.queue_snapshot(q, now_).agents_logged_in, 1u);
  send(SetAgentStatus{a, AgentStatus::kLoggedOut, ""});
  ASSERT_TRUE(update(a, {}).is_ok());
  EXPECT_EQ(r_.queue_snapshot(q, now_).agents_logged_in, 0u) << "no underflow";
}

// ---- live changes to a queue's settings and an agent's capacity ----

TEST_F(RouterTest, QueueConfigIsReadBackAndComparesFieldByField) {
  SkillId fa = r_.add_skill("fa");
  QueueConfig qc;
  qc.name = "q";
  qc.skills = {{fa, 3}};
  qc.escalation = {{30s, EscalationStep::Action::kNextTier, 1, {}, ""}};
  QueueId q = queue(qc);
  EXPECT_EQ(r_.queue_config(QueueId{9}), nullptr);
  ASSERT_NE(r_.queue_config(q), nullptr);
  EXPECT_TRUE(*r_.queue_config(q) == qc);

  QueueConfig other = qc;
  other.skills[0].min_level = 4;
  EXPECT_FALSE(other == qc) << "a skill's level";
  other = qc;
  other.escalation[0].after = 31s;
  EXPECT_FALSE(other == qc) << "an escalation step's time";
  other = qc;
  other.escalation[0].branch = "vm";
  EXPECT_FALSE(other == qc) << "an escalation step's branch";
  other = qc;
  other.default_handle_time = 1s;
  EXPECT_FALSE(other == qc) << "the last field";

  other = qc;
  other.ring_timeout = 7s;
  ASSERT_TRUE(reconfigure(q, other).is_ok());
  EXPECT_TRUE(*r_.queue_config(q) == other);
  EXPECT_FALSE(*r_.queue_config(q) == qc);
  EXPECT_TRUE(out_.empty()) << "nothing waits, nobody is logged in";
}

TEST_F(RouterTest, UpdateQueueStrategyReordersWhoIsOfferedNext) {
  QueueId q = queue("q", Strategy::kLinear);
  AgentId a = agent("a", {{q, 1}});
  AgentId b = agent("b", {{q, 1}});
  AgentId c = agent("c", {{q, 1}});
  login(c);
  wait(1s);
  login(b);
  wait(1s);
  login(a);
  TaskId t1 = arrive(q);
  EXPECT_EQ(offered_one(t1), a) << "first in the linear list";
  send(TaskAbandoned{t1});

  QueueConfig cfg = config_of(q);
  cfg.strategy = Strategy::kLongestIdle;
  ASSERT_TRUE(reconfigure(q, cfg).is_ok());
  EXPECT_TRUE(take<OfferTask>().empty()) << "nothing waits";
  TaskId t2 = arrive(q);
  EXPECT_EQ(offered_one(t2), c) << "idle the longest";
  send(TaskAbandoned{t2});

  cfg.strategy = Strategy::kLinear;
  ASSERT_TRUE(reconfigure(q, cfg).is_ok());
  TaskId t3 = arrive(q);
  EXPECT_EQ(offered_one(t3), a) << "the linear list was kept meanwhile";
  EXPECT_EQ(r_.queue_snapshot(q, now_).totals.offered, 3u) << "statistics are kept";
}

TEST_F(RouterTest, UpdateQueueToBestSkillRanksByTheNewFirstSkill) {
  SkillId fa = r_.add_skill("fa");
  SkillId en = r_.add_skill("en");
  QueueId q = queue("q");
  AgentId lo = agent("lo", {{q, 1}}, {{fa, 2}, {en, 9}});
  AgentId hi = agent("hi", {{q, 1}}, {{fa, 9}, {en, 1}});
  login(lo);
  wait(1s);
  login(hi);
  QueueConfig cfg = config_of(q);
  cfg.strategy = Strategy::kBestSkill;
  cfg.skills = {{fa, 1}};
  ASSERT_TRUE(reconfigure(q, cfg).is_ok());
  TaskId t1 = arrive(q);
  EXPECT_EQ(offered_one(t1), hi) << "fa 9 beats fa 2, though lo has been idle longer";
  send(TaskAbandoned{t1});
  cfg.skills = {{en, 1}};
  ASSERT_TRUE(reconfigure(q, cfg).is_ok());
  TaskId t2 = arrive(q);
  EXPECT_EQ(offered_one(t2), lo) << "ranked by en now";
}

// Linear to ring-all while a task rings one agent: the others join the ring at once; each ring
// ends by its own terms, and the loads and states come back to zero.
TEST_F(RouterTest, UpdateQueueLinearToRingAllWhileRinging) {
  QueueConfig qc;
  qc.name = "q";
  qc.strategy = Strategy::kLinear;
  qc.ring_timeout = 10s;
  qc.retry_after = 30s;
  qc.max_no_answer = 0;
  QueueId q = queue(qc);
  AgentId a = agent("a", {{q, 1}});
  AgentId b = agent("b", {{q, 1}});
  AgentId c = agent("c", {{q, 1}});
  for (AgentId x : {a, b, c}) login(x);
  TaskId t = arrive(q);
  EXPECT_EQ(offered_one(t), a);
  wait(2s);

  QueueConfig cfg = config_of(q);
  cfg.strategy = Strategy::kRingAll;
  ASSERT_TRUE(reconfigure(q, cfg).is_ok());
  EXPECT_EQ(offered(t), (std::vector<AgentId>{b, c})) << "rung at once, in this call";
  EXPECT_TRUE(take<CancelOffer>().empty()) << "a's ring goes on";
  for (AgentId x : {a, b, c}) {
    auto s = r_.agent_snapshot(x, now_);
    EXPECT_EQ(s.state, AgentState::kReserved) << describe(s);
    EXPECT_EQ(s.load[0], 1u) << describe(s);
  }
  EXPECT_EQ(r_.queue_snapshot(q, now_).waiting, 1u);

  wait(1s);
  send(OfferDeclined{t, b, DeclineReason::kRejected});
  EXPECT_TRUE(offered(t).empty()) << "b sits out its retry pause; a and c still ring";
  wait(7s);  // a's ring, made under linear, ends at its own deadline
  auto cancels = take<CancelOffer>();
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].agent, a);
  EXPECT_EQ(cancels[0].reason, CancelReason::kRingTimeout);
  EXPECT_EQ(r_.agent_snapshot(a, now_).missed_in_row, 1u) << "a linear ring that rang out";
  EXPECT_FALSE(r_.standing(t, now_).has_value()) << "c still rings";
  wait(2s);
  cancels = take<CancelOffer>();
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].agent, c);
  EXPECT_EQ(r_.agent_snapshot(c, now_).missed_in_row, 0u) << "a ring-all ring that rang out";
  ASSERT_TRUE(r_.standing(t, now_).has_value()) << "back to waiting with its last ring";
  EXPECT_EQ(r_.standing(t, now_)->position, 1u);
  for (AgentId x : {a, b, c}) {
    auto s = r_.agent_snapshot(x, now_);
    EXPECT_EQ(s.state, AgentState::kIdle) << describe(s);
    EXPECT_EQ(s.load[0], 0u) << describe(s);
  }

  wait(30s);  // every retry pause is over: b's (+33 s), a's (+40 s), then c's (+42 s)
  auto again = offered(t);
  std::sort(again.begin(), again.end());
  EXPECT_EQ(again, (std::vector<AgentId>{a, b, c})) << "rings everyone, as ring-all does";
  send(OfferAccepted{t, a});
  auto assigned = take<TaskAssigned>();
  ASSERT_EQ(assigned.size(), 1u);
  EXPECT_EQ(assigned[0].agent, a);
  cancels = take<CancelOffer>();
  ASSERT_EQ(cancels.size(), 2u);
  for (const CancelOffer& x : cancels) EXPECT_EQ(x.reason, CancelReason::kTakenByOther);
  EXPECT_EQ(r_.agent_snapshot(a, now_).load[0], 1u);
  EXPECT_EQ(r_.agent_snapshot(b, now_).load[0], 0u);
  EXPECT_EQ(r_.agent_snapshot(c, now_).load[0], 0u);
  EXPECT_EQ(r_.agent_snapshot(b, now_).state, AgentState::kIdle);
  auto qs = r_.queue_snapshot(q, now_);
  EXPECT_EQ(qs.waiting, 0u);
  EXPECT_EQ(qs.totals.answered, 1u);
  EXPECT_EQ(qs.agents_idle, 2u);
}

// Ring-all to longest-idle while a task rings everyone: no further offers while those rings
// last; the ring-all rings do not count as misses when they ring out; the task then goes to one
// agent at a time.
TEST_F(RouterTest, UpdateQueueRingAllToLongestIdleWhileRinging) {
  QueueConfig qc;
  qc.name = "q";
  qc.strategy = Strategy::kRingAll;
  qc.ring_timeout = 10s;
  qc.retry_after = 1s;
  qc.max_no_answer = 0;
  QueueId q = queue(qc);
  AgentId a = agent("a", {{q, 1}});
  AgentId b = agent("b", {{q, 1}});
  AgentId c = agent("c", {{q, 1}});
  AgentId d = agent("d", {{q, 1}});
  login(a);
  wait(1s);
  login(b);
  wait(1s);
  login(c);
  QueueConfig ring_all = config_of(q);
  QueueConfig longest = ring_all;
  longest.strategy = Strategy::kLongestIdle;

  // Declined, then accepted after the change.
  TaskId t1 = arrive(q);
  EXPECT_EQ(offered(t1).size(), 3u);
  take<AgentChanged>();
  ASSERT_TRUE(reconfigure(q, longest).is_ok());
  EXPECT_TRUE(out_.empty()) << "no cancel, no offer";
  send(OfferDeclined{t1, c, DeclineReason::kRejected});
  wait(1s);
  EXPECT_TRUE(offered(t1).empty())
      << "no longer ring-all: a ringing task waits in no list, so c is not rung again";
  EXPECT_EQ(r_.agent_snapshot(c, now_).state, AgentState::kIdle);
  login(d);
  EXPECT_TRUE(offered(t1).empty()) << "nor is an agent who becomes free";
  send(OfferAccepted{t1, b});
  auto cancels = take<CancelOffer>();
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].agent, a);
  EXPECT_EQ(cancels[0].reason, CancelReason::kTakenByOther);
  EXPECT_EQ(r_.agent_snapshot(a, now_).load[0], 0u);
  EXPECT_EQ(r_.agent_snapshot(b, now_).load[0], 1u);
  send(TaskCompleted{t1});
  EXPECT_EQ(r_.agent_snapshot(b, now_).load[0], 0u);

  // Rung out after the change.
  ASSERT_TRUE(reconfigure(q, ring_all).is_ok());
  TaskId t2 = arrive(q);
  EXPECT_EQ(offered(t2).size(), 4u);
  ASSERT_TRUE(reconfigure(q, longest).is_ok());
  const uint32_t c_missed = r_.agent_snapshot(c, now_).missed_in_row;
  wait(10s);
  EXPECT_EQ(take<CancelOffer>().size(), 4u);
  EXPECT_EQ(r_.agent_snapshot(a, now_).missed_in_row, 0u) << "ring-all rings are nobody's miss";
  EXPECT_EQ(r_.agent_snapshot(c, now_).missed_in_row, c_missed);
  EXPECT_TRUE(offered(t2).empty()) << "everyone sits out the retry pause";
  wait(1s);
  EXPECT_EQ(offered_one(t2), a) << "one agent now: the longest idle";
  wait(10s);
  EXPECT_EQ(r_.agent_snapshot(a, now_).missed_in_row, 1u) << "a longest-idle ring rang out";
  EXPECT_EQ(offered_one(t2), c) << "then the next longest idle (b was busy, d logged in later)";
  for (AgentId x : {a, b, d}) EXPECT_EQ(r_.agent_snapshot(x, now_).load[0], 0u);
  EXPECT_EQ(r_.agent_snapshot(c, now_).load[0], 1u);
  EXPECT_EQ(r_.queue_snapshot(q, now_).waiting, 1u);
}

TEST_F(RouterTest, UpdateQueueLoweringASkillOffersAWaitingTaskAtOnce) {
  SkillId fa = r_.add_skill("fa");
  QueueConfig qc;
  qc.name = "q";
  qc.skills = {{fa, 5}};
  QueueId q = queue(qc);
  AgentId a = agent("a", {{q, 1}}, {{fa, 3}});
  login(a);
  TaskId t1 = arrive(q);
  TaskId t2 = arrive(q, 0, {{fa, 4}});
  EXPECT_TRUE(take<OfferTask>().empty());

  QueueConfig cfg = config_of(q);
  cfg.skills = {{fa, 3}};
  ASSERT_TRUE(reconfigure(q, cfg).is_ok());
  auto offers = take<OfferTask>();
  ASSERT_EQ(offers.size(), 1u) << "appended to out by update_queue itself";
  EXPECT_EQ(offers[0].task, t1);
  EXPECT_EQ(offers[0].agent, a);
  send(OfferAccepted{t1, a});
  send(TaskCompleted{t1});
  EXPECT_TRUE(offered(t2).empty()) << "t2's own requirement (fa 4) stays";
  cfg.skills = {};
  ASSERT_TRUE(reconfigure(q, cfg).is_ok());
  EXPECT_TRUE(offered(t2).empty()) << "still its own fa 4";
  EXPECT_EQ(r_.standing(t2, now_)->position, 1u);
}

TEST_F(RouterTest, UpdateQueueRaisingASkillStopsOffersToUnderSkilledAgents) {
  SkillId fa = r_.add_skill("fa");
  QueueConfig qc;
  qc.name = "q";
  qc.skills = {{fa, 1}};
  qc.retry_after = 0s;  // without the change, a would be rung again right after declining
  qc.max_no_answer = 0;
  QueueId q = queue(qc);
  AgentId a = agent("a", {{q, 1}}, {{fa, 3}});
  AgentId b = agent("b", {{q, 1}}, {{fa, 8}});
  login(a);
  TaskId t1 = arrive(q);
  EXPECT_EQ(offered_one(t1), a);

  QueueConfig cfg = config_of(q);
  cfg.skills = {{fa, 5}};
  ASSERT_TRUE(reconfigure(q, cfg).is_ok());
  EXPECT_TRUE(take<CancelOffer>().empty()) << "the ring in progress goes on";
  send(OfferDeclined{t1, a, DeclineReason::kRejected});
  EXPECT_TRUE(offered(t1).empty()) << "a (fa 3) no longer meets fa 5";
  login(b);
  EXPECT_EQ(offered_one(t1), b);
  TaskId t2 = arrive(q);
  EXPECT_TRUE(offered(t2).empty()) << "new tasks need fa 5 too";
}

TEST_F(RouterTest, UpdateQueueShorterMaxWaitMakesAnOldWaiterLeave) {
  QueueConfig qc;
  qc.name = "q";
  qc.max_wait = 10min;
  QueueId q = queue(qc);
  AgentId a = agent("a", {{q, 1}});
  TaskId old_one = arrive(q);
  wait(3min);
  TaskId young = arrive(q);
  wait(1min);
  login(a);
  TaskId ringing = old_one;
  EXPECT_EQ(offered_one(ringing), a);

  QueueConfig cfg = config_of(q);
  cfg.max_wait = 2min;
  ASSERT_TRUE(reconfigure(q, cfg).is_ok());
  auto left = take<TaskLeftQueue>();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].task, old_one);
  EXPECT_EQ(left[0].reason, LeaveReason::kTimeout);
  EXPECT_EQ(left[0].waited, Duration(4min));
  auto cancels = take<CancelOffer>();
  ASSERT_EQ(cancels.size(), 1u) << "its ring ends with it";
  EXPECT_EQ(cancels[0].reason, CancelReason::kTaskGone);
  EXPECT_EQ(offered_one(young), a) << "a is free again";
  send(OfferDeclined{young, a, DeclineReason::kRejected});
  wait(59s);
  EXPECT_TRUE(take<TaskLeftQueue>().empty());
  wait(1s);
  left = take<TaskLeftQueue>();
  ASSERT_EQ(left.size(), 1u) << "the young one leaves at the new max_wait";
  EXPECT_EQ(left[0].task, young);
  EXPECT_EQ(left[0].waited, Duration(2min));
  EXPECT_EQ(r_.queue_snapshot(q, now_).totals.left, 2u);
  EXPECT_EQ(r_.task_count(), 0u);
}

TEST_F(RouterTest, UpdateQueueEscalationGoesOnFromWhereTheTaskIs) {
  QueueId q = queue("q");
  AgentId backup = agent("backup", {{q, 2}});
  login(backup);
  TaskId t = arrive(q);
  wait(60s);
  QueueConfig cfg = config_of(q);
  cfg.escalation = {{30s, EscalationStep::Action::kNextTier, 1, {}, ""},
                    {100s, EscalationStep::Action::kNextTier, 1, {}, ""}};
  ASSERT_TRUE(reconfigure(q, cfg).is_ok());
  EXPECT_TRUE(offered(t).empty()) << "a step already passed is not applied afterwards";
  TaskId fresh = arrive(q);
  wait(29s);
  EXPECT_TRUE(offered(fresh).empty());
  wait(1s);
  EXPECT_EQ(offered_one(fresh), backup) << "a task that joined after the change gets every step";
  send(TaskAbandoned{fresh});
  EXPECT_TRUE(offered(t).empty()) << "t has waited 90 s: its next step is at 100 s";
  wait(10s);
  EXPECT_EQ(offered_one(t), backup) << "the next step of the new list, at its time";
}

TEST_F(RouterTest, UpdateQueueEmptyPoliciesAndMaxWaiting) {
  QueueId q = queue("q");
  AgentId a = agent("a", {{q, 1}});
  send(SetAgentStatus{a, AgentStatus::kBreak, ""});
  TaskId t1 = arrive(q);
  TaskId t2 = arrive(q);
  TaskId t3 = arrive(q);
  out_.clear();

  QueueConfig cfg = config_of(q);
  cfg.max_waiting = 1;
  cfg.join_empty = EmptyPolicy::kNoAgentsLoggedIn;
  ASSERT_TRUE(reconfigure(q, cfg).is_ok());
  EXPECT_TRUE(out_.empty()) << "lowering max_waiting turns no one out";
  EXPECT_EQ(r_.queue_snapshot(q, now_).waiting, 3u);
  arrive(q);
  auto rejected = take<TaskRejected>();
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0].reason, RejectReason::kQueueFull);

  cfg.leave_empty = EmptyPolicy::kNoAgentsAvailable;
  ASSERT_TRUE(reconfigure(q, cfg).is_ok());
  auto left = take<TaskLeftQueue>();
  ASSERT_EQ(left.size(), 3u) << "a is on break: nobody available";
  for (const TaskLeftQueue& l : left) EXPECT_EQ(l.reason, LeaveReason::kQueueEmpty);
  std::set<uint64_t> ids;
  for (const TaskLeftQueue& l : left) ids.insert(l.task.value);
  EXPECT_EQ(ids, (std::set<uint64_t>{t1.value, t2.value, t3.value}));
  auto s = r_.queue_snapshot(q, now_);
  EXPECT_EQ(s.waiting, 0u);
  EXPECT_EQ(s.totals.left, 3u);
  EXPECT_EQ(s.totals.rejected, 1u);

  cfg.join_empty = EmptyPolicy::kNoAgentsAvailable;
  cfg.leave_empty = EmptyPolicy::kIgnore;
  ASSERT_TRUE(reconfigure(q, cfg).is_ok());
  arrive(q);
  rejected = take<TaskRejected>();
  ASSERT_EQ(rejected.size(), 1u) << "join_empty applies to the next arrival";
  EXPECT_EQ(rejected[0].reason, RejectReason::kQueueEmpty);
}

TEST_F(RouterTest, UpdateQueueTimesApplyFromTheNextOffer) {
  QueueConfig qc;
  qc.name = "q";
  qc.ring_timeout = 10s;
  QueueId q = queue(qc);
  AgentId a = agent("a", {{q, 1}});
  AgentId b = agent("b", {{q, 1}});
  login(a);
  wait(1s);
  login(b);
  TaskId t = arrive(q);
  EXPECT_EQ(offered_one(t), a);
  QueueConfig cfg = config_of(q);
  cfg.ring_timeout = 30s;
  cfg.wrap_up = 20s;
  ASSERT_TRUE(reconfigure(q, cfg).is_ok());
  wait(10s);
  auto cancels = take<CancelOffer>();
  ASSERT_EQ(cancels.size(), 1u) << "the deadline set before the change stays";
  EXPECT_EQ(cancels[0].agent, a);
  EXPECT_EQ(offered_one(t), b);
  wait(29s);
  EXPECT_TRUE(take<CancelOffer>().empty()) << "the new offer rings for 30 s";
  send(OfferAccepted{t, b});
  send(TaskCompleted{t});
  EXPECT_EQ(r_.agent_snapshot(b, now_).state, AgentState::kWrapUp);
  wait(19s);
  EXPECT_EQ(r_.agent_snapshot(b, now_).state, AgentState::kWrapUp);
  wait(1s);
  EXPECT_EQ(r_.agent_snapshot(b, now_).state, AgentState::kIdle) << "the new wrap-up";
}

TEST_F(RouterTest, UpdateQueueRefusedChangesChangeNothing) {
  SkillId fa = r_.add_skill("fa");
  QueueConfig qc;
  qc.name = "q";
  qc.ring_timeout = 10s;
  qc.skills = {{fa, 2}};
  qc.max_wait = 5min;
  QueueId q = queue(qc);
  QueueId other = queue("other");
  AgentId a = agent("a", {{q, 1}}, {{fa, 4}});
  login(a);
  TaskId ringing = arrive(q);
  AgentId rung = offered_one(ringing);
  TaskId waiting = arrive(q);
  take<AgentChanged>();
  const auto deadline = r_.next_deadline();
  auto snapshot = [&] {
    std::string s;
    for (QueueId x : {q, other}) s += describe(r_.queue_snapshot(x, now_)) + "\n";
    return s + describe(r_.agent_snapshot(a, now_));
  };
  const std::string before = snapshot();
  using A = EscalationStep::Action;

  // Each case: a change that would otherwise take effect (ring-all, and a max_wait the tasks have
  // passed) with one thing wrong, and what the message must say.
  std::vector<std::pair<QueueConfig, std::string>> cases;
  auto refused = [&](std::string message) -> QueueConfig& {
    QueueConfig cfg = qc;
    cfg.max_wait = 30s;
    cfg.strategy = Strategy::kRingAll;
    cases.emplace_back(std::move(cfg), std::move(message));
    return cases.back().first;
  };
  refused("queue 'q'.name: 'sales' differs").name = "sales";
  refused("queue 'q'.name: '' differs").name.clear();
  refused("queue 'q'.skills[0]: unknown skill id 7").skills = {{SkillId{7}, 3}};
  refused("queue 'q'.skills[0]: minimum level 0 is outside 1..10").skills = {{fa, 0}};
  refused("queue 'q'.skills[1]: minimum level 11 is outside 1..10").skills = {{fa, 1}, {fa, 11}};
  refused("queue 'q'.escalation[0]: a queue cannot overflow into itself").escalation = {
      {1s, A::kOverflow, 1, q, ""}};
  refused("queue 'q'.escalation[0]: overflow queue id 9 does not exist").escalation = {
      {1s, A::kOverflow, 1, QueueId{9}, ""}};
  refused("queue 'q'.escalation[1]: 'amount' must be at least 1").escalation = {
      {1s, A::kNextTier, 1, {}, ""}, {2s, A::kLowerSkill, 0, {}, ""}};
  refused("queue 'q'.escalation[0]: 'after' is negative").escalation = {
      {-1s, A::kNextTier, 1, {}, ""}};
  // Later than the ring timeout: a refused change must neither fire timers nor apply any part of
  // itself.
  const TimePoint later = now_ + 1min;
  for (const auto& [cfg, message] : cases) {
    Status s = r_.update_queue(q, cfg, later, out_);
    ASSERT_FALSE(s.is_ok()) << message;
    EXPECT_NE(s.message().find(message), std::string::npos) << s.message();
    EXPECT_TRUE(out_.empty()) << message;
    EXPECT_EQ(snapshot(), before) << message;
    EXPECT_EQ(r_.next_deadline(), deadline) << message;
    EXPECT_TRUE(*r_.queue_config(q) == qc) << message;
  }
  Status s = r_.update_queue(QueueId{9}, qc, later, out_);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("unknown queue id 9"), std::string::npos) << s.message();
  EXPECT_TRUE(out_.empty());

  // Everything goes on as before.
  send(OfferAccepted{ringing, rung});
  EXPECT_EQ(take<TaskAssigned>().size(), 1u);
  EXPECT_EQ(r_.standing(waiting, now_)->position, 1u);
  EXPECT_TRUE(take<TaskLeftQueue>().empty());
}

TEST_F(RouterTest, SetCapacityRaiseOffersAtOnce) {
  QueueId q = queue("q");
  AgentConfig ac;
  ac.name = "a";
  ac.queues = {{q, 1}};
  ac.capacity = {1, 1, 0, 0, 0};
  AgentId a = agent(ac);
  login(a);
  TaskId c1 = arrive(q, 0, {}, Channel::kChat);
  send(OfferAccepted{c1, offered_one(c1)});
  TaskId c2 = arrive(q, 0, {}, Channel::kChat);
  TaskId e1 = arrive(q, 0, {}, Channel::kEmail);
  EXPECT_TRUE(take<OfferTask>().empty());
  EXPECT_EQ(r_.agent_snapshot(a, now_).capacity, ac.capacity);

  const std::array<uint8_t, kChannelCount> more = {1, 2, 0, 0, 0};
  ASSERT_TRUE(r_.set_capacity(a, more, now_, out_).is_ok());
  auto offers = take<OfferTask>();
  ASSERT_EQ(offers.size(), 1u) << "appended to out by set_capacity itself";
  EXPECT_EQ(offers[0].task, c2);
  EXPECT_EQ(offers[0].agent, a);
  EXPECT_EQ(r_.agent_snapshot(a, now_).capacity, more);
  EXPECT_EQ(r_.agent_snapshot(a, now_).load[1], 2u);
  EXPECT_EQ(r_.standing(e1, now_)->position, 1u) << "still no email capacity";

  out_.clear();
  Status s = r_.set_capacity(AgentId{42}, more, now_, out_);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("unknown agent id 42"), std::string::npos) << s.message();
  EXPECT_TRUE(out_.empty());
}

TEST_F(RouterTest, SetCapacityLowerDisturbsNothingInProgress) {
  QueueId q = queue("q");
  AgentConfig ac;
  ac.name = "a";
  ac.queues = {{q, 1}};
  ac.capacity = {1, 3, 0, 0, 0};
  AgentId a = agent(ac);
  login(a);
  TaskId c1 = arrive(q, 0, {}, Channel::kChat);
  send(OfferAccepted{c1, offered_one(c1)});
  TaskId c2 = arrive(q, 0, {}, Channel::kChat);
  send(OfferAccepted{c2, offered_one(c2)});
  TaskId c3 = arrive(q, 0, {}, Channel::kChat);
  EXPECT_EQ(offered_one(c3), a);
  out_.clear();

  ASSERT_TRUE(r_.set_capacity(a, {1, 1, 0, 0, 0}, now_, out_).is_ok());
  EXPECT_TRUE(out_.empty()) << "no cancel, no state change";
  auto snap = r_.agent_snapshot(a, now_);
  EXPECT_EQ(snap.load[1], 3u) << describe(snap);
  EXPECT_EQ(snap.capacity[1], 1u);
  send(OfferAccepted{c3, a});
  EXPECT_EQ(take<TaskAssigned>().size(), 1u) << "the ring in progress may still be answered";

  TaskId c4 = arrive(q, 0, {}, Channel::kChat);
  EXPECT_TRUE(offered(c4).empty());
  send(TaskCompleted{c1});
  EXPECT_TRUE(offered(c4).empty()) << "load 2, capacity 1";
  send(TaskCompleted{c2});
  EXPECT_TRUE(offered(c4).empty()) << "load 1, capacity 1";
  send(TaskCompleted{c3});
  EXPECT_EQ(offered_one(c4), a) << "below the new capacity";
}

// live_updates: also change agents' skills and queues at random with Router::update_agent.
// queue_updates (with live_updates): also change queues' settings at random with
// Router::update_queue (any strategy, ring-all included; skills; max_wait; ring timeout; wrap-up)
// and agents' capacities with Router::set_capacity.
void check_no_eligible_agent_idles(bool live_updates, bool queue_updates = false) {
  for (uint64_t seed : {1u, 2u, 3u, 4u, 5u}) {
    std::mt19937_64 rng(seed);
    RouterConfig rc;
    rc.seed = seed;
    Router r(rc);
    const int kSkills = 4, kQueues = 5, kAgents = 12;
    std::vector<SkillId> skills;
    for (int i = 0; i < kSkills; ++i) skills.push_back(r.add_skill("s" + std::to_string(i)));
    std::vector<QueueId> queues;
    std::vector<QueueConfig> queue_cfg;  // what the router was told, by queue
    const Strategy strategies[] = {Strategy::kLongestIdle, Strategy::kRoundRobin,
                                   Strategy::kRandom, Strategy::kLinear, Strategy::kBestSkill};
    for (int i = 0; i < kQueues; ++i) {
      QueueConfig qc;
      qc.name = "q" + std::to_string(i);
      qc.strategy = strategies[i];
      qc.retry_after = 0s;
      qc.max_no_answer = 0;
      qc.wrap_up = std::chrono::seconds(rng() % 3);
      qc.skills = {{skills[i % kSkills], static_cast<uint8_t>(1 + rng() % 5)}};
      queue_cfg.push_back(qc);
      queues.push_back(*r.add_queue(qc));
    }
    struct AgentInfo {
      std::map<uint32_t, int> levels;
      std::set<uint32_t> queues;
      std::array<uint8_t, kChannelCount> capacity;
    };
    std::vector<AgentInfo> info;
    for (int i = 0; i < kAgents; ++i) {
      AgentConfig ac;
      ac.name = "a" + std::to_string(i);
      AgentInfo ai;
      for (int s = 0; s < kSkills; ++s) {
        if (rng() % 2) {
          const auto level = static_cast<uint8_t>(1 + rng() % 10);
          ac.skills.emplace_back(skills[s], level);
          ai.levels[skills[s].value] = level;
        }
      }
      for (int q = 0; q < kQueues; ++q) {
        if (rng() % 3 == 0) {
          ac.queues.push_back({queues[q], 1});
          ai.queues.insert(queues[q].value);
        }
      }
      ac.capacity = {1, static_cast<uint8_t>(rng() % 3), 0, 0, 0};
      ai.capacity = ac.capacity;
      info.push_back(ai);
      ASSERT_TRUE(r.add_agent(ac).is_ok());
    }
    struct TaskInfo {
      uint32_t queue;
      Channel channel;
      std::vector<SkillRequirement> own;   // the task's own
      std::vector<SkillRequirement> reqs;  // its own and its queue's, as they are now
    };
    auto requirements = [&](uint32_t q, const std::vector<SkillRequirement>& own) {
      std::vector<SkillRequirement> reqs = own;
      reqs.insert(reqs.end(), queue_cfg[q].skills.begin(), queue_cfg[q].skills.end());
      return reqs;
    };
    std::map<uint64_t, TaskInfo> waiting_or_more;
    std::map<uint64_t, TaskInfo> every_task;          // never erased
    std::set<std::pair<uint64_t, uint32_t>> ringing;  // (task, agent): ring-all rings several
    std::map<uint64_t, std::string> history;  // task -> what happened to it, for failures
    std::set<uint64_t> connected;
    std::vector<std::array<uint8_t, kChannelCount>> last_load(kAgents);
    TimePoint now = kEpoch;
    CommandSink out;
    uint64_t next = 0;
    int step = 0;
    // Checks the commands out[from..] against the model as it is, and tracks what they say.
    auto track = [&](size_t from) {
      for (size_t i = from; i < out.size(); ++i) {
        std::visit(
            [&](const auto& cmd) {
              using C = std::decay_t<decltype(cmd)>;
              if constexpr (std::is_same_v<C, AgentChanged>) {
              } else if constexpr (std::is_same_v<C, OfferTask> || std::is_same_v<C, CancelOffer> ||
                                   std::is_same_v<C, TaskAssigned>) {
                history[cmd.task.value] += " " + std::to_string(step) + ":" + typeid(C).name() +
                                           "(a" + std::to_string(cmd.agent.value) + ")";
              } else {
                history[cmd.task.value] += " " + std::to_string(step) + ":" + typeid(C).name();
              }
            },
            out[i]);
      }
      for (size_t i = from; i < out.size(); ++i) {
        const Command& c = out[i];
        if (auto* o = std::get_if<OfferTask>(&c)) {
          // Offered only to a current member (no overflow here) that meets the skills.
          const AgentInfo& ai = info[o->agent.value];
          ASSERT_TRUE(ai.queues.count(o->queue.value))
              << "seed " << seed << " step " << step << ": task " << o->task.value
              << " offered to agent " << o->agent.value << " through queue " << o->queue.value
              << ", not one of its queues";
          // (From every_task: a timer may re-offer a task that then leaves in the same step.)
          for (const SkillRequirement& req : every_task.at(o->task.value).reqs) {
            auto lv = ai.levels.find(req.skill.value);
            ASSERT_TRUE(lv != ai.levels.end() && lv->second >= req.min_level)
                << "seed " << seed << " step " << step << ": task " << o->task.value
                << " offered to agent " << o->agent.value << " who lacks its skills";
          }
          // One ring at a time unless its queue uses ring-all now (rings made under ring-all
          // before a change may still be going on, but no new one joins them).
          auto other = ringing.lower_bound({o->task.value, 0});
          const bool rings_already = other != ringing.end() && other->first == o->task.value;
          ASSERT_TRUE(!rings_already ||
                      queue_cfg[every_task.at(o->task.value).queue].strategy == Strategy::kRingAll)
              << "seed " << seed << " step " << step << ": task " << o->task.value
              << " offered to agent " << o->agent.value << " while it rings agent " << other->second
              << "; history:" << history[o->task.value];
          ASSERT_TRUE(ringing.emplace(o->task.value, o->agent.value).second)
              << "seed " << seed << " step " << step << ": task " << o->task.value
              << " offered twice to agent " << o->agent.value
              << "; history:" << history[o->task.value];
        }
        if (auto* x = std::get_if<CancelOffer>(&c)) ringing.erase({x->task.value, x->agent.value});
        if (auto* as = std::get_if<TaskAssigned>(&c)) {
          ringing.erase({as->task.value, as->agent.value});
          connected.insert(as->task.value);
        }
        if (auto* rj = std::get_if<TaskRejected>(&c)) waiting_or_more.erase(rj->task.value);
        if (auto* lf = std::get_if<TaskLeftQueue>(&c)) waiting_or_more.erase(lf->task.value);
      }
    };
    for (; step < 3000; ++step) {
      now += std::chrono::milliseconds(rng() % 4000);
      // Timers due by now fire first (handle() and the live changes would fire them too): apart,
      // so that the event is chosen, and their commands checked, against the model they leave.
      out.clear();
      r.advance(now, out);
      track(0);
      if (::testing::Test::HasFatalFailure()) return;
      const size_t tracked = out.size();
      Event e;
      bool is_update = false;  // a live change was made instead of handle(e)
      Status s = Status::ok();
      // 0-3 arrival, 4-5 answer, 6-7 hang-up, 8 abandon, 9 status or update_agent; with
      // queue_updates also 10-11 update_queue, 12 set_capacity.
      const int kind = static_cast<int>(rng() % (queue_updates ? 13 : 10));
      if (kind < 4) {
        TaskSpec t;
        t.id = TaskId{++next};
        const uint32_t q = static_cast<uint32_t>(rng() % kQueues);
        t.queue = queues[q];
        t.channel = rng() % 3 == 0 ? Channel::kChat : Channel::kVoice;
        t.priority = static_cast<int32_t>(rng() % 3);
        if (rng() % 4 == 0) {
          t.skills = {{skills[rng() % kSkills], static_cast<uint8_t>(1 + rng() % 4)}};
        }
        waiting_or_more[t.id.value] = {q, t.channel, t.skills, requirements(q, t.skills)};
        every_task[t.id.value] = waiting_or_more[t.id.value];
        e = TaskArrived{t};
      } else if (kind < 6 && !ringing.empty()) {
        auto it = std::next(ringing.begin(), static_cast<long>(rng() % ringing.size()));
        if (rng() % 4 == 0) {
          e = OfferDeclined{TaskId{it->first}, AgentId{it->second}, DeclineReason::kNoAnswer};
        } else {
          e = OfferAccepted{TaskId{it->first}, AgentId{it->second}};
        }
      } else if (kind < 8 && !connected.empty()) {
        auto it = std::next(connected.begin(), static_cast<long>(rng() % connected.size()));
        e = TaskCompleted{TaskId{*it}};
      } else if (kind == 8 && !waiting_or_more.empty()) {
        auto it = std::next(waiting_or_more.begin(),
                            static_cast<long>(rng() % waiting_or_more.size()));
        if (connected.count(it->first)) continue;
        e = TaskAbandoned{TaskId{it->first}};
      } else if (kind >= 10 || (live_updates && kind == 9 && rng() % 2 == 0)) {
        const int what = kind <= 9 ? 0 : kind <= 11 ? 1 : 2;
        is_update = true;
        if (what == 0) {
          const auto a = static_cast<uint32_t>(rng() % kAgents);
          std::vector<std::pair<SkillId, uint8_t>> new_skills;
          std::vector<QueueMembership> new_queues;
          info[a].levels.clear();
          info[a].queues.clear();
          for (int sk = 0; sk < kSkills; ++sk) {
            if (rng() % 2) {
              const auto level = static_cast<uint8_t>(1 + rng() % 10);
              new_skills.emplace_back(skills[sk], level);
              info[a].levels[skills[sk].value] = level;
            }
          }
          for (int q = 0; q < kQueues; ++q) {
            if (rng() % 3 == 0) {
              new_queues.push_back({queues[q], 1});
              info[a].queues.insert(queues[q].value);
            }
          }
          s = r.update_agent(AgentId{a}, new_skills, new_queues, now, out);
        } else if (what == 1) {
          const auto q = static_cast<uint32_t>(rng() % kQueues);
          QueueConfig qc = queue_cfg[q];
          // Every strategy, ring-all often: switching to and from it while tasks ring.
          qc.strategy = rng() % 3 == 0 ? Strategy::kRingAll : static_cast<Strategy>(rng() % 8);
          qc.skills.clear();
          for (int sk = 0; sk < kSkills; ++sk) {
            if (rng() % 4 == 0) {
              qc.skills.push_back({skills[sk], static_cast<uint8_t>(1 + rng() % 5)});
            }
          }
          qc.max_wait = rng() % 2 ? Duration{} : std::chrono::seconds(20 + rng() % 100);
          qc.ring_timeout = std::chrono::seconds(5 + rng() % 25);
          qc.wrap_up = std::chrono::seconds(rng() % 3);
          queue_cfg[q] = qc;
          // The queue's skills apply to its tasks still waiting or ringing.
          for (auto& [id, ti] : waiting_or_more) {
            if (ti.queue != q || connected.count(id)) continue;
            ti.reqs = requirements(q, ti.own);
            every_task[id].reqs = ti.reqs;
          }
          s = r.update_queue(queues[q], qc, now, out);
          if (s) {
            ASSERT_NE(r.queue_config(queues[q]), nullptr);
            EXPECT_TRUE(*r.queue_config(queues[q]) == qc) << "seed " << seed << " step " << step;
          }
        } else {
          const auto a = static_cast<uint32_t>(rng() % kAgents);
          info[a].capacity = {static_cast<uint8_t>(rng() % 2), static_cast<uint8_t>(rng() % 3), 0,
                              0, 0};
          s = r.set_capacity(AgentId{a}, info[a].capacity, now, out);
        }
        ASSERT_TRUE(s.is_ok()) << s.message() << " at step " << step;
      } else {
        const auto a = static_cast<uint32_t>(rng() % kAgents);
        const auto st = static_cast<AgentStatus>(rng() % 3);
        e = SetAgentStatus{AgentId{a}, st == AgentStatus::kLoggedOut && rng() % 2
                                           ? AgentStatus::kAvailable
                                           : st,
                           ""};
      }
      if (!is_update) s = r.handle(e, now, out);
      ASSERT_TRUE(s.is_ok()) << s.message() << " at step " << step << "; history of the task: "
                             << [&] {
                                  std::string h;
                                  for (auto& [id, text] : history) {
                                    if (s.message().find("task " + std::to_string(id) + " ") !=
                                        std::string::npos) {
                                      h += text;
                                    }
                                  }
                                  return h;
                                }();
      // Track what the router said.
      if (auto* ab = std::get_if<TaskAbandoned>(&e)) {
        waiting_or_more.erase(ab->task.value);
        for (uint32_t a = 0; a < kAgents; ++a) ringing.erase({ab->task.value, a});
      }
      if (auto* done = std::get_if<TaskCompleted>(&e)) {
        connected.erase(done->task.value);
        waiting_or_more.erase(done->task.value);
      }
      // (Before the commands: with no retry pause, a decline may be answered by a new ring.)
      if (auto* d = std::get_if<OfferDeclined>(&e)) ringing.erase({d->task.value, d->agent.value});
      track(tracked);
      if (::testing::Test::HasFatalFailure()) return;
      std::vector<AgentSnapshot> snaps;
      for (uint32_t a = 0; a < kAgents; ++a) snaps.push_back(r.agent_snapshot(AgentId{a}, now));
      // Capacity: shown as set; an agent above it (after a lowering) takes nothing more.
      for (uint32_t a = 0; a < kAgents; ++a) {
        ASSERT_EQ(snaps[a].capacity, info[a].capacity) << "seed " << seed << " step " << step;
        for (size_t ch = 0; ch < kChannelCount; ++ch) {
          ASSERT_LE(snaps[a].load[ch], std::max(info[a].capacity[ch], last_load[a][ch]))
              << "seed " << seed << " step " << step << ": agent " << a << " channel " << ch;
        }
        last_load[a] = snaps[a].load;
      }
      // Each queue's counts of members logged in and available, against a brute-force count.
      for (uint32_t q = 0; q < kQueues; ++q) {
        uint32_t in = 0, avail = 0;
        for (uint32_t a = 0; a < kAgents; ++a) {
          if (!info[a].queues.count(q)) continue;
          const AgentStatus st = snaps[a].status;
          in += st != AgentStatus::kLoggedOut;
          avail += st == AgentStatus::kAvailable;
        }
        const QueueSnapshot qs = r.queue_snapshot(QueueId{q}, now);
        ASSERT_EQ(qs.agents_logged_in, in) << "seed " << seed << " step " << step << " queue " << q;
        ASSERT_EQ(qs.agents_available, avail) << "seed " << seed << " step " << step;
      }
      // Whether agent a could be offered a task now (ignoring rings already made to it).
      auto eligible = [&](uint32_t a, const TaskInfo& ti) {
        const AgentInfo& ai = info[a];
        if (!ai.queues.count(ti.queue)) return false;
        const AgentSnapshot& snap = snaps[a];
        if (snap.status != AgentStatus::kAvailable) return false;
        const auto ch = static_cast<size_t>(ti.channel);
        int total = 0;
        for (uint8_t l : snap.load) total += l;
        const bool voice_busy = snap.load[0] > 0;
        if (voice_busy || (ti.channel == Channel::kVoice && total > 0)) return false;
        if (snap.load[ch] >= ai.capacity[ch]) return false;
        for (const SkillRequirement& req : ti.reqs) {
          auto lv = ai.levels.find(req.skill.value);
          if (lv == ai.levels.end() || lv->second < req.min_level) return false;
        }
        return true;
      };
      // Brute force: every waiting task against every agent; and a task ringing under ring-all
      // rings every agent who could take it.
      for (const auto& [id, ti] : waiting_or_more) {
        const bool waits = r.standing(TaskId{id}, now).has_value();
        auto rung = ringing.lower_bound({id, 0});
        const bool rings = rung != ringing.end() && rung->first == id;
        if (!waits && !(rings && queue_cfg[ti.queue].strategy == Strategy::kRingAll)) continue;
        for (uint32_t a = 0; a < kAgents; ++a) {
          if (ringing.count({id, a}) || !eligible(a, ti)) continue;
          ADD_FAILURE() << "seed " << seed << " step " << step << ": task " << id
                        << (waits ? " waits" : " rings (ring-all)") << " while agent " << a
                        << " is available and eligible; history:" << history[id];
          return;
        }
      }
    }
  }
}

TEST(RouterProperty, NoEligibleAgentIdlesWhileATaskWaits) { check_no_eligible_agent_idles(false); }

TEST(RouterProperty, NoEligibleAgentIdlesWhileAgentsChangeQueuesAndSkills) {
  check_no_eligible_agent_idles(true);
}

TEST(RouterProperty, NoEligibleAgentIdlesWhileQueuesAndCapacitiesChange) {
  check_no_eligible_agent_idles(true, /*queue_updates=*/true);
}

}  // namespace
}  // namespace tamas::core
