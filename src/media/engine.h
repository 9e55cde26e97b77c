// The media engine: RTP sessions that play prompts and music, detect DTMF, record and relay audio.
//
// Thread rules: the engine owns `workers` threads; each owns a set of sessions and drives all of
// them from one 20 ms tick (never a thread or a timer per call). Every public method of
// MediaEngine is thread-safe and returns at once: it posts a command to the session's worker.
// Events come back through the Listener, called on worker threads (recording events on the
// engine's writer thread).
//
// Codecs: G.711 µ-law (PT 0) and A-law (PT 8) at 8 kHz, 20 ms packets; RFC 4733 telephone-events
// received and sent; in-band DTMF detected (spandsp) when the peer sends no telephone-events.
// Symmetric RTP: once a packet arrives, media goes back to where it came from (NAT).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"

namespace tamas::media {

using SessionId = uint64_t;

// Audio in the engine's own format: 8 kHz mono 16-bit, immutable, shared by every call playing
// it (a prompt is decoded and resampled once, at load).
class Audio {
 public:
  // Reads a WAV (or any format libsndfile reads) of any common rate and channel count, mixes to
  // mono and resamples to 8 kHz. Fails with the path and what was wrong (missing, not audio,
  // empty, corrupt).
  static Result<std::shared_ptr<const Audio>> load(const std::string& path);
  static std::shared_ptr<const Audio> from_samples(std::vector<int16_t> samples_8k);
  // Generated tones.
  static std::shared_ptr<const Audio> beep(Duration length = std::chrono::milliseconds(400));
  static std::shared_ptr<const Audio> silence(Duration length);

  const std::vector<int16_t>& samples() const { return samples_; }
  Duration length() const;

 private:
  explicit Audio(std::vector<int16_t> s) : samples_(std::move(s)) {}
  std::vector<int16_t> samples_;
};

enum class Direction : uint8_t { kSendRecv, kSendOnly, kRecvOnly, kInactive };

// The remote side of a session, as its SDP described it (sip/ parses SDP into this).
struct RemoteMedia {
  struct Format {
    uint8_t payload_type = 0;
    std::string encoding;  // "PCMU", "PCMA", "telephone-event", ... (case-insensitive)
    uint32_t clock_rate = 8000;
  };
  std::string address;  // IPv4 dotted quad
  uint16_t port = 0;
  std::vector<Format> formats;  // in the peer's order of preference
  Direction direction = Direction::kSendRecv;
};

// What was agreed: the codec and the telephone-event payload type (if the peer offered one).
struct Negotiated {
  uint8_t payload_type = 0;  // 0 PCMU or 8 PCMA
  std::string encoding;      // "PCMU" or "PCMA"
  std::optional<uint8_t> telephone_event;
  Direction direction = Direction::kSendRecv;  // ours, as answered (mirror of the offer)
};

// The first of PCMU/PCMA in the peer's order, plus telephone-event if offered. Fails (the SIP
// side answers 488) when neither codec is offered.
Result<Negotiated> negotiate(const RemoteMedia& offer);

struct LocalMedia {
  std::string address;
  uint16_t port = 0;  // RTP; RTCP is port + 1
};

enum class DtmfSource : uint8_t { kRfc4733, kInband, kSipInfo };

// Called on worker threads: implementations must be thread-safe and must not block.
class Listener {
 public:
  virtual ~Listener() = default;
  virtual void on_dtmf(SessionId session, char digit, DtmfSource source) = 0;
  // A play() finished (all items played) or was stopped (stopped = true).
  virtual void on_play_done(SessionId session, uint64_t play_id, bool stopped) = 0;
  // A record() ended (max length, stop_record, close); the file is complete when this is called.
  virtual void on_record_done(SessionId session, uint64_t record_id, const std::string& path,
                              Duration length) = 0;
  // No RTP received for EngineConfig::media_timeout.
  virtual void on_media_timeout(SessionId session) = 0;
  // A record() could not write its file (cannot create it, disk full); called instead of
  // on_record_done. The default reports it as an empty recording through on_record_done.
  virtual void on_record_failed(SessionId session, uint64_t record_id, const std::string& path,
                                const std::string& message) {
    (void)message;
    on_record_done(session, record_id, path, Duration(0));
  }
};

struct EngineConfig {
  std::string bind_address = "127.0.0.1";
  uint16_t port_min = 20000;  // even ports from this range; RTCP on the odd one above
  uint16_t port_max = 29999;
  int workers = 0;  // 0 = one per core
  Duration media_timeout = std::chrono::seconds(60);
};

enum class RecordMode : uint8_t {
  kMono,    // what the peer sends
  kStereo,  // left: what the peer sends; right: what the session sends it (the other party)
};

struct EngineStats {
  uint64_t sessions = 0;
  uint64_t packets_in = 0, packets_out = 0;
  uint64_t malformed = 0;  // packets dropped as not RTP or not from the peer's codec
  // Of `malformed`: valid RTP from an address other than the latched (or SDP) source.
  uint64_t foreign = 0;
  uint64_t dtmf_events = 0;  // digits reported (RFC 4733 and in-band)
  uint64_t rejected = 0;     // commands for unknown sessions, or bridge() across workers
  int workers = 0;
};

class MediaEngine {
 public:
  // Starts the workers. Fails on a bad port range or when the worker threads cannot start.
  static Result<std::unique_ptr<MediaEngine>> start(EngineConfig config, Listener* listener);
  virtual ~MediaEngine() = default;  // stops the workers, closes every session, finishes files

  // Opens a session on a free even port. `near`: put it on the same worker as that session (for
  // bridging without crossing threads). Fails when no port is free.
  virtual Result<LocalMedia> open(SessionId id, std::optional<SessionId> near = std::nullopt) = 0;
  // Where to send, and in which codec. Until then nothing is sent; packets received before it
  // are dropped (but DTMF and timeouts start counting after it).
  virtual void set_remote(SessionId id, const RemoteMedia& remote, const Negotiated& agreed) = 0;
  // Plays the items one after the other (loop: forever, until stop_play or another play).
  virtual void play(SessionId id, uint64_t play_id, std::vector<std::shared_ptr<const Audio>> items,
                    bool loop = false) = 0;
  // Music on hold: every session given the same `stream` hears it at the same position, as one
  // shared broadcast (no per-call decoding or state besides the subscription).
  virtual void play_shared(SessionId id, uint64_t play_id, std::shared_ptr<const Audio> stream) = 0;
  virtual void stop_play(SessionId id) = 0;
  // Writes a 16-bit 8 kHz WAV (see docs/media.md) off the media path; a new record() ends the
  // previous one. max_length <= 0 means no limit. on_record_done comes after the file is closed.
  virtual void record(SessionId id, uint64_t record_id, std::string path, RecordMode mode,
                      Duration max_length) = 0;
  virtual void stop_record(SessionId id) = 0;
  // Relays audio both ways between two sessions (opened `near` each other); plays stop. Sessions
  // on different workers are not bridged (counted in EngineStats::rejected).
  virtual void bridge(SessionId a, SessionId b) = 0;
  virtual void unbridge(SessionId id) = 0;
  virtual void send_dtmf(SessionId id, char digit) = 0;
  virtual void close(SessionId id) = 0;
  virtual EngineStats stats() const = 0;
};

}  // namespace tamas::media
