// The routing engine. See router.h for the contract; this file is the how.
//
// Indexes, so that matching does not scan every agent (bench/bench_routing.cc measures this
// against a scan-all baseline):
//  - each queue keeps its waiting tasks ordered by (priority desc, joined asc, arrival order);
//  - each queue keeps its members that could take work (status available, free capacity) ordered
//    by (tier, the queue's strategy key). A task picks the first eligible member in that order and
//    stops at the first tier it may not use yet.
//  - a freed agent looks at the head of each of its queues and takes the best task across them by
//    priority, then longest wait: global fairness across queues.
// Timers (ring timeouts, wrap-up ends, escalation steps, retry pauses) sit in one min-heap and are
// checked lazily against the state they were set for, so nothing has to cancel them.
//
// Thread rules: none. One thread drives a Router.
#include "core/routing/router.h"

#include <algorithm>
#include <cassert>
#include <queue>
#include <random>
#include <set>
#include <unordered_map>

#include "core/stats/window.h"

namespace tamas::core {

QueueCounters& operator+=(QueueCounters& a, const QueueCounters& b) {
  a.offered += b.offered;
  a.answered += b.answered;
  a.answered_in_sl += b.answered_in_sl;
  a.abandoned += b.abandoned;
  a.left += b.left;
  a.rejected += b.rejected;
  a.handled += b.handled;
  a.wait_answered += b.wait_answered;
  a.wait_abandoned += b.wait_abandoned;
  a.handle_time += b.handle_time;
  return a;
}

AgentTimes& operator+=(AgentTimes& a, const AgentTimes& b) {
  a.idle += b.idle;
  a.reserved += b.reserved;
  a.on_contact += b.on_contact;
  a.wrap_up += b.wrap_up;
  a.on_break += b.on_break;
  a.handled += b.handled;
  a.talk += b.talk;
  return a;
}

double QueueCounters::service_level() const {
  return offered == 0 ? 1.0 : static_cast<double>(answered_in_sl) / static_cast<double>(offered);
}
double QueueCounters::asa_seconds() const {
  return answered == 0 ? 0.0 : to_seconds(wait_answered) / static_cast<double>(answered);
}
double QueueCounters::aht_seconds() const {
  return handled == 0 ? 0.0 : to_seconds(handle_time) / static_cast<double>(handled);
}
double AgentTimes::occupancy() const {
  const Duration s = staffed();
  return s.count() == 0 ? 0.0 : to_seconds(reserved + on_contact + wrap_up) / to_seconds(s);
}

std::string_view to_string(CancelReason r) {
  switch (r) {
    case CancelReason::kRingTimeout: return "ring-timeout";
    case CancelReason::kTakenByOther: return "taken-by-other";
    case CancelReason::kTaskGone: return "task-gone";
    case CancelReason::kAgentUnavailable: return "agent-unavailable";
  }
  return "?";
}
std::string_view to_string(RejectReason r) {
  switch (r) {
    case RejectReason::kUnknownQueue: return "unknown-queue";
    case RejectReason::kDuplicateTask: return "duplicate-task";
    case RejectReason::kQueueFull: return "queue-full";
    case RejectReason::kQueueEmpty: return "queue-empty";
  }
  return "?";
}
std::string_view to_string(LeaveReason r) {
  switch (r) {
    case LeaveReason::kTimeout: return "timeout";
    case LeaveReason::kQueueEmpty: return "queue-empty";
    case LeaveReason::kEscalation: return "escalation";
  }
  return "?";
}
std::string_view to_string(DeclineReason r) {
  switch (r) {
    case DeclineReason::kNoAnswer: return "no-answer";
    case DeclineReason::kBusy: return "busy";
    case DeclineReason::kRejected: return "rejected";
  }
  return "?";
}

namespace {

constexpr uint32_t kNoSlot = UINT32_MAX;
constexpr uint8_t kNoAnswerReason = 0;  // index of "no answer" in break_reasons

int64_t ms(TimePoint t) { return t.time_since_epoch().count(); }

// A waiting task's place in a queue: higher priority first, then who joined first.
struct WaitKey {
  int32_t neg_priority;
  int64_t joined_ms;
  uint64_t seq;
  uint32_t slot;
  friend bool operator<(const WaitKey& a, const WaitKey& b) {
    if (a.neg_priority != b.neg_priority) return a.neg_priority < b.neg_priority;
    if (a.joined_ms != b.joined_ms) return a.joined_ms < b.joined_ms;
    return a.seq < b.seq;
  }
};

// A member's place among a queue's members who could take work: lower tier first, then the
// strategy's keys, then the agent id for a total order.
struct MemberKey {
  uint8_t tier;
  int64_t k1;
  int64_t k2;
  uint32_t agent;
  friend auto operator<=>(const MemberKey&, const MemberKey&) = default;
};

struct Step {
  Duration after;
  EscalationStep::Action action;
  uint8_t amount;
  uint32_t overflow;
  std::string branch;
  LeaveReason reason;  // for kExit: kTimeout for max_wait, kEscalation otherwise
};

struct QueueRec {
  QueueConfig cfg;
  std::vector<Step> steps;  // escalation and max_wait, by `after`
  std::vector<uint32_t> members;  // agents, in the order they joined
  std::set<WaitKey> waiting;      // tasks an agent may be offered (home and overflow)
  std::set<std::pair<int64_t, uint64_t>> present;  // home tasks not yet connected: (joined, seq)
  std::set<MemberKey> ready;      // members with status available and free capacity
  uint32_t logged_in = 0;
  uint32_t available = 0;
  int64_t next_order = 0;  // the linear position the next member gets (never reused)
  int64_t rr_counter = 0;
  QueueCounters totals;
  std::vector<SlidingWindow<QueueCounters>> windows;
};

struct Membership {
  uint32_t queue;
  uint8_t tier;
  int64_t order;   // position among the queue's members (linear strategy)
  int64_t rr_seq;  // round-robin: when this queue last served the agent
  bool indexed = false;
  MemberKey key{};
};

struct Offer {
  uint32_t agent;
  uint32_t via;  // queue
  TimePoint deadline;
  // Made while the task's queue used ring-all: its ring timeout is not the agent's miss. Kept
  // with the offer, because update_queue may change the strategy while it rings.
  bool ring_all = false;
};

enum class Phase : uint8_t { kWaiting, kOffered, kConnected, kWrapUp, kFree };

struct TaskRec {
  TaskId id;
  uint32_t generation = 0;  // bumped when the slot is reused, so old timers miss
  Phase phase = Phase::kFree;
  Channel channel = Channel::kVoice;
  uint32_t queue = 0;
  int32_t priority = 0;
  uint64_t seq = 0;
  TimePoint joined;
  std::vector<SkillRequirement> skills;      // queue's and task's, merged (merge_skills)
  std::vector<SkillRequirement> own_skills;  // the task's own, to merge again if the queue's change
  std::vector<std::pair<std::string, std::string>> attributes;
  uint8_t open_tier = 1;
  uint8_t skill_relax = 0;
  size_t next_step = 0;
  // The waiting lists it belongs to (home first). It is in each of them while it waits, and
  // while it rings when its queue uses ring-all (so agents who become free join the ring); a task
  // ringing under another strategy is in none of them, and rejoins them all when its last ring
  // ends. update_queue moves ringing tasks in or out when the strategy changes to keep this.
  std::vector<uint32_t> in_queues;
  std::vector<Offer> offers;
  std::vector<std::pair<uint32_t, TimePoint>> missed;  // agent, not again before
  uint32_t agent = kNoSlot;
  uint32_t via = 0;
  TimePoint assigned_at;
  bool pending = false;

  WaitKey wait_key(uint32_t slot) const { return {-priority, ms(joined), seq, slot}; }
};

struct AgentRec {
  std::string name;
  std::vector<std::pair<SkillId, uint8_t>> skills;  // sorted by skill
  std::vector<Membership> queues;
  std::array<uint8_t, kChannelCount> capacity{};
  bool voice_exclusive = true;
  std::optional<Duration> wrap_up;

  AgentStatus status = AgentStatus::kLoggedOut;
  uint8_t reason = 0;
  std::array<uint8_t, kChannelCount> load{};
  uint16_t ringing = 0, connected = 0, wrapping = 0;
  TimePoint idle_since;
  // What was last reported and accounted: time in state is counted from `since`.
  AgentStatus shown_status = AgentStatus::kLoggedOut;
  AgentState shown_state = AgentState::kIdle;
  uint8_t shown_reason = 0;
  TimePoint since;
  uint32_t missed_in_row = 0;
  bool pending = false;
  AgentTimes totals;
  std::vector<SlidingWindow<AgentTimes>> windows;

  AgentState state() const {
    if (connected > 0) return AgentState::kOnContact;
    if (ringing > 0) return AgentState::kReserved;
    if (wrapping > 0) return AgentState::kWrapUp;
    return AgentState::kIdle;
  }
  int total_load() const {
    int n = 0;
    for (uint8_t l : load) n += l;
    return n;
  }
  bool has_room_for(Channel c) const {
    const auto i = static_cast<size_t>(c);
    if (voice_exclusive) {
      if (load[static_cast<size_t>(Channel::kVoice)] > 0) return false;
      if (c == Channel::kVoice && total_load() > 0) return false;
    }
    return load[i] < capacity[i];
  }
  bool has_room() const {
    for (size_t c = 0; c < kChannelCount; ++c) {
      if (has_room_for(static_cast<Channel>(c))) return true;
    }
    return false;
  }
  uint8_t level(SkillId s) const {
    auto it = std::lower_bound(skills.begin(), skills.end(), s,
                               [](const auto& p, SkillId v) { return p.first < v; });
    return (it != skills.end() && it->first == s) ? it->second : 0;
  }
};

enum class TimerKind : uint8_t { kRing, kWrapUp, kStep, kRetry };

// A task's skill requirements: the queue's, with the task's own on top (the higher level wins).
std::vector<SkillRequirement> merge_skills(const std::vector<SkillRequirement>& queue,
                                           const std::vector<SkillRequirement>& own) {
  std::vector<SkillRequirement> merged = queue;
  for (const SkillRequirement& r : own) {
    auto it = std::find_if(merged.begin(), merged.end(),
                           [&](const SkillRequirement& x) { return x.skill == r.skill; });
    if (it == merged.end()) {
      merged.push_back(r);
    } else {
      it->min_level = std::max(it->min_level, r.min_level);
    }
  }
  return merged;
}

struct Timer {
  TimePoint at;
  uint64_t seq;
  TimerKind kind;
  uint32_t slot;
  uint32_t generation;
  uint32_t agent;
  friend bool operator>(const Timer& a, const Timer& b) {
    return a.at != b.at ? a.at > b.at : a.seq > b.seq;
  }
};

}  // namespace

class Router::Impl {
 public:
  explicit Impl(RouterConfig config) : cfg_(std::move(config)), rng_(cfg_.seed) {
    reasons_.push_back("no answer");
    for (auto& r : cfg_.break_reasons) {
      if (r != "no answer") reasons_.push_back(r);
    }
  }

  // ---- configuration ----

  SkillId add_skill(std::string_view name) {
    if (auto s = find_skill(name)) return *s;
    skills_.emplace_back(name);
    return SkillId{static_cast<uint16_t>(skills_.size() - 1)};
  }
  std::optional<SkillId> find_skill(std::string_view name) const {
    for (size_t i = 0; i < skills_.size(); ++i) {
      if (skills_[i] == name) return SkillId{static_cast<uint16_t>(i)};
    }
    return std::nullopt;
  }

  Status check_skills(const std::vector<SkillRequirement>& reqs, const std::string& where) const {
    for (size_t i = 0; i < reqs.size(); ++i) {
      if (reqs[i].skill.value >= skills_.size()) {
        return Status::error(where + ".skills[" + std::to_string(i) + "]: unknown skill id " +
                             std::to_string(reqs[i].skill.value));
      }
      if (reqs[i].min_level < 1 || reqs[i].min_level > 10) {
        return Status::error(where + ".skills[" + std::to_string(i) + "]: minimum level " +
                             std::to_string(reqs[i].min_level) + " is outside 1..10");
      }
    }
    return Status::ok();
  }

  Result<QueueId> add_queue(QueueConfig config) {
    const std::string where = "queue '" + config.name + "'";
    if (config.name.empty()) return Status::error("queue: the name is empty");
    if (find_queue(config.name)) return Status::error(where + ": the name is already used");
    if (Status s = check_skills(config.skills, where); !s) return s;
    QueueRec q;
    const auto id = static_cast<uint32_t>(queues_.size());
    Result<std::vector<Step>> steps = build_steps(id, where, config.escalation, config.max_wait);
    if (!steps) return steps.status();
    q.steps = std::move(*steps);
    for (Duration w : cfg_.stats_windows) q.windows.emplace_back(w);
    q.cfg = std::move(config);
    queues_.push_back(std::move(q));
    return QueueId{id};
  }

  // The steps of queue `self` (its escalation plus an exit at max_wait), by time. Overflow targets
  // must be queues that exist (or will be `self`, which is refused).
  Result<std::vector<Step>> build_steps(uint32_t self, const std::string& where,
                                        const std::vector<EscalationStep>& escalation,
                                        Duration max_wait) const {
    std::vector<Step> steps;
    for (size_t i = 0; i < escalation.size(); ++i) {
      const EscalationStep& e = escalation[i];
      const std::string at = where + ".escalation[" + std::to_string(i) + "]";
      if (e.after.count() < 0) return Status::error(at + ": 'after' is negative");
      if (e.action == EscalationStep::Action::kOverflow) {
        if (e.overflow_queue.value >= queues_.size()) {
          return Status::error(at + ": overflow queue id " +
                               std::to_string(e.overflow_queue.value) +
                               " does not exist (add the queue first, or set the escalation with "
                               "set_escalation once every queue is added)");
        }
        if (e.overflow_queue.value == self) {
          return Status::error(at + ": a queue cannot overflow into itself");
        }
      }
      if ((e.action == EscalationStep::Action::kNextTier ||
           e.action == EscalationStep::Action::kLowerSkill) &&
          e.amount == 0) {
        return Status::error(at + ": 'amount' must be at least 1");
      }
      steps.push_back(Step{e.after, e.action, e.amount, e.overflow_queue.value, e.branch,
                           LeaveReason::kEscalation});
    }
    if (max_wait.count() > 0) {
      steps.push_back(
          Step{max_wait, EscalationStep::Action::kExit, 0, 0, "timeout", LeaveReason::kTimeout});
    }
    std::stable_sort(steps.begin(), steps.end(),
                     [](const Step& a, const Step& b) { return a.after < b.after; });
    return steps;
  }

  Status set_escalation(QueueId id, const std::vector<EscalationStep>& escalation) {
    if (id.value >= queues_.size()) {
      return Status::error("unknown queue id " + std::to_string(id.value));
    }
    QueueRec& q = queues_[id.value];
    Result<std::vector<Step>> steps =
        build_steps(id.value, "queue '" + q.cfg.name + "'", escalation, q.cfg.max_wait);
    if (!steps) return steps.status();
    q.steps = std::move(*steps);
    q.cfg.escalation = escalation;
    // Tasks already waiting go on from the point they have reached, in the new list.
    for (uint32_t slot = 0; slot < tasks_.size(); ++slot) {
      TaskRec& t = tasks_[slot];
      if (t.queue != id.value || (t.phase != Phase::kWaiting && t.phase != Phase::kOffered)) {
        continue;
      }
      t.next_step = steps_reached(q, t);
      schedule_step(slot);
    }
    return Status::ok();
  }

  // Where a task stands in a queue's (new) escalation steps: the first not yet due by the time it
  // has waited. Steps due within that time count as reached, whatever list the task began with:
  // an index into an old list means nothing in a new one.
  size_t steps_reached(const QueueRec& q, const TaskRec& t) const {
    const Duration waited = now_ - t.joined;
    return static_cast<size_t>(
        std::partition_point(q.steps.begin(), q.steps.end(),
                             [&](const Step& st) { return st.after <= waited; }) -
        q.steps.begin());
  }

  // Checks an agent's skills and memberships as add_agent and update_agent take them; returns the
  // skills sorted by id (the order AgentRec::level searches), or what is wrong, naming the field.
  Result<std::vector<std::pair<SkillId, uint8_t>>> check_agent_setup(
      const std::string& where, std::vector<std::pair<SkillId, uint8_t>> skills,
      const std::vector<QueueMembership>& queues) const {
    for (size_t i = 0; i < skills.size(); ++i) {
      auto [skill, level] = skills[i];
      const std::string at = where + ".skills[" + std::to_string(i) + "]";
      if (skill.value >= skills_.size()) return Status::error(at + ": unknown skill id");
      if (level < 1 || level > 10) {
        return Status::error(at + ": level " + std::to_string(level) + " is outside 1..10");
      }
    }
    std::sort(skills.begin(), skills.end());
    for (size_t i = 1; i < skills.size(); ++i) {
      if (skills[i].first == skills[i - 1].first) {
        return Status::error(where + ".skills: skill '" + skills_[skills[i].first.value] +
                             "' is listed twice");
      }
    }
    for (size_t i = 0; i < queues.size(); ++i) {
      const QueueMembership& m = queues[i];
      const std::string at = where + ".queues[" + std::to_string(i) + "]";
      if (m.queue.value >= queues_.size()) return Status::error(at + ": unknown queue id");
      if (m.tier < 1) return Status::error(at + ": tier must be 1 or more");
      for (size_t j = 0; j < i; ++j) {
        if (queues[j].queue == m.queue) {
          return Status::error(at + ": queue '" + queues_[m.queue.value].cfg.name +
                               "' is listed twice");
        }
      }
    }
    return skills;
  }

  // A new member of queue q: last in its linear list, and ahead of everyone already served in
  // round-robin (rr_seq below 2^40, like members who have never been served).
  Membership join(uint32_t agent, uint32_t queue, uint8_t tier) {
    QueueRec& q = queues_[queue];
    const int64_t order = q.next_order++;
    q.members.push_back(agent);
    return Membership{queue, tier, order, order};
  }

  Result<AgentId> add_agent(AgentConfig config) {
    const std::string where = "agent '" + config.name + "'";
    if (config.name.empty()) return Status::error("agent: the name is empty");
    if (agent_index_.count(config.name)) return Status::error(where + ": the name is already used");
    auto skills = check_agent_setup(where, std::move(config.skills), config.queues);
    if (!skills) return skills.status();
    AgentRec a;
    a.skills = std::move(*skills);
    const auto id = static_cast<uint32_t>(agents_.size());
    for (const QueueMembership& m : config.queues) {
      a.queues.push_back(join(id, m.queue.value, m.tier));
    }
    a.name = std::move(config.name);
    a.capacity = config.capacity;
    a.voice_exclusive = config.voice_exclusive;
    a.wrap_up = config.wrap_up;
    for (Duration w : cfg_.stats_windows) a.windows.emplace_back(w);
    agent_index_.emplace(a.name, id);
    agents_.push_back(std::move(a));
    return AgentId{id};
  }

  // Moves an agent to new skills and memberships; `skills` and `queues` have passed
  // check_agent_setup (skills sorted). Every index that depends on them is kept consistent here,
  // or by the reindex() that update_agent(agent) runs: QueueRec::members (idle count, linear
  // order), QueueRec::ready (matching, keyed by tier and, for best-skill, by level),
  // QueueRec::logged_in / available (statistics, empty policies, expected wait), and the agent's
  // own Membership list (tier, linear order, round-robin turn). Tasks hold no per-membership
  // state: an offer's queue only names the queue in what is reported, so an offer ringing
  // through a queue the agent left simply plays out (see router.h).
  void change_agent(uint32_t agent, std::vector<std::pair<SkillId, uint8_t>> skills,
                    const std::vector<QueueMembership>& queues) {
    AgentRec& a = agents_[agent];
    const uint32_t logged_in = a.status != AgentStatus::kLoggedOut ? 1 : 0;
    const uint32_t available = a.status == AgentStatus::kAvailable ? 1 : 0;
    std::vector<Membership> kept;
    std::vector<uint32_t> left;
    for (Membership& m : a.queues) {
      auto it = std::find_if(queues.begin(), queues.end(),
                             [&](const QueueMembership& n) { return n.queue.value == m.queue; });
      if (it != queues.end()) {
        kept.push_back(m);  // re-keyed by update_agent() if its tier or skills changed
        continue;
      }
      QueueRec& q = queues_[m.queue];
      if (m.indexed) q.ready.erase(m.key);
      auto member = std::find(q.members.begin(), q.members.end(), agent);
      assert(member != q.members.end());
      q.members.erase(member);
      q.logged_in -= logged_in;
      q.available -= available;
      left.push_back(m.queue);
    }
    std::vector<Membership> next;
    next.reserve(queues.size());
    for (const QueueMembership& n : queues) {
      auto it = std::find_if(kept.begin(), kept.end(),
                             [&](const Membership& m) { return m.queue == n.queue.value; });
      if (it != kept.end()) {
        next.push_back(*it);
      } else {
        next.push_back(join(agent, n.queue.value, n.tier));
        queues_[n.queue.value].logged_in += logged_in;
        queues_[n.queue.value].available += available;
      }
      next.back().tier = n.tier;
    }
    a.queues = std::move(next);
    a.skills = std::move(skills);
    update_agent(agent);  // re-index in every queue it is in, and look for work
    for (uint32_t q : left) {
      if (is_empty(queues_[q], queues_[q].cfg.leave_empty)) empty_queue(q);
    }
  }

  // Moves queue `id` to new settings; `steps` are config's escalation and max_wait as build_steps
  // made them. What depends on the settings is kept consistent here: the ready index (keyed by
  // the strategy, and for best-skill by the first skill), the waiting lists (a ringing task is in
  // them exactly when its queue uses ring-all: see TaskRec::in_queues), each task's merged skills
  // and its place in the escalation steps. Settings read when they are used (ring timeout, wrap-up,
  // retry pause, max-no-answer, SL threshold, handle time, join_empty, max_waiting) need nothing.
  void change_queue(uint32_t id, QueueConfig config, std::vector<Step> steps) {
    QueueRec& q = queues_[id];
    const bool was_ring_all = q.cfg.strategy == Strategy::kRingAll;
    q.cfg = std::move(config);
    q.steps = std::move(steps);
    const bool ring_all = q.cfg.strategy == Strategy::kRingAll;
    std::vector<uint32_t> timed_out;
    for (uint32_t slot = 0; slot < tasks_.size(); ++slot) {
      TaskRec& t = tasks_[slot];
      if (t.queue != id || (t.phase != Phase::kWaiting && t.phase != Phase::kOffered)) continue;
      t.skills = merge_skills(q.cfg.skills, t.own_skills);
      if (t.phase == Phase::kOffered && was_ring_all && !ring_all) {
        leave_waiting(slot);  // its rings play out; the last to end requeues it (miss)
      } else if (t.phase == Phase::kOffered && !was_ring_all && ring_all) {
        rejoin_waiting(slot);  // rings everyone eligible below, like any ring-all task
      }
      t.next_step = steps_reached(q, t);
      if (q.cfg.max_wait.count() > 0 && now_ - t.joined >= q.cfg.max_wait) {
        timed_out.push_back(slot);
      } else {
        schedule_step(slot);  // earlier timers of the old list find nothing due (see step())
      }
    }
    // Re-keyed under the new strategy (and best-skill's first skill); reindex() erases by the key
    // each membership was stored under, so QueueRec::ready and Membership::key stay in step.
    for (uint32_t agent : q.members) reindex(agent);
    for (uint32_t slot : timed_out) leave_queue(slot, LeaveReason::kTimeout, "timeout");
    if (is_empty(q, q.cfg.leave_empty)) empty_queue(id);
    // Match in queue order, so the first in line gets the first pick of the members.
    std::vector<uint32_t> waiting;
    for (const WaitKey& k : q.waiting) waiting.push_back(k.slot);
    for (uint32_t slot : waiting) match_task(slot);
  }

  std::optional<QueueId> find_queue(std::string_view name) const {
    for (size_t i = 0; i < queues_.size(); ++i) {
      if (queues_[i].cfg.name == name) return QueueId{static_cast<uint32_t>(i)};
    }
    return std::nullopt;
  }
  std::optional<AgentId> find_agent(std::string_view name) const {
    auto it = agent_index_.find(std::string(name));
    if (it == agent_index_.end()) return std::nullopt;
    return AgentId{it->second};
  }

  // ---- events ----

  Status reconfigure_agent(AgentId id, std::vector<std::pair<SkillId, uint8_t>> skills,
                           const std::vector<QueueMembership>& queues, TimePoint now,
                           CommandSink& out) {
    if (id.value >= agents_.size()) return Status::error(unknown_agent(id));
    // Validated before any timer fires, so that a refused change leaves everything as it was.
    auto sorted =
        check_agent_setup("agent '" + agents_[id.value].name + "'", std::move(skills), queues);
    if (!sorted) return sorted.status();
    advance(now, out);
    now_ = std::max(now_, now);
    out_ = &out;
    change_agent(id.value, std::move(*sorted), queues);
    settle();
    out_ = nullptr;
    return Status::ok();
  }

  Status reconfigure_queue(QueueId id, QueueConfig config, TimePoint now, CommandSink& out) {
    if (id.value >= queues_.size()) {
      return Status::error("unknown queue id " + std::to_string(id.value));
    }
    // Validated before any timer fires, so that a refused change leaves everything as it was.
    const std::string& name = queues_[id.value].cfg.name;
    const std::string where = "queue '" + name + "'";
    if (config.name != name) {
      return Status::error(where + ".name: '" + config.name +
                           "' differs; a queue is not renamed (add a queue with the new name)");
    }
    if (Status s = check_skills(config.skills, where); !s) return s;
    Result<std::vector<Step>> steps =
        build_steps(id.value, where, config.escalation, config.max_wait);
    if (!steps) return steps.status();
    advance(now, out);
    now_ = std::max(now_, now);
    out_ = &out;
    change_queue(id.value, std::move(config), std::move(*steps));
    settle();
    out_ = nullptr;
    return Status::ok();
  }

  Status set_capacity(AgentId id, std::array<uint8_t, kChannelCount> capacity, TimePoint now,
                      CommandSink& out) {
    if (id.value >= agents_.size()) return Status::error(unknown_agent(id));
    advance(now, out);
    now_ = std::max(now_, now);
    out_ = &out;
    // has_room_for() compares the load with the capacity, so a lowering needs nothing more: the
    // contacts held go on, and the agent leaves the ready index until its load is below it.
    agents_[id.value].capacity = capacity;
    update_agent(id.value);  // in or out of the ready index, and look for work
    settle();
    out_ = nullptr;
    return Status::ok();
  }

  Status handle(const Event& event, TimePoint now, CommandSink& out) {
    advance(now, out);
    now_ = std::max(now_, now);
    out_ = &out;
    Status s = std::visit([&](const auto& e) { return on(e); }, event);
    settle();
    out_ = nullptr;
    return s;
  }

  void advance(TimePoint now, CommandSink& out) {
    out_ = &out;
    while (!timers_.empty() && timers_.top().at <= now) {
      Timer t = timers_.top();
      timers_.pop();
      now_ = std::max(now_, t.at);
      fire(t);
      settle();
    }
    now_ = std::max(now_, now);
    out_ = nullptr;
  }

  std::optional<TimePoint> next_deadline() const {
    if (timers_.empty()) return std::nullopt;
    return timers_.top().at;
  }

  Status on(const TaskArrived& e) {
    const TaskSpec& spec = e.task;
    if (spec.queue.value >= queues_.size()) {
      emit(TaskRejected{spec.id, RejectReason::kUnknownQueue});
      return Status::ok();
    }
    if (task_index_.count(spec.id.value)) {
      emit(TaskRejected{spec.id, RejectReason::kDuplicateTask});
      return Status::ok();
    }
    if (Status s = check_skills(spec.skills, "task " + std::to_string(spec.id.value)); !s) return s;
    QueueRec& q = queues_[spec.queue.value];
    if (is_empty(q, q.cfg.join_empty)) {
      count(q, [](QueueCounters& c) { c.rejected++; });
      emit(TaskRejected{spec.id, RejectReason::kQueueEmpty});
      return Status::ok();
    }
    if (q.cfg.max_waiting > 0 && q.present.size() >= q.cfg.max_waiting) {
      count(q, [](QueueCounters& c) { c.rejected++; });
      emit(TaskRejected{spec.id, RejectReason::kQueueFull});
      return Status::ok();
    }
    const uint32_t slot = alloc_task();
    TaskRec& t = tasks_[slot];
    t.id = spec.id;
    t.phase = Phase::kWaiting;
    t.channel = spec.channel;
    t.queue = spec.queue.value;
    t.priority = spec.priority;
    t.seq = ++task_seq_;
    t.joined = now_;
    t.own_skills = spec.skills;
    t.skills = merge_skills(q.cfg.skills, t.own_skills);
    t.attributes = spec.attributes;
    t.open_tier = 1;
    t.skill_relax = 0;
    t.next_step = 0;
    t.agent = kNoSlot;
    task_index_.emplace(spec.id.value, slot);
    q.present.emplace(ms(t.joined), t.seq);
    count(q, [](QueueCounters& c) { c.offered++; });
    enter_waiting(slot, t.queue);
    if (is_empty(q, q.cfg.leave_empty)) {
      // Allowed to join, but nobody is there to serve: it leaves at once, as it would have had
      // it been waiting when the last member left.
      leave_queue(slot, LeaveReason::kQueueEmpty, "");
      return Status::ok();
    }
    schedule_step(slot);
    push_task(slot);
    return Status::ok();
  }

  Status on(const TaskAbandoned& e) { return task_gone(e.task, /*by_choice=*/false); }
  Status on(const TaskWithdrawn& e) { return task_gone(e.task, /*by_choice=*/true); }

  // The customer left a task that waits or rings an agent: abandoned, or left by choice.
  Status task_gone(TaskId task, bool by_choice) {
    const uint32_t slot = lookup(task);
    if (slot == kNoSlot) return Status::error(unknown_task(task));
    TaskRec& t = tasks_[slot];
    if (t.phase != Phase::kWaiting && t.phase != Phase::kOffered) {
      return Status::error("task " + std::to_string(task.value) +
                           " is already connected to an agent; report TaskCompleted instead");
    }
    const Duration waited = now_ - t.joined;
    count(queues_[t.queue], [&](QueueCounters& c) {
      if (by_choice) {
        c.left++;
      } else {
        c.abandoned++;
        c.wait_abandoned += waited;
      }
    });
    cancel_offers(slot, CancelReason::kTaskGone, kNoSlot);
    release_task(slot);
    return Status::ok();
  }

  Status on(const OfferAccepted& e) {
    if (e.agent.value >= agents_.size()) return Status::error(unknown_agent(e.agent));
    const uint32_t slot = lookup(e.task);
    if (slot == kNoSlot) {
      // The customer left (or the task left its queue) while the phone rang; its offer was
      // cancelled already, and this accept crossed it.
      emit(CancelOffer{e.task, e.agent, CancelReason::kTaskGone});
      return Status::ok();
    }
    TaskRec& t = tasks_[slot];
    auto it = std::find_if(t.offers.begin(), t.offers.end(),
                           [&](const Offer& o) { return o.agent == e.agent.value; });
    if (it == t.offers.end()) {
      if (t.agent == e.agent.value) {
        return Status::error("task " + std::to_string(e.task.value) + " is already connected to " +
                             agents_[e.agent.value].name);
      }
      if (t.phase == Phase::kConnected || t.phase == Phase::kWrapUp) {
        emit(CancelOffer{e.task, e.agent, CancelReason::kTakenByOther});
        return Status::ok();
      }
      const bool was_offered = std::any_of(t.missed.begin(), t.missed.end(),
                                           [&](const auto& m) { return m.first == e.agent.value; });
      if (was_offered) {
        // The answer crossed the ring timeout (or the agent's own decline): the offer is over.
        emit(CancelOffer{e.task, e.agent, CancelReason::kRingTimeout});
        return Status::ok();
      }
      return Status::error("task " + std::to_string(e.task.value) + " was not offered to agent " +
                           agents_[e.agent.value].name);
    }
    const uint32_t via = it->via;
    t.offers.erase(it);
    AgentRec& a = agents_[e.agent.value];
    a.ringing--;
    a.connected++;
    a.missed_in_row = 0;
    cancel_offers(slot, CancelReason::kTakenByOther, kNoSlot);
    leave_waiting(slot);
    QueueRec& home = queues_[t.queue];
    home.present.erase({ms(t.joined), t.seq});
    t.phase = Phase::kConnected;
    t.agent = e.agent.value;
    t.via = via;
    t.assigned_at = now_;
    const Duration waited = now_ - t.joined;
    const bool in_sl = waited <= home.cfg.sl_threshold;
    count(home, [&](QueueCounters& c) {
      c.answered++;
      c.answered_in_sl += in_sl ? 1 : 0;
      c.wait_answered += waited;
    });
    for (Membership& m : a.queues) {
      if (m.queue == via) m.rr_seq = ++queues_[via].rr_counter + (1LL << 40);
    }
    emit(TaskAssigned{t.id, e.agent, QueueId{via}, waited});
    update_agent(e.agent.value);
    return Status::ok();
  }

  Status on(const OfferDeclined& e) {
    if (e.agent.value >= agents_.size()) return Status::error(unknown_agent(e.agent));
    const uint32_t slot = lookup(e.task);
    if (slot == kNoSlot) return Status::error(unknown_task(e.task));
    TaskRec& t = tasks_[slot];
    auto it = std::find_if(t.offers.begin(), t.offers.end(),
                           [&](const Offer& o) { return o.agent == e.agent.value; });
    if (it == t.offers.end()) {
      if (std::any_of(t.missed.begin(), t.missed.end(),
                      [&](const auto& m) { return m.first == e.agent.value; })) {
        return Status::ok();  // crossed the ring timeout: that offer is over already
      }
      return Status::error("task " + std::to_string(e.task.value) + " is not ringing agent " +
                           agents_[e.agent.value].name);
    }
    miss(slot, static_cast<size_t>(it - t.offers.begin()), /*count_miss=*/true);
    return Status::ok();
  }

  Status on(const TaskCompleted& e) {
    const uint32_t slot = lookup(e.task);
    if (slot == kNoSlot) return Status::error(unknown_task(e.task));
    TaskRec& t = tasks_[slot];
    if (t.phase != Phase::kConnected) {
      return Status::error("task " + std::to_string(e.task.value) +
                           (t.phase == Phase::kWrapUp
                                ? " has already completed"
                                : " is not connected to an agent; report TaskAbandoned instead"));
    }
    AgentRec& a = agents_[t.agent];
    a.connected--;
    a.wrapping++;
    const Duration talk = now_ - t.assigned_at;
    a.totals.talk += talk;
    for (auto& w : a.windows) {
      if (AgentTimes* v = w.at(now_)) v->talk += talk;
    }
    t.phase = Phase::kWrapUp;
    const Duration wrap = a.wrap_up.value_or(queues_[t.queue].cfg.wrap_up);
    if (wrap.count() <= 0) {
      finish(slot);
    } else {
      update_agent(t.agent);
      schedule(TimerKind::kWrapUp, now_ + wrap, slot, t.agent);
    }
    return Status::ok();
  }

  Status on(const WrapUpDone& e) {
    if (e.agent.value >= agents_.size()) return Status::error(unknown_agent(e.agent));
    const uint32_t slot = lookup(e.task);
    if (slot == kNoSlot) return Status::error(unknown_task(e.task));
    TaskRec& t = tasks_[slot];
    if (t.phase != Phase::kWrapUp || t.agent != e.agent.value) {
      return Status::error("agent " + agents_[e.agent.value].name + " is not wrapping up task " +
                           std::to_string(e.task.value));
    }
    finish(slot);
    return Status::ok();
  }

  Status on(const SetAgentStatus& e) {
    if (e.agent.value >= agents_.size()) return Status::error(unknown_agent(e.agent));
    uint8_t reason = 0;
    if (e.status == AgentStatus::kBreak) {
      if (e.reason.empty()) {
        reason = reasons_.size() > 1 ? 1 : 0;
      } else {
        auto it = std::find(reasons_.begin(), reasons_.end(), e.reason);
        if (it == reasons_.end()) {
          std::string known;
          for (const auto& r : reasons_) known += (known.empty() ? "" : ", ") + r;
          return Status::error("unknown break reason '" + e.reason + "' (expected one of " + known +
                               ")");
        }
        reason = static_cast<uint8_t>(it - reasons_.begin());
      }
    }
    set_status(e.agent.value, e.status, reason);
    return Status::ok();
  }

  // ---- timers ----

  void schedule(TimerKind kind, TimePoint at, uint32_t slot, uint32_t agent) {
    timers_.push(Timer{at, ++timer_seq_, kind, slot, tasks_[slot].generation, agent});
  }

  void schedule_step(uint32_t slot) {
    TaskRec& t = tasks_[slot];
    const QueueRec& q = queues_[t.queue];
    if (t.next_step < q.steps.size()) {
      schedule(TimerKind::kStep, t.joined + q.steps[t.next_step].after, slot, kNoSlot);
    }
  }

  void fire(const Timer& timer) {
    TaskRec& t = tasks_[timer.slot];
    if (t.generation != timer.generation || t.phase == Phase::kFree) return;  // stale
    switch (timer.kind) {
      case TimerKind::kRing: {
        for (size_t i = 0; i < t.offers.size(); ++i) {
          if (t.offers[i].agent == timer.agent && t.offers[i].deadline == timer.at) {
            emit(CancelOffer{t.id, AgentId{timer.agent}, CancelReason::kRingTimeout});
            // Under ring-all, ringing out is what every ring but one does: not the agent's miss.
            // The offer's own terms, not the queue's current strategy (update_queue).
            miss(timer.slot, i, /*count_miss=*/!t.offers[i].ring_all);
            break;
          }
        }
        break;
      }
      case TimerKind::kWrapUp:
        if (t.phase == Phase::kWrapUp && t.agent == timer.agent) finish(timer.slot);
        break;
      case TimerKind::kStep:
        if (t.phase == Phase::kWaiting || t.phase == Phase::kOffered) step(timer.slot);
        break;
      case TimerKind::kRetry:
        if (t.phase == Phase::kWaiting || t.phase == Phase::kOffered) push_task(timer.slot);
        break;
    }
  }

  void step(uint32_t slot) {
    TaskRec& t = tasks_[slot];
    QueueRec& q = queues_[t.queue];
    // Apply every step that is due (several may share one time). A timer that finds nothing due
    // is a duplicate (set_escalation re-arms waiting tasks): the chain goes on from the other.
    if (t.next_step >= q.steps.size() || t.joined + q.steps[t.next_step].after > now_) return;
    while (t.next_step < q.steps.size() && t.joined + q.steps[t.next_step].after <= now_) {
      const Step& s = q.steps[t.next_step++];
      switch (s.action) {
        case EscalationStep::Action::kNextTier:
          t.open_tier = static_cast<uint8_t>(std::min(255, t.open_tier + s.amount));
          break;
        case EscalationStep::Action::kLowerSkill:
          t.skill_relax = static_cast<uint8_t>(std::min(9, t.skill_relax + s.amount));
          break;
        case EscalationStep::Action::kOverflow:
          if (t.phase == Phase::kWaiting ||
              queues_[t.queue].cfg.strategy == Strategy::kRingAll) {
            enter_waiting(slot, s.overflow);
          } else if (std::find(t.in_queues.begin(), t.in_queues.end(), s.overflow) ==
                     t.in_queues.end()) {
            t.in_queues.push_back(s.overflow);  // joins that list if the offer fails
          }
          break;
        case EscalationStep::Action::kExit:
          leave_queue(slot, s.reason, s.branch);
          return;
      }
    }
    schedule_step(slot);
    push_task(slot);
  }

  // ---- matching ----

  void push_task(uint32_t slot) {
    TaskRec& t = tasks_[slot];
    if (!t.pending) {
      t.pending = true;
      pending_tasks_.push_back(slot);
    }
  }
  void push_agent(uint32_t agent) {
    AgentRec& a = agents_[agent];
    if (!a.pending) {
      a.pending = true;
      pending_agents_.push_back(agent);
    }
  }

  // Runs matching until no freed agent and no newly matchable task is left.
  void settle() {
    while (!pending_agents_.empty() || !pending_tasks_.empty()) {
      while (!pending_agents_.empty()) {
        const uint32_t a = pending_agents_.back();
        pending_agents_.pop_back();
        agents_[a].pending = false;
        serve_agent(a);
      }
      while (!pending_tasks_.empty()) {
        const uint32_t s = pending_tasks_.back();
        pending_tasks_.pop_back();
        tasks_[s].pending = false;
        match_task(s);
      }
    }
  }

  bool is_ringing(const TaskRec& t, uint32_t agent) const {
    for (const Offer& o : t.offers) {
      if (o.agent == agent) return true;
    }
    return false;
  }

  // Whether `agent` may be offered task `t` through queue `via` (tier checked by the caller).
  bool can_take(uint32_t agent, const TaskRec& t) const {
    const AgentRec& a = agents_[agent];
    if (a.status != AgentStatus::kAvailable || !a.has_room_for(t.channel)) return false;
    for (const SkillRequirement& r : t.skills) {
      const int need = std::max(1, r.min_level - t.skill_relax);
      if (a.level(r.skill) < need) return false;
    }
    for (const auto& [who, until] : t.missed) {
      if (who == agent && until > now_) return false;
    }
    return !is_ringing(t, agent);
  }

  void match_task(uint32_t slot) {
    const bool ring_all = queues_[tasks_[slot].queue].cfg.strategy == Strategy::kRingAll;
    {
      const TaskRec& t = tasks_[slot];
      if (t.phase != Phase::kWaiting && !(ring_all && t.phase == Phase::kOffered)) return;
    }
    // Offering does not change the task's list of queues, nor add tasks: index, don't copy.
    for (size_t i = 0; i < tasks_[slot].in_queues.size(); ++i) {
      const TaskRec& t = tasks_[slot];
      const uint32_t qi = t.in_queues[i];
      const bool random = queues_[qi].cfg.strategy == Strategy::kRandom;
      chosen_.clear();  // agents to offer, collected first: offering changes the ready set
      uint8_t chosen_tier = 0;
      for (const MemberKey& k : queues_[qi].ready) {
        if (k.tier > t.open_tier) break;
        // Random: a uniform pick among the eligible members of the lowest tier that has any.
        if (random && !chosen_.empty() && k.tier > chosen_tier) break;
        if (!can_take(k.agent, t)) continue;
        chosen_.push_back(k.agent);
        chosen_tier = k.tier;
        if (!ring_all && !random) break;
      }
      if (random && chosen_.size() > 1) chosen_.assign(1, chosen_[rng_() % chosen_.size()]);
      for (uint32_t agent : chosen_) offer(slot, agent, qi);
      if (!ring_all && !chosen_.empty()) return;
    }
  }

  void serve_agent(uint32_t agent) {
    for (;;) {
      AgentRec& a = agents_[agent];
      if (a.status != AgentStatus::kAvailable || !a.has_room()) return;
      uint32_t best = kNoSlot, best_via = 0;
      WaitKey best_key{};
      for (const Membership& m : a.queues) {
        for (const WaitKey& k : queues_[m.queue].waiting) {
          if (best != kNoSlot && !(k < best_key)) break;  // no better task further down
          const TaskRec& t = tasks_[k.slot];
          if (m.tier > t.open_tier || !can_take(agent, t)) continue;
          best = k.slot;
          best_key = k;
          best_via = m.queue;
          break;
        }
      }
      if (best == kNoSlot) return;
      offer(best, agent, best_via);
    }
  }

  void offer(uint32_t slot, uint32_t agent, uint32_t via) {
    TaskRec& t = tasks_[slot];
    const QueueRec& home = queues_[t.queue];
    const TimePoint deadline = now_ + home.cfg.ring_timeout;
    const bool ring_all = home.cfg.strategy == Strategy::kRingAll;
    t.offers.push_back(Offer{agent, via, deadline, ring_all});
    if (!ring_all) leave_waiting(slot);
    t.phase = Phase::kOffered;
    AgentRec& a = agents_[agent];
    a.ringing++;
    a.load[static_cast<size_t>(t.channel)]++;
    emit(OfferTask{t.id, AgentId{agent}, QueueId{via}});
    schedule(TimerKind::kRing, deadline, slot, agent);
    update_agent(agent);
  }

  // The offer at index i of the task ended without an accept. count_miss: it counts toward the
  // agent's unanswered offers in a row.
  void miss(uint32_t slot, size_t i, bool count_miss) {
    TaskRec& t = tasks_[slot];
    const uint32_t agent = t.offers[i].agent;
    t.offers.erase(t.offers.begin() + static_cast<std::ptrdiff_t>(i));
    AgentRec& a = agents_[agent];
    a.ringing--;
    a.load[static_cast<size_t>(t.channel)]--;
    const QueueRec& home = queues_[t.queue];
    // Remembered even with no retry pause, to recognise an answer that crosses the timeout.
    const TimePoint until = now_ + home.cfg.retry_after;
    auto m = std::find_if(t.missed.begin(), t.missed.end(),
                          [&](const auto& p) { return p.first == agent; });
    if (m == t.missed.end()) {
      t.missed.emplace_back(agent, until);
    } else {
      m->second = until;
    }
    if (home.cfg.retry_after.count() > 0) schedule(TimerKind::kRetry, until, slot, agent);
    if (t.offers.empty()) requeue(slot);
    if (count_miss) {
      a.missed_in_row++;
      if (home.cfg.max_no_answer > 0 && a.missed_in_row >= home.cfg.max_no_answer) {
        set_status(agent, AgentStatus::kBreak, kNoAnswerReason);
        return;
      }
    }
    update_agent(agent);
  }

  // Back to waiting with its old place: it goes ahead of everyone who joined after it.
  void requeue(uint32_t slot) {
    tasks_[slot].phase = Phase::kWaiting;
    rejoin_waiting(slot);
    push_task(slot);
  }

  // Into every waiting list it belongs to (TaskRec::in_queues), at its old place.
  void rejoin_waiting(uint32_t slot) {
    TaskRec& t = tasks_[slot];
    const std::vector<uint32_t> lists = t.in_queues;
    t.in_queues.clear();
    for (uint32_t q : lists) enter_waiting(slot, q);
  }

  void cancel_offers(uint32_t slot, CancelReason reason, uint32_t except) {
    TaskRec& t = tasks_[slot];
    std::vector<Offer> offers;
    offers.swap(t.offers);
    for (const Offer& o : offers) {
      if (o.agent == except) {
        t.offers.push_back(o);
        continue;
      }
      emit(CancelOffer{t.id, AgentId{o.agent}, reason});
      AgentRec& a = agents_[o.agent];
      a.ringing--;
      a.load[static_cast<size_t>(t.channel)]--;
      update_agent(o.agent);
    }
  }

  void enter_waiting(uint32_t slot, uint32_t queue) {
    TaskRec& t = tasks_[slot];
    if (std::find(t.in_queues.begin(), t.in_queues.end(), queue) != t.in_queues.end()) return;
    t.in_queues.push_back(queue);
    queues_[queue].waiting.insert(t.wait_key(slot));
  }

  // Out of every waiting list (the list of queues is kept for a requeue).
  void leave_waiting(uint32_t slot) {
    TaskRec& t = tasks_[slot];
    const WaitKey key = t.wait_key(slot);
    for (uint32_t q : t.in_queues) queues_[q].waiting.erase(key);
  }

  void leave_queue(uint32_t slot, LeaveReason reason, const std::string& branch) {
    TaskRec& t = tasks_[slot];
    count(queues_[t.queue], [](QueueCounters& c) { c.left++; });
    cancel_offers(slot, CancelReason::kTaskGone, kNoSlot);
    emit(TaskLeftQueue{t.id, QueueId{t.queue}, reason, branch, now_ - t.joined});
    release_task(slot);
  }

  // ---- agents ----

  void set_status(uint32_t agent, AgentStatus status, uint8_t reason) {
    AgentRec& a = agents_[agent];
    if (status != AgentStatus::kBreak) reason = 0;
    if (a.status == status && a.reason == reason) return;
    const AgentStatus old = a.status;
    a.status = status;
    a.reason = reason;
    std::vector<uint32_t> emptied;
    for (const Membership& m : a.queues) {
      QueueRec& q = queues_[m.queue];
      q.logged_in += (status != AgentStatus::kLoggedOut) - (old != AgentStatus::kLoggedOut);
      q.available += (status == AgentStatus::kAvailable) - (old == AgentStatus::kAvailable);
      if (is_empty(q, q.cfg.leave_empty)) emptied.push_back(m.queue);
    }
    if (status == AgentStatus::kAvailable) {
      if (old == AgentStatus::kLoggedOut || a.total_load() == 0) a.idle_since = now_;
      a.missed_in_row = 0;
    } else {
      // Stop ringing this agent; those tasks go back to their queues.
      for (size_t slot = 0; slot < tasks_.size(); ++slot) {
        if (a.ringing == 0) break;
        TaskRec& t = tasks_[slot];
        if (t.phase != Phase::kOffered || !is_ringing(t, agent)) continue;
        auto it = std::find_if(t.offers.begin(), t.offers.end(),
                               [&](const Offer& o) { return o.agent == agent; });
        emit(CancelOffer{t.id, AgentId{agent}, CancelReason::kAgentUnavailable});
        t.offers.erase(it);
        a.ringing--;
        a.load[static_cast<size_t>(t.channel)]--;
        if (t.offers.empty()) requeue(static_cast<uint32_t>(slot));
      }
    }
    update_agent(agent);
    for (uint32_t q : emptied) empty_queue(q);
  }

  // Everyone waiting in q (as their own queue) leaves: nobody is there to serve them.
  void empty_queue(uint32_t q) {
    std::vector<uint32_t> leaving;
    for (const WaitKey& k : queues_[q].waiting) {
      if (tasks_[k.slot].queue == q) leaving.push_back(k.slot);
    }
    for (uint32_t slot : leaving) leave_queue(slot, LeaveReason::kQueueEmpty, "");
  }

  bool is_empty(const QueueRec& q, EmptyPolicy p) const {
    switch (p) {
      case EmptyPolicy::kIgnore: return false;
      case EmptyPolicy::kNoAgentsLoggedIn: return q.logged_in == 0;
      case EmptyPolicy::kNoAgentsAvailable: return q.available == 0;
    }
    return false;
  }

  // After any change to an agent: account time, report, re-index, and let it look for work.
  void update_agent(uint32_t agent) {
    AgentRec& a = agents_[agent];
    const AgentState state = a.state();
    if (state != a.shown_state || a.status != a.shown_status || a.reason != a.shown_reason) {
      account(a, now_);
      a.shown_state = state;
      a.shown_status = a.status;
      a.shown_reason = a.reason;
      emit(AgentChanged{AgentId{agent}, a.status, state, a.reason});
    }
    reindex(agent);
    push_agent(agent);
  }

  // Adds the time since the last change to the bucket of what the agent was doing.
  void account(AgentRec& a, TimePoint now) {
    const TimePoint from = a.since;
    a.since = now;
    Duration AgentTimes::*field = bucket_of(a);
    if (field == nullptr || now <= from) return;
    a.totals.*field += now - from;
    for (auto& w : a.windows) {
      w.add_interval(from, now, [field](AgentTimes& v, Duration d) { v.*field += d; });
    }
  }

  static Duration AgentTimes::*bucket_of(const AgentRec& a) {
    switch (a.shown_status) {
      case AgentStatus::kLoggedOut: return nullptr;
      case AgentStatus::kBreak:
        if (a.shown_state == AgentState::kIdle) return &AgentTimes::on_break;
        break;
      case AgentStatus::kAvailable: break;
    }
    switch (a.shown_state) {
      case AgentState::kIdle: return &AgentTimes::idle;
      case AgentState::kReserved: return &AgentTimes::reserved;
      case AgentState::kOnContact: return &AgentTimes::on_contact;
      case AgentState::kWrapUp: return &AgentTimes::wrap_up;
    }
    return nullptr;
  }

  MemberKey key_for(const AgentRec& a, const Membership& m, uint32_t agent) {
    const QueueRec& q = queues_[m.queue];
    const int64_t idle = ms(a.idle_since);
    switch (q.cfg.strategy) {
      case Strategy::kLongestIdle:
      case Strategy::kRingAll:
        return {m.tier, idle, 0, agent};
      case Strategy::kRoundRobin:
        return {m.tier, m.rr_seq, 0, agent};
      case Strategy::kFewestContacts:
        return {m.tier, static_cast<int64_t>(a.totals.handled), idle, agent};
      case Strategy::kLeastTalkTime:
        return {m.tier, a.totals.talk.count(), idle, agent};
      case Strategy::kLinear:
        return {m.tier, m.order, 0, agent};
      case Strategy::kRandom:  // the pick is made among all eligible members (match_task)
        return {m.tier, 0, 0, agent};
      case Strategy::kBestSkill: {
        const int level = q.cfg.skills.empty() ? 0 : a.level(q.cfg.skills.front().skill);
        return {m.tier, -level, idle, agent};
      }
    }
    return {m.tier, idle, 0, agent};
  }

  void reindex(uint32_t agent) {
    AgentRec& a = agents_[agent];
    const bool ready = a.status == AgentStatus::kAvailable && a.has_room();
    for (Membership& m : a.queues) {
      if (m.indexed) {
        if (ready && m.key == key_for(a, m, agent)) continue;
        queues_[m.queue].ready.erase(m.key);
        m.indexed = false;
      }
      if (ready) {
        m.key = key_for(a, m, agent);
        queues_[m.queue].ready.insert(m.key);
        m.indexed = true;
      }
    }
  }

  // ---- tasks ----

  void finish(uint32_t slot) {
    TaskRec& t = tasks_[slot];
    AgentRec& a = agents_[t.agent];
    a.wrapping--;
    a.load[static_cast<size_t>(t.channel)]--;
    a.totals.handled++;
    for (auto& w : a.windows) {
      if (AgentTimes* v = w.at(now_)) v->handled++;
    }
    const Duration handle = now_ - t.assigned_at;
    count(queues_[t.queue], [&](QueueCounters& c) {
      c.handled++;
      c.handle_time += handle;
    });
    const uint32_t agent = t.agent;
    if (a.total_load() == 0) a.idle_since = now_;
    release_task(slot);
    update_agent(agent);
  }

  uint32_t alloc_task() {
    if (!free_slots_.empty()) {
      const uint32_t s = free_slots_.back();
      free_slots_.pop_back();
      return s;
    }
    tasks_.emplace_back();
    return static_cast<uint32_t>(tasks_.size() - 1);
  }

  void release_task(uint32_t slot) {
    TaskRec& t = tasks_[slot];
    if (t.phase == Phase::kWaiting || t.phase == Phase::kOffered) {
      leave_waiting(slot);
      queues_[t.queue].present.erase({ms(t.joined), t.seq});
    }
    task_index_.erase(t.id.value);
    t.phase = Phase::kFree;
    t.generation++;
    t.in_queues.clear();
    t.offers.clear();
    t.missed.clear();
    t.attributes.clear();
    t.own_skills.clear();
    t.agent = kNoSlot;
    free_slots_.push_back(slot);
  }

  uint32_t lookup(TaskId id) const {
    auto it = task_index_.find(id.value);
    return it == task_index_.end() ? kNoSlot : it->second;
  }

  template <typename F>
  void count(QueueRec& q, F f) {
    f(q.totals);
    for (auto& w : q.windows) {
      if (QueueCounters* v = w.at(now_)) f(*v);
    }
  }

  template <typename C>
  void emit(C&& c) {
    out_->emplace_back(std::forward<C>(c));
  }

  static std::string unknown_task(TaskId id) {
    return "unknown task " + std::to_string(id.value);
  }
  std::string unknown_agent(AgentId id) const {
    return "unknown agent id " + std::to_string(id.value) + " (" + std::to_string(agents_.size()) +
           " agents)";
  }

  // ---- queries ----

  std::optional<Standing> standing(TaskId id, TimePoint now) const {
    const uint32_t slot = lookup(id);
    if (slot == kNoSlot) return std::nullopt;
    const TaskRec& t = tasks_[slot];
    if (t.phase != Phase::kWaiting) return std::nullopt;
    const QueueRec& q = queues_[t.queue];
    uint32_t pos = 1;
    const WaitKey key = t.wait_key(slot);
    for (const WaitKey& k : q.waiting) {
      if (!(k < key)) break;
      if (tasks_[k.slot].queue == t.queue) pos++;
    }
    Standing s;
    s.queue = QueueId{t.queue};
    s.position = pos;
    s.waited = now - t.joined;
    s.expected_wait = expected_wait(q, pos, now);
    return s;
  }

  // position x average handle time / members logged in: the time for `position` contacts to
  // be handled by everyone who serves the queue.
  Duration expected_wait(const QueueRec& q, uint32_t position, TimePoint now) const {
    double aht = 0;
    for (auto it = q.windows.rbegin(); it != q.windows.rend() && aht == 0; ++it) {
      aht = it->sum(now).aht_seconds();
    }
    if (aht == 0) aht = q.totals.aht_seconds();
    if (aht == 0) aht = to_seconds(q.cfg.default_handle_time);
    const double servers = std::max<uint32_t>(1, q.logged_in);
    return from_seconds(position * aht / servers);
  }

  QueueSnapshot queue_snapshot(QueueId id, TimePoint now) const {
    const QueueRec& q = queues_.at(id.value);
    QueueSnapshot s;
    s.queue = id;
    s.name = q.cfg.name;
    s.waiting = static_cast<uint32_t>(q.present.size());
    if (!q.present.empty()) s.longest_wait = now - TimePoint(Duration(q.present.begin()->first));
    s.agents_logged_in = q.logged_in;
    s.agents_available = q.available;
    for (uint32_t a : q.members) {
      const AgentRec& r = agents_[a];
      if (r.status == AgentStatus::kAvailable && r.total_load() == 0) s.agents_idle++;
    }
    s.totals = q.totals;
    for (const auto& w : q.windows) s.windows.push_back(w.sum(now));
    return s;
  }

  AgentSnapshot agent_snapshot(AgentId id, TimePoint now) const {
    const AgentRec& a = agents_.at(id.value);
    AgentSnapshot s;
    s.agent = id;
    s.name = a.name;
    s.status = a.status;
    s.state = a.state();
    s.reason = a.status == AgentStatus::kBreak ? std::string_view(reasons_[a.reason]) : "";
    s.in_state = now - a.since;
    s.load = a.load;
    s.capacity = a.capacity;
    s.missed_in_row = a.missed_in_row;
    // Add the open interval (since the last change) as if it were accounted now.
    Duration AgentTimes::*field = bucket_of(a);
    s.totals = a.totals;
    if (field != nullptr && now > a.since) s.totals.*field += now - a.since;
    for (const auto& w : a.windows) {
      AgentTimes v = w.sum(now);
      if (field != nullptr) {
        const TimePoint from = std::max(a.since, w.covers_from(now));
        if (now > from) v.*field += now - from;
      }
      s.windows.push_back(v);
    }
    return s;
  }

  void reset_statistics(TimePoint now) {
    now_ = std::max(now_, now);
    for (AgentRec& a : agents_) {
      account(a, now);
      a.totals = AgentTimes{};
    }
    for (QueueRec& q : queues_) q.totals = QueueCounters{};
  }

  RouterConfig cfg_;
  std::vector<std::string> reasons_;
  std::vector<std::string> skills_;
  std::vector<QueueRec> queues_;
  std::vector<AgentRec> agents_;
  std::unordered_map<std::string, uint32_t> agent_index_;
  std::vector<TaskRec> tasks_;
  std::vector<uint32_t> free_slots_;
  std::unordered_map<uint64_t, uint32_t> task_index_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  std::vector<uint32_t> pending_agents_;
  std::vector<uint32_t> pending_tasks_;
  std::vector<uint32_t> chosen_;  // scratch for match_task
  std::mt19937_64 rng_;
  TimePoint now_{};
  uint64_t task_seq_ = 0;
  uint64_t timer_seq_ = 0;
  CommandSink* out_ = nullptr;

  friend class Router;
};

Router::Router(RouterConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}
Router::~Router() = default;

SkillId Router::add_skill(std::string_view name) { return impl_->add_skill(name); }
Result<QueueId> Router::add_queue(QueueConfig config) { return impl_->add_queue(std::move(config)); }
Result<AgentId> Router::add_agent(AgentConfig config) { return impl_->add_agent(std::move(config)); }
Status Router::set_escalation(QueueId queue, const std::vector<EscalationStep>& steps) {
  return impl_->set_escalation(queue, steps);
}
Status Router::update_agent(AgentId agent, std::vector<std::pair<SkillId, uint8_t>> skills,
                            std::vector<QueueMembership> queues, TimePoint now, CommandSink& out) {
  return impl_->reconfigure_agent(agent, std::move(skills), queues, now, out);
}
Status Router::update_queue(QueueId queue, QueueConfig config, TimePoint now, CommandSink& out) {
  return impl_->reconfigure_queue(queue, std::move(config), now, out);
}
const QueueConfig* Router::queue_config(QueueId queue) const {
  return queue.value < impl_->queues_.size() ? &impl_->queues_[queue.value].cfg : nullptr;
}
Status Router::set_capacity(AgentId agent, std::array<uint8_t, kChannelCount> capacity,
                            TimePoint now, CommandSink& out) {
  return impl_->set_capacity(agent, capacity, now, out);
}
std::optional<SkillId> Router::find_skill(std::string_view name) const {
  return impl_->find_skill(name);
}
std::optional<QueueId> Router::find_queue(std::string_view name) const {
  return impl_->find_queue(name);
}
std::optional<AgentId> Router::find_agent(std::string_view name) const {
  return impl_->find_agent(name);
}
std::string_view Router::skill_name(SkillId id) const { return impl_->skills_.at(id.value); }
std::string_view Router::queue_name(QueueId id) const { return impl_->queues_.at(id.value).cfg.name; }
std::string_view Router::agent_name(AgentId id) const { return impl_->agents_.at(id.value).name; }
size_t Router::queue_count() const { return impl_->queues_.size(); }
size_t Router::agent_count() const { return impl_->agents_.size(); }
const std::vector<std::string>& Router::break_reasons() const { return impl_->reasons_; }

Status Router::handle(const Event& event, TimePoint now, CommandSink& out) {
  return impl_->handle(event, now, out);
}
void Router::advance(TimePoint now, CommandSink& out) { impl_->advance(now, out); }
std::optional<TimePoint> Router::next_deadline() const { return impl_->next_deadline(); }
std::optional<Standing> Router::standing(TaskId task, TimePoint now) const {
  return impl_->standing(task, now);
}
QueueSnapshot Router::queue_snapshot(QueueId queue, TimePoint now) const {
  return impl_->queue_snapshot(queue, now);
}
AgentSnapshot Router::agent_snapshot(AgentId agent, TimePoint now) const {
  return impl_->agent_snapshot(agent, now);
}
void Router::reset_statistics(TimePoint now) { impl_->reset_statistics(now); }
size_t Router::task_count() const { return impl_->task_index_.size(); }

}  // namespace tamas::core
