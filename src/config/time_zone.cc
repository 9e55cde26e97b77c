// Time zones from the system tz database, through Howard Hinnant's date/tz.h (Debian's
// libhowardhinnant-date-dev, built to read /usr/share/zoneinfo: USE_OS_TZDB). This is the only file
// that includes it. Why this library: GCC 12's libstdc++ has no std::chrono::locate_zone yet
// (GCC 14 has, with the same API, so this file can switch by replacing `date::` with
// `std::chrono::`); ICU carries its own copy of the zone rules, which lags the tzdata package the
// system updates; and a hand-written TZif reader would need the POSIX-TZ footer rules for future
// years too.
//
// The core never sees a zone: we turn it into a table of offset transitions once, at load.
// date's tz database is initialised once, thread-safely, on first use.

// The Debian build of libdate-tz uses the OS database; its CMake package says so through these
// definitions, which we set here because the build links the library by name.
#define USE_OS_TZDB 1
#define HAS_STRING_VIEW 1
#define ONLY_C_LOCALE 1
#include <date/tz.h>

#include <exception>
#include <vector>

#include "config/config.h"

namespace tamas::config {

namespace {

int year_of(TimePoint t) {
  return static_cast<int>(
      std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(t)).year());
}

// date's OS-database reader takes the transitions listed in the TZif file and ignores its POSIX-TZ
// footer, and Debian's files list them only up to 2037 (the 32-bit limit). A zone still changing
// then would freeze at its 2037 winter offset. Between 1901 and 2099 the Gregorian calendar
// repeats every 28 years (same weekdays, same leap years), so "last Sunday of March" rules give
// the same dates 28 years apart: continue the table by copying each year from 28 years before.
// A zone whose changes stopped earlier (Asia/Tehran since 2022) has nothing to copy.
void extend_past_2037(core::UtcOffsetTable& table) {
  if (table.transitions.empty()) return;
  const int last = year_of(table.transitions.back().at);
  if (last < 2037) return;
  std::vector<core::UtcOffsetTable::Transition> added;
  for (int y = last + 1; y <= core::kLastTableYear; ++y) {
    const auto shift = std::chrono::sys_days(std::chrono::year(y) / 1 / 1) -
                       std::chrono::sys_days(std::chrono::year(y - 28) / 1 / 1);
    std::vector<core::UtcOffsetTable::Transition> this_year;
    for (const auto* source : {&table.transitions, &added}) {
      for (const auto& tr : *source) {
        if (year_of(tr.at) == y - 28) {
          this_year.push_back({tr.at + std::chrono::duration_cast<Duration>(shift), tr.offset});
        }
      }
    }
    added.insert(added.end(), this_year.begin(), this_year.end());
  }
  table.transitions.insert(table.transitions.end(), added.begin(), added.end());
}

}  // namespace

Result<core::UtcOffsetTable> load_zone(std::string_view zone) {
  // date reports an unknown zone (or an unreadable database) by throwing: converted here.
  try {
    const date::time_zone* tz = date::locate_zone(zone);
    using std::chrono::seconds;
    using std::chrono::sys_days;
    const auto first = date::sys_seconds(
        sys_days(std::chrono::year(core::kFirstTableYear) / std::chrono::January / 1));
    const auto last = date::sys_seconds(
        sys_days(std::chrono::year(core::kLastTableYear + 1) / std::chrono::January / 1));
    core::UtcOffsetTable table;
    date::sys_info info = tz->get_info(first);
    table.initial = std::chrono::duration_cast<Duration>(info.offset);
    Duration current = table.initial;
    while (info.end < last) {
      const auto at = info.end;
      info = tz->get_info(at);
      const Duration offset = std::chrono::duration_cast<Duration>(info.offset);
      // Abbreviation-only changes (e.g. a renamed zone) keep the offset: no transition needed.
      if (offset != current) {
        table.transitions.push_back(
            {TimePoint(std::chrono::duration_cast<Duration>(at.time_since_epoch())), offset});
        current = offset;
      }
    }
    extend_past_2037(table);
    return table;
  } catch (const std::exception& e) {
    return Status::error("unknown time zone '" + std::string(zone) +
                         "' (expected an IANA name such as Europe/Berlin or Asia/Tehran)");
  }
}

}  // namespace tamas::config
