// A media worker: one thread that owns a set of sessions and drives all of them.
//
// The thread sleeps in epoll_wait on: a timerfd that fires every 20 ms on a grid shared by every
// worker of the engine (so tick N happens at the same time everywhere, which is what keeps music
// on hold in step across workers), an eventfd that says commands are waiting, and each session's
// non-blocking RTP and RTCP sockets. Packets are handled as they arrive (relay, DTMF events,
// into the jitter buffer); the tick generates and sends one frame per session, takes one frame
// out of each jitter buffer, feeds DTMF detection and recorders, sends RTCP and checks timeouts.
//
// Thread rules: post() and counters are thread-safe. Everything else (the sessions, the
// do_* command handlers) runs on the worker thread only; commands are closures posted by the
// engine, queued under a mutex and swapped out in one go when the eventfd fires.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <span>
#include <thread>
#include <unordered_map>
#include <vector>

#include "media/engine.h"
#include "media/recorder.h"
#include "media/rtp.h"
#include "media/session.h"

namespace tamas::media {

struct WorkerCounters {
  std::atomic<uint64_t> sessions{0}, packets_in{0}, packets_out{0}, malformed{0}, foreign{0},
      dtmf_events{0}, rejected{0};
};

class Worker {
 public:
  using Clock = std::chrono::steady_clock;
  using Command = std::function<void(Worker&)>;

  // `listener`, `writer` and `counters` are borrowed and outlive the worker. `epoch` is the
  // engine's tick 0.
  Worker(Listener* listener, RecordWriter* writer, WorkerCounters* counters, Duration media_timeout,
         Clock::time_point epoch);
  ~Worker();  // stop() if still running
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Creates the timerfd, eventfd and epoll set and starts the thread.
  Status start();
  // Closes every session (reporting plays stopped and finishing recordings) and joins.
  void stop();
  void post(Command command);

  // Command handlers: worker thread only. Sockets passed to do_open are owned from then on.
  void do_open(SessionId id, int rtp_fd, int rtcp_fd, uint16_t port);
  void do_set_remote(SessionId id, const RemoteMedia& remote, const Negotiated& agreed);
  void do_play(SessionId id, uint64_t play_id, std::vector<std::shared_ptr<const Audio>> items,
               bool loop);
  void do_play_shared(SessionId id, uint64_t play_id, std::shared_ptr<const Audio> stream);
  void do_stop_play(SessionId id);
  void do_record(SessionId id, uint64_t record_id, std::string path, RecordMode mode,
                 Duration max_length);
  void do_stop_record(SessionId id);
  void do_bridge(SessionId a, SessionId b);
  void do_unbridge(SessionId id);
  void do_send_dtmf(SessionId id, char digit);
  void do_close(SessionId id);

 private:
  void run();
  void run_commands();
  void tick(uint64_t expirations);
  void drain_rtp(Session& s);
  void drain_rtcp(Session& s);
  void on_rtp(Session& s, std::span<const uint8_t> datagram, const sockaddr_in& from,
              Clock::time_point now);
  void on_telephone_event(Session& s, const RtpView& packet);
  // Forwards a packet received on to.bridge to `to`'s peer, in `to`'s codec and numbering.
  void relay(Session& to, const RtpView& packet, bool event);
  void produce(Session& s);
  void send_event_packet(Session& s);
  void send_rtp(Session& s, const RtpHeader& header, std::span<const uint8_t> payload);
  void send_rtcp(Session& s);
  void record_tick(Session& s);
  void report_digit(Session& s, char digit, DtmfSource source);
  void end_play(Session& s, bool stopped);
  void finish_recording(Session& s);
  void unbridge(Session& s);
  Session* find(SessionId id);
  std::span<const uint8_t> shared_payload(const Audio& stream, Codec codec);

  Listener* const listener_;
  RecordWriter* const writer_;
  WorkerCounters* const counters_;
  const Duration media_timeout_;
  const Clock::time_point epoch_;

  int epoll_fd_ = -1, timer_fd_ = -1, event_fd_ = -1;
  std::thread thread_;
  bool running_ = false;  // worker thread only (cleared by the stop command)

  std::mutex mutex_;
  std::vector<Command> queue_;  // guarded by mutex_

  uint64_t tick_ = 0;  // ticks since the engine's epoch
  std::unordered_map<SessionId, std::unique_ptr<Session>> sessions_;
  std::unordered_map<int, Session*> by_fd_;
  std::mt19937 rng_;  // SSRCs and initial sequence numbers and timestamps
  // Music on hold encoded once per tick per stream and codec, shared by every listener.
  struct SharedFrame {
    const Audio* stream;
    Codec codec;
    std::array<uint8_t, kFrameSamples> payload;
  };
  std::vector<SharedFrame> shared_frames_;
};

}  // namespace tamas::media
