// SlidingWindow<T>: totals of T over the last `window` of time, kept in a ring of buckets.
//
// Pure and single-threaded like the rest of the core: the caller passes the time. T is a plain
// aggregate with `T& operator+=(const T&)`. Point events go into the bucket of their time (at());
// durations are spread over the buckets they overlap (add_interval()). sum(now) adds the buckets
// that overlap (now - window, now], so it may count up to one bucket's width of older data:
// resolution is window / buckets.
#pragma once

#include <algorithm>
#include <climits>
#include <cstdint>
#include <vector>

#include "common/time.h"

namespace tamas::core {

template <typename T>
class SlidingWindow {
 public:
  explicit SlidingWindow(Duration window, int buckets = 12)
      : window_(window),
        bucket_len_(std::max<int64_t>(1, window.count() / std::max(1, buckets))),
        slots_(static_cast<size_t>(std::max(1, buckets)) + 1) {}  // +1: the current bucket is partial

  Duration window() const { return window_; }

  // The bucket for time t, to add a point event to. Data older than the window is dropped.
  T* at(TimePoint t) {
    const int64_t idx = index_of(t);
    if (idx > newest_) newest_ = idx;
    if (idx <= newest_ - static_cast<int64_t>(slots_.size())) return nullptr;  // too old to hold
    Slot& s = slots_[slot_of(idx)];
    if (s.idx == idx) return &s.value;
    s.idx = idx;
    s.value = T{};
    return &s.value;
  }

  // Spreads [from, to) over the buckets it overlaps: add(value, part) is called for each bucket
  // with the part of the interval that falls in it.
  template <typename Add>
  void add_interval(TimePoint from, TimePoint to, Add add) {
    if (to <= from) return;
    const int64_t b = bucket_len_;
    const int64_t lo = std::max<int64_t>(from.time_since_epoch().count(),
                                         (index_of(to) - static_cast<int64_t>(slots_.size()) + 1) * b);
    const int64_t hi = to.time_since_epoch().count();
    for (int64_t start = lo; start < hi;) {
      const int64_t idx = floor_div(start, b);
      const int64_t end = std::min(hi, (idx + 1) * b);
      if (T* v = at(TimePoint(Duration(start)))) add(*v, Duration(end - start));
      start = end;
    }
  }

  // The total over the buckets overlapping (now - window, now].
  T sum(TimePoint now) const {
    T total{};
    const int64_t cur = index_of(now);
    const int64_t oldest = cur - static_cast<int64_t>(slots_.size()) + 1;
    for (const Slot& s : slots_) {
      if (s.idx >= oldest && s.idx <= cur) total += s.value;
    }
    return total;
  }

  // The start of the oldest bucket sum(now) covers (to add an open interval to a sum).
  TimePoint covers_from(TimePoint now) const {
    return TimePoint(
        Duration((index_of(now) - static_cast<int64_t>(slots_.size()) + 1) * bucket_len_));
  }

 private:
  struct Slot {
    int64_t idx = INT64_MIN;
    T value{};
  };
  static int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
  int64_t index_of(TimePoint t) const { return floor_div(t.time_since_epoch().count(), bucket_len_); }
  size_t slot_of(int64_t idx) const {
    const int64_t n = static_cast<int64_t>(slots_.size());
    return static_cast<size_t>(((idx % n) + n) % n);
  }

  Duration window_;
  int64_t bucket_len_;
  std::vector<Slot> slots_;
  int64_t newest_ = INT64_MIN;  // the newest bucket written
};

}  // namespace tamas::core
