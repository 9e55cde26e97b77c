// The media worker's thread, tick and packet handling. See worker.h.
#include "media/worker.h"

#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace tamas::media {
namespace {

constexpr auto kTick = std::chrono::milliseconds(20);
constexpr uint64_t kRtcpIntervalTicks = 250;  // 5 s
constexpr uint16_t kEventToneSamples = 800;   // 100 ms of tone per sent digit
constexpr int kEventEndPackets = 3;           // RFC 4733 §2.5.1.4
constexpr int kEventGapTicks = 3;             // 60 ms between sent digits
constexpr uint64_t kRecordBlockFrames = 25;   // hand 0.5 s at a time to the writer
constexpr uint8_t kComfortNoisePt = 13;

bool same_addr(const sockaddr_in& a, const sockaddr_in& b) {
  return a.sin_addr.s_addr == b.sin_addr.s_addr && a.sin_port == b.sin_port;
}

timespec to_timespec(std::chrono::nanoseconds ns) {
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(ns.count() / 1000000000);
  ts.tv_nsec = static_cast<long>(ns.count() % 1000000000);
  return ts;
}

uint64_t ntp_now() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
  const uint64_t secs = static_cast<uint64_t>(us / 1000000) + 2208988800ULL;
  const uint64_t frac = (static_cast<uint64_t>(us % 1000000) << 32) / 1000000;
  return (secs << 32) | frac;
}

}  // namespace

Worker::Worker(Listener* listener, RecordWriter* writer, WorkerCounters* counters,
               Duration media_timeout, Clock::time_point epoch)
    : listener_(listener),
      writer_(writer),
      counters_(counters),
      media_timeout_(media_timeout),
      epoch_(epoch),
      rng_(std::random_device{}()) {}

Worker::~Worker() {
  stop();
  for (int fd : {epoll_fd_, timer_fd_, event_fd_}) {
    if (fd >= 0) ::close(fd);
  }
}

Status Worker::start() {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  event_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || timer_fd_ < 0 || event_fd_ < 0) {
    return Status::error(std::string("media worker: cannot create epoll/timerfd/eventfd: ") +
                         std::strerror(errno));
  }
  // Every worker ticks on the same grid: epoch + N * 20 ms (steady_clock is CLOCK_MONOTONIC).
  itimerspec spec{};
  spec.it_value = to_timespec(epoch_.time_since_epoch() + kTick);
  spec.it_interval = to_timespec(kTick);
  if (timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &spec, nullptr) != 0) {
    return Status::error(std::string("media worker: timerfd_settime: ") + std::strerror(errno));
  }
  for (int fd : {timer_fd_, event_fd_}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      return Status::error(std::string("media worker: epoll_ctl: ") + std::strerror(errno));
    }
  }
  running_ = true;
  try {
    thread_ = std::thread([this] { run(); });
  } catch (const std::system_error& e) {
    running_ = false;
    return Status::error(std::string("media worker: cannot start thread: ") + e.what());
  }
  return Status::ok();
}

void Worker::stop() {
  if (!thread_.joinable()) return;
  post([](Worker& w) { w.running_ = false; });
  thread_.join();
}

void Worker::post(Command command) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(command));
  }
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(event_fd_, &one, sizeof one);
}

void Worker::run() {
  std::array<epoll_event, 64> events{};
  while (running_) {
    const int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;  // cannot happen with valid descriptors
    }
    for (int i = 0; i < n; ++i) {
      const int fd = events[static_cast<size_t>(i)].data.fd;
      if (fd == timer_fd_) {
        uint64_t expirations = 0;
        if (::read(timer_fd_, &expirations, sizeof expirations) == sizeof expirations) {
          tick(expirations);
        }
      } else if (fd == event_fd_) {
        uint64_t value = 0;
        [[maybe_unused]] ssize_t r = ::read(event_fd_, &value, sizeof value);
        run_commands();
      } else if (auto it = by_fd_.find(fd); it != by_fd_.end()) {
        Session& s = *it->second;
        if (fd == s.rtp_fd) {
          drain_rtp(s);
        } else {
          drain_rtcp(s);
        }
      }
    }
  }
  // Run what was posted before the stop, then close everything that is left.
  run_commands();
  std::vector<SessionId> ids;
  for (const auto& [id, s] : sessions_) ids.push_back(id);
  for (SessionId id : ids) do_close(id);
}

void Worker::run_commands() {
  std::vector<Command> batch;
  {
    std::lock_guard lock(mutex_);
    batch.swap(queue_);
  }
  for (auto& c : batch) c(*this);
}

Session* Worker::find(SessionId id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) {
    counters_->rejected.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  return it->second.get();
}

// ---- commands ----------------------------------------------------------------------------------

void Worker::do_open(SessionId id, int rtp_fd, int rtcp_fd, uint16_t port) {
  auto s = std::make_unique<Session>(id, rtp_fd, rtcp_fd, port);
  s->ssrc = static_cast<uint32_t>(rng_());
  s->seq = static_cast<uint16_t>(rng_());
  s->next_ts = static_cast<uint32_t>(rng_());
  for (int fd : {rtp_fd, rtcp_fd}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    by_fd_[fd] = s.get();
  }
  sessions_[id] = std::move(s);
  counters_->sessions.fetch_add(1, std::memory_order_relaxed);
}

void Worker::do_set_remote(SessionId id, const RemoteMedia& remote, const Negotiated& agreed) {
  Session* s = find(id);
  if (s == nullptr) return;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(remote.port);
  if (inet_pton(AF_INET, remote.address.c_str(), &addr.sin_addr) != 1) {
    addr.sin_addr.s_addr = htonl(INADDR_NONE);  // unusable: nothing is sent until a peer latches
  }
  // A new SDP address (re-INVITE, transfer) lets the next source latch again; the same one
  // keeps the latched (NATed) address.
  if (!s->has_remote || !same_addr(addr, s->sdp_addr)) {
    s->latched = false;
    s->rtcp_latched = false;
  }
  s->sdp_addr = addr;
  if (!s->rtcp_latched) {
    s->rtcp_peer = addr;
    s->rtcp_peer.sin_port = htons(static_cast<uint16_t>(remote.port + 1));
  }
  s->codec = agreed.encoding == "PCMA" || agreed.payload_type == 8 ? Codec::kPcma : Codec::kPcmu;
  s->te_pt = agreed.telephone_event;
  s->direction = agreed.direction;
  if (!s->has_remote) {
    s->next_rtcp_tick = tick_ + kRtcpIntervalTicks + id % 50;  // spread the reports out
    s->last_rx = Clock::now();
  }
  s->has_remote = true;
  s->timeout_reported = false;
  // In-band detection costs CPU: run it only for peers that cannot send telephone-events.
  if (s->te_pt) {
    s->dtmf_rx.reset();
  } else if (!s->dtmf_rx) {
    s->dtmf_rx.reset(dtmf_rx_init(nullptr, nullptr, nullptr));
  }
}

void Worker::do_play(SessionId id, uint64_t play_id,
                     std::vector<std::shared_ptr<const Audio>> items, bool loop) {
  Session* s = find(id);
  if (s == nullptr) return;
  end_play(*s, true);
  std::erase(items, nullptr);
  Session::Player p;
  p.play_id = play_id;
  p.items = std::move(items);
  p.loop = loop;
  s->player = std::move(p);
}

void Worker::do_play_shared(SessionId id, uint64_t play_id, std::shared_ptr<const Audio> stream) {
  Session* s = find(id);
  if (s == nullptr) return;
  end_play(*s, true);
  s->shared = Session::Shared{play_id, std::move(stream)};
}

void Worker::do_stop_play(SessionId id) {
  if (Session* s = find(id)) end_play(*s, true);
}

void Worker::do_record(SessionId id, uint64_t record_id, std::string path, RecordMode mode,
                       Duration max_length) {
  Session* s = find(id);
  if (s == nullptr) return;
  finish_recording(*s);
  Session::Recording r;
  r.record_id = record_id;
  r.mode = mode;
  r.max_frames = max_length.count() > 0 ? static_cast<uint64_t>(max_length / kTick) : 0;
  if (max_length.count() > 0 && r.max_frames == 0) r.max_frames = 1;
  r.job = writer_->open(id, record_id, std::move(path), mode == RecordMode::kStereo ? 2 : 1);
  s->recording = std::move(r);
}

void Worker::do_stop_record(SessionId id) {
  if (Session* s = find(id)) finish_recording(*s);
}

void Worker::do_bridge(SessionId a, SessionId b) {
  Session* sa = find(a);
  Session* sb = find(b);
  if (sa == nullptr || sb == nullptr || sa == sb) return;
  unbridge(*sa);
  unbridge(*sb);
  for (Session* s : {sa, sb}) {
    end_play(*s, true);
    s->relay_started = false;
    s->marker_pending = true;
  }
  sa->bridge = sb;
  sb->bridge = sa;
}

void Worker::do_unbridge(SessionId id) {
  if (Session* s = find(id)) unbridge(*s);
}

void Worker::do_send_dtmf(SessionId id, char digit) {
  Session* s = find(id);
  if (s == nullptr || !digit_to_event(digit)) return;
  s->dtmf_queue.push_back(digit);
}

void Worker::do_close(SessionId id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  Session& s = *it->second;
  end_play(s, true);
  finish_recording(s);
  unbridge(s);
  for (int fd : {s.rtp_fd, s.rtcp_fd}) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    by_fd_.erase(fd);
    ::close(fd);
  }
  sessions_.erase(it);
  counters_->sessions.fetch_sub(1, std::memory_order_relaxed);
}

// ---- helpers -----------------------------------------------------------------------------------

void Worker::end_play(Session& s, bool stopped) {
  if (s.player) {
    const uint64_t play_id = s.player->play_id;
    s.player.reset();
    listener_->on_play_done(s.id, play_id, stopped);
  }
  if (s.shared) {
    const uint64_t play_id = s.shared->play_id;
    s.shared.reset();
    listener_->on_play_done(s.id, play_id, stopped);
  }
}

void Worker::finish_recording(Session& s) {
  if (!s.recording) return;
  if (!s.recording->block.empty()) writer_->write(s.recording->job, std::move(s.recording->block));
  writer_->close(s.recording->job);
  s.recording.reset();
}

void Worker::unbridge(Session& s) {
  if (s.bridge == nullptr) return;
  Session* other = s.bridge;
  other->bridge = nullptr;
  s.bridge = nullptr;
  other->marker_pending = true;
  s.marker_pending = true;
}

void Worker::report_digit(Session& s, char digit, DtmfSource source) {
  counters_->dtmf_events.fetch_add(1, std::memory_order_relaxed);
  listener_->on_dtmf(s.id, digit, source);
}

// ---- receiving ---------------------------------------------------------------------------------

void Worker::drain_rtp(Session& s) {
  std::array<uint8_t, kMaxDatagram> buf;
  const auto now = Clock::now();
  for (;;) {
    sockaddr_in from{};
    socklen_t len = sizeof from;
    const ssize_t n =
        recvfrom(s.rtp_fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0) break;  // EAGAIN: drained (other errors, e.g. ICMP refused, also end the batch)
    counters_->packets_in.fetch_add(1, std::memory_order_relaxed);
    on_rtp(s, std::span<const uint8_t>(buf.data(), static_cast<size_t>(n)), from, now);
  }
}

void Worker::drain_rtcp(Session& s) {
  // RTCP from the peer is read and ignored (we do not adapt to its reports); its source is
  // remembered so that our reports reach it through NAT.
  std::array<uint8_t, kMaxDatagram> buf;
  for (;;) {
    sockaddr_in from{};
    socklen_t len = sizeof from;
    const ssize_t n =
        recvfrom(s.rtcp_fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0) break;
    if (s.has_remote && !s.rtcp_latched &&
        looks_like_rtcp(std::span<const uint8_t>(buf.data(), static_cast<size_t>(n)))) {
      s.rtcp_peer = from;
      s.rtcp_latched = true;
    }
  }
}

void Worker::on_rtp(Session& s, std::span<const uint8_t> datagram, const sockaddr_in& from,
                    Clock::time_point now) {
  if (!s.has_remote) return;  // before set_remote: dropped (not an error: early media races)
  const auto packet = parse_rtp(datagram);
  if (!packet) {
    if (!looks_like_rtcp(datagram)) counters_->malformed.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const uint8_t pt = packet->header.payload_type;
  const bool event = s.te_pt && pt == *s.te_pt;
  const auto codec = codec_from_payload_type(pt);
  if (!event && !codec && pt != kComfortNoisePt) {
    counters_->malformed.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // Symmetric RTP: the first valid packet after set_remote latches its source; packets from
  // any other address are dropped until the SDP address changes.
  if (!s.latched) {
    s.peer_addr = from;
    s.latched = true;
  } else if (!same_addr(from, s.peer_addr)) {
    counters_->malformed.fetch_add(1, std::memory_order_relaxed);
    counters_->foreign.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  s.last_rx = now;
  s.timeout_reported = false;

  // Receiver statistics for RTCP (RFC 3550 A.1, without probation).
  const RtpHeader& h = packet->header;
  if (!s.rx_started || h.ssrc != s.rx_ssrc) {
    s.rx_started = true;
    s.rx_ssrc = h.ssrc;
    s.rx_base_seq = s.rx_max_seq = h.seq;
    s.rx_cycles = 0;
    s.rx_received = 0;
  } else if (static_cast<int16_t>(static_cast<uint16_t>(h.seq - s.rx_max_seq)) > 0) {
    if (h.seq < s.rx_max_seq) s.rx_cycles += 65536;
    s.rx_max_seq = h.seq;
  }
  ++s.rx_received;

  if (pt == kComfortNoisePt) return;  // silence: the jitter buffer fills the gap
  if (event) {
    on_telephone_event(s, *packet);
    if (s.bridge != nullptr) relay(*s.bridge, *packet, true);
    return;
  }
  if (s.bridge != nullptr) relay(*s.bridge, *packet, false);
  if (s.needs_rx_audio()) {
    std::array<int16_t, kFrameSamples> pcm{};
    const auto payload =
        packet->payload.first(std::min<size_t>(packet->payload.size(), kFrameSamples));
    decode(*codec, payload, pcm.data());
    s.jitter.push(h.ssrc, h.seq, std::span<const int16_t>(pcm.data(), payload.size()));
  }
}

void Worker::on_telephone_event(Session& s, const RtpView& packet) {
  const auto ev = parse_telephone_event(packet.payload);
  if (!ev) {
    counters_->malformed.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const char digit = event_to_digit(ev->event);
  if (digit == '\0') return;  // not DTMF (fax tones, flash): ignored
  const uint32_t ts = packet.header.timestamp;
  const uint32_t ssrc = packet.header.ssrc;
  auto& cur = s.rx_event;
  if (!cur || cur->ssrc != ssrc || cur->timestamp != ts) {
    // An older event's late packet (its three ends arrive after a new event began): ignore.
    if (cur && cur->ssrc == ssrc && static_cast<int32_t>(ts - cur->timestamp) < 0) return;
    // The previous event lost all its end packets: it still happened once.
    if (cur && !cur->reported) report_digit(s, cur->digit, DtmfSource::kRfc4733);
    cur = Session::RxEvent{ssrc, ts, digit, false};
  }
  if (ev->end && !cur->reported) {
    cur->reported = true;
    report_digit(s, cur->digit, DtmfSource::kRfc4733);
  }
}

void Worker::relay(Session& to, const RtpView& packet, bool event) {
  if (!to.can_send()) return;
  RtpHeader h = packet.header;
  if (event) {
    if (!to.te_pt) return;  // the other leg has no telephone-event: the digit was reported
    h.payload_type = *to.te_pt;
  } else {
    h.payload_type = payload_type(to.codec);
  }
  // Keep the incoming timing but continue our own timeline; re-anchor on a new source.
  if (!to.relay_started || to.relay_src_ssrc != packet.header.ssrc) {
    to.relay_started = true;
    to.relay_src_ssrc = packet.header.ssrc;
    to.relay_offset = to.next_ts - packet.header.timestamp;
    to.marker_pending = true;
  }
  h.timestamp = packet.header.timestamp + to.relay_offset;
  h.ssrc = to.ssrc;
  h.seq = to.seq++;
  h.marker = packet.header.marker || to.marker_pending;
  to.marker_pending = false;
  std::array<uint8_t, kMaxDatagram> payload;
  const size_t n = packet.payload.size();
  std::memcpy(payload.data(), packet.payload.data(), n);
  if (!event) {
    const Codec in = *codec_from_payload_type(packet.header.payload_type);
    transcode(in, to.codec, std::span<uint8_t>(payload.data(), n));
    // In-band digits sent on this leg replace the relayed audio while they sound.
    if (to.dtmf_tx && n == kFrameSamples) {
      std::array<int16_t, kFrameSamples> tone{};
      const int got = dtmf_tx(to.dtmf_tx.get(), tone.data(), kFrameSamples);
      if (got > 0) {
        encode(to.codec, std::span<const int16_t>(tone.data(), static_cast<size_t>(got)),
               payload.data());
      } else if (to.dtmf_queue.empty()) {
        to.dtmf_tx.reset();
      }
    }
  }
  send_rtp(to, h, std::span<const uint8_t>(payload.data(), n));
}

// ---- sending -----------------------------------------------------------------------------------

void Worker::send_rtp(Session& s, const RtpHeader& header, std::span<const uint8_t> payload) {
  std::array<uint8_t, kMaxDatagram + kRtpHeaderSize> buf;
  const size_t n = build_rtp(header, payload, buf);
  if (n == 0) return;
  const sockaddr_in& to = s.latched ? s.peer_addr : s.sdp_addr;
  if (to.sin_addr.s_addr == htonl(INADDR_NONE) || to.sin_port == 0) return;
  const ssize_t sent =
      sendto(s.rtp_fd, buf.data(), n, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  if (sent < 0) return;  // a full socket buffer or an ICMP error: the packet is lost, as on a net
  counters_->packets_out.fetch_add(1, std::memory_order_relaxed);
  ++s.packets_sent;
  s.octets_sent += static_cast<uint32_t>(payload.size());
}

std::span<const uint8_t> Worker::shared_payload(const Audio& stream, Codec codec) {
  for (const auto& f : shared_frames_) {
    if (f.stream == &stream && f.codec == codec) return f.payload;
  }
  // position = (ticks since the engine's epoch × 160) mod length: the same on every worker.
  const auto& samples = stream.samples();
  std::array<int16_t, kFrameSamples> pcm{};
  if (!samples.empty()) {
    size_t pos = static_cast<size_t>((tick_ * kFrameSamples) % samples.size());
    for (auto& v : pcm) {
      v = samples[pos];
      if (++pos == samples.size()) pos = 0;
    }
  }
  SharedFrame& f = shared_frames_.emplace_back(SharedFrame{&stream, codec, {}});
  encode(codec, pcm, f.payload.data());
  return f.payload;
}

void Worker::send_event_packet(Session& s) {
  TelephoneEvent ev;
  ev.event = s.event_code;
  ev.volume = 10;
  ev.duration = s.event_duration;
  ev.end = s.event_phase == Session::EventPhase::kEnd;
  std::array<uint8_t, kTelephoneEventSize> payload;
  build_telephone_event(ev, payload.data());
  RtpHeader h;
  h.payload_type = *s.te_pt;
  h.ssrc = s.ssrc;
  h.seq = s.seq++;
  h.timestamp = s.event_ts;
  h.marker = s.event_phase == Session::EventPhase::kTone && s.event_duration == kFrameSamples;
  send_rtp(s, h, payload);
}

// One tick of one session's outgoing stream. Returns with s.tx_frame holding what was sent (for
// stereo recording) and the player advanced whether or not anything could be sent.
void Worker::produce(Session& s) {
  const uint32_t ts = s.next_ts;
  s.next_ts += kFrameSamples;

  // RFC 4733 events take the place of audio while they last.
  if (s.te_pt) {
    if (s.event_phase == Session::EventPhase::kIdle && s.event_gap > 0) --s.event_gap;
    if (s.event_phase == Session::EventPhase::kIdle && s.event_gap == 0 && !s.dtmf_queue.empty()) {
      s.event_code = *digit_to_event(s.dtmf_queue.front());
      s.dtmf_queue.pop_front();
      s.event_phase = Session::EventPhase::kTone;
      s.event_ts = ts;
      s.event_duration = 0;
      s.event_ends_sent = 0;
    }
  } else if (!s.dtmf_queue.empty()) {
    if (!s.dtmf_tx) {
      s.dtmf_tx.reset(dtmf_tx_init(nullptr));
      dtmf_tx_set_timing(s.dtmf_tx.get(), 100, 60);
    }
    std::string digits(s.dtmf_queue.begin(), s.dtmf_queue.end());
    s.dtmf_queue.clear();
    dtmf_tx_put(s.dtmf_tx.get(), digits.c_str(), static_cast<int>(digits.size()));
  }
  bool in_event = false;
  if (s.event_phase != Session::EventPhase::kIdle) {
    in_event = true;
    if (s.event_phase == Session::EventPhase::kTone) {
      s.event_duration = static_cast<uint16_t>(s.event_duration + kFrameSamples);
      if (s.event_duration >= kEventToneSamples) s.event_phase = Session::EventPhase::kEnd;
    }
    if (s.can_send()) send_event_packet(s);
    if (s.event_phase == Session::EventPhase::kEnd && ++s.event_ends_sent == kEventEndPackets) {
      s.event_phase = Session::EventPhase::kIdle;
      s.event_gap = kEventGapTicks;
      s.marker_pending = true;
    }
    // The prompt below keeps its place in time while the event is sent instead of it.
  }
  if (s.bridge != nullptr) {  // relayed packet by packet in on_rtp; the tick sends no audio
    s.tx_frame.fill(0);
    return;
  }

  std::span<const uint8_t> payload;
  std::array<uint8_t, kFrameSamples> encoded;
  bool finished = false;
  bool have_pcm = false;
  Frame& pcm = s.tx_frame;
  if (s.shared && !s.dtmf_tx) {
    payload = shared_payload(*s.shared->stream, s.codec);
    // The recorder's right channel needs linear samples; decode only when recording stereo.
    if (s.recording && s.recording->mode == RecordMode::kStereo) {
      decode(s.codec, payload, pcm.data());
    } else {
      pcm.fill(0);
    }
  } else {
    pcm.fill(0);
    if (s.shared) {
      const auto& samples = s.shared->stream->samples();
      if (!samples.empty()) {
        size_t pos = static_cast<size_t>((tick_ * kFrameSamples) % samples.size());
        for (auto& v : pcm) {
          v = samples[pos];
          if (++pos == samples.size()) pos = 0;
        }
      }
    } else if (s.player) {
      auto& p = *s.player;
      size_t filled = 0;
      size_t empty_items = 0;  // guards a loop over items that are all empty
      while (filled < kFrameSamples && empty_items <= p.items.size()) {
        if (p.item >= p.items.size()) {
          if (!p.loop || p.items.empty()) {
            finished = true;
            break;
          }
          p.item = 0;
        }
        const auto& samples = p.items[p.item]->samples();
        const size_t take = std::min(kFrameSamples - filled, samples.size() - p.offset);
        std::copy_n(samples.begin() + static_cast<std::ptrdiff_t>(p.offset), take,
                    pcm.begin() + static_cast<std::ptrdiff_t>(filled));
        empty_items = take == 0 ? empty_items + 1 : 0;
        filled += take;
        p.offset += take;
        if (p.offset >= samples.size()) {
          ++p.item;
          p.offset = 0;
        }
      }
      if (empty_items > p.items.size()) finished = true;
      if (!finished && !p.loop && p.item >= p.items.size()) finished = true;
    }
    if (s.dtmf_tx) {
      std::array<int16_t, kFrameSamples> tone{};
      const int got = dtmf_tx(s.dtmf_tx.get(), tone.data(), kFrameSamples);
      if (got > 0) {
        std::copy_n(tone.begin(), got, pcm.begin());
      } else if (s.dtmf_queue.empty()) {
        s.dtmf_tx.reset();
      }
    }
    have_pcm = true;
  }
  if (have_pcm) {
    encode(s.codec, pcm, encoded.data());
    payload = encoded;
  }
  if (!in_event && s.can_send()) {
    RtpHeader h;
    h.payload_type = payload_type(s.codec);
    h.ssrc = s.ssrc;
    h.seq = s.seq++;
    h.timestamp = ts;
    h.marker = s.marker_pending;
    s.marker_pending = false;
    send_rtp(s, h, payload);
  }
  if (finished) end_play(s, false);
}

void Worker::send_rtcp(Session& s) {
  RtcpReport r;
  r.ssrc = s.ssrc;
  r.sender = s.packets_sent > 0;
  r.ntp = ntp_now();
  r.rtp_timestamp = s.next_ts;
  r.packets_sent = s.packets_sent;
  r.octets_sent = s.octets_sent;
  if (s.rx_started) {
    r.has_source = true;
    r.source_ssrc = s.rx_ssrc;
    r.extended_highest_seq = s.rx_cycles + s.rx_max_seq;
    const int64_t expected = static_cast<int64_t>(r.extended_highest_seq) - s.rx_base_seq + 1;
    r.cumulative_lost = static_cast<uint32_t>(std::max<int64_t>(0, expected - s.rx_received));
  }
  const std::string cname = "tamas-" + std::to_string(s.id);
  r.cname = cname;
  std::array<uint8_t, 512> buf;
  const size_t n = build_rtcp_report(r, buf);
  if (n == 0 || s.rtcp_peer.sin_addr.s_addr == htonl(INADDR_NONE)) return;
  sendto(s.rtcp_fd, buf.data(), n, 0, reinterpret_cast<const sockaddr*>(&s.rtcp_peer),
         sizeof s.rtcp_peer);
}

// ---- the tick ----------------------------------------------------------------------------------

void Worker::record_tick(Session& s) {
  auto& r = *s.recording;
  if (r.mode == RecordMode::kMono) {
    r.block.insert(r.block.end(), s.rx_frame.begin(), s.rx_frame.end());
  } else {
    // Left: what the peer sent; right: what this session sent it (in a bridge, what the other
    // party sent, taken from the other session's jitter buffer on this same tick).
    const Frame& right = s.bridge != nullptr ? s.bridge->rx_frame : s.tx_frame;
    for (size_t i = 0; i < kFrameSamples; ++i) {
      r.block.push_back(s.rx_frame[i]);
      r.block.push_back(right[i]);
    }
  }
  ++r.frames;
  if (r.block.size() >=
      kRecordBlockFrames * kFrameSamples * (r.mode == RecordMode::kStereo ? 2 : 1)) {
    writer_->write(r.job, std::move(r.block));
    r.block = {};
  }
  if (r.max_frames > 0 && r.frames >= r.max_frames) finish_recording(s);
}

void Worker::tick(uint64_t expirations) {
  // One frame per tick even when late (expirations > 1): the grid index stays exact for music
  // on hold, and a late worker drops time rather than sending a burst.
  tick_ += expirations;
  shared_frames_.clear();
  const auto now = Clock::now();
  // Pass 1: every session's received frame (so that a bridged partner's is ready for stereo
  // recording in pass 2), outgoing frame, DTMF detection, timeouts and RTCP.
  for (auto& [id, sp] : sessions_) {
    Session& s = *sp;
    if (s.needs_rx_audio()) {
      s.jitter.pop(s.rx_frame.data());
      if (s.dtmf_rx) {
        dtmf_rx(s.dtmf_rx.get(), s.rx_frame.data(), kFrameSamples);
        std::array<char, 16> digits{};
        const size_t n = dtmf_rx_get(s.dtmf_rx.get(), digits.data(), digits.size() - 1);
        for (size_t i = 0; i < n; ++i) report_digit(s, digits[i], DtmfSource::kInband);
      }
    } else {
      s.rx_frame.fill(0);
      s.jitter.reset();
    }
    produce(s);
    if (s.has_remote && s.expects_media() && !s.timeout_reported && media_timeout_.count() > 0 &&
        now - s.last_rx >= media_timeout_) {
      s.timeout_reported = true;
      listener_->on_media_timeout(s.id);
    }
    if (s.has_remote && tick_ >= s.next_rtcp_tick) {
      s.next_rtcp_tick = tick_ + kRtcpIntervalTicks;
      send_rtcp(s);
    }
  }
  for (auto& [id, sp] : sessions_) {
    if (sp->recording) record_tick(*sp);
  }
}

}  // namespace tamas::media
