// G.711, RTP, RFC 4733 and RTCP wire formats; the jitter buffer; the mixer; offer/answer.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <vector>

#include "media/engine.h"
#include "media/g711.h"
#include "media/jitter.h"
#include "media/mixer.h"
#include "media/rtp.h"

namespace tamas::media {
namespace {

// ---- G.711 ----

TEST(G711, KnownValues) {
  EXPECT_EQ(linear_to_ulaw(0), 0xFF);
  EXPECT_EQ(ulaw_to_linear(0xFF), 0);
  EXPECT_EQ(ulaw_to_linear(0x7F), 0);  // "negative zero"
  EXPECT_EQ(ulaw_to_linear(0x00), -32124);
  EXPECT_EQ(ulaw_to_linear(0x80), 32124);
  EXPECT_EQ(linear_to_alaw(0), 0xD5);
  EXPECT_EQ(alaw_to_linear(0xD5), 8);
  EXPECT_EQ(alaw_to_linear(0x55), -8);
  EXPECT_EQ(alaw_to_linear(0xAA), 32256);
  EXPECT_EQ(alaw_to_linear(0x2A), -32256);
  EXPECT_EQ(silence_byte(Codec::kPcmu), 0xFF);
  EXPECT_EQ(silence_byte(Codec::kPcma), 0xD5);
}

TEST(G711, EveryCodeRoundTrips) {
  for (int c = 0; c < 256; ++c) {
    const auto code = static_cast<uint8_t>(c);
    if (code != 0x7F) {  // µ-law has two zeros; 0x7F decodes to 0, which encodes to 0xFF
      EXPECT_EQ(linear_to_ulaw(ulaw_to_linear(code)), code) << c;
    }
    EXPECT_EQ(linear_to_alaw(alaw_to_linear(code)), code) << c;
  }
}

TEST(G711, FullRangeIsMonotonicAndClose) {
  int prev_u = -40000, prev_a = -40000;
  for (int x = -32768; x <= 32767; x += 7) {
    const auto s = static_cast<int16_t>(x);
    const int u = ulaw_to_linear(linear_to_ulaw(s));
    const int a = alaw_to_linear(linear_to_alaw(s));
    ASSERT_GE(u, prev_u) << x;
    ASSERT_GE(a, prev_a) << x;
    prev_u = u;
    prev_a = a;
    // Quantisation error stays within one segment step (about 3% of the value, at least 1 LSB).
    ASSERT_LE(std::abs(u - x), std::max(33, std::abs(x) / 16)) << x;
    ASSERT_LE(std::abs(a - x), std::max(33, std::abs(x) / 16)) << x;
  }
}

TEST(G711, TranscodeMatchesDecodeThenEncode) {
  std::vector<uint8_t> all(256);
  for (int i = 0; i < 256; ++i) all[static_cast<size_t>(i)] = static_cast<uint8_t>(i);
  auto u2a = all;
  transcode(Codec::kPcmu, Codec::kPcma, u2a);
  for (int i = 0; i < 256; ++i) {
    EXPECT_EQ(u2a[static_cast<size_t>(i)], linear_to_alaw(ulaw_to_linear(static_cast<uint8_t>(i))));
  }
  auto same = all;
  transcode(Codec::kPcma, Codec::kPcma, same);
  EXPECT_EQ(same, all);
}

// ---- RTP ----

std::vector<uint8_t> header(uint8_t b0, uint8_t b1, size_t extra = 0) {
  std::vector<uint8_t> v = {b0, b1, 0x12, 0x34, 0, 0, 0x01, 0x40, 0xDE, 0xAD, 0xBE, 0xEF};
  v.resize(v.size() + extra, 0xFF);
  return v;
}

TEST(Rtp, ParsesAndBuilds) {
  RtpHeader h{true, 8, 0xFFFF, 0x01020304, 0xCAFEBABE};
  const std::array<uint8_t, 3> payload = {1, 2, 3};
  std::array<uint8_t, 64> buf{};
  const size_t n = build_rtp(h, payload, buf);
  ASSERT_EQ(n, 15u);
  EXPECT_EQ(buf[0], 0x80);
  EXPECT_EQ(buf[1], 0x88);
  auto v = parse_rtp(std::span<const uint8_t>(buf.data(), n));
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->header.marker);
  EXPECT_EQ(v->header.payload_type, 8);
  EXPECT_EQ(v->header.seq, 0xFFFF);
  EXPECT_EQ(v->header.timestamp, 0x01020304u);
  EXPECT_EQ(v->header.ssrc, 0xCAFEBABEu);
  ASSERT_EQ(v->payload.size(), 3u);
  EXPECT_EQ(v->payload[2], 3);
  EXPECT_EQ(build_rtp(h, payload, std::span<uint8_t>(buf.data(), 14)), 0u);  // too small
}

TEST(Rtp, TableOfPackets) {
  struct Case {
    const char* name;
    std::vector<uint8_t> bytes;
    bool ok;
    size_t payload = 0;
  };
  // CSRC count 2 and an extension of 1 word, then 4 bytes of payload.
  auto with_csrc_ext = header(0x92, 0x00, 8 + 4 + 4 + 4);
  with_csrc_ext[12 + 8 + 2] = 0;
  with_csrc_ext[12 + 8 + 3] = 1;
  // Padding: 6 payload bytes, the last says 2 of them are padding.
  auto padded = header(0xA0, 0x00, 6);
  padded.back() = 2;
  auto pad_too_big = header(0xA0, 0x00, 2);
  pad_too_big.back() = 3;
  auto pad_zero = header(0xA0, 0x00, 2);
  pad_zero.back() = 0;
  auto ext_past_end = header(0x90, 0x00, 4);
  ext_past_end[14] = 0;
  ext_past_end[15] = 9;
  const std::vector<Case> cases = {
      {"empty", {}, false},
      {"short", {0x80, 0x00, 0x00}, false},
      {"eleven bytes", std::vector<uint8_t>(11, 0x80), false},
      {"header only", header(0x80, 0x00), true, 0},
      {"payload", header(0x80, 0x00, 160), true, 160},
      {"version 0", header(0x00, 0x00, 160), false},
      {"version 1", header(0x40, 0x00, 160), false},
      {"version 3", header(0xC0, 0x00, 160), false},
      {"csrc past end", header(0x8F, 0x00, 20), false},
      {"csrc and extension", with_csrc_ext, true, 4},
      {"extension header cut", header(0x90, 0x00, 2), false},
      {"extension past end", ext_past_end, false},
      {"padding", padded, true, 4},
      {"padding past payload", pad_too_big, false},
      {"padding zero", pad_zero, false},
  };
  for (const auto& c : cases) {
    auto v = parse_rtp(c.bytes);
    EXPECT_EQ(v.has_value(), c.ok) << c.name;
    if (v && c.ok) {
      EXPECT_EQ(v->payload.size(), c.payload) << c.name;
    }
  }
}

TEST(Rtp, RecognisesRtcp) {
  EXPECT_TRUE(looks_like_rtcp(header(0x80, 200)));
  EXPECT_TRUE(looks_like_rtcp(header(0x81, 201)));
  EXPECT_FALSE(looks_like_rtcp(header(0x80, 0)));
  EXPECT_FALSE(looks_like_rtcp(header(0x40, 200)));
}

TEST(Rfc4733, ParsesAndBuilds) {
  uint8_t out[kTelephoneEventSize];
  build_telephone_event(TelephoneEvent{11, true, 10, 800}, out);
  EXPECT_EQ(out[0], 11);
  EXPECT_EQ(out[1], 0x8A);
  EXPECT_EQ(out[2], 0x03);
  EXPECT_EQ(out[3], 0x20);
  auto e = parse_telephone_event(out);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->event, 11);
  EXPECT_TRUE(e->end);
  EXPECT_EQ(e->volume, 10);
  EXPECT_EQ(e->duration, 800);
  const std::array<uint8_t, 3> short_payload = {1, 0, 0};
  EXPECT_FALSE(parse_telephone_event(short_payload));
  const std::array<uint8_t, 4> reserved_bit = {5, 0x40 | 7, 0, 160};  // R bit is ignored
  EXPECT_EQ(parse_telephone_event(reserved_bit)->volume, 7);
  EXPECT_FALSE(parse_telephone_event(reserved_bit)->end);
}

TEST(Rfc4733, DigitsMapBothWays) {
  const std::string digits = "0123456789*#ABCD";
  for (size_t i = 0; i < digits.size(); ++i) {
    EXPECT_EQ(event_to_digit(static_cast<uint8_t>(i)), digits[i]);
    EXPECT_EQ(digit_to_event(digits[i]), static_cast<uint8_t>(i));
  }
  EXPECT_EQ(digit_to_event('a'), 12);
  EXPECT_EQ(event_to_digit(16), '\0');  // flash and fax tones are not digits
  EXPECT_EQ(event_to_digit(255), '\0');
  EXPECT_FALSE(digit_to_event('x'));
  EXPECT_FALSE(digit_to_event('\0'));
}

TEST(Rtcp, BuildsSenderReportWithBlockAndCname) {
  RtcpReport r;
  r.ssrc = 0x11223344;
  r.sender = true;
  r.packets_sent = 250;
  r.has_source = true;
  r.source_ssrc = 0x55667788;
  r.extended_highest_seq = 70000;
  r.cname = "tamas-7";
  std::array<uint8_t, 256> buf{};
  const size_t n = build_rtcp_report(r, buf);
  // SR: 8 + 20 + 24 = 52; SDES: 4 + 4 + 2 + 7 + 1 = 18 -> 20.
  ASSERT_EQ(n, 72u);
  EXPECT_EQ(n % 4, 0u);
  EXPECT_EQ(buf[0], 0x81);
  EXPECT_EQ(buf[1], 200);
  EXPECT_EQ((buf[2] << 8 | buf[3]), 52 / 4 - 1);
  EXPECT_EQ(buf[52 + 1], 202);
  EXPECT_EQ((buf[52 + 2] << 8 | buf[52 + 3]), 20 / 4 - 1);
  EXPECT_EQ(buf[52 + 9], 7);
  EXPECT_TRUE(looks_like_rtcp(std::span<const uint8_t>(buf.data(), n)));
  r.sender = false;
  r.has_source = false;
  EXPECT_EQ(build_rtcp_report(r, buf), 8u + 20u);
  EXPECT_EQ(buf[1], 201);
  EXPECT_EQ(build_rtcp_report(r, std::span<uint8_t>(buf.data(), 10)), 0u);
}

// ---- Jitter buffer ----

std::array<int16_t, kFrameSamples> frame_of(int16_t v) {
  std::array<int16_t, kFrameSamples> f;
  f.fill(v);
  return f;
}

// Pops one frame and returns its first sample, or -1 for silence.
int pop_value(JitterBuffer& jb) {
  std::array<int16_t, kFrameSamples> out;
  return jb.pop(out.data()) ? out[0] : -1;
}

TEST(Jitter, WaitsForPrefillThenReorders) {
  JitterBuffer jb;
  EXPECT_EQ(pop_value(jb), -1);
  jb.push(1, 10, frame_of(10));
  EXPECT_EQ(pop_value(jb), -1);  // one frame: still priming
  jb.push(1, 12, frame_of(12));
  jb.push(1, 11, frame_of(11));
  EXPECT_EQ(pop_value(jb), 10);
  EXPECT_EQ(pop_value(jb), 11);
  EXPECT_EQ(pop_value(jb), 12);
  EXPECT_EQ(pop_value(jb), -1);  // dry
}

TEST(Jitter, FillsLossAndDropsLateAndDuplicates) {
  JitterBuffer jb;
  jb.push(1, 100, frame_of(100));
  jb.push(1, 102, frame_of(102));
  jb.push(1, 102, frame_of(999));  // duplicate
  EXPECT_EQ(pop_value(jb), 100);
  EXPECT_EQ(pop_value(jb), -1);  // 101 lost: silence, but the position advances
  EXPECT_EQ(jb.lost(), 1u);
  jb.push(1, 101, frame_of(101));  // too late now
  EXPECT_EQ(jb.late(), 1u);
  EXPECT_EQ(pop_value(jb), 102);
}

TEST(Jitter, HandlesSequenceWrap) {
  JitterBuffer jb;
  jb.push(1, 65534, frame_of(1));
  jb.push(1, 0, frame_of(3));
  jb.push(1, 65535, frame_of(2));
  EXPECT_EQ(pop_value(jb), 1);
  EXPECT_EQ(pop_value(jb), 2);
  EXPECT_EQ(pop_value(jb), 3);
}

TEST(Jitter, StaysBounded) {
  JitterBuffer jb;
  for (int i = 0; i < 20; ++i)
    jb.push(1, static_cast<uint16_t>(i), frame_of(static_cast<int16_t>(i)));
  EXPECT_LE(jb.depth(), JitterBuffer::kMaxDepth);
  EXPECT_EQ(jb.overflowed(), 20u - JitterBuffer::kMaxDepth);
  EXPECT_EQ(pop_value(jb), 20 - JitterBuffer::kMaxDepth);  // the newest 100 ms are kept
}

TEST(Jitter, ResyncsOnNewSsrcOrBigJump) {
  JitterBuffer jb;
  jb.push(1, 10, frame_of(10));
  jb.push(1, 11, frame_of(11));
  EXPECT_EQ(pop_value(jb), 10);
  jb.push(2, 5000, frame_of(50));  // a new source restarts the buffer
  jb.push(2, 5001, frame_of(51));
  EXPECT_EQ(pop_value(jb), 50);
  jb.push(2, 30000, frame_of(70));  // a jump: restart at it
  jb.push(2, 30001, frame_of(71));
  EXPECT_EQ(pop_value(jb), 70);
  EXPECT_EQ(pop_value(jb), 71);
}

TEST(Jitter, PauseWithContinuousSequenceIsNotLate) {
  JitterBuffer jb;
  jb.push(1, 1, frame_of(1));
  jb.push(1, 2, frame_of(2));
  EXPECT_EQ(pop_value(jb), 1);
  EXPECT_EQ(pop_value(jb), 2);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(pop_value(jb), -1);  // the sender paused
  jb.push(1, 3, frame_of(3));
  jb.push(1, 4, frame_of(4));
  EXPECT_EQ(pop_value(jb), 3);
  EXPECT_EQ(jb.late(), 0u);
}

// ---- Mixer ----

TEST(Mixer, SaturatesInsteadOfWrapping) {
  const std::array<int16_t, 4> a = {30000, -30000, 100, 0};
  const std::array<int16_t, 4> b = {30000, -30000, -50, 0};
  std::array<int16_t, 4> out{};
  mix_add(a, b, out);
  EXPECT_EQ(out[0], 32767);
  EXPECT_EQ(out[1], -32768);
  EXPECT_EQ(out[2], 50);
  EXPECT_EQ(out[3], 0);
}

TEST(Mixer, ThreePartyModes) {
  Frame caller, agent, sup;
  caller.fill(1000);
  agent.fill(200);
  sup.fill(30);
  auto l = mix_three(caller, agent, sup, SupervisorMode::kListen);
  EXPECT_EQ(l.to_supervisor[0], 1200);
  EXPECT_EQ(l.to_caller[0], 200);
  EXPECT_EQ(l.to_agent[0], 1000);
  auto w = mix_three(caller, agent, sup, SupervisorMode::kWhisper);
  EXPECT_EQ(w.to_supervisor[0], 1200);
  EXPECT_EQ(w.to_caller[0], 200);
  EXPECT_EQ(w.to_agent[0], 1030);
  auto b = mix_three(caller, agent, sup, SupervisorMode::kBarge);
  EXPECT_EQ(b.to_supervisor[159], 1200);
  EXPECT_EQ(b.to_caller[159], 230);
  EXPECT_EQ(b.to_agent[159], 1030);
}

// ---- Offer/answer ----

TEST(Negotiate, FirstG711InPeerOrderAndTelephoneEvent) {
  RemoteMedia offer;
  offer.formats = {
      {18, "G729", 8000}, {8, "PCMA", 8000}, {0, "PCMU", 8000}, {101, "telephone-event", 8000}};
  auto n = negotiate(offer);
  ASSERT_TRUE(n) << n.message();
  EXPECT_EQ(n->payload_type, 8);
  EXPECT_EQ(n->encoding, "PCMA");
  EXPECT_EQ(n->telephone_event, 101);
  EXPECT_EQ(n->direction, Direction::kSendRecv);
}

TEST(Negotiate, StaticWithoutRtpmapCaseAndDirections) {
  RemoteMedia offer;
  offer.formats = {{0, "", 8000}, {96, "TELEPHONE-EVENT", 8000}};
  offer.direction = Direction::kSendOnly;
  auto n = negotiate(offer);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->encoding, "PCMU");
  EXPECT_EQ(n->telephone_event, 96);
  EXPECT_EQ(n->direction, Direction::kRecvOnly);
  offer.direction = Direction::kRecvOnly;
  EXPECT_EQ(negotiate(offer)->direction, Direction::kSendOnly);
  offer.formats = {{0, "pcmu", 8000}, {100, "telephone-event", 16000}};
  EXPECT_FALSE(negotiate(offer)->telephone_event);
}

TEST(Negotiate, FailsWithoutG711) {
  RemoteMedia offer;
  offer.formats = {{9, "G722", 8000}, {111, "opus", 48000}};
  auto n = negotiate(offer);
  ASSERT_FALSE(n);
  EXPECT_NE(n.message().find("PCMU"), std::string::npos);
  EXPECT_FALSE(negotiate(RemoteMedia{}));
}

}  // namespace
}  // namespace tamas::media
