// Business hours and holidays, for the `branch` node of contact flows (flow.h).
//
// A Calendar is plain data: weekly open intervals in local time, holiday dates, and the UTC offset
// of its time zone as a table of transitions. The core never reads tz files: the configuration
// loader (config/) builds the table from the system's tz database for the years it covers
// (kFirstTableYear..kLastTableYear); outside them the nearest known offset holds. Immutable once
// built; safe to share between threads for reading.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/time.h"

namespace tamas::core {

// The UTC offset of one zone over time: `initial` until the first transition, then each
// transition's offset from its instant on. Transitions are sorted by `at`.
struct UtcOffsetTable {
  struct Transition {
    TimePoint at;
    Duration offset;  // local = UTC + offset
  };
  Duration initial{};
  std::vector<Transition> transitions;

  Duration offset_at(TimePoint t) const;
  // A table with one fixed offset (UTC, or a zone without DST such as Asia/Tehran since 2022).
  static UtcOffsetTable fixed(Duration offset) { return UtcOffsetTable{offset, {}}; }
};

inline constexpr int kFirstTableYear = 2000;
inline constexpr int kLastTableYear = 2099;

// A half-open interval of local time of day, [from, to), 0 <= from < to <= 24h.
struct OpenInterval {
  Duration from{};
  Duration to{};
};

// A day off: a date every year (year == 0, e.g. 1 January) or one particular date.
struct Holiday {
  int year = 0;  // 0 = every year
  unsigned month = 1;
  unsigned day = 1;
  std::string name;  // optional, for people reading reports
};

struct Calendar {
  std::string name;
  std::string zone;  // the IANA name the offsets were built from, for messages
  UtcOffsetTable offsets;
  // Open intervals by weekday, index 0 = Sunday .. 6 = Saturday (std::chrono::weekday's
  // c_encoding). An interval that crosses midnight is stored as two, one on each day.
  std::array<std::vector<OpenInterval>, 7> weekly;
  std::vector<Holiday> holidays;

  // The local date and time at `t`, as a time point counted from the local epoch.
  std::chrono::local_time<Duration> local(TimePoint t) const;
  // True when `t` falls on a holiday (in local time).
  bool is_holiday(TimePoint t) const;
  // True when `t` falls in an open interval of its local weekday and not on a holiday.
  bool is_open(TimePoint t) const;
};

}  // namespace tamas::core
