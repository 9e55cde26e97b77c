// The terminating-side jitter buffer. See jitter.h.
#include "media/jitter.h"

#include <algorithm>

namespace tamas::media {

void JitterBuffer::clear() {
  for (auto& s : slots_) s.full = false;
  count_ = 0;
  primed_ = false;
}

void JitterBuffer::reset() {
  clear();
  started_ = false;
}

void JitterBuffer::push(uint32_t ssrc, uint16_t seq, std::span<const int16_t> samples) {
  if (!started_ || ssrc != ssrc_) {
    clear();
    started_ = true;
    ssrc_ = ssrc;
    next_seq_ = seq;
  }
  auto delta = static_cast<int16_t>(static_cast<uint16_t>(seq - next_seq_));
  if (delta < -kResync || delta >= kResync) {  // the sender restarted its numbering
    clear();
    next_seq_ = seq;
    delta = 0;
  }
  if (delta < 0) {
    ++late_;
    return;
  }
  if (delta >= kMaxDepth) {
    // Too far ahead: move the window so that it ends at `seq`, dropping what falls out of it.
    const auto new_next = static_cast<uint16_t>(seq - (kMaxDepth - 1));
    while (next_seq_ != new_next) {
      Slot& s = slot(next_seq_);
      if (s.full && s.seq == next_seq_) {
        s.full = false;
        --count_;
        ++overflowed_;
      }
      ++next_seq_;
    }
  }
  Slot& s = slot(seq);
  if (s.full) return;  // a duplicate (the window is narrower than the ring, so no stale slot)
  s.full = true;
  s.seq = seq;
  const size_t n = std::min<size_t>(samples.size(), kFrameSamples);
  std::copy_n(samples.begin(), n, s.samples.begin());
  std::fill(s.samples.begin() + static_cast<std::ptrdiff_t>(n), s.samples.end(), int16_t{0});
  ++count_;
}

bool JitterBuffer::pop(int16_t* out) {
  std::fill_n(out, kFrameSamples, int16_t{0});
  if (!started_) return false;
  if (!primed_) {
    if (count_ < kPrefill) return false;
    primed_ = true;
  }
  if (count_ == 0) {  // ran dry: hold the position and wait for kPrefill frames again
    primed_ = false;
    return false;
  }
  Slot& s = slot(next_seq_);
  const bool got = s.full && s.seq == next_seq_;
  if (got) {
    std::copy(s.samples.begin(), s.samples.end(), out);
    s.full = false;
    --count_;
  } else {
    ++lost_;
  }
  ++next_seq_;
  return got;
}

}  // namespace tamas::media
