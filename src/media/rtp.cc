// RTP, RFC 4733 and RTCP wire formats. See rtp.h.
#include "media/rtp.h"

#include <algorithm>
#include <cstring>

namespace tamas::media {
namespace {

uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint32_t get32(const uint8_t* p) {
  return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
         (static_cast<uint32_t>(p[2]) << 8) | p[3];
}
void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void put32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

constexpr std::string_view kDigits = "0123456789*#ABCD";

}  // namespace

std::optional<RtpView> parse_rtp(std::span<const uint8_t> d) {
  if (d.size() < kRtpHeaderSize) return std::nullopt;
  if ((d[0] >> 6) != 2) return std::nullopt;
  const bool padding = (d[0] & 0x20) != 0;
  const bool extension = (d[0] & 0x10) != 0;
  const size_t csrc_count = d[0] & 0x0F;
  RtpView v;
  v.header.marker = (d[1] & 0x80) != 0;
  v.header.payload_type = d[1] & 0x7F;
  v.header.seq = get16(&d[2]);
  v.header.timestamp = get32(&d[4]);
  v.header.ssrc = get32(&d[8]);
  size_t start = kRtpHeaderSize + 4 * csrc_count;
  if (start > d.size()) return std::nullopt;
  if (extension) {
    if (start + 4 > d.size()) return std::nullopt;
    const size_t words = get16(&d[start + 2]);
    start += 4 + 4 * words;
    if (start > d.size()) return std::nullopt;
  }
  size_t end = d.size();
  if (padding) {
    const size_t pad = d[d.size() - 1];
    if (pad == 0 || pad > end - start) return std::nullopt;
    end -= pad;
  }
  v.payload = d.subspan(start, end - start);
  return v;
}

size_t build_rtp(const RtpHeader& h, std::span<const uint8_t> payload, std::span<uint8_t> out) {
  const size_t n = kRtpHeaderSize + payload.size();
  if (out.size() < n) return 0;
  out[0] = 0x80;
  out[1] = static_cast<uint8_t>((h.marker ? 0x80 : 0) | (h.payload_type & 0x7F));
  put16(&out[2], h.seq);
  put32(&out[4], h.timestamp);
  put32(&out[8], h.ssrc);
  if (!payload.empty()) std::memcpy(&out[kRtpHeaderSize], payload.data(), payload.size());
  return n;
}

bool looks_like_rtcp(std::span<const uint8_t> d) {
  return d.size() >= 8 && (d[0] >> 6) == 2 && d[1] >= 200 && d[1] <= 204;
}

std::optional<TelephoneEvent> parse_telephone_event(std::span<const uint8_t> p) {
  if (p.size() < kTelephoneEventSize) return std::nullopt;
  TelephoneEvent e;
  e.event = p[0];
  e.end = (p[1] & 0x80) != 0;
  e.volume = p[1] & 0x3F;
  e.duration = get16(&p[2]);
  return e;
}

void build_telephone_event(const TelephoneEvent& e, uint8_t out[kTelephoneEventSize]) {
  out[0] = e.event;
  out[1] = static_cast<uint8_t>((e.end ? 0x80 : 0) | (e.volume & 0x3F));
  put16(&out[2], e.duration);
}

char event_to_digit(uint8_t event) { return event < kDigits.size() ? kDigits[event] : '\0'; }

std::optional<uint8_t> digit_to_event(char digit) {
  char d = digit;
  if (d >= 'a' && d <= 'd') d = static_cast<char>(d - 'a' + 'A');
  const auto pos = kDigits.find(d);
  if (d == '\0' || pos == std::string_view::npos) return std::nullopt;
  return static_cast<uint8_t>(pos);
}

size_t build_rtcp_report(const RtcpReport& r, std::span<uint8_t> out) {
  const size_t blocks = r.has_source ? 1 : 0;
  const size_t report_len = 8 + (r.sender ? 20 : 0) + 24 * blocks;
  const size_t cname_len = std::min<size_t>(r.cname.size(), 255);
  // SDES: header 4, SSRC 4, item type+len 2, text, END 1, padded to 32 bits.
  const size_t sdes_len = (4 + 4 + 2 + cname_len + 1 + 3) / 4 * 4;
  if (out.size() < report_len + sdes_len) return 0;
  std::memset(out.data(), 0, report_len + sdes_len);
  uint8_t* p = out.data();
  p[0] = static_cast<uint8_t>(0x80 | blocks);
  p[1] = r.sender ? 200 : 201;
  put16(p + 2, static_cast<uint16_t>(report_len / 4 - 1));
  put32(p + 4, r.ssrc);
  size_t at = 8;
  if (r.sender) {
    put32(p + at, static_cast<uint32_t>(r.ntp >> 32));
    put32(p + at + 4, static_cast<uint32_t>(r.ntp));
    put32(p + at + 8, r.rtp_timestamp);
    put32(p + at + 12, r.packets_sent);
    put32(p + at + 16, r.octets_sent);
    at += 20;
  }
  if (r.has_source) {
    put32(p + at, r.source_ssrc);
    // Fraction lost 0 (not tracked per interval), cumulative lost clamped to 24 bits.
    put32(p + at + 4, std::min<uint32_t>(r.cumulative_lost, 0x7FFFFF));
    put32(p + at + 8, r.extended_highest_seq);
    // Jitter, LSR, DLSR: 0 (we do not measure them).
    at += 24;
  }
  uint8_t* s = p + at;
  s[0] = 0x81;
  s[1] = 202;
  put16(s + 2, static_cast<uint16_t>(sdes_len / 4 - 1));
  put32(s + 4, r.ssrc);
  s[8] = 1;  // CNAME
  s[9] = static_cast<uint8_t>(cname_len);
  std::memcpy(s + 10, r.cname.data(), cname_len);
  // END item and padding are the zeros left by memset.
  return report_len + sdes_len;
}

}  // namespace tamas::media
