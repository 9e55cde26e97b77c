// The media side of a test peer (a caller or an agent's phone): one RTP socket on 127.0.0.1 that
// decodes what it receives (PCMU) and sends RFC 4733 digits and tones, paced like a real endpoint.
//
// Thread rules: one thread receives and one thread sends at most (the socket is shared; sends and
// receives do not touch the same state), as in "the caller talks while the agent listens".
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/time.h"
#include "media/g711.h"
#include "media/rtp.h"
#include "sip/sip.h"
#include "support/sip_peer.h"

namespace tamas::test {

class RtpPeer {
 public:
  RtpPeer() = default;
  RtpPeer(const RtpPeer&) = delete;
  RtpPeer& operator=(const RtpPeer&) = delete;

  uint16_t port() const { return sock_.port(); }

  // Sends to the audio port of `sdp` (the other side's offer or answer) from now on, with its
  // telephone-event payload type.
  void set_remote(const std::string& sdp) {
    auto a = sip::parse_sdp(sdp);
    ASSERT_TRUE(a.is_ok()) << a.message();
    remote_port_ = a->port;
    for (const auto& f : a->formats) {
      if (f.encoding == "telephone-event") te_pt_ = f.payload_type;
    }
  }

  // Receives RTP for `d`, calling frame(pcm) with each PCMU packet's decoded audio.
  template <typename Frame>
  void receive_frames(Duration d, Frame frame) {
    const auto deadline = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      auto pkt = sock_.receive(left);
      if (!pkt) break;
      std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(pkt->data()), pkt->size());
      auto rtp = media::parse_rtp(bytes);
      if (!rtp || rtp->header.payload_type != 0) continue;
      std::vector<int16_t> pcm(rtp->payload.size());
      media::decode(media::Codec::kPcmu, rtp->payload, pcm.data());
      frame(pcm);
    }
  }

  // Receives RTP for `d` and returns the RMS of the decoded audio (PCMU), and the packet count.
  std::pair<double, int> listen(Duration d) {
    double sum = 0;
    long samples = 0;
    int packets = 0;
    receive_frames(d, [&](const std::vector<int16_t>& pcm) {
      packets++;
      for (int16_t s : pcm) sum += static_cast<double>(s) * s;
      samples += static_cast<long>(pcm.size());
    });
    return {samples ? std::sqrt(sum / static_cast<double>(samples)) : 0.0, packets};
  }

  // An RFC 4733 event: start, two updates, three end packets, 20 ms apart (the media clock).
  void send_digit(char digit) {
    const auto ev = media::digit_to_event(digit);
    ASSERT_TRUE(ev.has_value());
    ts_ += 160 * 10;
    for (int i = 0; i < 6; ++i) {
      media::TelephoneEvent te;
      te.event = *ev;
      te.volume = 10;
      te.end = i >= 3;
      te.duration = static_cast<uint16_t>(160 * std::min(i + 1, 4));
      uint8_t payload[media::kTelephoneEventSize];
      media::build_telephone_event(te, payload);
      send(te_pt_, std::span<const uint8_t>(payload, sizeof payload), i == 0);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // pacing, not waiting
    }
  }

  // Receives for `d` and returns when the audio was loud (first and last 20 ms frame above
  // `threshold` RMS, from the start), or {-1, -1} when it never was.
  std::pair<int, int> loud_span_ms(Duration d, double threshold = 500) {
    int first = -1, last = -1, frame = 0;
    receive_frames(d, [&](const std::vector<int16_t>& pcm) {
      double sum = 0;
      for (int16_t v : pcm) sum += static_cast<double>(v) * v;
      if (!pcm.empty() && std::sqrt(sum / static_cast<double>(pcm.size())) > threshold) {
        if (first < 0) first = frame * 20;
        last = frame * 20;
      }
      frame++;
    });
    return {first, last};
  }

  // A 440 Hz tone in PCMU, paced at 20 ms a packet, for `d`.
  void send_tone(Duration d, double amplitude = 8000) {
    const int frames = static_cast<int>(d.count() / 20);
    for (int f = 0; f < frames; ++f) {
      int16_t pcm[160];
      for (int i = 0; i < 160; ++i) {
        pcm[i] = static_cast<int16_t>(amplitude * std::sin(2 * M_PI * 440 * (phase_++) / 8000.0));
      }
      uint8_t payload[160];
      media::encode(media::Codec::kPcmu, std::span<const int16_t>(pcm, 160), payload);
      ts_ += 160;
      send(0, std::span<const uint8_t>(payload, 160), false);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // pacing, not waiting
    }
  }

 private:
  void send(uint8_t pt, std::span<const uint8_t> payload, bool marker) {
    media::RtpHeader h;
    h.payload_type = pt;
    h.marker = marker;
    h.seq = seq_++;
    h.timestamp = ts_;
    h.ssrc = 0x1234abcd;
    uint8_t out[1500];
    const size_t n = media::build_rtp(h, payload, std::span<uint8_t>(out, sizeof out));
    sock_.send_to(remote_port_, std::string(reinterpret_cast<char*>(out), n));
  }

  UdpPeer sock_;
  uint16_t remote_port_ = 0;
  uint8_t te_pt_ = 101;
  uint16_t seq_ = 1;
  uint32_t ts_ = 0;
  long phase_ = 0;
};

}  // namespace tamas::test
