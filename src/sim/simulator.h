// The discrete-event simulator: runs a Scenario through the production core::Router on a virtual
// clock and reports what the center would have measured.
//
// Time starts at kEpoch and jumps from event to event (arrivals, answers, hang-ups, abandons,
// shift changes) and to the router's own deadlines (ring timeouts, wrap-up ends, escalations), so a
// day of traffic takes milliseconds. The run is exactly reproducible from Scenario::seed: every
// arrival stream draws from its own random streams (arrival gaps, handle times, patience), derived
// from the seed and the stream's name, so adding a queue or a stream leaves the others' customers
// as they were. The random numbers are drawn by hand from std::mt19937_64 (no std::*_distribution,
// whose output differs between standard libraries), so results match across compilers.
//
// Single-threaded; a run owns its Router. Independent runs may go on in parallel threads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "core/routing/router.h"
#include "sim/scenario.h"

namespace tamas::sim {

// The figures of one queue over the measured interval (after the warm-up).
struct QueueResult {
  std::string id;
  core::QueueCounters totals;  // the router's own counters, read at the end
  uint32_t max_waiting = 0;    // most tasks in the queue at once (waiting or ringing)
  Duration max_wait{};         // the longest wait before an answer
  double service_level() const { return totals.service_level(); }
  double asa_seconds() const { return totals.asa_seconds(); }
  double aht_seconds() const { return totals.aht_seconds(); }
  // abandoned / offered; 0 when nothing was offered.
  double abandon_rate() const;
};

// The figures of one arrival stream, counted by the simulator from the router's commands (the
// router counts by queue; several streams may share one). Events after the warm-up count.
struct StreamResult {
  std::string name;
  std::string queue;
  uint64_t arrived = 0;   // tasks created
  uint64_t offered = 0;   // of which joined the queue
  uint64_t rejected = 0;  // refused on arrival
  uint64_t answered = 0;
  uint64_t answered_in_sl = 0;  // within the queue's service-level threshold
  uint64_t abandoned = 0;
  uint64_t left = 0;  // timeout, empty queue or escalation exit
  Duration wait_answered{};
  double service_level() const;  // answered_in_sl / offered; 1 when nothing was offered
  double asa_seconds() const;    // 0 when nothing was answered
};

// The agents of one group of the scenario.
struct GroupResult {
  std::string prefix;
  uint32_t count = 0;
  core::AgentTimes totals;  // summed over the group's agents
  double occupancy() const { return totals.occupancy(); }
};

struct SimResult {
  std::string scenario;  // Scenario::source
  uint64_t seed = 0;
  Duration measured{};                                     // duration - warm-up
  std::vector<QueueResult> queues;                         // in the scenario's order
  std::vector<StreamResult> arrivals;                      // in the scenario's order
  std::vector<GroupResult> groups;                         // in the scenario's order
  core::AgentTimes agents;                                 // summed over all agents
  double occupancy() const { return agents.occupancy(); }  // sum busy / sum staffed
  uint64_t events = 0;           // simulator events and router deadlines handled
  uint64_t tasks_created = 0;    // arrivals over the whole run, warm-up included
  uint64_t tasks_in_system = 0;  // still waiting, ringing, connected or wrapping up at end
};

// Watches a run, e.g. a test that checks who got which task. Called for each command the router
// gives, before the simulator executes it. `router` is the run's router, valid during the call.
class SimObserver {
 public:
  virtual ~SimObserver() = default;
  virtual void on_command(TimePoint now, const core::Command& command,
                          const core::Router& router) = 0;
};

// Runs the scenario from kEpoch to kEpoch + duration. Fails when the router refuses the
// configuration (the message names the queue or agent) or refuses an event during the run (the
// message gives the simulated time and the event: a bug in the router or the simulator, never
// papered over). `observer`, if given, must outlive the call.
Result<SimResult> simulate(const Scenario& scenario, SimObserver* observer = nullptr);

}  // namespace tamas::sim
