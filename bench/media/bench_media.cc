// Media engine load: N sessions each sending 20 ms G.711 packets to a local sink socket, for a
// per-call prompt (play), a shared stream (play_shared) and relayed bridges (N/2 pairs fed by a
// test sender), against the baseline of the same engine with no sessions. Prints the engine's
// CPU per session: the process's CPU minus the sink's and sender's threads (measured with
// CLOCK_THREAD_CPUTIME_ID).
//
// Usage: bench_media [sessions=200] [seconds=5] [workers=0]
// Thread rules: the main thread drives the engine; the sink and sender threads only touch their
// own sockets and atomics.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <numbers>
#include <string>
#include <thread>
#include <vector>

#include "media/engine.h"
#include "media/g711.h"
#include "media/rtp.h"

using namespace tamas;
using namespace tamas::media;
using namespace std::chrono_literals;

namespace {

class NullListener : public Listener {
 public:
  void on_dtmf(SessionId, char, DtmfSource) override {}
  void on_play_done(SessionId, uint64_t, bool) override {}
  void on_record_done(SessionId, uint64_t, const std::string&, Duration) override {}
  void on_media_timeout(SessionId) override {}
};

double process_cpu() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double thread_cpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

int udp_socket(uint16_t* port) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  const int size = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  return fd;
}

// A helper thread whose own CPU time is published after every round.
struct Helper {
  std::atomic<bool> stop{false};
  std::atomic<double> cpu{0};
  std::thread thread;
  void join() {
    stop = true;
    if (thread.joinable()) thread.join();
  }
};

enum class Mode { kIdle, kPlay, kShared, kRelay };

struct Figures {
  double engine_cpu;  // engine CPU seconds per wall second
  double packets_per_second;
};

Figures run(Mode mode, int sessions, int seconds, int workers) {
  NullListener listener;
  EngineConfig c;
  c.port_min = 40000;
  c.port_max = 60000;
  c.workers = workers;
  auto started = MediaEngine::start(c, &listener);
  if (!started) {
    std::fprintf(stderr, "%s\n", started.message().c_str());
    std::exit(1);
  }
  auto engine = std::move(*started);

  uint16_t sink_port = 0;
  const int sink_fd = udp_socket(&sink_port);
  std::atomic<uint64_t> received{0};
  Helper sink;
  sink.thread = std::thread([&] {
    char buf[1500];
    while (!sink.stop) {
      pollfd p{sink_fd, POLLIN, 0};
      if (poll(&p, 1, 50) > 0) {
        while (recv(sink_fd, buf, sizeof buf, MSG_DONTWAIT) > 0) ++received;
      }
      sink.cpu = thread_cpu();
    }
  });

  std::vector<int16_t> tone(8000 * 3);
  for (size_t i = 0; i < tone.size(); ++i) {
    tone[i] = static_cast<int16_t>(8000 * std::sin(2 * std::numbers::pi * 440.0 * i / 8000));
  }
  auto audio = Audio::from_samples(tone);
  RemoteMedia remote;
  remote.address = "127.0.0.1";
  remote.port = sink_port;
  remote.formats = {{0, "PCMU", 8000}};
  const Negotiated agreed = *negotiate(remote);

  std::vector<uint16_t> feed_ports;  // relay: the first leg of each pair
  for (int i = 0; mode != Mode::kIdle && i < sessions; ++i) {
    const auto id = static_cast<SessionId>(i + 1);
    std::optional<SessionId> near;
    if (mode == Mode::kRelay && i % 2 == 1) near = id - 1;
    auto local = engine->open(id, near);
    if (!local) {
      std::fprintf(stderr, "%s\n", local.message().c_str());
      std::exit(1);
    }
    engine->set_remote(id, remote, agreed);
    if (mode == Mode::kPlay) engine->play(id, 1, {audio}, true);
    if (mode == Mode::kShared) engine->play_shared(id, 1, audio);
    if (mode == Mode::kRelay && i % 2 == 0) feed_ports.push_back(local->port);
    if (mode == Mode::kRelay && i % 2 == 1) engine->bridge(id - 1, id);
  }

  // Relay: one sender plays the phones on the first legs, a packet per leg every 20 ms.
  Helper sender;
  if (!feed_ports.empty()) {
    sender.thread = std::thread([&] {
      uint16_t port = 0;
      const int fd = udp_socket(&port);
      std::array<uint8_t, 200> buf{};
      std::array<uint8_t, kFrameSamples> payload;
      payload.fill(0x55);
      uint16_t seq = 0;
      uint32_t ts = 0;
      auto next = std::chrono::steady_clock::now();
      while (!sender.stop) {
        const size_t n = build_rtp({false, 0, seq++, ts, 1234}, payload, buf);
        ts += kFrameSamples;
        for (uint16_t to : feed_ports) {
          sockaddr_in a{};
          a.sin_family = AF_INET;
          a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
          a.sin_port = htons(to);
          sendto(fd, buf.data(), n, 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
        }
        sender.cpu = thread_cpu();
        next += 20ms;
        std::this_thread::sleep_until(next);
      }
      close(fd);
    });
  }

  std::this_thread::sleep_for(1s);  // warm up
  const double cpu0 = process_cpu() - sink.cpu - sender.cpu;
  const uint64_t p0 = received;
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  const double cpu1 = process_cpu() - sink.cpu - sender.cpu;
  const uint64_t p1 = received;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  sender.join();
  engine.reset();
  sink.join();
  close(sink_fd);
  return {(cpu1 - cpu0) / wall, static_cast<double>(p1 - p0) / wall};
}

}  // namespace

int main(int argc, char** argv) {
  const int sessions = argc > 1 ? std::atoi(argv[1]) : 200;
  const int seconds = argc > 2 ? std::atoi(argv[2]) : 5;
  const int workers = argc > 3 ? std::atoi(argv[3]) : 0;
  std::printf("sessions=%d seconds=%d workers=%d (0 = one per core)\n", sessions, seconds, workers);
  const Figures idle = run(Mode::kIdle, 0, seconds, workers);
  std::printf("%-7s engine cpu=%6.2f%% of one core (baseline)\n", "idle", idle.engine_cpu * 100);
  for (auto [mode, name] : {std::pair{Mode::kPlay, "play"}, std::pair{Mode::kShared, "shared"},
                            std::pair{Mode::kRelay, "relay"}}) {
    const Figures f = run(mode, sessions, seconds, workers);
    const double per = (f.engine_cpu - idle.engine_cpu) / sessions;
    std::printf(
        "%-7s engine cpu=%6.2f%% of one core, sink %6.0f packets/s, per session "
        "%.4f%% of a core = %.2f us per 20 ms\n",
        name, f.engine_cpu * 100, f.packets_per_second, per * 100, per * 20000);
  }
  return 0;
}
