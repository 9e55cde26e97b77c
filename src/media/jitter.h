// A small jitter buffer for where media terminates (DTMF detection, recording of received audio).
//
// Frames of 20 ms (160 decoded samples) go in by RTP sequence number as they arrive and come out
// one per tick, in order. It waits for kPrefill frames before starting (absorbing up to ~40 ms of
// jitter), holds at most kMaxDepth frames (100 ms: a sender whose clock runs fast loses its
// oldest frame rather than growing the delay), drops late and duplicate packets, fills a missing
// frame with silence, handles sequence wrap (16-bit arithmetic) and restarts on a new SSRC or a
// jump of more than kResync packets. When it runs dry it outputs silence without advancing, so
// a sender that pauses and resumes with continuous sequence numbers is not treated as late.
//
// Thread rules: owned by one worker thread; not thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "media/g711.h"

namespace tamas::media {

class JitterBuffer {
 public:
  static constexpr int kPrefill = 2;
  static constexpr int kMaxDepth = 5;
  static constexpr int kResync = 64;

  // `samples` beyond 160 are cut; fewer are padded with silence.
  void push(uint32_t ssrc, uint16_t seq, std::span<const int16_t> samples);
  // Writes the next 160 samples to `out`: a received frame (returns true) or silence (false).
  bool pop(int16_t* out);
  void reset();

  int depth() const { return count_; }
  uint64_t late() const { return late_; }
  uint64_t lost() const { return lost_; }
  uint64_t overflowed() const { return overflowed_; }

 private:
  static constexpr int kSlots = 8;  // > kMaxDepth, a power of two
  struct Slot {
    bool full = false;
    uint16_t seq = 0;
    std::array<int16_t, kFrameSamples> samples{};
  };
  Slot& slot(uint16_t seq) { return slots_[seq % kSlots]; }
  void clear();

  std::array<Slot, kSlots> slots_{};
  bool started_ = false;
  bool primed_ = false;
  uint32_t ssrc_ = 0;
  uint16_t next_seq_ = 0;
  int count_ = 0;
  uint64_t late_ = 0, lost_ = 0, overflowed_ = 0;
};

}  // namespace tamas::media
