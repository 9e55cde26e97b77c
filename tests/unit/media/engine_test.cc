// End-to-end tests of the media engine over real UDP sockets on 127.0.0.1: a test "peer" socket
// plays the far end of each session. Waits are on conditions with generous deadlines; sleeps
// are used only to pace packets the peer sends at 20 ms, like a real phone.
#include "media/engine.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sndfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <numbers>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "media/dep_spandsp.h"
#include "media/g711.h"
#include "media/rtp.h"

namespace tamas::media {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr auto kDeadline = 5s;

// Records every event; tests wait on predicates over it.
class TestListener : public Listener {
 public:
  struct RecordDone {
    SessionId session;
    uint64_t record_id;
    std::string path;
    Duration length;
  };
  void on_dtmf(SessionId session, char digit, DtmfSource source) override {
    std::lock_guard lock(mutex_);
    digits[session].push_back(digit);
    sources.push_back(source);
    cv_.notify_all();
  }
  void on_play_done(SessionId session, uint64_t play_id, bool stopped) override {
    std::lock_guard lock(mutex_);
    plays.push_back({session, play_id, stopped});
    cv_.notify_all();
  }
  void on_record_done(SessionId session, uint64_t record_id, const std::string& path,
                      Duration length) override {
    std::lock_guard lock(mutex_);
    records.push_back({session, record_id, path, length});
    cv_.notify_all();
  }
  void on_media_timeout(SessionId session) override {
    std::lock_guard lock(mutex_);
    ++timeouts[session];
    cv_.notify_all();
  }
  // Waits until pred() (called under the lock) holds; false after the deadline.
  bool wait(const std::function<bool()>& pred, std::chrono::milliseconds deadline = kDeadline) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, deadline, pred);
  }
  template <typename F>
  auto locked(F f) {
    std::lock_guard lock(mutex_);
    return f();
  }

  struct Play {
    SessionId session;
    uint64_t play_id;
    bool stopped;
  };
  // Guarded by mutex_ (read them through wait() or locked()).
  std::map<SessionId, std::string> digits;
  std::vector<DtmfSource> sources;
  std::vector<Play> plays;
  std::vector<RecordDone> records;
  std::map<SessionId, int> timeouts;

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
};

struct Received {
  RtpHeader header;
  std::vector<uint8_t> payload;
  Clock::time_point at;
  sockaddr_in from;
};

// The far end: a UDP socket on 127.0.0.1 that sends and receives RTP.
class Peer {
 public:
  Peer() {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    const int on = 1;
    setsockopt(fd_, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  }
  ~Peer() { ::close(fd_); }
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;
  uint16_t port() const { return port_; }

  void send_raw(uint16_t to_port, std::span<const uint8_t> bytes) const {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(to_port);
    sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  void send_rtp(uint16_t to_port, uint8_t pt, std::span<const uint8_t> payload,
                bool marker = false) {
    RtpHeader h{marker, pt, seq_++, ts_, 0x5EED0000u + port_};
    ts_ += kFrameSamples;
    send_header(to_port, h, payload);
  }
  void send_header(uint16_t to_port, const RtpHeader& h, std::span<const uint8_t> payload) const {
    std::array<uint8_t, 1500> buf;
    const size_t n = build_rtp(h, payload, buf);
    send_raw(to_port, std::span<const uint8_t>(buf.data(), n));
  }
  // Sends one 20 ms frame of linear audio in the given law.
  void send_audio(uint16_t to_port, Codec codec, const std::vector<int16_t>& pcm) {
    std::array<uint8_t, kFrameSamples> enc;
    encode(codec, std::span<const int16_t>(pcm.data(), kFrameSamples), enc.data());
    send_rtp(to_port, payload_type(codec), enc);
  }
  uint16_t next_seq() const { return seq_; }
  uint32_t& timestamp() { return ts_; }
  uint16_t& seq() { return seq_; }

  // The next RTP packet (RTCP is skipped), or nullopt after `timeout`.
  std::optional<Received> receive(std::chrono::milliseconds timeout = 2000ms) {
    const auto end = Clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(std::max<int64_t>(0, left.count()))) <= 0) {
        return std::nullopt;
      }
      std::array<uint8_t, 1500> buf;
      sockaddr_in from{};
      iovec iov{buf.data(), buf.size()};
      alignas(cmsghdr) std::array<char, 256> control{};
      msghdr msg{};
      msg.msg_name = &from;
      msg.msg_namelen = sizeof from;
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control.data();
      msg.msg_controllen = control.size();
      const ssize_t n = recvmsg(fd_, &msg, 0);
      if (n <= 0) continue;
      // The kernel's arrival time (SO_TIMESTAMPNS, CLOCK_REALTIME) mapped onto steady_clock,
      // so packets read late are still timed by when they arrived.
      Clock::time_point at = Clock::now();
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
          timespec ts;
          std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
          const auto arrived = std::chrono::system_clock::time_point(
              std::chrono::duration_cast<std::chrono::system_clock::duration>(
                  std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec)));
          at -= std::chrono::duration_cast<Clock::duration>(std::chrono::system_clock::now() -
                                                            arrived);
        }
      }
      const std::span<const uint8_t> d(buf.data(), static_cast<size_t>(n));
      if (looks_like_rtcp(d)) continue;
      auto v = parse_rtp(d);
      if (!v) continue;
      return Received{v->header, {v->payload.begin(), v->payload.end()}, at, from};
    }
  }
  // Receives until `n` packets satisfying pred arrived; returns them (fewer on timeout).
  std::vector<Received> receive_n(size_t n,
                                  const std::function<bool(const Received&)>& pred = nullptr) {
    std::vector<Received> out;
    const auto end = Clock::now() + kDeadline;
    while (out.size() < n && Clock::now() < end) {
      auto r = receive(200ms);
      if (r && (!pred || pred(*r))) out.push_back(std::move(*r));
    }
    return out;
  }
  // Discards what is queued.
  void drain() {
    while (receive(1ms)) {
    }
  }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  uint16_t seq_ = 1000;
  uint32_t ts_ = 50000;
};

std::vector<int16_t> tone(double hz, double amplitude, size_t samples, size_t phase = 0) {
  std::vector<int16_t> v(samples);
  for (size_t i = 0; i < samples; ++i) {
    v[i] = static_cast<int16_t>(
        std::lround(amplitude * std::sin(2 * std::numbers::pi * hz * (i + phase) / kSampleRate)));
  }
  return v;
}

double rms(std::span<const int16_t> s) {
  if (s.empty()) return 0;
  double sum = 0;
  for (int16_t v : s) sum += static_cast<double>(v) * v;
  return std::sqrt(sum / static_cast<double>(s.size()));
}

// Amplitude of the `hz` component (Goertzel).
double tone_level(std::span<const int16_t> s, double hz) {
  const double w = 2 * std::numbers::pi * hz / kSampleRate;
  const double c = 2 * std::cos(w);
  double s1 = 0, s2 = 0;
  for (int16_t v : s) {
    const double s0 = v + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const double power = s1 * s1 + s2 * s2 - c * s1 * s2;
  return 2 * std::sqrt(std::max(0.0, power)) / static_cast<double>(s.size());
}

std::vector<int16_t> decoded(const Received& r, Codec codec) {
  std::vector<int16_t> pcm(r.payload.size());
  decode(codec, r.payload, pcm.data());
  return pcm;
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tamas_media_e2e_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    engine_.reset();
    fs::remove_all(dir_);
  }
  void start(Duration media_timeout = 60s, int workers = 2) {
    EngineConfig c;
    c.bind_address = "127.0.0.1";
    c.port_min = 32000;
    c.port_max = 39999;
    c.workers = workers;
    c.media_timeout = media_timeout;
    auto e = MediaEngine::start(c, &listener_);
    ASSERT_TRUE(e) << e.message();
    engine_ = std::move(*e);
  }
  // Opens a session and points it at `peer`.
  uint16_t open(SessionId id, const Peer& peer, const std::string& encoding = "PCMU",
                std::optional<uint8_t> te = std::nullopt,
                std::optional<SessionId> near = std::nullopt) {
    auto local = engine_->open(id, near);
    EXPECT_TRUE(local) << local.message();
    if (!local) return 0;
    RemoteMedia remote;
    remote.address = "127.0.0.1";
    remote.port = peer.port();
    remote.formats = {{static_cast<uint8_t>(encoding == "PCMA" ? 8 : 0), encoding, 8000}};
    if (te) remote.formats.push_back({*te, "telephone-event", 8000});
    auto agreed = negotiate(remote);
    EXPECT_TRUE(agreed);
    engine_->set_remote(id, remote, *agreed);
    return local->port;
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Reads a WAV written by the recorder: samples interleaved, and its channel count.
  static std::pair<std::vector<int16_t>, int> read_wav(const std::string& p) {
    SF_INFO info{};
    SNDFILE* f = sf_open(p.c_str(), SFM_READ, &info);
    if (f == nullptr) return {{}, 0};
    std::vector<int16_t> s(static_cast<size_t>(info.frames * info.channels));
    sf_readf_short(f, s.data(), info.frames);
    EXPECT_EQ(info.samplerate, 8000);
    sf_close(f);
    return {s, info.channels};
  }

  TestListener listener_;
  std::unique_ptr<MediaEngine> engine_;
  fs::path dir_;
};

// Paces a loop at 20 ms like a phone's packetiser (pacing, not synchronisation).
class Pacer {
 public:
  void wait() {
    next_ += 20ms;
    std::this_thread::sleep_until(next_);
  }

 private:
  Clock::time_point next_ = Clock::now();
};

TEST_F(EngineTest, PlaysToneAsPcmuEvery20ms) {
  start();
  Peer peer;
  open(1, peer);
  engine_->play(1, 77, {Audio::from_samples(tone(1000, 8000, 8000))});  // 1 s
  auto packets = peer.receive_n(30, [](const Received& r) {
    return rms(decoded(r, Codec::kPcmu)) > 3000;  // the tone, not the silence before it
  });
  ASSERT_EQ(packets.size(), 30u);
  for (size_t i = 1; i < packets.size(); ++i) {
    EXPECT_EQ(packets[i].header.payload_type, 0);
    EXPECT_EQ(packets[i].payload.size(), 160u);
    EXPECT_EQ(static_cast<uint16_t>(packets[i].header.seq - packets[i - 1].header.seq), 1);
    EXPECT_EQ(packets[i].header.timestamp - packets[i - 1].header.timestamp, 160u);
    EXPECT_EQ(packets[i].header.ssrc, packets[0].header.ssrc);
  }
  const auto span = packets.back().at - packets.front().at;
  EXPECT_GT(span, 29 * 20ms - 100ms);
  EXPECT_LT(span, 29 * 20ms + 200ms);
  const auto pcm = decoded(packets[10], Codec::kPcmu);
  EXPECT_NEAR(tone_level(pcm, 1000), 8000, 800);
  ASSERT_TRUE(listener_.wait([&] { return !listener_.plays.empty(); }));
  listener_.locked([&] {
    EXPECT_EQ(listener_.plays[0].play_id, 77u);
    EXPECT_FALSE(listener_.plays[0].stopped);
    return 0;
  });
}

TEST_F(EngineTest, NewPlayReplacesOldAndReportsItStopped) {
  start();
  Peer peer;
  open(1, peer);
  engine_->play(1, 1, {Audio::beep(10s)}, true);
  engine_->play(1, 2, {Audio::silence(40ms), Audio::beep(40ms)});
  ASSERT_TRUE(listener_.wait([&] { return listener_.plays.size() == 2; }));
  listener_.locked([&] {
    EXPECT_EQ(listener_.plays[0].play_id, 1u);
    EXPECT_TRUE(listener_.plays[0].stopped);
    EXPECT_EQ(listener_.plays[1].play_id, 2u);
    EXPECT_FALSE(listener_.plays[1].stopped);
    return 0;
  });
}

TEST_F(EngineTest, ReceivesRfc4733DigitsOnceEach) {
  start();
  Peer peer;
  const uint16_t port = open(1, peer, "PCMU", 101);
  // Each event: a start with the marker, updates, then the end packet three times; all with the
  // event's start timestamp. "9" afterwards shows nothing more is pending.
  for (char d : std::string("12#9")) {
    const uint8_t ev = *digit_to_event(d);
    const uint32_t ts = peer.timestamp();
    for (int i = 1; i <= 8; ++i) {
      const bool end = i > 5;
      std::array<uint8_t, 4> payload;
      build_telephone_event({ev, end, 10, static_cast<uint16_t>(160 * std::min(i, 5))},
                            payload.data());
      peer.send_header(port, {i == 1, 101, peer.seq()++, ts, 42}, payload);
    }
    peer.timestamp() += 160 * 10;
  }
  ASSERT_TRUE(listener_.wait([&] { return listener_.digits[1].size() >= 4; }));
  listener_.locked([&] {
    EXPECT_EQ(listener_.digits[1], "12#9");
    for (auto s : listener_.sources) EXPECT_EQ(s, DtmfSource::kRfc4733);
    return 0;
  });
  EXPECT_EQ(engine_->stats().malformed, 0u);
}

TEST_F(EngineTest, DetectsInbandDtmfWithoutTelephoneEvent) {
  start();
  Peer peer;
  const uint16_t port = open(1, peer, "PCMU");
  dtmf_tx_state_t* gen = dtmf_tx_init(nullptr);
  dtmf_tx_set_timing(gen, 80, 80);
  dtmf_tx_put(gen, "12#", -1);
  Pacer pacer;
  std::vector<int16_t> frame(kFrameSamples);
  for (int i = 0; i < 40; ++i) {  // 800 ms: three digits of 160 ms and some silence
    std::fill(frame.begin(), frame.end(), int16_t{0});
    dtmf_tx(gen, frame.data(), kFrameSamples);
    peer.send_audio(port, Codec::kPcmu, frame);
    pacer.wait();
  }
  dtmf_tx_free(gen);
  ASSERT_TRUE(listener_.wait([&] { return listener_.digits[1].size() >= 3; }))
      << listener_.locked([&] { return listener_.digits[1]; });
  listener_.locked([&] {
    EXPECT_EQ(listener_.digits[1], "12#");
    EXPECT_EQ(listener_.sources[0], DtmfSource::kInband);
    return 0;
  });
}

TEST_F(EngineTest, SendsRfc4733EventWithStartUpdatesAndThreeEnds) {
  start();
  Peer peer;
  open(1, peer, "PCMU", 101);
  engine_->send_dtmf(1, '5');
  // 100 ms of tone: updates at 160..640, then the end (duration 800) three times.
  auto events = peer.receive_n(7, [](const Received& r) { return r.header.payload_type == 101; });
  ASSERT_EQ(events.size(), 7u);
  int ends = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    auto ev = parse_telephone_event(events[i].payload);
    ASSERT_TRUE(ev);
    EXPECT_EQ(ev->event, 5);
    EXPECT_EQ(events[i].header.timestamp, events[0].header.timestamp);
    EXPECT_EQ(events[i].header.marker, i == 0);
    if (i > 0) {
      EXPECT_EQ(static_cast<uint16_t>(events[i].header.seq - events[i - 1].header.seq), 1);
      EXPECT_GE(ev->duration, parse_telephone_event(events[i - 1].payload)->duration);
    }
    ends += ev->end ? 1 : 0;
    EXPECT_EQ(ev->end, i >= 4);
  }
  EXPECT_EQ(ends, 3);
  EXPECT_EQ(parse_telephone_event(events.back().payload)->duration, 800);
  // Audio resumes after the event, on the same stream.
  auto audio = peer.receive_n(1, [](const Received& r) { return r.header.payload_type == 0; });
  ASSERT_EQ(audio.size(), 1u);
  EXPECT_EQ(audio[0].header.ssrc, events[0].header.ssrc);
}

TEST_F(EngineTest, SendsInbandDtmfWithoutTelephoneEvent) {
  start();
  Peer peer;
  open(1, peer, "PCMA");
  engine_->send_dtmf(1, '7');
  dtmf_rx_state_t* det = dtmf_rx_init(nullptr, nullptr, nullptr);
  std::string got;
  const auto end = Clock::now() + kDeadline;
  while (got.empty() && Clock::now() < end) {
    auto r = peer.receive(200ms);
    if (!r) continue;
    EXPECT_EQ(r->header.payload_type, 8);
    auto pcm = decoded(*r, Codec::kPcma);
    dtmf_rx(det, pcm.data(), static_cast<int>(pcm.size()));
    std::array<char, 8> d{};
    if (dtmf_rx_get(det, d.data(), 7) > 0) got = d.data();
  }
  dtmf_rx_free(det);
  EXPECT_EQ(got, "7");
}

TEST_F(EngineTest, RecordsMonoOfWhatThePeerSends) {
  start();
  Peer peer;
  const uint16_t port = open(1, peer);
  const std::string p = path("mono.wav");
  engine_->record(1, 9, p, RecordMode::kMono, 1s);
  Pacer pacer;
  for (size_t i = 0; listener_.locked([&] { return listener_.records.empty(); }); ++i) {
    ASSERT_LT(i, 250u) << "no on_record_done";
    peer.send_audio(port, Codec::kPcmu, tone(700, 6000, kFrameSamples, i * kFrameSamples));
    pacer.wait();
  }
  listener_.locked([&] {
    EXPECT_EQ(listener_.records[0].record_id, 9u);
    EXPECT_EQ(listener_.records[0].path, p);
    EXPECT_EQ(listener_.records[0].length, 1000ms);
    return 0;
  });
  auto [samples, channels] = read_wav(p);
  EXPECT_EQ(channels, 1);
  EXPECT_EQ(samples.size(), 8000u);
  // The first frames may be silence (jitter buffer priming, packets still on their way).
  EXPECT_NEAR(tone_level(std::span<const int16_t>(samples).subspan(2000, 4000), 700), 6000, 900);
}

TEST_F(EngineTest, BridgeRelaysBothWaysAndRecordsStereo) {
  start();
  Peer pa, pb;
  const uint16_t port_a = open(1, pa, "PCMU");
  // B negotiated A-law: the relay transcodes.
  const uint16_t port_b = open(2, pb, "PCMA", std::nullopt, SessionId{1});
  engine_->bridge(1, 2);
  const std::string p = path("stereo.wav");
  engine_->record(1, 5, p, RecordMode::kStereo, 1s);
  Pacer pacer;
  std::vector<Received> at_a, at_b;
  for (size_t i = 0; listener_.locked([&] { return listener_.records.empty(); }); ++i) {
    ASSERT_LT(i, 250u) << "no on_record_done";
    pa.send_audio(port_a, Codec::kPcmu, tone(500, 8000, kFrameSamples, i * kFrameSamples));
    pb.send_audio(port_b, Codec::kPcma, tone(1500, 2000, kFrameSamples, i * kFrameSamples));
    pacer.wait();
    while (auto r = pa.receive(0ms)) at_a.push_back(std::move(*r));
    while (auto r = pb.receive(0ms)) at_b.push_back(std::move(*r));
  }
  // A hears B (µ-law), B hears A (A-law).
  auto heard = [](const std::vector<Received>& v, Codec c, double hz) {
    int n = 0;
    for (const auto& r : v) {
      if (r.header.payload_type == payload_type(c) && tone_level(decoded(r, c), hz) > 1000) ++n;
    }
    return n;
  };
  EXPECT_GT(heard(at_b, Codec::kPcma, 500), 30);
  EXPECT_GT(heard(at_a, Codec::kPcmu, 1500), 30);

  auto [samples, channels] = read_wav(p);
  ASSERT_EQ(channels, 2);
  ASSERT_EQ(samples.size(), 16000u);
  std::vector<int16_t> left, right;
  for (size_t i = 4000; i < 16000; i += 2) {  // skip the first 250 ms
    left.push_back(samples[i]);
    right.push_back(samples[i + 1]);
  }
  EXPECT_NEAR(tone_level(left, 500), 8000, 1200);
  EXPECT_LT(tone_level(left, 1500), 300);
  EXPECT_NEAR(tone_level(right, 1500), 2000, 400);
  EXPECT_LT(tone_level(right, 500), 300);
  EXPECT_GT(rms(left), 3 * rms(right));
}

TEST_F(EngineTest, SharedStreamIsTheSameForEveryListener) {
  start(60s, 2);
  Peer p1, p2;
  open(1, p1);
  open(2, p2);  // round robin: the other worker
  std::mt19937 rng(7);
  std::vector<int16_t> noise(8000 * 2);
  for (auto& v : noise) v = static_cast<int16_t>(static_cast<int>(rng() % 16001) - 8000);
  auto stream = Audio::from_samples(noise);
  engine_->play_shared(1, 1, stream);
  engine_->play_shared(2, 2, stream);
  const auto loud = [](const Received& r) { return rms(decoded(r, Codec::kPcmu)) > 1000; };
  auto a = p1.receive_n(25, loud);
  auto b = p2.receive_n(25, loud);
  ASSERT_EQ(a.size(), 25u);
  ASSERT_EQ(b.size(), 25u);
  int matched = 0, close_in_time = 0;
  for (const auto& ra : a) {
    for (const auto& rb : b) {
      if (ra.payload == rb.payload) {
        ++matched;
        if (std::chrono::abs(ra.at - rb.at) < 20ms) ++close_in_time;
      }
    }
  }
  EXPECT_GE(matched, 20);                      // the same frames (up to a few at either end)...
  EXPECT_GE(close_in_time, matched * 8 / 10);  // ... at the same tick
  // Consecutive frames follow the stream: frame k+1 starts 160 samples after frame k.
  auto pcm0 = decoded(a[5], Codec::kPcmu);
  auto pcm1 = decoded(a[6], Codec::kPcmu);
  auto pos =
      std::search(noise.begin(), noise.end(), pcm0.begin(), pcm0.begin() + 4,
                  [](int16_t x, int16_t y) { return linear_to_ulaw(x) == linear_to_ulaw(y); });
  ASSERT_NE(pos, noise.end());
  const size_t at = static_cast<size_t>(pos - noise.begin());
  EXPECT_EQ(linear_to_ulaw(noise[(at + 160) % noise.size()]), linear_to_ulaw(pcm1[0]));
}

TEST_F(EngineTest, SymmetricRtpAnswersTheSourcePort) {
  start();
  Peer sdp_peer, real_peer, intruder;
  const uint16_t port = open(1, sdp_peer);
  // Before any packet: to the SDP address.
  ASSERT_TRUE(sdp_peer.receive(2s));
  // The peer sends from another port (NAT): the engine answers there.
  real_peer.send_audio(port, Codec::kPcmu, std::vector<int16_t>(kFrameSamples, 0));
  ASSERT_TRUE(real_peer.receive(2s));
  // Once latched, another source is ignored and counted; media keeps going to the latched one.
  intruder.send_audio(port, Codec::kPcmu, std::vector<int16_t>(kFrameSamples, 0));
  for (auto end = Clock::now() + kDeadline; engine_->stats().foreign == 0 && Clock::now() < end;) {
    real_peer.receive(20ms);
  }
  EXPECT_EQ(engine_->stats().foreign, 1u);
  real_peer.drain();
  EXPECT_TRUE(real_peer.receive(2s));
  EXPECT_FALSE(intruder.receive(100ms));
}

TEST_F(EngineTest, MalformedPacketsAreCountedAndHarmless) {
  start();
  Peer peer;
  const uint16_t port = open(1, peer, "PCMU", 101);
  std::vector<std::vector<uint8_t>> bad = {
      {0x80},                                                 // short
      std::vector<uint8_t>(172, 0x40),                        // version 1
      {0x80, 99, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 2, 3},      // unknown payload type
      {0x8F, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 2, 3},       // 15 CSRCs past the end
      {0x90, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 200},  // extension past the end
      {0xA0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 2, 3, 200},  // padding past the payload
      {0x80, 101, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1},           // telephone-event too short
  };
  for (const auto& b : bad) peer.send_raw(port, b);
  std::array<uint8_t, 8> rtcp = {0x80, 201, 0, 1, 0, 0, 0, 9};  // RTCP on the RTP port: ignored
  peer.send_raw(port, rtcp);
  for (auto end = Clock::now() + kDeadline;
       engine_->stats().malformed < bad.size() && Clock::now() < end;) {
    peer.receive(20ms);
  }
  EXPECT_EQ(engine_->stats().malformed, bad.size());
  // The session still works both ways.
  std::array<uint8_t, 4> payload;
  build_telephone_event({3, true, 10, 800}, payload.data());
  peer.send_header(port, {false, 101, peer.seq()++, 1234, 42}, payload);
  ASSERT_TRUE(listener_.wait([&] { return listener_.digits[1] == "3"; }));
  EXPECT_TRUE(peer.receive(2s));
  EXPECT_EQ(engine_->stats().malformed, bad.size());
}

TEST_F(EngineTest, MediaTimeoutFiresOnceAndNotWhileMediaFlows) {
  start(300ms);
  Peer silent, talking;
  open(1, silent);
  const uint16_t port = open(2, talking);
  // Session 2 gets media all along; session 1 none. Go on for 25 ticks (500 ms) after
  // session 1's timeout to see that it is reported once.
  Pacer pacer;
  int after = 0;
  for (int i = 0; after < 25; ++i) {
    ASSERT_LT(i, 250) << "no media timeout";
    talking.send_audio(port, Codec::kPcmu, std::vector<int16_t>(kFrameSamples, 0));
    pacer.wait();
    if (listener_.locked([&] { return listener_.timeouts[1] >= 1; })) ++after;
  }
  listener_.locked([&] {
    EXPECT_EQ(listener_.timeouts[1], 1);
    EXPECT_EQ(listener_.timeouts.count(2), 0u);
    return 0;
  });
}

TEST_F(EngineTest, CommandsForUnknownSessionsAreRejectedAndCloseFinishesEverything) {
  start();
  engine_->play(99, 1, {Audio::beep()});
  engine_->close(99);
  EXPECT_EQ(engine_->stats().rejected, 2u);
  Peer peer;
  open(1, peer);
  EXPECT_FALSE(engine_->open(1));  // already open
  const std::string p = path("closed.wav");
  engine_->play(1, 3, {Audio::beep(10s)});
  engine_->record(1, 4, p, RecordMode::kStereo, 60s);
  ASSERT_TRUE(peer.receive(2s));
  engine_->close(1);
  ASSERT_TRUE(
      listener_.wait([&] { return listener_.records.size() == 1 && listener_.plays.size() == 1; }));
  listener_.locked([&] {
    EXPECT_TRUE(listener_.plays[0].stopped);
    return 0;
  });
  EXPECT_TRUE(fs::exists(p));
  for (auto end = Clock::now() + kDeadline; engine_->stats().sessions != 0 && Clock::now() < end;) {
    std::this_thread::yield();
  }
  EXPECT_EQ(engine_->stats().sessions, 0u);
}

TEST_F(EngineTest, RecordToUnwritablePathReportsFailure) {
  start();
  Peer peer;
  open(1, peer);
  engine_->record(1, 8, "/nonexistent-dir/x.wav", RecordMode::kMono, 1s);
  ASSERT_TRUE(listener_.wait([&] { return listener_.records.size() == 1; }));
  listener_.locked([&] {
    EXPECT_EQ(listener_.records[0].length, 0ms);  // the default on_record_failed
    return 0;
  });
}

TEST(EngineStart, RejectsBadConfig) {
  TestListener l;
  EngineConfig c;
  c.port_min = 5000;
  c.port_max = 5001;
  EXPECT_FALSE(MediaEngine::start(c, &l));
  c.port_max = 6000;
  c.bind_address = "localhost";
  auto r = MediaEngine::start(c, &l);
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("localhost"), std::string::npos);
}

}  // namespace
}  // namespace tamas::media
