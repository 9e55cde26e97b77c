// Staffing math: Erlang C (M/M/c) and Erlang A (M/M/c+M, callers who may abandon).
//
// Pure functions, no state. Numerically stable for thousands of agents: everything is computed by
// recurrences on ratios, never by factorials or powers of the offered load.
#pragma once

#include <optional>
#include <vector>

#include "common/status.h"

namespace tamas::wfm {

struct Workload {
  double calls_per_hour = 0;               // arrival rate
  double aht_seconds = 0;                  // mean handle time
  double sl_seconds = 20;                  // service-level threshold
  std::optional<double> patience_seconds;  // mean patience; set = Erlang A, unset = Erlang C
};

struct Staffing {
  int agents = 0;
  double service_level = 0;        // answered within sl_seconds / offered
  double asa_seconds = 0;          // mean wait of answered calls
  double occupancy = 0;            // busy time / staffed time
  double wait_probability = 0;     // an arriving call has to wait
  double abandon_probability = 0;  // Erlang A only; 0 for Erlang C
};

// The figures at exactly `agents` agents. Fails on a non-positive rate or handle time, a negative
// threshold or patience, or (Erlang C only) agents <= offered load, where the queue grows forever.
// Also fails on agents outside [1, kMaxAgents] and, for Erlang A, on inputs far outside any
// contact center (a queue of over 10^8 callers: patience of years with too few agents).
// Non-finite numbers fail like negative ones. Patience 0 is the loss system (Erlang B).
Result<Staffing> evaluate(const Workload& w, int agents);

// The fewest agents whose service level reaches `target` (0 < target < 1), and its figures.
// Also fails on an offered load above kMaxOfferedLoad, and when max(10·A, A + 1000) agents do
// not reach the target.
Result<Staffing> required_agents(const Workload& w, double target);

// Helpers for callers that print tables or check input before evaluating.

// Ok, or the message `evaluate` would give for the workload's own fields (rate, handle time,
// threshold, patience), naming the field.
Status validate(const Workload& w);

// The offered load in erlangs: calls_per_hour / 3600 * aht_seconds.
double offered_load(const Workload& w);

// The fewest agents `evaluate` accepts for a valid `w`: 1 for Erlang A, the first count above the
// offered load for Erlang C.
int min_agents(const Workload& w);

// The most agents `evaluate` accepts, and the largest offered load `required_agents` accepts:
// limits that keep every call fast, far above any real contact center.
inline constexpr int kMaxAgents = 1'000'000;
inline constexpr double kMaxOfferedLoad = 100'000;

}  // namespace tamas::wfm
