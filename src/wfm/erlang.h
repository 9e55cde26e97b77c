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
  double calls_per_hour = 0;     // arrival rate
  double aht_seconds = 0;        // mean handle time
  double sl_seconds = 20;        // service-level threshold
  std::optional<double> patience_seconds;  // mean patience; set = Erlang A, unset = Erlang C
};

struct Staffing {
  int agents = 0;
  double service_level = 0;      // answered within sl_seconds / offered
  double asa_seconds = 0;        // mean wait of answered calls
  double occupancy = 0;          // busy time / staffed time
  double wait_probability = 0;   // an arriving call has to wait
  double abandon_probability = 0;  // Erlang A only; 0 for Erlang C
};

// The figures at exactly `agents` agents. Fails on a non-positive rate or handle time, a negative
// threshold or patience, or (Erlang C only) agents <= offered load, where the queue grows forever.
Result<Staffing> evaluate(const Workload& w, int agents);

// The fewest agents whose service level reaches `target` (0 < target < 1), and its figures.
Result<Staffing> required_agents(const Workload& w, double target);

}  // namespace tamas::wfm
