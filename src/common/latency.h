// A latency histogram that several threads may add to without a lock: 10 µs buckets up to 100 ms,
// then one overflow bucket. Percentiles are reported as the upper edge of their bucket, so they
// are never better than what was measured.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace tamas {

class LatencyHistogram {
 public:
  static constexpr int64_t kBucketUs = 10;
  static constexpr size_t kBuckets = 10'000;  // 100 ms in 10 µs steps

  void add(std::chrono::nanoseconds d) {
    const int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
    const size_t b = us < 0 ? 0 : static_cast<size_t>(us / kBucketUs);
    counts_[b < kBuckets ? b : kBuckets].fetch_add(1, std::memory_order_relaxed);
    int64_t seen = max_us_.load(std::memory_order_relaxed);
    while (us > seen && !max_us_.compare_exchange_weak(seen, us, std::memory_order_relaxed)) {
    }
  }

  uint64_t count() const {
    uint64_t n = 0;
    for (const auto& c : counts_) n += c.load(std::memory_order_relaxed);
    return n;
  }

  // The smallest bucket edge (µs) at or below which a fraction `q` (0..1] of the samples lie, but
  // never more than the maximum seen (also the answer when it falls in the overflow bucket); 0
  // with no samples.
  int64_t percentile_us(double q) const {
    const uint64_t n = count();
    if (n == 0) return 0;
    uint64_t want = static_cast<uint64_t>(q * static_cast<double>(n) + 0.999999);
    if (want == 0) want = 1;
    uint64_t seen = 0;
    for (size_t b = 0; b < kBuckets; ++b) {
      seen += counts_[b].load(std::memory_order_relaxed);
      if (seen >= want) return std::min(static_cast<int64_t>(b + 1) * kBucketUs, max_us());
    }
    return max_us();
  }

  int64_t max_us() const { return max_us_.load(std::memory_order_relaxed); }

 private:
  std::array<std::atomic<uint64_t>, kBuckets + 1> counts_{};
  std::atomic<int64_t> max_us_{0};
};

}  // namespace tamas
