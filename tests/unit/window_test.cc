// SlidingWindow: point events and intervals over a ring of buckets.
#include "core/stats/window.h"

#include <gtest/gtest.h>

namespace tamas::core {
namespace {

using namespace std::chrono_literals;

struct Count {
  int64_t n = 0;
  Duration time{};
  Count& operator+=(const Count& o) {
    n += o.n;
    time += o.time;
    return *this;
  }
};

TEST(SlidingWindow, PointEventsAgeOut) {
  SlidingWindow<Count> w(60min, 12);  // 5-minute buckets
  const TimePoint t0 = kEpoch + 10h;
  w.at(t0)->n += 1;
  w.at(t0 + 30min)->n += 10;
  EXPECT_EQ(w.sum(t0 + 30min).n, 11);
  EXPECT_EQ(w.sum(t0 + 59min).n, 11);
  EXPECT_EQ(w.sum(t0 + 66min).n, 10) << "the first event is more than a bucket past the window";
  EXPECT_EQ(w.sum(t0 + 96min).n, 0);
}

TEST(SlidingWindow, OldEventsAreDroppedNotMisfiled) {
  SlidingWindow<Count> w(60min, 12);
  const TimePoint t0 = kEpoch + 10h;
  w.at(t0 + 2h)->n += 1;
  EXPECT_EQ(w.at(t0), nullptr) << "older than the ring holds";
  EXPECT_EQ(w.sum(t0 + 2h).n, 1);
}

TEST(SlidingWindow, IntervalsAreSpreadOverBuckets) {
  SlidingWindow<Count> w(60min, 12);
  const TimePoint t0 = kEpoch + 10h + 2min;
  w.add_interval(t0, t0 + 20min, [](Count& c, Duration d) { c.time += d; });
  EXPECT_EQ(w.sum(t0 + 20min).time, 20min);
  // Seventy minutes after its start, the first 10 minutes of it have left the window (give or
  // take one bucket of resolution).
  const Duration left = w.sum(t0 + 70min).time;
  EXPECT_GE(left, 10min);
  EXPECT_LE(left, 15min);
  // An interval longer than the window keeps only what fits.
  SlidingWindow<Count> w2(60min, 12);
  w2.add_interval(t0, t0 + 10h, [](Count& c, Duration d) { c.time += d; });
  EXPECT_GE(w2.sum(t0 + 10h).time, 60min);
  EXPECT_LE(w2.sum(t0 + 10h).time, 65min);
}

}  // namespace
}  // namespace tamas::core
