// One RTP session's state, as owned by its worker (see worker.h for the logic that drives it).
//
// Thread rules: a Session belongs to exactly one Worker and is touched only on that worker's
// thread, so nothing here is synchronised. A bridge partner is always on the same worker.
#pragma once

#include <netinet/in.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "media/dep_spandsp.h"
#include "media/engine.h"
#include "media/g711.h"
#include "media/jitter.h"
#include "media/mixer.h"

namespace tamas::media {

struct SpandspDeleter {
  void operator()(dtmf_rx_state_t* s) const { dtmf_rx_free(s); }
  void operator()(dtmf_tx_state_t* s) const { dtmf_tx_free(s); }
};

struct Session {
  using Clock = std::chrono::steady_clock;

  Session(SessionId session_id, int rtp, int rtcp, uint16_t local_port)
      : id(session_id), rtp_fd(rtp), rtcp_fd(rtcp), port(local_port) {}
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const SessionId id;
  const int rtp_fd;
  const int rtcp_fd;
  const uint16_t port;

  // Remote side (set_remote). Before it nothing is sent and everything received is dropped.
  bool has_remote = false;
  sockaddr_in sdp_addr{};   // where the SDP says to send RTP
  sockaddr_in peer_addr{};  // the latched source of RTP (symmetric RTP)
  bool latched = false;
  sockaddr_in rtcp_peer{};  // the latched source of RTCP, else SDP address, port + 1
  bool rtcp_latched = false;
  Codec codec = Codec::kPcmu;
  std::optional<uint8_t> te_pt;                // negotiated telephone-event payload type
  Direction direction = Direction::kSendRecv;  // ours

  // Outgoing stream.
  uint32_t ssrc = 0;
  uint16_t seq = 0;
  uint32_t next_ts = 0;        // advances 160 per tick
  bool marker_pending = true;  // first packet of a talkspurt / after a discontinuity
  uint32_t packets_sent = 0, octets_sent = 0;
  Frame tx_frame{};  // what this session sent this tick (for stereo recording)

  // Relay (bridge). `bridge` is the partner on the same worker, or null.
  Session* bridge = nullptr;
  bool relay_started = false;  // relay_offset is valid for relay_src_ssrc
  uint32_t relay_src_ssrc = 0;
  uint32_t relay_offset = 0;

  // Players.
  struct Player {
    uint64_t play_id = 0;
    std::vector<std::shared_ptr<const Audio>> items;
    bool loop = false;
    size_t item = 0;
    size_t offset = 0;
  };
  std::optional<Player> player;
  struct Shared {
    uint64_t play_id = 0;
    std::shared_ptr<const Audio> stream;
  };
  std::optional<Shared> shared;

  // DTMF out: RFC 4733 events (when negotiated), else in-band tones from spandsp.
  std::deque<char> dtmf_queue;
  enum class EventPhase : uint8_t { kIdle, kTone, kEnd };
  EventPhase event_phase = EventPhase::kIdle;
  uint8_t event_code = 0;
  uint32_t event_ts = 0;
  uint16_t event_duration = 0;
  int event_ends_sent = 0;
  int event_gap = 0;  // ticks of audio left before the next queued digit may start
  std::unique_ptr<dtmf_tx_state_t, SpandspDeleter> dtmf_tx;

  // Incoming stream.
  JitterBuffer jitter;
  Frame rx_frame{};  // this tick's frame out of the jitter buffer (silence when none)
  std::unique_ptr<dtmf_rx_state_t, SpandspDeleter> dtmf_rx;  // only when no 4733 negotiated
  struct RxEvent {
    uint32_t ssrc = 0, timestamp = 0;
    char digit = 0;
    bool reported = false;
  };
  std::optional<RxEvent> rx_event;
  bool rx_started = false;
  uint32_t rx_ssrc = 0;
  uint16_t rx_base_seq = 0, rx_max_seq = 0;
  uint32_t rx_cycles = 0, rx_received = 0;
  Clock::time_point last_rx{};
  bool timeout_reported = false;
  uint64_t next_rtcp_tick = 0;

  // Recording.
  struct Recording {
    uint64_t record_id = 0;
    uint64_t job = 0;  // RecordWriter job
    RecordMode mode = RecordMode::kMono;
    uint64_t max_frames = 0;  // 0 = no limit
    uint64_t frames = 0;
    std::vector<int16_t> block;  // interleaved samples not yet handed to the writer
  };
  std::optional<Recording> recording;

  bool can_send() const {
    return has_remote && (direction == Direction::kSendRecv || direction == Direction::kSendOnly);
  }
  bool expects_media() const {
    return direction == Direction::kSendRecv || direction == Direction::kRecvOnly;
  }
  // Received audio is decoded into the jitter buffer only when something consumes it.
  bool needs_rx_audio() const {
    return recording || dtmf_rx ||
           (bridge != nullptr && bridge->recording &&
            bridge->recording->mode == RecordMode::kStereo);
  }
};

}  // namespace tamas::media
