// The routing engine (ACD): decides which agent serves which task.
//
// Events in, commands out, time passed in. The Router owns every agent, queue and waiting task of
// one routing domain and is driven by one thread: call handle() for each event and advance() when
// next_deadline() has come. Neither reads a clock, blocks, allocates threads or touches a file.
//
// The contract with whoever executes the commands (the telephony side, the simulator, a test):
//  - OfferTask: ring the agent. Report OfferAccepted or OfferDeclined; the router times the ring
//    itself and sends CancelOffer when the ring timeout passes.
//  - TaskAssigned: the accept was confirmed; connect the task to the agent. Only now may the
//    executor bridge: with ring-all, two agents can accept at once and only one wins.
//  - CancelOffer: stop ringing that agent (or hang up the leg that answered too late).
//  - TaskRejected / TaskLeftQueue: the task did not join, or left the queue; the executor continues
//    the task's flow (at TaskLeftQueue::branch when one is set).
//  - AgentChanged: the agent's status or state changed (for the UI and the agent log).
// Report TaskCompleted when the conversation ends; the agent then wraps up for the queue's wrap-up
// time (or until WrapUpDone) and becomes free again.
//
// Invariant after every handle()/advance() and every live change (update_agent, update_queue,
// set_capacity): no agent that could take a waiting task (status available, free capacity, member
// at an open tier, skills met, not in its retry pause for that task) is left idle while that task
// waits unoffered.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "core/model/types.h"

namespace tamas::core {

// ---- Configuration ----------------------------------------------------------------------------

struct SkillRequirement {
  SkillId skill;
  uint8_t min_level = 1;  // 1..10
  friend bool operator==(const SkillRequirement&, const SkillRequirement&) = default;
};

// A time-based change to a waiting task, counted from when it joined its queue.
struct EscalationStep {
  enum class Action : uint8_t {
    kNextTier,    // allow members `amount` tiers further down (tier 1 is first choice)
    kLowerSkill,  // lower every minimum skill level of the task by `amount` (never below 1)
    kOverflow,    // agents of `overflow_queue` may also take the task
    kExit,        // leave the queue and continue the flow at `branch` (voicemail, callback)
  };
  Duration after{};
  Action action = Action::kNextTier;
  uint8_t amount = 1;
  QueueId overflow_queue{};
  std::string branch;
  friend bool operator==(const EscalationStep&, const EscalationStep&) = default;
};

struct QueueConfig {
  std::string name;
  Strategy strategy = Strategy::kLongestIdle;
  Duration sl_threshold = std::chrono::seconds(20);  // service level: answered within this
  uint32_t max_waiting = 0;                           // tasks waiting at most; 0 = no limit
  Duration max_wait{};                                // leave with reason kTimeout; 0 = never
  EmptyPolicy join_empty = EmptyPolicy::kIgnore;
  EmptyPolicy leave_empty = EmptyPolicy::kIgnore;
  Duration wrap_up{};                                 // agents may override
  Duration ring_timeout = std::chrono::seconds(20);
  uint32_t max_no_answer = 3;  // unanswered offers in a row before the agent is put on break
                               // with reason "no answer"; 0 = never
  Duration retry_after = std::chrono::seconds(5);  // an agent who let a task ring out is not
                                                   // offered that same task again for this long
  std::vector<SkillRequirement> skills;        // required of every task in the queue
  std::vector<EscalationStep> escalation;      // any order; applied by `after`
  Duration default_handle_time = std::chrono::seconds(180);  // for the expected wait before data

  // Field by field, lists in order (escalation steps and skills listed in another order compare
  // unequal although they route alike): tells a configuration reload whether a queue changed.
  friend bool operator==(const QueueConfig&, const QueueConfig&) = default;
};

struct QueueMembership {
  QueueId queue;
  uint8_t tier = 1;  // 1 = first choice; higher tiers are offered after escalation opens them
};

struct AgentConfig {
  std::string name;  // the extension or login, unique in the router
  std::vector<std::pair<SkillId, uint8_t>> skills;  // levels 1..10
  std::vector<QueueMembership> queues;
  // Contacts of each channel the agent can hold at once (voice, chat, email, sms, callback).
  std::array<uint8_t, kChannelCount> capacity = {1, 2, 1, 2, 1};
  // A voice contact takes the agent whole: no other contact is offered while one is offered,
  // connected or wrapping up, and a voice contact is offered only to an agent with no contacts.
  bool voice_exclusive = true;
  std::optional<Duration> wrap_up;  // overrides the queue's wrap-up time
};

struct RouterConfig {
  // The reasons an agent may give for a break; "no answer" is always there too.
  std::vector<std::string> break_reasons = {"break", "lunch", "meeting", "training"};
  // Sliding windows for live statistics (besides the totals since reset_statistics).
  std::vector<Duration> stats_windows = {std::chrono::minutes(15), std::chrono::minutes(60)};
  uint64_t seed = 1;  // for the random strategy
};

// ---- Events -----------------------------------------------------------------------------------

struct TaskSpec {
  TaskId id;
  Channel channel = Channel::kVoice;
  QueueId queue;
  int32_t priority = 0;                  // higher is served first
  std::vector<SkillRequirement> skills;  // on top of the queue's
  std::vector<std::pair<std::string, std::string>> attributes;  // language, vip, ...
};

struct TaskArrived {
  TaskSpec task;
};
// The customer left while waiting or while an agent's phone rang.
struct TaskAbandoned {
  TaskId task;
};
// The customer chose to leave the queue (e.g. pressed the key for voicemail) while waiting or
// while an agent's phone rang: counted as left, not abandoned.
struct TaskWithdrawn {
  TaskId task;
};
struct OfferAccepted {
  TaskId task;
  AgentId agent;
};
enum class DeclineReason : uint8_t { kNoAnswer, kBusy, kRejected };
struct OfferDeclined {
  TaskId task;
  AgentId agent;
  DeclineReason reason = DeclineReason::kRejected;
};
// The conversation ended (either side hung up); the agent goes into wrap-up.
struct TaskCompleted {
  TaskId task;
};
// The agent finished wrapping up the task before the wrap-up time ran out.
struct WrapUpDone {
  AgentId agent;
  TaskId task;
};
// Log in (kAvailable), pause (kBreak with a reason), log out (kLoggedOut). Contacts in progress
// continue; no new ones are offered unless the status is kAvailable.
struct SetAgentStatus {
  AgentId agent;
  AgentStatus status = AgentStatus::kAvailable;
  std::string reason;  // for kBreak: one of RouterConfig::break_reasons; empty = the first
};

using Event = std::variant<TaskArrived, TaskAbandoned, TaskWithdrawn, OfferAccepted, OfferDeclined,
                           TaskCompleted, WrapUpDone, SetAgentStatus>;

// ---- Commands ---------------------------------------------------------------------------------

struct OfferTask {
  TaskId task;
  AgentId agent;
  QueueId queue;  // the queue through which the agent gets it (the task's own, or an overflow)
};
enum class CancelReason : uint8_t {
  kRingTimeout,        // no answer within the queue's ring timeout
  kTakenByOther,       // ring-all: another agent accepted first (also for a late accept)
  kTaskGone,           // the customer left, or the task left the queue
  kAgentUnavailable,   // the agent logged out or went on break while ringing
};
struct CancelOffer {
  TaskId task;
  AgentId agent;
  CancelReason reason;
};
struct TaskAssigned {
  TaskId task;
  AgentId agent;
  QueueId queue;
  Duration waited;  // from joining the queue to this accept
};
enum class RejectReason : uint8_t { kUnknownQueue, kDuplicateTask, kQueueFull, kQueueEmpty };
struct TaskRejected {
  TaskId task;
  RejectReason reason;
};
enum class LeaveReason : uint8_t {
  kTimeout,     // max_wait passed
  kQueueEmpty,  // leave_empty policy
  kEscalation,  // an escalation step with action kExit
};
struct TaskLeftQueue {
  TaskId task;
  QueueId queue;
  LeaveReason reason;
  std::string branch;  // for kEscalation: where the flow continues
  Duration waited;
};
struct AgentChanged {
  AgentId agent;
  AgentStatus status;
  AgentState state;
  uint8_t reason;  // index into Router::break_reasons(); 0 unless status is kBreak
};

using Command = std::variant<OfferTask, CancelOffer, TaskAssigned, TaskRejected, TaskLeftQueue,
                             AgentChanged>;
// The caller owns the vector and clears it when it has executed the commands; the router appends.
using CommandSink = std::vector<Command>;

std::string_view to_string(CancelReason r);
std::string_view to_string(RejectReason r);
std::string_view to_string(LeaveReason r);
std::string_view to_string(DeclineReason r);

// ---- Queries ----------------------------------------------------------------------------------

struct Standing {
  QueueId queue;
  uint32_t position = 0;  // 1 = next to be served in its queue
  Duration waited{};
  Duration expected_wait{};  // position x average handle time / members logged in
};

// Counters over an interval: since reset_statistics() or over a sliding window.
struct QueueCounters {
  uint64_t offered = 0;          // tasks that joined
  uint64_t answered = 0;         // tasks connected to an agent
  uint64_t answered_in_sl = 0;   // answered within the service-level threshold
  uint64_t abandoned = 0;        // the customer left while waiting or ringing
  uint64_t left = 0;             // left by timeout, empty queue, escalation exit or the caller's key
  uint64_t rejected = 0;         // refused on arrival (full, empty)
  uint64_t handled = 0;          // finished wrap-up
  Duration wait_answered{};      // total wait of answered tasks
  Duration wait_abandoned{};     // total wait of abandoned tasks
  Duration handle_time{};        // total talk + wrap-up of handled tasks
  double service_level() const;  // answered_in_sl / offered; 1 when nothing was offered
  double asa_seconds() const;    // average wait of answered tasks
  double aht_seconds() const;    // average handle time of handled tasks
};

struct QueueSnapshot {
  QueueId queue;
  std::string_view name;
  uint32_t waiting = 0;
  Duration longest_wait{};
  uint32_t agents_logged_in = 0;
  uint32_t agents_available = 0;  // status available (busy or not)
  uint32_t agents_idle = 0;       // available with nothing to do
  QueueCounters totals;           // since reset_statistics()
  std::vector<QueueCounters> windows;  // one per RouterConfig::stats_windows
};

struct AgentTimes {
  Duration idle{}, reserved{}, on_contact{}, wrap_up{}, on_break{};
  uint64_t handled = 0;   // contacts that finished wrap-up
  Duration talk{};        // connected time of those contacts
  Duration staffed() const { return idle + reserved + on_contact + wrap_up; }
  double occupancy() const;  // (reserved + on contact + wrap-up) / staffed; 0 when never staffed
};

struct AgentSnapshot {
  AgentId agent;
  std::string_view name;
  AgentStatus status;
  AgentState state;
  std::string_view reason;  // the break reason, or empty
  Duration in_state{};      // time since status or state last changed
  std::array<uint8_t, kChannelCount> load{};  // contacts held per channel (incl. ringing, wrap-up)
  // Contacts of each channel the agent may hold (AgentConfig::capacity, or set_capacity's). After
  // a lowering, `load` may stay above it until contacts in progress end.
  std::array<uint8_t, kChannelCount> capacity{};
  uint32_t missed_in_row = 0;
  AgentTimes totals;
  std::vector<AgentTimes> windows;
};

// ---- The router -------------------------------------------------------------------------------

class Router {
 public:
  explicit Router(RouterConfig config = {});
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Configuration. Skills are interned by name (the same name returns the same id). add_queue and
  // add_agent fail with a message naming the field on a duplicate name, an unknown id, a skill
  // level outside 1..10, a tier of 0, or an escalation step that names no queue.
  SkillId add_skill(std::string_view name);
  Result<QueueId> add_queue(QueueConfig config);
  Result<AgentId> add_agent(AgentConfig config);
  // Replaces a queue's escalation steps (its max_wait stays). For queues that overflow into each
  // other: add every queue first, then set their escalation. Fails like add_queue, on an unknown
  // queue, or on a queue overflowing into itself. Tasks already waiting go on from the point they
  // have reached by the time they have waited (at the router's latest time): steps of the new list
  // due by then count as reached and are not applied, as with update_queue.
  Status set_escalation(QueueId queue, const std::vector<EscalationStep>& steps);
  // Replaces an agent's skills and queue memberships (with their tiers) while the center runs,
  // like AgentConfig::skills and AgentConfig::queues; name, capacity and wrap-up stay. Fails,
  // changing nothing (no timer fires, nothing is appended to `out`), on an unknown agent or on
  // what add_agent refuses: an unknown skill or queue id, a level outside 1..10, a skill or queue
  // listed twice, a tier of 0.
  // On success, at time `now` (timers due by then fire first, as in handle()), the change takes
  // effect at once and its commands are appended to `out`, as an event's would be:
  //  - the agent is considered right away for tasks waiting in its new queues, at its new tiers
  //    and with its new skills (e.g. an OfferTask when it is available and free);
  //  - it is no longer offered tasks of the queues it left, nor tasks its skills no longer meet;
  //  - contacts in progress are not disturbed: one that is connected or in wrap-up goes on, and
  //    an offer ringing through a queue the agent left (or of a task whose skills it no longer
  //    meets) keeps ringing and may be accepted, declined or time out: it was valid when made, and
  //    pulling a ringing phone away from an agent about to answer helps no one;
  //  - a queue it stays in keeps its place in that queue's order (linear list, round-robin turn);
  //    a queue it joins puts it last in the linear list and first for round-robin, like a member
  //    who has never been served;
  //  - each queue's agents_logged_in / agents_available / agents_idle count the new members, and a
  //    queue left without agents applies its leave_empty policy (its waiting tasks leave with
  //    LeaveReason::kQueueEmpty), as when the last member logs out.
  Status update_agent(AgentId agent, std::vector<std::pair<SkillId, uint8_t>> skills,
                      std::vector<QueueMembership> queues, TimePoint now, CommandSink& out);
  // Replaces every setting of a queue while the center runs: strategy, sl_threshold, max_waiting,
  // max_wait, join_empty, leave_empty, wrap_up, ring_timeout, max_no_answer, retry_after, skills,
  // escalation and default_handle_time. A queue is not renamed: config.name must be the queue's
  // name. Fails, changing nothing (no timer fires, nothing is appended to `out`), on an unknown
  // queue, another name, or what add_queue and set_escalation refuse (an unknown skill id, a level
  // outside 1..10, a negative 'after', an amount of 0, an overflow into an unknown queue or into
  // the queue itself); the message names the field, like add_queue's.
  // On success, at time `now` (timers due by then fire first, under the old settings, as in
  // handle()), the change takes effect at once and its commands are appended to `out`:
  //  - strategy: the members are ordered by the new strategy from the next pick on (a linear
  //    queue's list order and the round-robin turns are kept while another strategy is used, so
  //    switching back finds them). A contact already ringing keeps ringing and may be accepted,
  //    declined or time out, its ring timeout counting toward max_no_answer as it would have when
  //    it was offered (a ring-all ring does not; another one does). A task ringing several agents
  //    when the queue leaves ring-all gets no further offers while those rings last (the first
  //    accept wins, as before); when the last ends unanswered it waits again, for one agent at a
  //    time. A task ringing one agent when the queue becomes ring-all also rings every other
  //    eligible agent at once, as any ring-all task does;
  //  - skills: the queue's requirements apply to its tasks already waiting or ringing, merged
  //    again with each task's own TaskSpec::skills (the higher level wins; escalation's lowering
  //    stays). A task whose requirement drops may be offered in this call's commands; one whose
  //    requirement rises is offered only to agents who meet it from now on (a ring in progress
  //    goes on). For best-skill, the first required skill orders the members;
  //  - escalation and max_wait: each task waiting or ringing goes on from the point it has
  //    reached, by time: the steps of the new list due within the time it has already waited
  //    count as reached and are not applied afterwards (what earlier steps gave it stays: open
  //    tiers, lowered skills, overflow queues), except max_wait: a task that has waited at least
  //    the new max_wait leaves now with LeaveReason::kTimeout (its ring, if any, is cancelled
  //    with CancelReason::kTaskGone);
  //  - leave_empty: a queue that is empty under the new policy lets its waiting tasks leave with
  //    LeaveReason::kQueueEmpty, as when its last member logs out; join_empty and max_waiting
  //    apply to the next arrivals (lowering max_waiting turns no one out);
  //  - ring_timeout, wrap_up, retry_after, max_no_answer, sl_threshold, default_handle_time: from
  //    the next offer, wrap-up, ring end, answer or estimate on; deadlines already set stay;
  //  - then every task waiting in the queue (its own and tasks overflowed into it) is matched at
  //    once, in queue order, under the new settings.
  // Statistics (totals and windows) are kept; they describe the queue across the change.
  Status update_queue(QueueId queue, QueueConfig config, TimePoint now, CommandSink& out);
  // The queue's settings as add_queue, set_escalation and update_queue left them, for comparing
  // with a reloaded configuration (QueueConfig has operator==); null for an unknown id. The
  // pointer is valid until the next add_queue; set_escalation and update_queue change what it
  // points to.
  const QueueConfig* queue_config(QueueId queue) const;
  // Sets how many contacts of each channel the agent may hold at once (AgentConfig::capacity),
  // while the center runs. Fails, changing nothing, on an unknown agent; any value is valid (0:
  // none of that channel). On success, at time `now` (timers due by then fire first), it takes
  // effect at once and its commands are appended to `out`:
  //  - a raise makes the agent a candidate for waiting tasks at once (an OfferTask in `out` when
  //    it is available and a task it can take waits);
  //  - a lowering disturbs nothing in progress: contacts ringing, connected or in wrap-up go on,
  //    and the agent is offered no new contact of a channel until its load there is below the new
  //    capacity (so AgentSnapshot::load may exceed AgentSnapshot::capacity meanwhile).
  // voice_exclusive is unchanged. The capacity is shown in AgentSnapshot::capacity.
  Status set_capacity(AgentId agent, std::array<uint8_t, kChannelCount> capacity, TimePoint now,
                      CommandSink& out);
  std::optional<SkillId> find_skill(std::string_view name) const;
  std::optional<QueueId> find_queue(std::string_view name) const;
  std::optional<AgentId> find_agent(std::string_view name) const;
  std::string_view skill_name(SkillId id) const;
  std::string_view queue_name(QueueId id) const;
  std::string_view agent_name(AgentId id) const;
  size_t queue_count() const;
  size_t agent_count() const;
  const std::vector<std::string>& break_reasons() const;  // index 0 is "no answer"

  // Applies one event at time `now` (first firing every timer due by then) and appends the
  // resulting commands to `out`. Fails, changing nothing, on an event that names an unknown agent,
  // an unknown break reason, or a task/agent pair that does not fit the task's state (e.g. an
  // accept for a task that was never offered to that agent); a late accept of a task already
  // taken is not an error: it is answered with CancelOffer(kTakenByOther).
  Status handle(const Event& event, TimePoint now, CommandSink& out);

  // Fires every timer due at or before `now` (ring timeouts, wrap-up ends, escalation steps).
  void advance(TimePoint now, CommandSink& out);
  // The earliest pending timer, if any.
  std::optional<TimePoint> next_deadline() const;

  // Where a waiting task stands; nullopt when it is not waiting (unknown, ringing, connected).
  std::optional<Standing> standing(TaskId task, TimePoint now) const;
  QueueSnapshot queue_snapshot(QueueId queue, TimePoint now) const;
  AgentSnapshot agent_snapshot(AgentId agent, TimePoint now) const;
  // Zeroes the totals (a new day, or the end of a simulation's warm-up); windows keep sliding.
  void reset_statistics(TimePoint now);

  // How many tasks the router holds (waiting, ringing, connected or in wrap-up).
  size_t task_count() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tamas::core
