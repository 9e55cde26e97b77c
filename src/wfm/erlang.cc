// Staffing math: Erlang C (M/M/c) and Erlang A (M/M/c+M). The formulas and the method are in
// docs/staffing.md; this file is their implementation. Pure functions, no state, any thread.
//
// Written by hand rather than taken from a library: no Debian package computes Erlang A exactly
// with the service-level definition Tamas reports (answered within T over offered), and the
// arithmetic is small. Everything is a recurrence on ratios, so nothing overflows for thousands
// of agents: Erlang B by its classic recurrence, the Erlang A stationary distribution by ratios
// to the state "all agents busy, nobody waiting" (rescaled by powers of two when it grows), and
// the tagged caller's wait by uniformization of a small absorbing chain.
#include "wfm/erlang.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace tamas::wfm {
namespace {

constexpr double kSecondsPerHour = 3600;

// Stationary terms are summed until the rest of the (geometrically bounded) tail is below this
// fraction of the sum so far.
constexpr double kNegligible = 1e-17;
// A probability whose logarithm is below this (e^-40, about 4e-18) is taken as zero.
constexpr double kLogNegligible = -40;
// Erlang A: the most queue states summed, and the most uniformization work (steps × states) for
// one service level. Both are reached only by extreme inputs (patience of months with too few
// agents); the result is then an error that says so rather than a long wait.
constexpr long kMaxQueueStates = 100'000'000;
constexpr double kMaxUniformizationWork = 2e9;
// Unnormalized stationary weights are kept below 2^kScaleExponent by rescaling.
constexpr int kScaleExponent = 800;
const double kScaleLimit = std::ldexp(1.0, kScaleExponent);

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

// Erlang B (blocking probability of M/M/c/c) by B(0) = 1, B(k) = A·B(k−1) / (k + A·B(k−1)).
double erlang_b(int agents, double load) {
  double b = 1;
  for (int k = 1; k <= agents; ++k) b = load * b / (k + load * b);
  return b;
}

// Erlang C figures at `agents` > load, given B(agents, load).
Staffing erlang_c_from_b(const Workload& w, int agents, double load, double b) {
  const double c = agents;
  Staffing s;
  s.agents = agents;
  s.wait_probability = std::min(1.0, c * b / (c - load * (1 - b)));
  s.service_level = std::clamp(
      1 - s.wait_probability * std::exp(-(c - load) * w.sl_seconds / w.aht_seconds), 0.0, 1.0);
  s.asa_seconds = s.wait_probability * w.aht_seconds / (c - load);
  s.occupancy = load / c;
  s.abandon_probability = 0;
  return s;
}

// log of a Chernoff bound on P(Poisson(x) <= k): tight enough to decide "certainly more than k".
double log_poisson_at_most_bound(double x, double k) {
  if (k >= x) return 0;
  if (k == 0) return -x;
  return -x + k + k * std::log(x / k);
}

// log of a Chernoff bound on P(Poisson(y) >= n), n >= 1.
double log_poisson_at_least_bound(double y, double n) {
  if (n <= y) return 0;
  if (y <= 0) return -HUGE_VAL;
  return -y + n + n * std::log(y / n);
}

// The probability that a tagged caller is answered within `t` seconds, summed over initial
// weights: weights[i] is the probability of arriving to find first + i callers ahead (all agents
// busy). While i callers are ahead, the caller moves up at rate cμ + iθ (a service ends or one of
// them abandons) and abandons at rate θ; from 0 ahead the next service end answers them.
// Uniformization: the chain on states 0..n−1 jumps at rate Λ = cμ + nθ (self-loops fill the rest),
// so P(answered by t) = Σ_k Poisson(k; Λt) · P(answered within k jumps). All initial weights are
// propagated together, so the cost is (jumps) × (states), not per state.
Result<double> uniformized_answered_by(const std::vector<double>& weights, long first, double cmu,
                                       double theta, double t) {
  const long n = first + static_cast<long>(weights.size());
  const double rate = cmu + static_cast<double>(n) * theta;
  const double x = rate * t;
  const double spread = 12 * std::sqrt(x) + 40;
  const long mode = static_cast<long>(std::floor(x));
  const long k_lo = std::max(0L, static_cast<long>(std::floor(x - spread)));
  const long k_hi = static_cast<long>(std::ceil(x + spread));
  if (static_cast<double>(k_hi + 1) * static_cast<double>(n) > kMaxUniformizationWork) {
    return Status::error("the Erlang A service level needs about " +
                         num(static_cast<double>(k_hi + 1) * static_cast<double>(n)) +
                         " steps here, more than this calculator allows (queues of " +
                         std::to_string(n) + " callers with a " + num(t) +
                         " s threshold); shorten sl_seconds or use Erlang C");
  }

  // Poisson(x) probabilities on [k_lo, k_hi], built outward from the mode and normalized, so
  // nothing underflows even when e^-x would.
  std::vector<double> pmf(static_cast<size_t>(k_hi - k_lo + 1));
  pmf[static_cast<size_t>(mode - k_lo)] = 1;
  for (long k = mode + 1; k <= k_hi; ++k) {
    pmf[static_cast<size_t>(k - k_lo)] = pmf[static_cast<size_t>(k - 1 - k_lo)] * x / k;
  }
  for (long k = mode - 1; k >= k_lo; --k) {
    pmf[static_cast<size_t>(k - k_lo)] = pmf[static_cast<size_t>(k + 1 - k_lo)] * (k + 1) / x;
  }
  double pmf_sum = 0;
  for (double p : pmf) pmf_sum += p;
  for (double& p : pmf) p /= pmf_sum;

  std::vector<double> v(static_cast<size_t>(n), 0.0);
  double mass = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    v[static_cast<size_t>(first) + i] = weights[i];
    mass += weights[i];
  }
  const double initial_mass = mass;
  double answered = 0;  // answered within k jumps
  double result = 0;
  double pmf_left = 1;  // Poisson probability of k and more jumps
  for (long k = 0; k <= k_hi; ++k) {
    if (k >= k_lo) {
      const double p = pmf[static_cast<size_t>(k - k_lo)];
      result += p * answered;
      pmf_left -= p;
    }
    if (mass <= kNegligible * initial_mass) {  // everyone is answered or gone: `answered` is final
      result += std::max(0.0, pmf_left) * answered;
      break;
    }
    // One jump. Mass only moves down, so states below first − k − 1 are still empty.
    const double answer_now = v[0] * cmu / rate;
    mass -= answer_now + mass * theta / rate;
    answered += answer_now;
    const long lo = std::max(0L, first - k - 1);
    for (long i = lo; i < n; ++i) {
      const double up = (cmu + static_cast<double>(i) * theta) / rate;
      const double stay = 1 - up - theta / rate;
      const double from_above = i + 1 < n ? v[static_cast<size_t>(i + 1)] *
                                                (cmu + static_cast<double>(i + 1) * theta) / rate
                                          : 0.0;
      v[static_cast<size_t>(i)] = v[static_cast<size_t>(i)] * stay + from_above;
    }
  }
  return result;
}

// Erlang A at `agents` = c >= 1. The number in system n is a birth–death chain: births λ, deaths
// min(n, c)·μ + max(0, n − c)·θ. Below c its weights relative to π_c sum to 1/B − 1 (B = Erlang
// B); above, ρ_j = π_{c+j}/π_c = Π_{i=1..j} λ/(cμ + iθ). Callers see the stationary state (PASTA).
Result<Staffing> erlang_a(const Workload& w, int agents) {
  const double lambda = w.calls_per_hour / kSecondsPerHour;
  const double mu = 1 / w.aht_seconds;
  const double load = lambda * w.aht_seconds;
  const double t = w.sl_seconds;
  const double b = erlang_b(agents, load);
  const double theta = 1 / *w.patience_seconds;
  Staffing s;
  s.agents = agents;
  if (!std::isfinite(theta)) {
    // Zero patience: whoever finds all agents busy leaves at once (Erlang B, a loss system).
    s.wait_probability = b;
    s.abandon_probability = b;
    s.service_level = 1 - b;
    s.asa_seconds = 0;
    s.occupancy = load * (1 - b) / agents;
    return s;
  }
  const double cmu = agents * mu;
  // P_j = P(answered within t | j ahead) is a_j when the caller is surely answered or gone by t
  // (their own patience: e^-θt negligible; or even the slowest path, all at rate cμ, is done).
  const bool gone_by_t = theta * t > -kLogNegligible;

  // Sums over j of ρ_j (scaled by 2^(−kScaleExponent·scale)) times: 1, j, a_j, m_j, and a_j where
  // P_j = a_j. a_j = P(answered | j ahead), m_j = E[wait · 1{answered} | j ahead], by
  // a_j = p_j·a_{j−1}, m_j = p_j·(a_{j−1}/r_j + m_{j−1}), r_j = cμ + (j+1)θ, p_j = (cμ + jθ)/r_j.
  double rho = 1;
  int scale = 0;
  double sum_rho = 0, sum_j_rho = 0, sum_answered = 0, sum_wait = 0, sum_sl = 0;
  struct Stored {
    double rho;
    int scale;
  };
  std::vector<Stored> window;  // ρ_j for j = window_first.., where P_j needs uniformization
  long window_first = 0;
  bool window_closed = false;
  double a_prev = 1, m_prev = 0;
  for (long j = 0;; ++j) {
    if (j > kMaxQueueStates) {
      return Status::error("Erlang A at " + std::to_string(agents) +
                           " agents: the queue would hold more than " +
                           std::to_string(kMaxQueueStates) + " callers (patience_seconds " +
                           num(*w.patience_seconds) +
                           " is too long for this overload); add agents or shorten the patience");
    }
    const double jd = static_cast<double>(j);
    if (j > 0) {
      rho *= lambda / (cmu + jd * theta);
      if (rho > kScaleLimit) {
        for (double* x : {&rho, &sum_rho, &sum_j_rho, &sum_answered, &sum_wait, &sum_sl}) {
          *x = std::ldexp(*x, -kScaleExponent);
        }
        ++scale;
      }
    }
    const double advance = cmu + jd * theta;
    const double out = advance + theta;
    const double p = advance / out;
    const double a = p * a_prev;
    const double m = p * (a_prev / out + m_prev);
    sum_rho += rho;
    sum_j_rho += jd * rho;
    sum_answered += rho * a;
    sum_wait += rho * m;
    if (!window_closed) {
      if (gone_by_t || log_poisson_at_most_bound(cmu * t, jd) < kLogNegligible) {
        sum_sl += rho * a;  // surely answered or gone by t: P_j = a_j
      } else if (log_poisson_at_least_bound(advance * t, jd + 1) < kLogNegligible) {
        window_closed = true;  // j + 1 moves cannot happen by t, here or above: P_j = 0
      } else {
        if (window.empty()) window_first = j;
        window.push_back({rho, scale});
      }
    }
    a_prev = a;
    m_prev = m;
    // Past the mode the ratios λ/(cμ + iθ) only fall, so the tail is below a geometric series.
    // The queue-length tail is weighed by θ/λ too: P(abandon) = θ·E[queue]/λ, and with a patience
    // far below the handle time θ/λ is huge.
    const double q = lambda / (cmu + (jd + 1) * theta);
    if (q < 1) {
      const double g = q / (1 - q);
      const double tail = rho * g;
      const double tail_j = rho * (jd * g + g / (1 - q)) * std::max(1.0, theta / lambda);
      if (tail <= kNegligible * sum_rho && tail_j <= kNegligible * (sum_rho + sum_j_rho)) break;
    }
  }

  // Normalize. The true weights are B-scaled: π_n = B·w_n / ((1 − B) + B·Σρ) with w below c summing
  // to (1 − B)/B; multiplied through by 2^(−kScaleExponent·scale) so the sums stay finite.
  const double f = std::ldexp(1.0, -kScaleExponent * scale);
  const double d = (1 - b) * f + b * sum_rho;
  const double p_no_wait = (1 - b) * f / d;
  const double mean_queue = b * sum_j_rho / d;
  const double p_answered = p_no_wait + b * sum_answered / d;
  double sl = p_no_wait + b * sum_sl / d;
  if (!window.empty()) {
    std::vector<double> weights;
    weights.reserve(window.size());
    for (const Stored& st : window) {
      weights.push_back(b * std::ldexp(st.rho, kScaleExponent * (st.scale - scale)) / d);
    }
    auto answered_by = uniformized_answered_by(weights, window_first, cmu, theta, t);
    if (!answered_by) return answered_by.status();
    sl += *answered_by;
  }

  s.wait_probability = std::clamp(b * sum_rho / d, 0.0, 1.0);
  s.abandon_probability = std::clamp(theta * mean_queue / lambda, 0.0, 1.0);
  s.service_level = std::clamp(sl, 0.0, 1.0);
  s.asa_seconds = p_answered > 0 ? (b * sum_wait / d) / p_answered : 0;
  s.occupancy = std::clamp(load * (1 - s.abandon_probability) / agents, 0.0, 1.0);
  return s;
}

}  // namespace

Status validate(const Workload& w) {
  if (!std::isfinite(w.calls_per_hour) || w.calls_per_hour <= 0) {
    return Status::error("calls_per_hour must be a positive number, got " + num(w.calls_per_hour));
  }
  if (!std::isfinite(w.aht_seconds) || w.aht_seconds <= 0) {
    return Status::error("aht_seconds must be a positive number, got " + num(w.aht_seconds));
  }
  if (!std::isfinite(w.sl_seconds) || w.sl_seconds < 0) {
    return Status::error("sl_seconds must be a number >= 0, got " + num(w.sl_seconds));
  }
  if (w.patience_seconds && (!std::isfinite(*w.patience_seconds) || *w.patience_seconds < 0)) {
    return Status::error("patience_seconds must be a number >= 0, got " + num(*w.patience_seconds));
  }
  return Status::ok();
}

double offered_load(const Workload& w) {
  return w.calls_per_hour / kSecondsPerHour * w.aht_seconds;
}

int min_agents(const Workload& w) {
  if (w.patience_seconds) return 1;
  const double load = offered_load(w);
  if (!(load < kMaxAgents)) return kMaxAgents;
  return static_cast<int>(std::floor(load)) + 1;
}

Result<Staffing> evaluate(const Workload& w, int agents) {
  if (Status st = validate(w); !st) return st;
  if (agents < 1 || agents > kMaxAgents) {
    return Status::error("agents must be between 1 and " + std::to_string(kMaxAgents) + ", got " +
                         std::to_string(agents));
  }
  const double load = offered_load(w);
  if (w.patience_seconds) return erlang_a(w, agents);
  if (agents <= load) {
    return Status::error("agents (" + std::to_string(agents) +
                         ") must be more than the offered load (" + num(load) +
                         " erlangs) for Erlang C, where nobody abandons and the queue would grow "
                         "without bound; add agents or give a patience for Erlang A");
  }
  return erlang_c_from_b(w, agents, load, erlang_b(agents, load));
}

Result<Staffing> required_agents(const Workload& w, double target) {
  if (Status st = validate(w); !st) return st;
  if (!(target > 0 && target < 1)) {
    return Status::error("target must be above 0 and below 1, got " + num(target));
  }
  const double load = offered_load(w);
  if (load > kMaxOfferedLoad) {
    return Status::error("offered load " + num(load) +
                         " erlangs (calls_per_hour × aht_seconds / 3600) is above the supported "
                         "maximum of " +
                         num(kMaxOfferedLoad));
  }
  // Far more agents than any sane answer; beyond it the target is called unreachable.
  const int bound =
      std::min(kMaxAgents, static_cast<int>(std::ceil(std::max(10 * load, load + 1000))));
  auto unreachable = [&](double sl_at_bound) {
    return Status::error("a service level of " + num(target) + " cannot be reached with up to " +
                         std::to_string(bound) + " agents (the most tried for an offered load of " +
                         num(load) + " erlangs); at " + std::to_string(bound) + " agents it is " +
                         num(sl_at_bound));
  };

  if (!w.patience_seconds) {
    // Walk up from the first stable count, carrying Erlang B along: O(answer) in all.
    int c = min_agents(w);
    double b = erlang_b(c, load);
    Staffing s = erlang_c_from_b(w, c, load, b);
    while (s.service_level < target) {
      if (c >= bound) return unreachable(s.service_level);
      ++c;
      b = load * b / (c + load * b);
      s = erlang_c_from_b(w, c, load, b);
    }
    return s;
  }

  // Erlang A: the service level rises with c, so search. Every call answered is served at most at
  // the agents' total rate cμ, so SL <= P(answered) <= c/A: fewer than target·A agents never do.
  // The search starts at the Erlang C answer and gallops (steps 1, 2, 4, ...) to bracket the
  // answer before bisecting. Starting there rather than bisecting [target·A, bound] keeps probes
  // away from deep overload, where very patient callers (patience of years) make the queue to sum
  // longer than erlang_a allows; with impatient callers the queues are short wherever we probe.
  const int lo_bound = std::max(1, static_cast<int>(std::ceil(target * load)));
  int guess = bound;
  if (auto c_answer = required_agents(
          Workload{w.calls_per_hour, w.aht_seconds, w.sl_seconds, std::nullopt}, target)) {
    guess = std::clamp(c_answer->agents, lo_bound, bound);
  }
  auto at_guess = erlang_a(w, guess);
  if (!at_guess) return at_guess.status();
  // Invariants once bracketed: SL(hi) >= target (figures in `best`), and SL(lo − 1) < target
  // (or lo − 1 < lo_bound).
  int lo = lo_bound, hi = guess;
  Staffing best = *at_guess;
  if (at_guess->service_level >= target) {
    for (int step = 1; hi > lo_bound; step *= 2) {
      const int probe = std::max(lo_bound, hi - step);
      auto at = erlang_a(w, probe);
      if (!at) return at.status();
      if (at->service_level < target) {
        lo = probe + 1;
        break;
      }
      hi = probe;
      best = *at;
    }
  } else {
    lo = guess + 1;
    for (int step = 1;; step *= 2) {
      if (lo > bound) return unreachable(best.service_level);
      const int probe = std::min(bound, lo - 1 + step);
      auto at = erlang_a(w, probe);
      if (!at) return at.status();
      if (at->service_level >= target) {
        hi = probe;
        best = *at;
        break;
      }
      if (probe == bound) return unreachable(at->service_level);
      lo = probe + 1;
    }
  }
  while (lo < hi) {
    const int mid = lo + (hi - lo) / 2;
    auto at_mid = erlang_a(w, mid);
    if (!at_mid) return at_mid.status();
    if (at_mid->service_level >= target) {
      hi = mid;
      best = *at_mid;
    } else {
      lo = mid + 1;
    }
  }
  return best;
}

}  // namespace tamas::wfm
