// `tamas serve` as a child process for black-box tests: the real binary (TAMAS_BINARY) on a free
// SIP port of 127.0.0.1 with its own RTP range and data folder, its log in a file, and its records
// read back through `tamas interactions --json`. Also a runner for other background programs
// (SIPp as a callee). Every process started here is killed by its destructor.
//
// Thread rules: a ServeProcess is used from the test's thread; its queries (log(), records())
// only read files and run short-lived processes, so other threads may call them too.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/run_tamas.h"
#include "support/sip_peer.h"

extern char** environ;

namespace tamas::test {

// Polls `done` every `every` until it is true or `limit` passes; returns its last value. For
// conditions with no event to wait on: a child's exit, a log line, a row in a database file.
template <typename Done>
bool poll_until(Done done, std::chrono::milliseconds limit, std::chrono::milliseconds every) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(every);
  }
  return true;
}

// Whether every UDP port in [first, first + count) of 127.0.0.1 is free right now.
inline bool udp_ports_free(int first, int count) {
  for (int port = first; port < first + count; ++port) {
    const int fd = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    if (!ok) return false;
  }
  return true;
}

// The even first port of `count` ports free for RTP, tried from a place that `hint` picks, below
// the kernel's ephemeral ports (where free_port() and the peers' sockets live). Other programs on
// the machine (a benchmark, another test run) may hold whole ranges: those are skipped.
inline int free_rtp_range(int hint, int count) {
  constexpr int kLow = 20000, kHigh = 32700;
  const int span = (kHigh - kLow - count) / count;
  for (int attempt = 0; attempt < span; ++attempt) {
    const int first = kLow + ((hint + attempt) % span) * count;
    if (udp_ports_free(first, count)) return first;
  }
  return kLow + (hint % span) * count;  // none free: the server says so when a call needs one
}

// A child process with stdout and stderr going to `output` (or /dev/null), killed when dropped.
class Child {
 public:
  explicit Child(std::vector<std::string> args, const std::string& output = "/dev/null") {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // Whether it has exited (reaping it: exit_status() is then known).
  bool exited() {
    if (pid_ <= 0) return true;
    int st = 0;
    if (waitpid(pid_, &st, WNOHANG) == pid_) {
      exit_status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
      pid_ = -1;
      return true;
    }
    return false;
  }
  // The exit status, waiting up to `limit`; -2 when still running, -1 when killed by a signal.
  int wait(std::chrono::milliseconds limit) {
    return poll_until([&] { return exited(); }, limit, std::chrono::milliseconds(20)) ? exit_status_
                                                                                      : -2;
  }
  void signal(int sig) {
    if (pid_ > 0) kill(pid_, sig);
  }

 private:
  pid_t pid_ = -1;
  int exit_status_ = -1;
};

// A running `tamas serve --config CONFIG` on a free port.
class ServeProcess {
 public:
  // With `data_dir`, the server uses (and leaves behind) that folder: a second ServeProcess on
  // the same folder is the same center restarted. Without, a fresh one removed at the end.
  explicit ServeProcess(const std::string& config, std::filesystem::path data_dir = {})
      : config_(config),
        data_dir_(!data_dir.empty() ? data_dir
                                    : std::filesystem::temp_directory_path() /
                                          ("tamas-serve-" + std::to_string(::getpid()) + "-" +
                                           std::to_string(++counter_))),
        keep_(!data_dir.empty()),
        log_(data_dir_ / ("serve-" + std::to_string(++counter_) + ".log")),
        port_(free_port()),
        http_port_(free_port()) {
    if (!keep_) std::filesystem::remove_all(data_dir_);
    std::filesystem::create_directories(data_dir_);
    const int rtp = free_rtp_range(::getpid() * 7 + counter_, kRtpPorts);
    child_ = std::make_unique<Child>(
        std::vector<std::string>{TAMAS_BINARY, "serve", "--config", config, "--data-dir",
                                 data_dir_.string(), "--sip-listen",
                                 "127.0.0.1:" + std::to_string(port_), "--rtp-ports",
                                 std::to_string(rtp) + "-" + std::to_string(rtp + kRtpPorts - 1),
                                 "--http-listen", "127.0.0.1:" + std::to_string(http_port_),
                                 "--drain-timeout", "5s"},
        log_.string());
  }
  ~ServeProcess() {
    child_.reset();  // killed before its folder goes
    if (!keep_) std::filesystem::remove_all(data_dir_);
  }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  // Waits until the server answers OPTIONS (prompts are synthesized before it listens); false
  // when it exited or `limit` passed.
  bool ready(std::chrono::seconds limit = std::chrono::seconds(60)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    int i = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (child_->exited()) return false;
      UdpPeer peer;
      const std::string id = "ready-" + std::to_string(++i);
      peer.send_to(port_, request("OPTIONS", "100", peer.port(), id, 1, "", "", ""));
      if (peer.any_status(std::chrono::milliseconds(300)) == 200) return true;
    }
    return false;
  }
  // Sends a signal and waits (up to `limit`) for the exit status; -2 when still running.
  int stop(int sig = SIGTERM, std::chrono::seconds limit = std::chrono::seconds(20)) {
    child_->signal(sig);
    return child_->wait(limit);
  }
  void signal(int sig) { child_->signal(sig); }
  uint16_t port() const { return port_; }
  uint16_t http_port() const { return http_port_; }
  const std::filesystem::path& data_dir() const { return data_dir_; }
  const std::string& config() const { return config_; }
  std::string log() const {
    std::ifstream in(log_);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  // Waits until the log has `count` lines containing every one of `parts` (in any order);
  // returns the last of them, or "" after `limit`.
  std::string wait_log(const std::vector<std::string>& parts,
                       std::chrono::milliseconds limit = std::chrono::seconds(10),
                       int count = 1) const {
    std::string found;
    poll_until(
        [&] {
          std::istringstream in(log());
          int seen = 0;
          for (std::string line; std::getline(in, line);) {
            bool all = true;
            for (const auto& p : parts) all = all && line.find(p) != std::string::npos;
            if (all && ++seen == count) {
              found = line;
              return true;
            }
          }
          return false;
        },
        limit, std::chrono::milliseconds(20));
    return found;
  }
  // `tamas interactions` (or `voicemails`) --json for this server's data, of one tenant when
  // given; null when the command failed.
  nlohmann::json records(const std::string& what = "interactions",
                         const std::string& tenant = "") const {
    std::vector<std::string> args = {"--config", config_, "--data-dir", data_dir_.string(),
                                     "--json"};
    if (!tenant.empty()) args.insert(args.end(), {"--tenant", tenant});
    const Outcome o = run_tamas(what, args);
    if (o.status != 0) return nlohmann::json();
    return nlohmann::json::parse(o.out, nullptr, false);
  }
  // Waits until `n` interaction records (of `tenant`, when given) are stored; returns what is
  // stored then (fewer after `limit`).
  nlohmann::json wait_records(size_t n, std::chrono::seconds limit = std::chrono::seconds(15),
                              const std::string& tenant = "") const {
    nlohmann::json r;
    poll_until(  // the store commits asynchronously: poll the database
        [&] {
          r = records("interactions", tenant);
          return r.is_array() && r.size() >= n;
        },
        limit, std::chrono::milliseconds(100));
    return r;
  }

 private:
  static constexpr int kRtpPorts = 200;  // 100 calls' worth: the tests place a few at a time
  static inline int counter_ = 0;
  std::string config_;
  std::filesystem::path data_dir_;
  bool keep_ = false;
  std::filesystem::path log_;
  uint16_t port_ = 0;
  uint16_t http_port_ = 0;  // the web side (API), on its own free port
  std::unique_ptr<Child> child_;
};

}  // namespace tamas::test
