// Routing throughput: events per second through the Router with 10,000 agents, 1,000 queues and
// 50 skills, against a naive matcher that scans every agent (and every waiting task) per decision.
//
//   build/bench/bench_routing --benchmark_filter='BM_RouteMixed|BM_Memory'
//
// The mix per task: arrival, accept, hang-up (TaskCompleted) and wrap-up end (WrapUpDone), with
// agents about 90% busy and a few hundred tasks waiting; virtual time advances 1 ms per event, so
// ring timeouts, escalation steps and stale wrap-up timers fire as they would in production.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <deque>
#include <new>
#include <random>

#include "core/routing/router.h"

// ---- live heap bytes, for the memory figures ----
// Replacing the global operator new with malloc is well-defined; GCC still warns about it.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
namespace {
std::atomic<int64_t> g_live_bytes{0};
}
void* operator new(size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  g_live_bytes += static_cast<int64_t>(malloc_usable_size(p));
  return p;
}
void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  g_live_bytes -= static_cast<int64_t>(malloc_usable_size(p));
  std::free(p);
}
void operator delete(void* p, size_t) noexcept { operator delete(p); }

namespace tamas::core {
namespace {

using namespace std::chrono_literals;

constexpr int kSkills = 50;
constexpr int kQueues = 1000;
constexpr int kQueuesPerAgent = 3;

// The center both matchers are built from, drawn once from a fixed seed.
struct World {
  struct Agent {
    std::vector<std::pair<int, int>> skills;  // skill, level
    std::vector<std::pair<int, int>> queues;  // queue, tier
  };
  std::vector<int> queue_skill;  // skill each queue requires, at level 1..3
  std::vector<int> queue_level;
  std::vector<Agent> agents;

  explicit World(int n_agents) {
    std::mt19937_64 rng(42);
    for (int q = 0; q < kQueues; ++q) {
      queue_skill.push_back(q % kSkills);
      queue_level.push_back(1 + static_cast<int>(rng() % 3));
    }
    for (int i = 0; i < n_agents; ++i) {
      Agent a;
      // Agent i serves queues 3i, 3i+1 (tier 1) and 3i+2 (tier 2), mod 1000: every queue gets
      // the same number of members at each tier, like teams of equal size.
      for (int k = 0; k < kQueuesPerAgent; ++k) {
        const int q = (i * kQueuesPerAgent + k) % kQueues;
        a.queues.emplace_back(q, k == 2 ? 2 : 1);
        const int s = queue_skill[static_cast<size_t>(q)];
        if (std::none_of(a.skills.begin(), a.skills.end(), [&](auto& p) { return p.first == s; })) {
          a.skills.emplace_back(s, 3 + static_cast<int>(rng() % 8));
        }
      }
      agents.push_back(std::move(a));
    }
  }
};

std::unique_ptr<Router> build_router(const World& w) {
  auto r = std::make_unique<Router>();
  std::vector<SkillId> skills;
  for (int s = 0; s < kSkills; ++s) skills.push_back(r->add_skill("skill" + std::to_string(s)));
  for (int q = 0; q < kQueues; ++q) {
    QueueConfig qc;
    qc.name = "q" + std::to_string(q);
    qc.skills = {{skills[static_cast<size_t>(w.queue_skill[q])],
                  static_cast<uint8_t>(w.queue_level[q])}};
    qc.wrap_up = 60s;
    qc.escalation = {{30s, EscalationStep::Action::kNextTier, 1, {}, ""}};
    (void)*r->add_queue(qc);
  }
  for (size_t i = 0; i < w.agents.size(); ++i) {
    AgentConfig ac;
    ac.name = "a" + std::to_string(i);
    for (auto [s, l] : w.agents[i].skills) ac.skills.emplace_back(skills[s], l);
    for (auto [q, t] : w.agents[i].queues) {
      ac.queues.push_back({QueueId{static_cast<uint32_t>(q)}, static_cast<uint8_t>(t)});
    }
    (void)*r->add_agent(ac);
  }
  return r;
}

// The naive baseline: the same decisions (eligibility, tiers, longest idle, priority then longest
// wait) by scanning every agent for each arriving task and every waiting task for each freed
// agent. No escalation timers: it only gets cheaper for it.
class NaiveMatcher {
 public:
  explicit NaiveMatcher(const World& w) : w_(w), agents_(w.agents.size()) {
    for (auto& a : agents_) a.available = true;
  }

  // Returns the agent offered the new task, or -1 (it waits).
  int arrive(uint64_t id, int queue, int64_t now) {
    const int a = best_agent(queue);
    if (a < 0) {
      waiting_.push_back({id, queue, now});
      return -1;
    }
    agents_[static_cast<size_t>(a)].busy = true;
    return a;
  }
  // The agent is free again: returns the waiting task it is offered (its index), or -1.
  int64_t free(int agent, int64_t now) {
    Agent& a = agents_[static_cast<size_t>(agent)];
    a.busy = false;
    a.idle_since = now;
    int best = -1;
    for (size_t i = 0; i < waiting_.size(); ++i) {
      if (!eligible(agent, waiting_[i].queue)) continue;
      if (best < 0 || waiting_[i].joined < waiting_[static_cast<size_t>(best)].joined) {
        best = static_cast<int>(i);
      }
    }
    if (best < 0) return -1;
    const auto id = static_cast<int64_t>(waiting_[static_cast<size_t>(best)].id);
    waiting_.erase(waiting_.begin() + best);
    a.busy = true;
    return id;
  }
  size_t waiting() const { return waiting_.size(); }

 private:
  struct Agent {
    bool available = false;
    bool busy = false;
    int64_t idle_since = 0;
  };
  struct Waiting {
    uint64_t id;
    int queue;
    int64_t joined;
  };
  bool eligible(int agent, int queue) const {
    const World::Agent& wa = w_.agents[static_cast<size_t>(agent)];
    bool member = false;
    for (auto [q, t] : wa.queues) member |= (q == queue && t == 1);
    if (!member) return false;
    for (auto [s, l] : wa.skills) {
      if (s == w_.queue_skill[static_cast<size_t>(queue)]) {
        return l >= w_.queue_level[static_cast<size_t>(queue)];
      }
    }
    return false;
  }
  int best_agent(int queue) const {
    int best = -1;
    for (size_t i = 0; i < agents_.size(); ++i) {
      const Agent& a = agents_[i];
      if (!a.available || a.busy || !eligible(static_cast<int>(i), queue)) continue;
      if (best < 0 || a.idle_since < agents_[static_cast<size_t>(best)].idle_since) {
        best = static_cast<int>(i);
      }
    }
    return best;
  }

  const World& w_;
  std::vector<Agent> agents_;
  std::deque<Waiting> waiting_;
};

// One step of the traffic mix; the same pattern drives both matchers.
enum class Next { kArrive, kAccept, kComplete, kWrapDone };

struct Driver {
  std::mt19937_64 rng{7};
  std::deque<std::pair<uint64_t, uint32_t>> offered;    // task, agent
  std::vector<std::pair<uint64_t, uint32_t>> connected;
  std::deque<std::pair<uint64_t, uint32_t>> wrapping;
  uint64_t next_id = 0;
  size_t busy_target;
  size_t max_waiting;
  int phase = 0;

  Driver(size_t agents) : busy_target(agents * 9 / 10), max_waiting(agents / 20) {}

  Next next(size_t waiting) {
    for (int tries = 0;; ++tries) {
      if (tries == 4) return Next::kArrive;  // nothing else can happen
      switch (phase++ % 4) {
        case 0:
          if (waiting < max_waiting) return Next::kArrive;
          break;
        case 1:
          if (!offered.empty()) return Next::kAccept;
          break;
        case 2:
          if (connected.size() > busy_target || (waiting >= max_waiting && !connected.empty())) {
            return Next::kComplete;
          }
          break;
        case 3:
          if (!wrapping.empty()) return Next::kWrapDone;
          break;
      }
    }
  }
  std::pair<uint64_t, uint32_t> take_connected() {
    const size_t i = rng() % connected.size();
    auto c = connected[i];
    connected[i] = connected.back();
    connected.pop_back();
    return c;
  }
};

void BM_RouteMixed(benchmark::State& state) {
  const auto n = static_cast<int>(state.range(0));
  World world(n);
  auto router = build_router(world);
  CommandSink out;
  TimePoint now = kEpoch;
  for (int i = 0; i < n; ++i) {
    (void)router->handle(SetAgentStatus{AgentId{static_cast<uint32_t>(i)}, AgentStatus::kAvailable,
                                        ""},
                         now, out);
  }
  out.clear();
  Driver d(static_cast<size_t>(n));
  std::mt19937_64 rng(11);
  int64_t events = 0;
  for (auto _ : state) {
    now += 1ms;
    Status s;
    const size_t waiting = router->task_count() - d.offered.size() - d.connected.size() -
                           d.wrapping.size();
    switch (d.next(waiting)) {
      case Next::kArrive: {
        TaskSpec t;
        t.id = TaskId{++d.next_id};
        t.queue = QueueId{static_cast<uint32_t>(rng() % kQueues)};
        t.priority = rng() % 10 == 0 ? 1 : 0;
        s = router->handle(TaskArrived{std::move(t)}, now, out);
        break;
      }
      case Next::kAccept: {
        auto [task, agent] = d.offered.front();
        d.offered.pop_front();
        s = router->handle(OfferAccepted{TaskId{task}, AgentId{agent}}, now, out);
        break;
      }
      case Next::kComplete: {
        auto c = d.take_connected();
        s = router->handle(TaskCompleted{TaskId{c.first}}, now, out);
        d.wrapping.push_back(c);
        break;
      }
      case Next::kWrapDone: {
        auto [task, agent] = d.wrapping.front();
        d.wrapping.pop_front();
        s = router->handle(WrapUpDone{AgentId{agent}, TaskId{task}}, now, out);
        break;
      }
    }
    if (!s.is_ok()) {
      state.SkipWithError(s.message().c_str());
      break;
    }
    for (const Command& c : out) {
      if (auto* o = std::get_if<OfferTask>(&c)) d.offered.emplace_back(o->task.value, o->agent.value);
      if (auto* a = std::get_if<TaskAssigned>(&c)) d.connected.emplace_back(a->task.value, a->agent.value);
      if (auto* x = std::get_if<CancelOffer>(&c)) {
        auto it = std::find(d.offered.begin(), d.offered.end(),
                            std::make_pair(x->task.value, x->agent.value));
        if (it != d.offered.end()) d.offered.erase(it);
      }
    }
    out.clear();
    ++events;
  }
  state.SetItemsProcessed(events);
  state.counters["waiting"] = static_cast<double>(router->task_count() - d.offered.size() -
                                                  d.connected.size() - d.wrapping.size());
  state.counters["connected"] = static_cast<double>(d.connected.size());
}
BENCHMARK(BM_RouteMixed)->Arg(1000)->Arg(10000);

void BM_RouteMixedNaive(benchmark::State& state) {
  const auto n = static_cast<int>(state.range(0));
  World world(n);
  NaiveMatcher m(world);
  Driver d(static_cast<size_t>(n));
  std::mt19937_64 rng(11);
  int64_t now = 0;
  int64_t events = 0;
  std::vector<uint32_t> task_agent;  // unused slots for symmetry with the router's bookkeeping
  for (auto _ : state) {
    ++now;
    switch (d.next(m.waiting())) {
      case Next::kArrive: {
        const uint64_t id = ++d.next_id;
        const int a = m.arrive(id, static_cast<int>(rng() % kQueues), now);
        if (a >= 0) d.offered.emplace_back(id, static_cast<uint32_t>(a));
        break;
      }
      case Next::kAccept:
        d.connected.push_back(d.offered.front());
        d.offered.pop_front();
        break;
      case Next::kComplete:
        d.wrapping.push_back(d.take_connected());
        break;
      case Next::kWrapDone: {
        auto [task, agent] = d.wrapping.front();
        d.wrapping.pop_front();
        const int64_t next = m.free(static_cast<int>(agent), now);
        if (next >= 0) d.offered.emplace_back(static_cast<uint64_t>(next), agent);
        break;
      }
    }
    ++events;
  }
  state.SetItemsProcessed(events);
  state.counters["waiting"] = static_cast<double>(m.waiting());
}
BENCHMARK(BM_RouteMixedNaive)->Arg(1000)->Arg(10000);

// Heap bytes per configured agent, and per waiting task (no agent logged in, so they all wait).
void BM_Memory(benchmark::State& state) {
  const auto n = static_cast<int>(state.range(0));
  for (auto _ : state) {
    World world(n);
    const int64_t before = g_live_bytes;
    auto router = build_router(world);
    const int64_t with_agents = g_live_bytes;
    CommandSink out;
    out.reserve(16);
    const int64_t before_tasks = g_live_bytes;
    constexpr int kTasks = 100000;
    TimePoint now = kEpoch;
    for (int i = 0; i < kTasks; ++i) {
      TaskSpec t;
      t.id = TaskId{static_cast<uint64_t>(i + 1)};
      t.queue = QueueId{static_cast<uint32_t>(i % kQueues)};
      (void)router->handle(TaskArrived{std::move(t)}, now, out);
      out.clear();
    }
    const int64_t with_tasks = g_live_bytes;
    state.counters["bytes_per_agent"] =
        static_cast<double>(with_agents - before - /*queues*/ 0) / n;
    state.counters["bytes_per_waiting_task"] = static_cast<double>(with_tasks - before_tasks) / kTasks;
    state.counters["router_bytes_total"] = static_cast<double>(with_tasks - before);
  }
}
BENCHMARK(BM_Memory)->Arg(1000)->Arg(10000)->Iterations(1);

}  // namespace
}  // namespace tamas::core

BENCHMARK_MAIN();
