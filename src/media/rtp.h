// RTP (RFC 3550) and RFC 4733 telephone-event packets: parsing outside input and building ours,
// plus the minimal RTCP sender/receiver report the engine sends every few seconds.
//
// Parsers take a whole datagram and return nullopt for anything malformed (short, wrong
// version, CSRC list / extension / padding past the end); they never read outside the span.
// Views point into the caller's buffer and live as long as it does.
//
// Thread rules: pure functions; callable from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace tamas::media {

inline constexpr size_t kRtpHeaderSize = 12;
inline constexpr size_t kMaxDatagram = 1500;

struct RtpHeader {
  bool marker = false;
  uint8_t payload_type = 0;
  uint16_t seq = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
};

struct RtpView {
  RtpHeader header;
  std::span<const uint8_t> payload;  // after CSRCs and extension, before padding
};

std::optional<RtpView> parse_rtp(std::span<const uint8_t> datagram);

// Writes a 12-byte header (version 2, no CSRC, no extension, no padding) and the payload into
// `out`. Returns the bytes written, or 0 when `out` is too small.
size_t build_rtp(const RtpHeader& header, std::span<const uint8_t> payload, std::span<uint8_t> out);

// True when the datagram looks like RTCP (version 2, packet type 200..204): RTCP multiplexed on
// the RTP port is ignored rather than counted as malformed.
bool looks_like_rtcp(std::span<const uint8_t> datagram);

// RFC 4733 §2.3 payload: event, E bit, volume (0..63, -dBm0), duration in timestamp units.
struct TelephoneEvent {
  uint8_t event = 0;
  bool end = false;
  uint8_t volume = 10;
  uint16_t duration = 0;
};
inline constexpr size_t kTelephoneEventSize = 4;

// Nullopt when shorter than 4 bytes. Extra bytes (RFC 2198 redundancy is not negotiated) are
// ignored.
std::optional<TelephoneEvent> parse_telephone_event(std::span<const uint8_t> payload);
void build_telephone_event(const TelephoneEvent& event, uint8_t out[kTelephoneEventSize]);

// DTMF events 0..15 <-> "0123456789*#ABCD". Other events (fax tones, ...) -> '\0' / nullopt.
char event_to_digit(uint8_t event);
std::optional<uint8_t> digit_to_event(char digit);

// What a minimal RTCP report says: an SR when we have sent anything (else an RR), with one
// report block when we have received from a source, followed by an SDES CNAME (RFC 3550 §6.1
// requires it in every compound packet).
struct RtcpReport {
  uint32_t ssrc = 0;
  bool sender = false;
  uint64_t ntp = 0;  // NTP timestamp of now (seconds since 1900 << 32 | fraction)
  uint32_t rtp_timestamp = 0;
  uint32_t packets_sent = 0, octets_sent = 0;
  bool has_source = false;
  uint32_t source_ssrc = 0;
  uint32_t cumulative_lost = 0;  // 24 bits on the wire (clamped)
  uint32_t extended_highest_seq = 0;
  std::string_view cname;  // at most 255 bytes are sent
};
// Returns the bytes written, or 0 when `out` is too small.
size_t build_rtcp_report(const RtcpReport& report, std::span<uint8_t> out);

}  // namespace tamas::media
