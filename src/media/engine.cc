// MediaEngine: port allocation, the map from session to worker, and command posting. See
// engine.h for the contract and worker.h for what runs on the workers.
//
// Thread rules: every public method may be called from any thread. `mutex_` guards the session
// map and the port cursor; it is never held while calling the listener or waiting on a worker.
#include "media/engine.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "media/recorder.h"
#include "media/worker.h"

namespace tamas::media {
namespace {

class Engine final : public MediaEngine {
 public:
  Engine(EngineConfig config, Listener* listener)
      : config_(std::move(config)), writer_(std::make_unique<RecordWriter>(listener)) {
    next_port_ = static_cast<uint16_t>(config_.port_min + (config_.port_min % 2));
  }

  ~Engine() override {
    // Workers first: closing their sessions hands the last blocks and closes to the writer,
    // which then finishes every file before its thread ends.
    for (auto& w : workers_) w->stop();
    workers_.clear();
    writer_.reset();
  }

  Status start_workers(int count, Listener* listener) {
    const auto epoch = std::chrono::steady_clock::now();
    for (int i = 0; i < count; ++i) {
      auto w = std::make_unique<Worker>(listener, writer_.get(), &counters_, config_.media_timeout,
                                        epoch);
      if (Status st = w->start(); !st) return st;
      workers_.push_back(std::move(w));
    }
    return Status::ok();
  }

  Result<LocalMedia> open(SessionId id, std::optional<SessionId> near) override {
    std::lock_guard lock(mutex_);
    if (where_.count(id) != 0) {
      return Status::error("media session " + std::to_string(id) + " is already open");
    }
    size_t worker = next_worker_;
    if (near) {
      auto it = where_.find(*near);
      if (it == where_.end()) {
        return Status::error("media session " + std::to_string(*near) +
                             " (asked for as `near`) is not open");
      }
      worker = it->second;
    } else {
      next_worker_ = (next_worker_ + 1) % workers_.size();
    }
    auto ports = bind_pair();
    if (!ports) return ports.status();
    const auto [rtp_fd, rtcp_fd, port] = *ports;
    where_[id] = worker;
    workers_[worker]->post(
        [id, rtp_fd, rtcp_fd, port](Worker& w) { w.do_open(id, rtp_fd, rtcp_fd, port); });
    return LocalMedia{config_.bind_address, port};
  }

  void set_remote(SessionId id, const RemoteMedia& remote, const Negotiated& agreed) override {
    post(id, [id, remote, agreed](Worker& w) { w.do_set_remote(id, remote, agreed); });
  }

  void play(SessionId id, uint64_t play_id, std::vector<std::shared_ptr<const Audio>> items,
            bool loop) override {
    post(id, [id, play_id, items = std::move(items), loop](Worker& w) mutable {
      w.do_play(id, play_id, std::move(items), loop);
    });
  }

  void play_shared(SessionId id, uint64_t play_id, std::shared_ptr<const Audio> stream) override {
    post(id, [id, play_id, stream = std::move(stream)](Worker& w) mutable {
      w.do_play_shared(id, play_id, std::move(stream));
    });
  }

  void stop_play(SessionId id) override {
    post(id, [id](Worker& w) { w.do_stop_play(id); });
  }

  void record(SessionId id, uint64_t record_id, std::string path, RecordMode mode,
              Duration max_length) override {
    post(id, [id, record_id, path = std::move(path), mode, max_length](Worker& w) mutable {
      w.do_record(id, record_id, std::move(path), mode, max_length);
    });
  }

  void stop_record(SessionId id) override {
    post(id, [id](Worker& w) { w.do_stop_record(id); });
  }

  void bridge(SessionId a, SessionId b) override {
    Worker* w = nullptr;
    {
      std::lock_guard lock(mutex_);
      auto ia = where_.find(a);
      auto ib = where_.find(b);
      // Sessions on different workers cannot be bridged without crossing threads: open the
      // second one `near` the first. Counted as rejected.
      if (ia != where_.end() && ib != where_.end() && ia->second == ib->second) {
        w = workers_[ia->second].get();
      }
    }
    if (w == nullptr) {
      counters_.rejected.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    w->post([a, b](Worker& wk) { wk.do_bridge(a, b); });
  }

  void unbridge(SessionId id) override {
    post(id, [id](Worker& w) { w.do_unbridge(id); });
  }

  void send_dtmf(SessionId id, char digit) override {
    post(id, [id, digit](Worker& w) { w.do_send_dtmf(id, digit); });
  }

  void close(SessionId id) override {
    Worker* w = nullptr;
    {
      std::lock_guard lock(mutex_);
      auto it = where_.find(id);
      if (it != where_.end()) {
        w = workers_[it->second].get();
        where_.erase(it);
      }
    }
    if (w == nullptr) {
      counters_.rejected.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    w->post([id](Worker& wk) { wk.do_close(id); });
  }

  EngineStats stats() const override {
    EngineStats s;
    s.sessions = counters_.sessions.load(std::memory_order_relaxed);
    s.packets_in = counters_.packets_in.load(std::memory_order_relaxed);
    s.packets_out = counters_.packets_out.load(std::memory_order_relaxed);
    s.malformed = counters_.malformed.load(std::memory_order_relaxed);
    s.foreign = counters_.foreign.load(std::memory_order_relaxed);
    s.dtmf_events = counters_.dtmf_events.load(std::memory_order_relaxed);
    s.rejected = counters_.rejected.load(std::memory_order_relaxed);
    s.workers = static_cast<int>(workers_.size());
    return s;
  }

 private:
  struct Ports {
    int rtp_fd, rtcp_fd;
    uint16_t port;
  };

  static int udp_socket(const in_addr& addr, uint16_t port) {
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr = addr;
    sa.sin_port = htons(port);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }

  // Binds an even RTP port and the odd RTCP port above it, walking the range from where the
  // last search stopped (so a just-closed port is not reused at once). mutex_ held.
  Result<Ports> bind_pair() {
    in_addr addr{};
    if (inet_pton(AF_INET, config_.bind_address.c_str(), &addr) != 1) {
      return Status::error("media bind_address " + config_.bind_address +
                           " is not an IPv4 address");
    }
    const int first = config_.port_min + (config_.port_min % 2);
    const int pairs = (config_.port_max - first + 1) / 2;
    for (int i = 0; i < pairs; ++i) {
      const uint16_t port = next_port_;
      next_port_ = static_cast<uint16_t>(port + 2 > config_.port_max - 1 ? first : port + 2);
      const int rtp = udp_socket(addr, port);
      if (rtp < 0) continue;
      const int rtcp = udp_socket(addr, static_cast<uint16_t>(port + 1));
      if (rtcp < 0) {
        ::close(rtp);
        continue;
      }
      return Ports{rtp, rtcp, port};
    }
    return Status::error("no free RTP port pair in " + std::to_string(config_.port_min) + "-" +
                         std::to_string(config_.port_max) + " on " + config_.bind_address);
  }

  void post(SessionId id, Worker::Command command) {
    Worker* w = nullptr;
    {
      std::lock_guard lock(mutex_);
      auto it = where_.find(id);
      if (it != where_.end()) w = workers_[it->second].get();
    }
    if (w == nullptr) {
      counters_.rejected.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    w->post(std::move(command));
  }

  const EngineConfig config_;
  WorkerCounters counters_;
  std::unique_ptr<RecordWriter> writer_;
  std::vector<std::unique_ptr<Worker>> workers_;  // fixed after start
  mutable std::mutex mutex_;
  std::unordered_map<SessionId, size_t> where_;  // guarded by mutex_
  size_t next_worker_ = 0;                       // guarded by mutex_
  uint16_t next_port_ = 0;                       // guarded by mutex_
};

}  // namespace

Result<std::unique_ptr<MediaEngine>> MediaEngine::start(EngineConfig config, Listener* listener) {
  if (listener == nullptr) return Status::error("media engine: no listener");
  if (config.port_min < 1024 || config.port_max <= config.port_min + 1) {
    return Status::error("media port range " + std::to_string(config.port_min) + "-" +
                         std::to_string(config.port_max) +
                         " is invalid: it needs at least one even/odd pair above 1023");
  }
  in_addr addr{};
  if (inet_pton(AF_INET, config.bind_address.c_str(), &addr) != 1) {
    return Status::error("media bind_address " + config.bind_address + " is not an IPv4 address");
  }
  int workers = config.workers;
  if (workers <= 0) workers = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  auto engine = std::make_unique<Engine>(std::move(config), listener);
  if (Status st = engine->start_workers(workers, listener); !st) return st;
  return std::unique_ptr<MediaEngine>(std::move(engine));
}

}  // namespace tamas::media
