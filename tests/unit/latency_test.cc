#include "common/latency.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace tamas {
namespace {

using std::chrono::microseconds;

TEST(LatencyHistogram, EmptyReportsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile_us(0.99), 0);
}

TEST(LatencyHistogram, PercentilesAreBucketUpperEdges) {
  LatencyHistogram h;
  for (int i = 1; i <= 100; ++i) h.add(microseconds(i * 100));  // 0.1 ms .. 10 ms
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.percentile_us(0.5), 5010);   // the 50th sample, 5,000 µs, lies in [5000, 5010)
  EXPECT_EQ(h.percentile_us(0.99), 9910);  // the 99th, 9,900 µs
  EXPECT_EQ(h.percentile_us(1.0), 10000) << "capped at the maximum seen, not the bucket's edge";
  EXPECT_EQ(h.max_us(), 10000);
}

TEST(LatencyHistogram, OverflowReportsTheMaximum) {
  LatencyHistogram h;
  h.add(microseconds(5));
  h.add(std::chrono::milliseconds(250));
  EXPECT_EQ(h.percentile_us(0.5), 10);
  EXPECT_EQ(h.percentile_us(1.0), 250'000);
}

TEST(LatencyHistogram, ThreadsAddWithoutLosingSamples) {
  LatencyHistogram h;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h, t] {
      for (int i = 0; i < 10'000; ++i) h.add(microseconds(t * 1000 + i % 50));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(h.count(), 40'000u);
  EXPECT_EQ(h.max_us(), 3049);
}

}  // namespace
}  // namespace tamas
