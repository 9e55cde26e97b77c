// Business hours and holidays: local time from an offset table, then weekday and date checks.
// Pure functions over immutable data; no thread rules beyond "don't mutate while reading".
#include "core/flow/calendar.h"

#include <algorithm>

namespace tamas::core {

Duration UtcOffsetTable::offset_at(TimePoint t) const {
  auto it = std::upper_bound(transitions.begin(), transitions.end(), t,
                             [](TimePoint x, const Transition& tr) { return x < tr.at; });
  return it == transitions.begin() ? initial : std::prev(it)->offset;
}

std::chrono::local_time<Duration> Calendar::local(TimePoint t) const {
  return std::chrono::local_time<Duration>((t + offsets.offset_at(t)).time_since_epoch());
}

bool Calendar::is_holiday(TimePoint t) const {
  const auto day = std::chrono::floor<std::chrono::days>(local(t));
  const std::chrono::year_month_day ymd{day};
  for (const Holiday& h : holidays) {
    if (static_cast<unsigned>(ymd.month()) != h.month || static_cast<unsigned>(ymd.day()) != h.day)
      continue;
    if (h.year == 0 || static_cast<int>(ymd.year()) == h.year) return true;
  }
  return false;
}

bool Calendar::is_open(TimePoint t) const {
  if (is_holiday(t)) return false;
  const auto lt = local(t);
  const auto day = std::chrono::floor<std::chrono::days>(lt);
  const Duration time_of_day = lt - day;
  const std::chrono::weekday wd{day};
  for (const OpenInterval& iv : weekly[wd.c_encoding()]) {
    if (time_of_day >= iv.from && time_of_day < iv.to) return true;
  }
  return false;
}

}  // namespace tamas::core
