// Time as the core sees it: a point on a millisecond timeline that the caller passes in.
//
// The core never reads a clock. The daemon passes wall-clock time; the simulator and the tests pass
// a virtual clock that starts wherever they like (usually at the epoch).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace tamas {

using Duration = std::chrono::milliseconds;
using TimePoint = std::chrono::time_point<std::chrono::system_clock, Duration>;

inline constexpr TimePoint kEpoch{};

inline double to_seconds(Duration d) { return static_cast<double>(d.count()) / 1000.0; }
inline Duration from_seconds(double s) {
  return Duration(static_cast<int64_t>(s * 1000.0 + (s >= 0 ? 0.5 : -0.5)));
}

// Parses a duration such as "90", "90s", "1.5m", "8h", "250ms" (a bare number is seconds).
// Fails with a message naming the text when it is not a non-negative number with a known suffix.
Result<Duration> parse_duration(std::string_view text);

// Formats a duration the way parse_duration reads it back ("1h30m", "20s", "250ms").
std::string format_duration(Duration d);

}  // namespace tamas
