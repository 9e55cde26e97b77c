// Helpers for SIP tests: free ports, SIPp runs, a raw UDP peer that speaks just enough SIP.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace tamas::test {

// A port free for UDP and TCP on 127.0.0.1 right now (the kernel's choice of an ephemeral port).
inline uint16_t free_port() {
  for (int attempt = 0; attempt < 20; ++attempt) {
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    bind(u, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(u, reinterpret_cast<sockaddr*>(&a), &len);
    const uint16_t port = ntohs(a.sin_port);
    int t = socket(AF_INET, SOCK_STREAM, 0);
    const bool tcp_free = bind(t, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(t);
    ::close(u);
    if (tcp_free) return port;
  }
  return 0;
}

inline bool have_sipp() { return access("/usr/bin/sipp", X_OK) == 0; }

// Runs sipp with the arguments (plus its own local port and no terminal) and returns its exit
// status: 0 when every call succeeded.
inline int run_sipp(std::vector<std::string> args) {
  args.insert(args.begin(), "sipp");
  for (const char* a : {"-i", "127.0.0.1", "-nostdin", "-timeout", "30s", "-timeout_error"}) {
    args.emplace_back(a);
  }
  args.emplace_back("-p");
  args.emplace_back(std::to_string(free_port()));
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  const std::filesystem::path cwd = std::filesystem::temp_directory_path();
  pid_t pid = 0;
  const std::string old = std::filesystem::current_path();
  std::filesystem::current_path(cwd);  // sipp writes its logs to the working directory
  const int err = posix_spawn(&pid, "/usr/bin/sipp", &fa, nullptr, argv.data(), environ);
  std::filesystem::current_path(old);
  posix_spawn_file_actions_destroy(&fa);
  if (err != 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

inline std::string read_crlf(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string raw = ss.str();
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r')) out += '\r';
    out += raw[i];
  }
  return out;
}

// Adds ";rport" after the sent-by of the first Via header (full or compact form, folded over
// continuation lines or not): before its first parameter, or at its end.
inline std::string with_rport(const std::string& msg) {
  size_t pos = 0;
  while (pos < msg.size()) {
    size_t eol = msg.find("\r\n", pos);
    if (eol == std::string::npos || eol == pos) break;  // end of headers
    std::string name = msg.substr(pos, msg.find(':', pos) - pos);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.pop_back();
    if (name == "via" || name == "v") {
      while (eol + 2 < msg.size() && (msg[eol + 2] == ' ' || msg[eol + 2] == '\t')) {
        eol = msg.find("\r\n", eol + 2);
      }
      size_t at = msg.find_first_of(";,", msg.find(':', pos));
      if (at == std::string::npos || at > eol) at = eol;
      return msg.substr(0, at) + ";rport" + msg.substr(at);
    }
    pos = eol + 2;
  }
  return msg;
}

inline std::string sdp_body(uint16_t port) {
  return "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
         "m=audio " +
         std::to_string(port) +
         " RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n";
}

inline std::string request(const std::string& method, const std::string& to_user,
                           uint16_t local_port, const std::string& call_id, int cseq,
                           const std::string& to_tag, const std::string& content_type,
                           const std::string& body) {
  const std::string lp = std::to_string(local_port);
  std::string m = method + " sip:" + to_user + "@127.0.0.1 SIP/2.0\r\n";
  m += "Via: SIP/2.0/UDP 127.0.0.1:" + lp + ";branch=z9hG4bK-" + call_id + "-" + method + "-" +
       std::to_string(cseq) + ";rport\r\n";
  m += "Max-Forwards: 70\r\n";
  m += "From: <sip:5551234@127.0.0.1:" + lp + ">;tag=caller-" + call_id + "\r\n";
  m += "To: <sip:" + to_user + "@127.0.0.1>" + (to_tag.empty() ? "" : ";tag=" + to_tag) + "\r\n";
  m += "Call-ID: " + call_id + "\r\n";
  m += "CSeq: " + std::to_string(cseq) + " " + method + "\r\n";
  m += "Contact: <sip:5551234@127.0.0.1:" + lp + ">\r\n";
  if (!content_type.empty()) m += "Content-Type: " + content_type + "\r\n";
  m += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return m;
}

inline std::string invite(const std::string& to, uint16_t local_port, const std::string& id,
                          const std::string& body = "") {
  return request("INVITE", to, local_port, id, 1, "", "application/sdp",
                 body.empty() ? sdp_body(local_port + 2) : body);
}
inline std::string ack(const std::string& to, uint16_t lp, const std::string& id,
                       const std::string& to_tag) {
  return request("ACK", to, lp, id, 1, to_tag, "", "");
}
inline std::string bye(const std::string& to, uint16_t lp, const std::string& id,
                       const std::string& to_tag, int cseq) {
  return request("BYE", to, lp, id, cseq, to_tag, "", "");
}
inline std::string info(const std::string& to, uint16_t lp, const std::string& id,
                        const std::string& to_tag, const std::string& type,
                        const std::string& body, int cseq) {
  return request("INFO", to, lp, id, cseq, to_tag, type, body);
}

// Whether the message's top Via (with its continuation lines, whitespace removed) is over TCP.
inline bool top_via_is_tcp(const std::string& msg) {
  size_t pos = 0;
  while (pos < msg.size()) {
    size_t eol = msg.find("\r\n", pos);
    if (eol == std::string::npos || eol == pos) return false;
    std::string name = msg.substr(pos, msg.find(':', pos) - pos);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.pop_back();
    if (name == "via" || name == "v") {
      std::string value = msg.substr(msg.find(':', pos) + 1, eol - msg.find(':', pos) - 1);
      while (eol + 2 < msg.size() && (msg[eol + 2] == ' ' || msg[eol + 2] == '\t')) {
        const size_t next = msg.find("\r\n", eol + 2);
        value += msg.substr(eol + 2, next - eol - 2);
        eol = next;
      }
      std::string compact;
      for (char c : value) {
        if (c != ' ' && c != '\t') compact += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
      return compact.rfind("SIP/2.0/TCP", 0) == 0;
    }
    pos = eol + 2;
  }
  return false;
}

// Sends one message over a new TCP connection and returns the status of the first final
// response on it (or of the first provisional one if no final one follows), -1 for none.
inline int tcp_exchange(uint16_t port, const std::string& msg, std::chrono::milliseconds limit) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  [[maybe_unused]] auto w = ::send(fd, msg.data(), msg.size(), MSG_NOSIGNAL);
  std::string got;
  int first = -1;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[8192];
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
    // Each response starts with a status line.
    for (size_t at = got.find("SIP/2.0 "); at != std::string::npos;
         at = got.find("SIP/2.0 ", at + 1)) {
      if (at + 11 > got.size()) break;
      const int st = std::atoi(got.c_str() + at + 8);
      if (st >= 200) {
        ::close(fd);
        return st;
      }
      if (st > 0 && first < 0) first = st;
    }
  }
  ::close(fd);
  return first;
}

// A UDP socket on 127.0.0.1 that sends requests and reads responses.
class UdpPeer {
 public:
  UdpPeer() {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~UdpPeer() { ::close(fd_); }
  UdpPeer(const UdpPeer&) = delete;
  UdpPeer& operator=(const UdpPeer&) = delete;

  uint16_t port() const { return port_; }

  void send_to(uint16_t port, const std::string& msg) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    sendto(fd_, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }

  // The next datagram, or nullopt after `limit`.
  std::optional<std::string> receive(std::chrono::milliseconds limit) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(limit.count())) <= 0) return std::nullopt;
    char buf[65536];
    const ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return std::nullopt;
    return std::string(buf, static_cast<size_t>(n));
  }

  static int status_of(const std::string& msg) {
    if (msg.rfind("SIP/2.0 ", 0) != 0 || msg.size() < 11) return -1;
    return std::atoi(msg.c_str() + 8);
  }
  static std::string header(const std::string& msg, const std::string& name) {
    std::istringstream in(msg);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(name + ":", 0) == 0) {
        std::string v = line.substr(name.size() + 1);
        while (!v.empty() && (v.front() == ' ')) v.erase(v.begin());
        while (!v.empty() && (v.back() == '\r' || v.back() == ' ')) v.pop_back();
        return v;
      }
      if (line == "\r" || line.empty()) break;
    }
    return "";
  }

  // The first final response (>= 200) to `method` in dialog `call_id`, or -1 after 5 s.
  int final_status(const std::string& call_id, const std::string& method = "INVITE") {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      auto msg = receive(left);
      if (!msg) break;
      const int st = status_of(*msg);
      if (st < 200 || header(*msg, "Call-ID") != call_id) continue;
      if (header(*msg, "CSeq").find(method) == std::string::npos) continue;
      last_ = *msg;
      const std::string to = header(*msg, "To");
      const auto tag = to.find("tag=");
      to_tag_ = tag == std::string::npos ? "" : to.substr(tag + 4);
      return st;
    }
    return -1;
  }
  // The first response of any kind that is final, or the first provisional one if no final one
  // follows within `limit`; -1 when nothing came.
  int any_status(std::chrono::milliseconds limit) {
    int first = -1;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      auto msg = receive(left);
      if (!msg) break;
      const int st = status_of(*msg);
      if (st >= 200) return st;
      if (st > 0 && first < 0) first = st;
    }
    return first;
  }
  const std::string& last_response() const { return last_; }
  const std::string& last_to_tag() const { return to_tag_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  std::string last_;
  std::string to_tag_;
};

}  // namespace tamas::test
