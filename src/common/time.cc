#include "common/time.h"

#include <charconv>
#include <cctype>
#include <cmath>

namespace tamas {

Result<Duration> parse_duration(std::string_view text) {
  auto fail = [&] {
    return Status::error("'" + std::string(text) +
                         "' is not a duration (expected a number with an optional suffix ms, s, m "
                         "or h, e.g. 90s, 30m, 8h, 1h30m)");
  };
  std::string_view t = text;
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  if (t.empty()) return fail();
  // One or more <number><unit> parts ("1h30m"); a lone number without a unit is seconds.
  double seconds = 0;
  bool first = true;
  while (!t.empty()) {
    size_t n = 0;
    while (n < t.size() && (std::isdigit(static_cast<unsigned char>(t[n])) || t[n] == '.')) ++n;
    if (n == 0) return fail();
    double value = 0;
    auto [ptr, ec] = std::from_chars(t.data(), t.data() + n, value);
    if (ec != std::errc() || ptr != t.data() + n || !std::isfinite(value)) return fail();
    t.remove_prefix(n);
    double scale = 0;
    if (t.starts_with("ms")) {
      scale = 0.001;
      t.remove_prefix(2);
    } else if (t.starts_with("s")) {
      scale = 1;
      t.remove_prefix(1);
    } else if (t.starts_with("m")) {
      scale = 60;
      t.remove_prefix(1);
    } else if (t.starts_with("h")) {
      scale = 3600;
      t.remove_prefix(1);
    } else if (t.empty() && first) {
      scale = 1;
    } else {
      return fail();
    }
    seconds += value * scale;
    first = false;
  }
  if (seconds > 1e12) return fail();
  return from_seconds(seconds);
}

std::string format_duration(Duration d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  if (ms % 1000 != 0) return out + std::to_string(ms) + "ms";
  int64_t s = ms / 1000;
  if (s >= 3600) {
    out += std::to_string(s / 3600) + "h";
    s %= 3600;
  }
  if (s >= 60) {
    out += std::to_string(s / 60) + "m";
    s %= 60;
  }
  if (s > 0) out += std::to_string(s) + "s";
  return out;
}

}  // namespace tamas
