// WebhookSender against real HTTP servers on 127.0.0.1 (raw sockets, a thread each): the request
// and its signature (checked with OpenSSL, independently of the sender's libsodium), retries,
// final failures, timeouts, prompt destruction, order per target, targets independent of each
// other, the bounded queue, HTTPS failing cleanly against a plain server; and the URL parser.
#include "api/webhook.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tamas::api {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Generous: only a broken sender comes near it, and it keeps a broken sender from hanging the run.
constexpr auto kPatience = 10s;

// What a test server received: one request.
struct Received {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  int answered = 0;  // the status sent back; 0: none (the connection is held open)

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// An HTTP/1.1 server on 127.0.0.1 that serves one connection at a time in a thread of its own.
// `respond(n)` chooses the status of the n-th request (from 0); 0 means never answer: the
// connection stays open, unanswered, until the server is destroyed. A connection whose first byte
// cannot start an HTTP request (a TLS ClientHello) gets a plain-text 400 and is counted as garbage.
class TestServer {
 public:
  explicit TestServer(std::function<int(size_t)> respond) : respond_(std::move(respond)) {
    listen_ = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    ::setsockopt(listen_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listen_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listen_, 64) != 0 || ::pipe(wake_) != 0) {
      ADD_FAILURE() << "test server: " << std::strerror(errno);
    }
    socklen_t len = sizeof a;
    ::getsockname(listen_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }

  ~TestServer() {
    const char c = 0;
    (void)!::write(wake_[1], &c, 1);
    thread_.join();
    for (int fd : held_) ::close(fd);
    ::close(listen_);
    ::close(wake_[0]);
    ::close(wake_[1]);
  }

  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  uint16_t port() const { return port_; }
  std::string url(const std::string& path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  std::vector<Received> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  size_t garbage() const {
    std::lock_guard lock(mu_);
    return garbage_;
  }

  // True once `n` requests have arrived (false after kPatience).
  bool wait_requests(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kPatience, [&] { return requests_.size() >= n; });
  }

 private:
  void run() {
    while (true) {
      pollfd fds[2] = {{listen_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[1].revents != 0) return;
      if ((fds[0].revents & POLLIN) != 0) {
        const int fd = ::accept(listen_, nullptr, nullptr);
        if (fd >= 0) serve(fd);
      }
    }
  }

  static void send_all(int fd, const std::string& data) {
    size_t sent = 0;
    while (sent < data.size()) {
      const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<size_t>(n);
    }
  }

  // Reads one request (the sender writes it at once: a 2 s receive timeout is plenty).
  void serve(int fd) {
    timeval tv{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string in;
    char buf[4096];
    size_t head_end;
    while ((head_end = in.find("\r\n\r\n")) == std::string::npos) {
      if (!in.empty() && !(in[0] >= 'A' && in[0] <= 'Z')) {
        {
          std::lock_guard lock(mu_);
          ++garbage_;
        }
        send_all(fd, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        ::close(fd);
        return;
      }
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) {
        ::close(fd);
        return;
      }
      in.append(buf, static_cast<size_t>(n));
    }
    Received r;
    const std::string head = in.substr(0, head_end);
    size_t line_end = head.find("\r\n");
    const std::string request_line = head.substr(0, line_end);
    r.method = request_line.substr(0, request_line.find(' '));
    r.target =
        request_line.substr(r.method.size() + 1, request_line.rfind(' ') - r.method.size() - 1);
    while (line_end != std::string::npos) {
      const size_t next = head.find("\r\n", line_end + 2);
      const std::string line = head.substr(line_end + 2, next - line_end - 2);
      const size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
      line_end = next;
    }
    r.body = in.substr(head_end + 4);
    const size_t length =
        r.headers.count("content-length") ? std::stoul(r.headers["content-length"]) : 0;
    while (r.body.size() < length) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      r.body.append(buf, static_cast<size_t>(n));
    }
    size_t index;
    {
      std::lock_guard lock(mu_);
      index = requests_.size();
    }
    r.answered = respond_(index);
    {
      std::lock_guard lock(mu_);
      requests_.push_back(r);
    }
    cv_.notify_all();
    if (r.answered == 0) {
      held_.push_back(fd);
      return;
    }
    send_all(fd, "HTTP/1.1 " + std::to_string(r.answered) +
                     " Whatever\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
    ::close(fd);
  }

  const std::function<int(size_t)> respond_;
  int listen_ = -1;
  int wake_[2] = {-1, -1};
  uint16_t port_ = 0;
  std::vector<int> held_;  // server thread only, then the destructor
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Received> requests_;  // guarded by mu_
  size_t garbage_ = 0;              // guarded by mu_
  std::thread thread_;
};

// A port on 127.0.0.1 where nothing listens (bound, then closed).
uint16_t closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// Polls `done` until it holds or kPatience passes.
bool eventually(const std::function<bool()>& done) {
  const auto deadline = Clock::now() + kPatience;
  while (!done()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

// HMAC-SHA256 with OpenSSL, independent of the sender's libsodium.
std::string openssl_signature(const std::string& secret, const std::string& timestamp,
                              const std::string& body) {
  const std::string message = timestamp + "." + body;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[mac[i] >> 4];
    hex += kHex[mac[i] & 0x0f];
  }
  return "sha256=" + hex;
}

const std::string kSecret = "0123456789abcdef-secret";

WebhookOptions fast() {
  WebhookOptions o;
  o.timeout = 2s;
  o.backoff_base = 10ms;
  return o;
}

std::unique_ptr<WebhookSender> start(WebhookOptions options = fast()) {
  auto s = WebhookSender::start(options);
  EXPECT_TRUE(s.is_ok()) << s.message();
  return s.is_ok() ? std::move(s).value() : nullptr;
}

TEST(WebhookSender, PostsTheBodySignedWithTheHeaders) {
  TestServer server([](size_t) { return 200; });
  auto sender = start();
  ASSERT_TRUE(sender);
  const WebhookTarget target{server.url("/crm/in?token=t0k"), kSecret, {}};
  const std::string body =
      R"({"type":"contact","tenant":"acme","event":"ended","contact":{"id":7,"caller":"+4930"}})";
  const auto before = std::chrono::system_clock::now();
  sender->deliver("acme", target, "ended", body);
  ASSERT_TRUE(server.wait_requests(1));
  ASSERT_TRUE(eventually([&] { return sender->stats().delivered == 1; }));

  const Received r = server.requests().at(0);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/crm/in?token=t0k");
  EXPECT_EQ(r.body, body);
  EXPECT_EQ(r.header("host"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.header("user-agent"), "Tamas");
  EXPECT_EQ(r.header("x-tamas-event"), "ended");
  EXPECT_EQ(r.header("content-length"), std::to_string(body.size()));
  const std::string id = r.header("x-tamas-delivery");
  ASSERT_EQ(id.size(), 36u) << id;  // a UUID
  EXPECT_EQ(id[14], '4') << id;
  const long long ts = std::stoll(r.header("x-tamas-timestamp"));
  const long long now =
      std::chrono::duration_cast<std::chrono::seconds>(before.time_since_epoch()).count();
  EXPECT_GE(ts, now - 1);
  EXPECT_LE(ts, now + 60);
  const std::string expected = openssl_signature(kSecret, r.header("x-tamas-timestamp"), body);
  EXPECT_EQ(r.header("x-tamas-signature"), expected);
  EXPECT_EQ(webhook_signature(kSecret, r.header("x-tamas-timestamp"), body), expected);
  // Another secret does not verify.
  EXPECT_NE(openssl_signature("another secret 1234", r.header("x-tamas-timestamp"), body),
            expected);

  const WebhookStats s = sender->stats();
  EXPECT_EQ(s.delivered, 1u);
  EXPECT_EQ(s.retried, 0u);
  EXPECT_EQ(s.dropped, 0u);
}

TEST(WebhookSender, EachDeliveryHasItsOwnId) {
  TestServer server([](size_t) { return 204; });
  auto sender = start();
  ASSERT_TRUE(sender);
  const WebhookTarget target{server.url(), kSecret, {}};
  sender->deliver("acme", target, "queued", "{}");
  sender->deliver("acme", target, "offered", "{}");
  ASSERT_TRUE(server.wait_requests(2));
  const auto r = server.requests();
  EXPECT_NE(r[0].header("x-tamas-delivery"), r[1].header("x-tamas-delivery"));
  ASSERT_TRUE(eventually([&] { return sender->stats().delivered == 2; }));
}

TEST(WebhookSender, OnlyTheChosenEventsAreSent) {
  TestServer server([](size_t) { return 200; });
  auto sender = start();
  ASSERT_TRUE(sender);
  const WebhookTarget target{server.url(), kSecret, {"ended", "wrapped-up"}};
  EXPECT_TRUE(target.wants("ended"));
  EXPECT_FALSE(target.wants("queued"));
  sender->deliver("acme", target, "queued", R"({"n":1})");
  sender->deliver("acme", target, "wrapped-up", R"({"n":2})");
  ASSERT_TRUE(eventually([&] { return sender->stats().delivered == 1; }));
  const auto r = server.requests();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].header("x-tamas-event"), "wrapped-up");
  EXPECT_EQ(r[0].body, R"({"n":2})");
}

TEST(WebhookSender, A500IsRetriedThenDeliveredOnce) {
  TestServer server([](size_t n) { return n == 0 ? 500 : 200; });
  auto sender = start();
  ASSERT_TRUE(sender);
  sender->deliver("acme", {server.url(), kSecret, {}}, "ended", R"({"x":1})");
  ASSERT_TRUE(eventually([&] { return sender->stats().delivered == 1; }));
  const auto r = server.requests();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].answered, 500);
  EXPECT_EQ(r[1].answered, 200);
  EXPECT_EQ(r[0].header("x-tamas-delivery"), r[1].header("x-tamas-delivery")) << "the same one";
  EXPECT_EQ(r[1].body, R"({"x":1})");
  EXPECT_EQ(r[1].header("x-tamas-signature"),
            openssl_signature(kSecret, r[1].header("x-tamas-timestamp"), r[1].body));
  const WebhookStats s = sender->stats();
  EXPECT_EQ(s.retried, 1u);
  EXPECT_EQ(s.dropped, 0u);
}

TEST(WebhookSender, A429IsRetried) {
  TestServer server([](size_t n) { return n == 0 ? 429 : 202; });
  auto sender = start();
  ASSERT_TRUE(sender);
  sender->deliver("acme", {server.url(), kSecret, {}}, "ended", "{}");
  ASSERT_TRUE(eventually([&] { return sender->stats().delivered == 1; }));
  EXPECT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(sender->stats().retried, 1u);
}

TEST(WebhookSender, A400IsDroppedWithoutRetry) {
  TestServer server([](size_t) { return 400; });
  auto sender = start();
  ASSERT_TRUE(sender);
  sender->deliver("acme", {server.url(), kSecret, {}}, "ended", "{}");
  // Dropping is final: had there been retries, they would have come before it.
  ASSERT_TRUE(eventually([&] { return sender->stats().dropped == 1; }));
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(sender->stats().retried, 0u);
  EXPECT_EQ(sender->stats().delivered, 0u);
}

TEST(WebhookSender, GivesUpAfterMaxAttempts) {
  TestServer server([](size_t) { return 503; });
  WebhookOptions o = fast();
  o.max_attempts = 3;
  auto sender = start(o);
  ASSERT_TRUE(sender);
  sender->deliver("acme", {server.url(), kSecret, {}}, "ended", "{}");
  ASSERT_TRUE(eventually([&] { return sender->stats().dropped == 1; }));
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_EQ(sender->stats().retried, 2u);
  EXPECT_EQ(sender->stats().delivered, 0u);
}

TEST(WebhookSender, BackoffDoubles) {
  // 3 attempts with a base of 150 ms: waits of 150 and 300 ms between them.
  TestServer server([](size_t n) { return n < 2 ? 503 : 200; });
  WebhookOptions o = fast();
  o.backoff_base = 150ms;
  auto sender = start(o);
  ASSERT_TRUE(sender);
  const auto t0 = Clock::now();
  sender->deliver("acme", {server.url(), kSecret, {}}, "ended", "{}");
  ASSERT_TRUE(eventually([&] { return sender->stats().delivered == 1; }));
  EXPECT_GE(Clock::now() - t0, 450ms);
}

TEST(WebhookSender, ASilentServerTimesOutAndIsRetried) {
  TestServer server([](size_t) { return 0; });  // accepts, reads, never answers
  WebhookOptions o = fast();
  o.timeout = 200ms;
  o.max_attempts = 2;
  auto sender = start(o);
  ASSERT_TRUE(sender);
  sender->deliver("acme", {server.url(), kSecret, {}}, "ended", "{}");
  ASSERT_TRUE(eventually([&] { return sender->stats().dropped == 1; }));
  EXPECT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(sender->stats().retried, 1u);
}

TEST(WebhookSender, DestructionIsPromptWhileAServerNeverAnswers) {
  TestServer server([](size_t) { return 0; });
  WebhookOptions o;  // the defaults: 5 s timeout, 5 attempts
  auto sender = start(o);
  ASSERT_TRUE(sender);
  for (int i = 0; i < 100; ++i) sender->deliver("acme", {server.url(), kSecret, {}}, "ended", "{}");
  ASSERT_TRUE(server.wait_requests(1));  // the first is in flight, 99 wait
  const auto t0 = Clock::now();
  sender.reset();
  EXPECT_LT(Clock::now() - t0, 1s);
}

TEST(WebhookSender, DestructionIsPromptDuringABackoff) {
  TestServer server([](size_t) { return 503; });
  WebhookOptions o;
  o.backoff_base = 1h;
  auto sender = start(o);
  ASSERT_TRUE(sender);
  sender->deliver("acme", {server.url(), kSecret, {}}, "ended", "{}");
  ASSERT_TRUE(eventually([&] { return sender->stats().retried == 1; }));
  const auto t0 = Clock::now();
  sender.reset();
  EXPECT_LT(Clock::now() - t0, 1s);
}

TEST(WebhookSender, KeepsTheOrderOfOneTarget) {
  // The 4th request fails once: the retry still comes before the next event.
  TestServer server([](size_t n) { return n == 3 ? 503 : 200; });
  auto sender = start();
  ASSERT_TRUE(sender);
  const WebhookTarget target{server.url(), kSecret, {}};
  constexpr int kCount = 30;
  for (int i = 0; i < kCount; ++i) {
    sender->deliver("acme", target, "queued", "{\"n\":" + std::to_string(i) + "}");
  }
  ASSERT_TRUE(eventually([&] { return sender->stats().delivered == kCount; }));
  std::vector<std::string> got;
  for (const Received& r : server.requests()) {
    if (r.answered == 200) got.push_back(r.body);
  }
  ASSERT_EQ(got.size(), static_cast<size_t>(kCount));
  for (int i = 0; i < kCount; ++i) EXPECT_EQ(got[i], "{\"n\":" + std::to_string(i) + "}");
  EXPECT_EQ(server.requests().size(), kCount + 1u);
}

TEST(WebhookSender, DeadTargetsDoNotDelayOthers) {
  TestServer silent([](size_t) { return 0; });
  TestServer healthy([](size_t) { return 200; });
  WebhookOptions o;
  o.timeout = 30s;
  o.backoff_base = 30s;
  auto sender = start(o);
  ASSERT_TRUE(sender);
  const WebhookTarget refused{
      "http://127.0.0.1:" + std::to_string(closed_port()) + "/hook", kSecret, {}};
  const WebhookTarget hanging{silent.url(), kSecret, {}};
  for (int i = 0; i < 5; ++i) {
    sender->deliver("acme", refused, "ended", "{}");
    sender->deliver("acme", hanging, "ended", "{}");
  }
  ASSERT_TRUE(silent.wait_requests(1));
  ASSERT_TRUE(eventually([&] { return sender->stats().retried >= 1; }));  // refused, waiting 30 s
  const auto t0 = Clock::now();
  sender->deliver("beta", {healthy.url(), kSecret, {}}, "ended", R"({"beta":1})");
  ASSERT_TRUE(eventually([&] { return sender->stats().delivered == 1; }));
  EXPECT_LT(Clock::now() - t0, 5s);
  EXPECT_EQ(healthy.requests().at(0).body, R"({"beta":1})");
  EXPECT_EQ(sender->stats().dropped, 0u) << "the others are still pending";
}

TEST(WebhookSender, TenantsSharingAUrlHaveTheirOwnQueues) {
  // acme's first delivery hangs; beta's, to the same URL, is served meanwhile.
  TestServer server([](size_t n) { return n == 0 ? 0 : 200; });
  WebhookOptions o;
  o.timeout = 30s;
  auto sender = start(o);
  ASSERT_TRUE(sender);
  sender->deliver("acme", {server.url(), kSecret, {}}, "ended", R"({"t":"acme"})");
  ASSERT_TRUE(server.wait_requests(1));
  sender->deliver("beta", {server.url(), kSecret, {}}, "ended", R"({"t":"beta"})");
  ASSERT_TRUE(eventually([&] { return sender->stats().delivered == 1; }));
  EXPECT_EQ(server.requests().at(1).body, R"({"t":"beta"})");
}

TEST(WebhookSender, AFullQueueDropsTheOldest) {
  // The first request hangs until it times out; meanwhile 6 more arrive for 3 places.
  TestServer server([](size_t n) { return n == 0 ? 0 : 200; });
  WebhookOptions o = fast();
  o.timeout = 1s;
  o.max_attempts = 1;
  o.queue_limit = 3;
  auto sender = start(o);
  ASSERT_TRUE(sender);
  const WebhookTarget target{server.url(), kSecret, {}};
  sender->deliver("acme", target, "queued", "1");
  ASSERT_TRUE(server.wait_requests(1));
  for (int i = 2; i <= 7; ++i) sender->deliver("acme", target, "queued", std::to_string(i));
  ASSERT_TRUE(eventually([&] { return sender->stats().delivered == 3; }));
  const WebhookStats s = sender->stats();
  EXPECT_EQ(s.overflowed, 3u);
  EXPECT_EQ(s.dropped, 4u);  // 2, 3, 4 pushed out; 1 timed out
  std::vector<std::string> bodies;
  for (const Received& r : server.requests()) bodies.push_back(r.body);
  EXPECT_EQ(bodies, (std::vector<std::string>{"1", "5", "6", "7"}));
}

TEST(WebhookSender, AnUnusableTargetIsDropped) {
  auto sender = start();
  ASSERT_TRUE(sender);
  sender->deliver("acme", {"ftp://example.com/", kSecret, {}}, "ended", "{}");
  sender->deliver("acme", {"http://127.0.0.1:1/", kSecret, {}}, "bad\r\nname", "{}");
  ASSERT_TRUE(eventually([&] { return sender->stats().dropped == 2; }));
}

TEST(WebhookSender, HttpsToAPlainHttpServerFailsCleanly) {
  // "localhost" goes through name resolution, SNI and host-name verification setup.
  TestServer server([](size_t) { return 200; });
  WebhookOptions o = fast();
  o.max_attempts = 2;
  auto sender = start(o);
  ASSERT_TRUE(sender);
  sender->deliver("acme",
                  {"https://localhost:" + std::to_string(server.port()) + "/x", kSecret, {}},
                  "ended", "{}");
  ASSERT_TRUE(eventually([&] { return sender->stats().dropped == 1; }));
  EXPECT_EQ(sender->stats().retried, 1u) << "a failed handshake is retried";
  EXPECT_EQ(sender->stats().delivered, 0u);
  EXPECT_EQ(server.garbage(), 2u) << "two ClientHellos, no HTTP";
  EXPECT_TRUE(server.requests().empty());
}

TEST(WebhookSender, RefusesBadOptions) {
  WebhookOptions o;
  o.max_attempts = 0;
  EXPECT_FALSE(WebhookSender::start(o).is_ok());
  o = {};
  o.timeout = 0ms;
  EXPECT_FALSE(WebhookSender::start(o).is_ok());
  o = {};
  o.queue_limit = 0;
  EXPECT_FALSE(WebhookSender::start(o).is_ok());
}

TEST(WebhookSignature, IsHmacSha256OfTimestampDotBody) {
  EXPECT_EQ(webhook_signature(kSecret, "1700000000", R"({"a":1})"),
            openssl_signature(kSecret, "1700000000", R"({"a":1})"));
  EXPECT_EQ(webhook_signature(kSecret, "1700000000", ""),
            openssl_signature(kSecret, "1700000000", ""));
  // From Python: hmac.new(secret, b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
  EXPECT_EQ(webhook_signature(kSecret, "1700000000", R"({"a":1})"),
            "sha256=6948a2dc6985c92d09b9edade5c97dce2ba201452d91a72e4a20d35abe4d3420");
}

// ---- URLs ----

TEST(WebhookUrl, Parses) {
  auto u = parse_webhook_url("http://example.com");
  ASSERT_TRUE(u.is_ok()) << u.message();
  EXPECT_FALSE(u->tls);
  EXPECT_EQ(u->host, "example.com");
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->target, "/");
  EXPECT_EQ(u->host_header(), "example.com");
  EXPECT_FALSE(u->ip_literal);

  u = parse_webhook_url("HTTPS://CRM.Example.com:8443/a/b?token=x&y=%20");
  ASSERT_TRUE(u.is_ok()) << u.message();
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->scheme(), "https");
  EXPECT_EQ(u->host, "crm.example.com");
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->target, "/a/b?token=x&y=%20");
  EXPECT_EQ(u->host_header(), "crm.example.com:8443");
  EXPECT_EQ(u->without_query(), "https://crm.example.com:8443/a/b");

  u = parse_webhook_url("https://crm.example.com:443/in");
  ASSERT_TRUE(u.is_ok());
  EXPECT_EQ(u->host_header(), "crm.example.com") << "the default port is not repeated";

  u = parse_webhook_url("http://[2001:DB8::1]:8080/x");
  ASSERT_TRUE(u.is_ok()) << u.message();
  EXPECT_TRUE(u->ipv6);
  EXPECT_TRUE(u->ip_literal);
  EXPECT_EQ(u->host, "2001:db8::1");
  EXPECT_EQ(u->host_header(), "[2001:db8::1]:8080");
  EXPECT_EQ(u->without_query(), "http://[2001:db8::1]:8080/x");

  u = parse_webhook_url("http://192.0.2.1?q=1");
  ASSERT_TRUE(u.is_ok()) << u.message();
  EXPECT_TRUE(u->ip_literal);
  EXPECT_FALSE(u->ipv6);
  EXPECT_EQ(u->target, "/?q=1");
  EXPECT_EQ(u->without_query(), "http://192.0.2.1/");

  u = parse_webhook_url("https://a-b.c0.example./p");
  ASSERT_TRUE(u.is_ok()) << u.message();
  EXPECT_EQ(u->host, "a-b.c0.example.");
}

TEST(WebhookUrl, RefusesWithAMessage) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "invalid URL: it is empty"},
      {"ftp://example.com/",
       "invalid URL 'ftp://example.com/': expected http://host/path or "
       "https://host/path"},
      {"example.com/hook", "expected http://host/path"},
      {"//example.com/hook", "expected http://host/path"},
      {"http:/example.com", "expected http://host/path"},
      {"http://", "the host is missing"},
      {"http:///path", "the host is missing"},
      {"http://:80/", "the host is missing"},
      {"http://user:pw@example.com/", "credentials in the URL"},
      {"http://example.com:0/", "the port must be a number from 1 to 65535"},
      {"http://example.com:65536/", "the port must be a number from 1 to 65535"},
      {"http://example.com:/", "the port must be a number from 1 to 65535"},
      {"http://example.com:8a/", "the port must be a number from 1 to 65535"},
      {"http://example.com:+80/", "the port must be a number from 1 to 65535"},
      {"http://[::1/", "an IPv6 address needs a closing ']'"},
      {"http://[::1]x/", "expected ':port' after the IPv6 address"},
      {"http://[fe80::1%25eth0]/", "IPv6 zone ids are not supported"},
      {"http://[zz::1]/", "'zz::1' is not an IPv6 address"},
      {"http://999.1.1.1/", "'999.1.1.1' is not an IPv4 address"},
      {"http://1.2.3/", "'1.2.3' is not an IPv4 address"},
      {"http://-a.example/", "is not a host name"},
      {"http://a..example/", "is not a host name"},
      {"http://a_b.example/", "is not a host name"},
      {"http://a b/", "is not a host name"},
      {"http://ex%41mple.com/", "is not a host name"},
      {"http://example.com/a b", "printable ASCII without spaces"},
      {"http://example.com/\xc3\xa9", "printable ASCII without spaces"},
      {"http://example.com/a\r\nX: y", "printable ASCII without spaces"},
      {"http://example.com/#frag", "a fragment"},
      {"http://example.com#frag", "a fragment"},
      {"http://example.com/%zz", "'%' must start an escape"},
      {"http://example.com/%2", "'%' must start an escape"},
      {"http://example.com/" + std::string(2100, 'a'), "longer than 2048 bytes"},
      {"http://" + std::string(64, 'a') + ".example/", "is not a host name"},
  };
  for (const auto& [url, message] : cases) {
    auto u = parse_webhook_url(url);
    ASSERT_FALSE(u.is_ok()) << "accepted: " << url;
    EXPECT_NE(u.message().find(message), std::string::npos) << url << " -> " << u.message();
  }
  // The query, which may hold a token, is never in a message (they end up in logs).
  auto u = parse_webhook_url("http://a_b.example/in?token=s3cr3t");
  ASSERT_FALSE(u.is_ok());
  EXPECT_EQ(u.message(),
            "invalid URL 'http://a_b.example/in...': 'a_b.example' is not a host name (letters, "
            "digits, '-' and '.'), an IPv4 address or an IPv6 address in brackets");
}

}  // namespace
}  // namespace tamas::api
