// The discrete-event simulator (see simulator.h): an event heap merged with the router's deadlines.
//
// Single-threaded: one Run object owns the router, the heap and the tasks of one simulate() call.
//
// How each router command is executed (the executor's side of the contract in router.h):
//   OfferTask     -> an Accept event after the answer delay (the agent's phone rings, then answers)
//   CancelOffer   -> that pending Accept is dropped (ring timeout, taken by another, task gone)
//   TaskAssigned  -> a Complete event after the task's handle time (drawn when the task arrived)
//   TaskRejected / TaskLeftQueue -> the task is gone
// Customers with patience get an Abandon event at arrival + patience, ignored if the task was
// connected or gone by then. Agent groups with a shift log in and out at its edges every day. An
// agent the router puts on its "no answer" break comes back after Scenario::no_answer_break.
#include "sim/simulator.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <optional>
#include <queue>
#include <random>
#include <unordered_map>
#include <utility>

namespace tamas::sim {

double QueueResult::abandon_rate() const {
  return totals.offered == 0
             ? 0.0
             : static_cast<double>(totals.abandoned) / static_cast<double>(totals.offered);
}

double StreamResult::service_level() const {
  return offered == 0 ? 1.0 : static_cast<double>(answered_in_sl) / static_cast<double>(offered);
}

double StreamResult::asa_seconds() const {
  return answered == 0 ? 0.0 : to_seconds(wait_answered) / static_cast<double>(answered);
}

namespace {

using core::AgentId;
using core::QueueId;
using core::TaskId;

constexpr double kSecondsPerDay = 86400.0;

// ---- Random numbers -----------------------------------------------------------------------------

// SplitMix64 (Steele, Lea, Flood 2014): turns related seeds into unrelated ones.
uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// FNV-1a: a stream's name as a number, the same on every platform (std::hash is not).
uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

// What a random stream is used for, so the streams of one arrival spec are independent.
enum class Purpose : uint64_t { kArrivals = 1, kHandle = 2, kPatience = 3, kAnswer = 4 };

// Draws by hand from mt19937_64, whose output the standard fixes exactly; std::*_distribution is
// implementation-defined and would make results differ between standard libraries.
class Random {
 public:
  Random(uint64_t seed, std::string_view stream, Purpose purpose)
      : gen_(splitmix64(splitmix64(seed ^ fnv1a(stream)) ^ static_cast<uint64_t>(purpose))) {}

  // Uniform in [0, 1): the 53 high bits of one draw.
  double uniform() { return static_cast<double>(gen_() >> 11) * 0x1.0p-53; }
  // Exponential with mean 1.
  double exponential() { return -std::log1p(-uniform()); }
  // Standard normal (Box-Muller; one of the pair is used, which keeps the stream stateless).
  double normal() {
    const double r = std::sqrt(-2.0 * std::log1p(-uniform()));
    return r * std::cos(2.0 * std::numbers::pi * uniform());
  }

 private:
  std::mt19937_64 gen_;
};

Duration sample(const Distribution& d, Random& random) {
  const double mean = to_seconds(d.mean);
  switch (d.kind) {
    case Distribution::Kind::kFixed:
      return d.mean;
    case Distribution::Kind::kExponential:
      return from_seconds(mean * random.exponential());
    case Distribution::Kind::kLognormal: {
      // The lognormal whose own mean and standard deviation are `mean` and `sd`.
      const double cv = to_seconds(d.sd) / mean;
      const double sigma2 = std::log1p(cv * cv);
      const double mu = std::log(mean) - sigma2 / 2;
      return from_seconds(std::exp(mu + std::sqrt(sigma2) * random.normal()));
    }
  }
  return d.mean;
}

// ---- Events -------------------------------------------------------------------------------------

enum class Kind : uint8_t { kWarmupEnd, kShift, kArrival, kAccept, kComplete, kAbandon, kResume };

struct SimEvent {
  int64_t at = 0;    // ms since kEpoch
  uint64_t seq = 0;  // scheduling order: equal times run first-scheduled first (set by schedule())
  Kind kind = Kind::kArrival;
  uint32_t index = 0;  // kArrival: stream; kShift: group; kAccept, kResume: agent
  uint32_t gen = 0;    // kAccept: which offer
  uint64_t task = 0;
  bool operator>(const SimEvent& o) const { return at != o.at ? at > o.at : seq > o.seq; }
};

struct Stream {
  const ArrivalSpec* spec;
  uint32_t queue_index;
  QueueId queue;
  std::vector<core::SkillRequirement> skills;
  Duration sl_threshold;
  Random arrivals, handle, patience;
  double next = 0;  // seconds since kEpoch of the next arrival (kept exact, not rounded)
  StreamResult result;
};

struct Group {
  const AgentGroupSpec* spec;
  std::vector<AgentId> agents;
};

struct Offer {
  uint32_t agent;
  uint32_t gen;
};

struct Task {
  uint32_t stream;
  Duration handle;
  bool connected = false;
  std::vector<Offer> offers;  // ringing agents whose answer is scheduled
};

struct QueueTrack {
  uint32_t in_queue = 0;  // joined, not yet connected or gone
  uint32_t max_in_queue = 0;
  Duration max_wait{};
};

bool in_shift(const Shift& s, Duration time_of_day) {
  return s.from < s.to ? (time_of_day >= s.from && time_of_day < s.to)
                       : (time_of_day >= s.from || time_of_day < s.to);
}

Duration time_of_day(TimePoint t) {
  return (t - kEpoch) % std::chrono::duration_cast<Duration>(std::chrono::hours(24));
}

core::AgentTimes& operator+=(core::AgentTimes& a, const core::AgentTimes& b) {
  a.idle += b.idle;
  a.reserved += b.reserved;
  a.on_contact += b.on_contact;
  a.wrap_up += b.wrap_up;
  a.on_break += b.on_break;
  a.handled += b.handled;
  a.talk += b.talk;
  return a;
}

std::string describe(const core::Event& e) {
  struct {
    std::string operator()(const core::TaskArrived& x) {
      return "TaskArrived(task " + std::to_string(x.task.id.value) + ")";
    }
    std::string operator()(const core::TaskAbandoned& x) {
      return "TaskAbandoned(task " + std::to_string(x.task.value) + ")";
    }
    std::string operator()(const core::TaskWithdrawn& x) {
      return "TaskWithdrawn(task " + std::to_string(x.task.value) + ")";
    }
    std::string operator()(const core::OfferAccepted& x) {
      return "OfferAccepted(task " + std::to_string(x.task.value) + ", agent " +
             std::to_string(x.agent.value) + ")";
    }
    std::string operator()(const core::OfferDeclined& x) {
      return "OfferDeclined(task " + std::to_string(x.task.value) + ")";
    }
    std::string operator()(const core::TaskCompleted& x) {
      return "TaskCompleted(task " + std::to_string(x.task.value) + ")";
    }
    std::string operator()(const core::WrapUpDone& x) {
      return "WrapUpDone(task " + std::to_string(x.task.value) + ")";
    }
    std::string operator()(const core::SetAgentStatus& x) {
      return "SetAgentStatus(agent " + std::to_string(x.agent.value) + ", " +
             std::string(core::to_string(x.status)) + ")";
    }
  } visitor;
  return std::visit(visitor, e);
}

// ---- One run ------------------------------------------------------------------------------------

class Run {
 public:
  Run(const Scenario& s, SimObserver* observer)
      : s_(s),
        observer_(observer),
        router_(core::RouterConfig{.seed = s.seed}),
        answer_(s.seed, "", Purpose::kAnswer),
        end_(kEpoch + s.duration),
        warmup_(kEpoch + s.warmup) {}

  Result<SimResult> run() {
    if (Status st = configure(); !st) return st;
    if (Status st = start(); !st) return st;
    if (Status st = loop(); !st) return st;
    return results();
  }

 private:
  // Builds the router from the scenario. Every queue is added first and its escalation set
  // afterwards, so queues may overflow into each other.
  Status configure() {
    queue_ids_.resize(s_.queues.size());
    for (size_t i = 0; i < s_.queues.size(); ++i) {
      const QueueSpec& q = s_.queues[i];
      core::QueueConfig c = q.config;
      c.name = q.id;
      for (const NamedSkill& k : q.skills) {
        c.skills.push_back({router_.add_skill(k.skill), k.level});
      }
      Result<QueueId> id = router_.add_queue(std::move(c));
      if (!id) return error("queue '" + q.id + "': " + id.message());
      queue_ids_[i] = *id;
    }
    for (size_t i = 0; i < s_.queues.size(); ++i) {
      const QueueSpec& q = s_.queues[i];
      std::vector<core::EscalationStep> steps;
      for (const EscalationSpec& e : q.escalation) {
        core::EscalationStep step;
        step.after = e.after;
        step.action = e.action;
        step.amount = e.amount;
        step.branch = e.branch;
        if (e.action == core::EscalationStep::Action::kOverflow) {
          // An unknown name (a Scenario built in code; the parser refuses it with its line)
          // leaves an id the router does not know, and set_escalation says so.
          step.overflow_queue =
              router_.find_queue(e.overflow_queue).value_or(QueueId{0xffffffffu});
        }
        steps.push_back(std::move(step));
      }
      if (Status st = router_.set_escalation(queue_ids_[i], steps); !st) {
        return error("queue '" + q.id + "': " + st.message());
      }
    }
    queues_.resize(s_.queues.size());

    for (const AgentGroupSpec& g : s_.agents) {
      Group group{&g, {}};
      for (uint32_t n = 1; n <= g.count; ++n) {
        core::AgentConfig a;
        a.name = g.prefix + std::to_string(n);
        for (const NamedSkill& k : g.skills) {
          a.skills.emplace_back(router_.add_skill(k.skill), k.level);
        }
        for (const MembershipSpec& m : g.queues) {
          std::optional<QueueId> q = router_.find_queue(m.queue);
          if (!q) return error("agents '" + g.prefix + "': no queue '" + m.queue + "'");
          a.queues.push_back({*q, m.tier});
        }
        a.capacity = g.capacity;
        a.voice_exclusive = g.voice_exclusive;
        a.wrap_up = g.wrap_up;
        Result<AgentId> id = router_.add_agent(std::move(a));
        if (!id) return error("agent '" + g.prefix + std::to_string(n) + "': " + id.message());
        group.agents.push_back(*id);
      }
      groups_.push_back(std::move(group));
    }

    streams_.reserve(s_.arrivals.size());
    for (const ArrivalSpec& a : s_.arrivals) {
      auto found = std::find_if(s_.queues.begin(), s_.queues.end(),
                                [&](const QueueSpec& q) { return q.id == a.queue; });
      if (found == s_.queues.end()) {
        return error("arrivals '" + a.name + "': no queue '" + a.queue + "'");
      }
      const auto qi = static_cast<uint32_t>(found - s_.queues.begin());
      Stream st{&a,
                qi,
                queue_ids_[qi],
                {},
                s_.queues[qi].config.sl_threshold,
                Random(s_.seed, a.name, Purpose::kArrivals),
                Random(s_.seed, a.name, Purpose::kHandle),
                Random(s_.seed, a.name, Purpose::kPatience),
                0,
                {}};
      for (const NamedSkill& k : a.skills) {
        st.skills.push_back({router_.add_skill(k.skill), k.level});
      }
      st.result.name = a.name;
      st.result.queue = a.queue;
      streams_.push_back(std::move(st));
    }
    return Status::ok();
  }

  // Logs the agents in (those on shift), and schedules the first arrivals, shift changes and the
  // end of the warm-up.
  Status start() {
    if (warmup_ > kEpoch) {
      schedule({.at = ms(warmup_), .seq = 0, .kind = Kind::kWarmupEnd});
    } else {
      measuring_ = true;
    }
    for (uint32_t g = 0; g < groups_.size(); ++g) {
      if (Status st = apply_shift(g, kEpoch); !st) return st;
    }
    for (uint32_t i = 0; i < streams_.size(); ++i) {
      streams_[i].next = 0;
      schedule_arrival(i);
    }
    return Status::ok();
  }

  Status loop() {
    int same_time_advances = 0;
    while (true) {
      const std::optional<TimePoint> deadline = router_.next_deadline();
      const bool have_event = !heap_.empty() && heap_.top().at < ms(end_);
      if (deadline && *deadline < end_ && (!have_event || ms(*deadline) <= heap_.top().at)) {
        const TimePoint t = std::max(*deadline, now_);
        same_time_advances = t == now_ ? same_time_advances + 1 : 0;
        if (same_time_advances > 10000) {
          return error("the router's next deadline stays at " + format_duration(t - kEpoch) +
                       " however often advance() is called");
        }
        now_ = t;
        ++events_;
        router_.advance(now_, sink_);
        if (Status st = drain(); !st) return st;
        continue;
      }
      if (!have_event) break;
      const SimEvent e = heap_.top();
      heap_.pop();
      now_ = TimePoint(Duration(e.at));
      ++events_;
      if (Status st = dispatch(e); !st) return st;
    }
    now_ = end_;
    return Status::ok();
  }

  Status dispatch(const SimEvent& e) {
    switch (e.kind) {
      case Kind::kWarmupEnd:
        router_.reset_statistics(now_);
        measuring_ = true;
        for (QueueTrack& q : queues_) {
          q.max_in_queue = q.in_queue;
          q.max_wait = Duration::zero();
        }
        for (Stream& st : streams_) {
          const std::string name = st.result.name, queue = st.result.queue;
          st.result = StreamResult{};
          st.result.name = name;
          st.result.queue = queue;
        }
        return Status::ok();
      case Kind::kShift:
        return apply_shift(e.index, now_);
      case Kind::kArrival:
        return arrive(e.index);
      case Kind::kAccept: {
        auto it = tasks_.find(e.task);
        if (it == tasks_.end()) return Status::ok();
        std::vector<Offer>& offers = it->second.offers;
        auto o = std::find_if(offers.begin(), offers.end(),
                              [&](const Offer& x) { return x.agent == e.index && x.gen == e.gen; });
        if (o == offers.end()) return Status::ok();  // cancelled meanwhile
        offers.erase(o);
        return handle(core::OfferAccepted{TaskId{e.task}, AgentId{e.index}});
      }
      case Kind::kComplete:
        if (Status st = handle(core::TaskCompleted{TaskId{e.task}}); !st) return st;
        tasks_.erase(e.task);
        return Status::ok();
      case Kind::kResume: {
        // Back from the "no answer" break, unless the shift logged the agent out meanwhile.
        auto it = agent_status_.find(e.index);
        if (it == agent_status_.end() || it->second != core::AgentStatus::kBreak) {
          return Status::ok();
        }
        return handle(core::SetAgentStatus{AgentId{e.index}, core::AgentStatus::kAvailable, {}});
      }
      case Kind::kAbandon: {
        auto it = tasks_.find(e.task);
        if (it == tasks_.end() || it->second.connected) return Status::ok();
        Stream& st = streams_[it->second.stream];
        if (measuring_) ++st.result.abandoned;
        leave_queue(st.queue_index);
        if (Status s = handle(core::TaskAbandoned{TaskId{e.task}}); !s) return s;
        tasks_.erase(e.task);
        return Status::ok();
      }
    }
    return Status::ok();
  }

  Status arrive(uint32_t index) {
    Stream& st = streams_[index];
    const uint64_t id = ++tasks_created_;
    // Drawn now, whatever happens to the task, so each stream's customers are the same whatever the
    // routing does (common random numbers: two what-if runs differ only by what was changed).
    Task task{index, sample(st.spec->handle, st.handle), false, {}};
    const bool abandons = st.spec->patience.has_value();
    const Duration patience = abandons ? sample(*st.spec->patience, st.patience) : Duration{};
    tasks_.emplace(id, std::move(task));
    if (measuring_) {
      ++st.result.arrived;
      ++st.result.offered;
    }
    QueueTrack& q = queues_[st.queue_index];
    ++q.in_queue;
    core::TaskSpec spec;
    spec.id = TaskId{id};
    spec.channel = st.spec->channel;
    spec.queue = st.queue;
    spec.priority = st.spec->priority;
    spec.skills = st.skills;
    if (Status s = handle(core::TaskArrived{std::move(spec)}); !s) return s;
    q.max_in_queue = std::max(q.max_in_queue, q.in_queue);
    if (abandons && tasks_.count(id) != 0) {
      schedule({.at = ms(now_ + patience), .kind = Kind::kAbandon, .task = id});
    }
    schedule_arrival(index);
    return Status::ok();
  }

  // The next arrival of a stream after st.next: a Poisson process whose rate is piecewise constant
  // over the day, generated exactly (a unit-rate exponential gap spent through the intervals).
  void schedule_arrival(uint32_t index) {
    Stream& st = streams_[index];
    const std::vector<RateSegment>& profile = st.spec->profile;
    if (std::none_of(profile.begin(), profile.end(),
                     [](const RateSegment& r) { return r.per_hour > 0; })) {
      return;  // never
    }
    const double end = to_seconds(s_.duration);
    double gap = st.arrivals.exponential();  // in units of expected arrivals
    double t = st.next;
    while (t < end) {
      const double day_start = std::floor(t / kSecondsPerDay) * kSecondsPerDay;
      const double tod = t - day_start;
      size_t i = 0;
      while (i + 1 < profile.size() && to_seconds(profile[i + 1].from) <= tod) ++i;
      double seg_end =
          day_start + (i + 1 < profile.size() ? to_seconds(profile[i + 1].from) : kSecondsPerDay);
      if (seg_end <= t) seg_end = std::nextafter(t, std::numeric_limits<double>::infinity());
      const double rate = profile[i].per_hour / 3600.0;
      if (rate > 0 && gap < rate * (seg_end - t)) {
        t += gap / rate;
        break;
      }
      gap -= rate * (seg_end - t);
      t = seg_end;
    }
    st.next = t;
    if (t >= end) return;
    schedule({.at = ms(kEpoch + from_seconds(t)), .kind = Kind::kArrival, .index = index});
  }

  // Logs a group's agents in or out for the shift at `t` and schedules the next shift edge.
  Status apply_shift(uint32_t g, TimePoint t) {
    const AgentGroupSpec& spec = *groups_[g].spec;
    const bool on = !spec.shift || in_shift(*spec.shift, time_of_day(t));
    if (on || t > kEpoch) {  // at the start, agents off shift are already logged out
      for (AgentId a : groups_[g].agents) {
        core::SetAgentStatus set{
            a, on ? core::AgentStatus::kAvailable : core::AgentStatus::kLoggedOut, {}};
        if (Status st = handle(std::move(set)); !st) return st;
      }
    }
    if (spec.shift) {
      const Duration day = std::chrono::hours(24);
      const TimePoint day_start = t - time_of_day(t);
      TimePoint next = TimePoint::max();
      for (Duration edge : {spec.shift->from, spec.shift->to}) {
        TimePoint at = day_start + edge;
        if (at <= t) at += day;
        next = std::min(next, at);
      }
      if (next < end_) schedule({.at = ms(next), .kind = Kind::kShift, .index = g});
    }
    return Status::ok();
  }

  Status handle(core::Event event) {
    Status st = router_.handle(event, now_, sink_);
    if (!st) {
      return error("at " + format_duration(now_ - kEpoch) + " the router refused " +
                   describe(event) + ": " + st.message());
    }
    return drain();
  }

  // Executes the commands the router gave.
  Status drain() {
    // Executing a command never calls the router, so the sink does not grow meanwhile.
    for (const core::Command& c : sink_) {
      if (observer_ != nullptr) observer_->on_command(now_, c, router_);
      if (Status st = std::visit([&](const auto& cmd) { return execute(cmd); }, c); !st) {
        sink_.clear();
        return st;
      }
    }
    sink_.clear();
    return Status::ok();
  }

  Status execute(const core::OfferTask& c) {
    auto it = tasks_.find(c.task.value);
    if (it == tasks_.end())
      return router_bug("offered task " + std::to_string(c.task.value) +
                        ", which is not in the queue");
    const uint32_t gen = ++offers_made_;
    it->second.offers.push_back({c.agent.value, gen});
    const Duration delay = sample(s_.answer_delay, answer_);
    schedule({.at = ms(now_ + delay),
              .kind = Kind::kAccept,
              .index = c.agent.value,
              .gen = gen,
              .task = c.task.value});
    return Status::ok();
  }

  Status execute(const core::CancelOffer& c) {
    auto it = tasks_.find(c.task.value);
    if (it == tasks_.end()) return Status::ok();  // the task is gone already (abandoned, left)
    std::erase_if(it->second.offers, [&](const Offer& o) { return o.agent == c.agent.value; });
    return Status::ok();
  }

  Status execute(const core::TaskAssigned& c) {
    auto it = tasks_.find(c.task.value);
    if (it == tasks_.end() || it->second.connected) {
      return router_bug("assigned task " + std::to_string(c.task.value) + ", which is not waiting");
    }
    Task& task = it->second;
    task.connected = true;
    Stream& st = streams_[task.stream];
    leave_queue(st.queue_index);
    if (measuring_) {
      ++st.result.answered;
      if (c.waited <= st.sl_threshold) ++st.result.answered_in_sl;
      st.result.wait_answered += c.waited;
      QueueTrack& q = queues_[st.queue_index];
      q.max_wait = std::max(q.max_wait, c.waited);
    }
    schedule({.at = ms(now_ + task.handle), .kind = Kind::kComplete, .task = c.task.value});
    return Status::ok();
  }

  Status execute(const core::TaskRejected& c) {
    auto it = tasks_.find(c.task.value);
    if (it == tasks_.end())
      return router_bug("rejected unknown task " + std::to_string(c.task.value));
    Stream& st = streams_[it->second.stream];
    if (measuring_) {
      --st.result.offered;
      ++st.result.rejected;
    }
    leave_queue(st.queue_index);
    tasks_.erase(it);
    return Status::ok();
  }

  Status execute(const core::TaskLeftQueue& c) {
    auto it = tasks_.find(c.task.value);
    if (it == tasks_.end() || it->second.connected) {
      return router_bug("task " + std::to_string(c.task.value) +
                        " left the queue, but it is not waiting");
    }
    Stream& st = streams_[it->second.stream];
    if (measuring_) ++st.result.left;
    leave_queue(st.queue_index);
    tasks_.erase(it);
    return Status::ok();
  }

  // The simulator never sends a break itself: a break is the router's "no answer" break.
  Status execute(const core::AgentChanged& c) {
    core::AgentStatus& status = agent_status_[c.agent.value];
    if (c.status == core::AgentStatus::kBreak && status != core::AgentStatus::kBreak) {
      schedule(
          {.at = ms(now_ + s_.no_answer_break), .kind = Kind::kResume, .index = c.agent.value});
    }
    status = c.status;
    return Status::ok();
  }

  void leave_queue(uint32_t queue_index) { --queues_[queue_index].in_queue; }

  SimResult results() {
    SimResult r;
    r.scenario = s_.source;
    r.seed = s_.seed;
    r.measured = s_.duration - s_.warmup;
    for (size_t i = 0; i < s_.queues.size(); ++i) {
      QueueResult q;
      q.id = s_.queues[i].id;
      q.totals = router_.queue_snapshot(queue_ids_[i], end_).totals;
      q.max_waiting = queues_[i].max_in_queue;
      q.max_wait = queues_[i].max_wait;
      r.queues.push_back(std::move(q));
    }
    for (const Stream& st : streams_) r.arrivals.push_back(st.result);
    for (const Group& g : groups_) {
      GroupResult gr;
      gr.prefix = g.spec->prefix;
      gr.count = g.spec->count;
      for (AgentId a : g.agents) gr.totals += router_.agent_snapshot(a, end_).totals;
      r.agents += gr.totals;
      r.groups.push_back(std::move(gr));
    }
    r.events = events_;
    r.tasks_created = tasks_created_;
    r.tasks_in_system = router_.task_count();
    return r;
  }

  void schedule(SimEvent e) {
    e.seq = ++seq_;
    heap_.push(e);
  }

  static int64_t ms(TimePoint t) { return (t - kEpoch).count(); }

  Status error(const std::string& message) const {
    return Status::error(s_.source + ": simulation: " + message);
  }
  Status router_bug(const std::string& what) const {
    return error("at " + format_duration(now_ - kEpoch) + " the router " + what);
  }

  const Scenario& s_;
  SimObserver* const observer_;  // may be null; borrowed for the run
  core::Router router_;
  Random answer_;
  const TimePoint end_;
  const TimePoint warmup_;
  TimePoint now_ = kEpoch;
  bool measuring_ = false;

  std::vector<QueueId> queue_ids_;  // by scenario queue index
  std::vector<QueueTrack> queues_;
  std::vector<Group> groups_;
  std::vector<Stream> streams_;
  std::unordered_map<uint64_t, Task> tasks_;
  std::unordered_map<uint32_t, core::AgentStatus> agent_status_;  // as last reported by the router

  std::priority_queue<SimEvent, std::vector<SimEvent>, std::greater<>> heap_;
  core::CommandSink sink_;
  uint64_t seq_ = 0;
  uint64_t events_ = 0;
  uint64_t tasks_created_ = 0;
  uint32_t offers_made_ = 0;
};

}  // namespace

Result<SimResult> simulate(const Scenario& scenario, SimObserver* observer) {
  return Run(scenario, observer).run();
}

}  // namespace tamas::sim
