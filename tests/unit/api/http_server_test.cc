// HttpServer on real sockets (127.0.0.1) with a raw-socket client: keep-alive, concurrency, limits,
// slow clients, malformed requests, security headers, the authenticate hook, logging.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

#include "api/http.h"

namespace tamas::api {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  bool has(const std::string& name) const { return headers.count(name) > 0; }
};

// A blocking HTTP/1.1 client on one TCP connection. Every read gives up after `kPatience` so a
// broken server fails the test instead of hanging it.
constexpr auto kPatience = 5s;

class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{static_cast<time_t>(kPatience / 1s), 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }

  bool send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // The next response, or nullopt if the connection ended (or nothing came in time) first.
  // `head`: the answer to a HEAD, whose Content-Length has no body after it.
  std::optional<Reply> read(bool head_only = false) {
    size_t end;
    while ((end = in_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return std::nullopt;
    }
    Reply r;
    const std::string head = in_.substr(0, end);
    in_.erase(0, end + 4);
    size_t line_end = head.find("\r\n");
    const std::string status_line = head.substr(0, line_end);
    if (status_line.size() < 12 || status_line.compare(0, 5, "HTTP/") != 0) return std::nullopt;
    r.status = std::stoi(status_line.substr(9, 3));
    while (line_end != std::string::npos) {
      const size_t next = head.find("\r\n", line_end + 2);
      const std::string line = head.substr(line_end + 2, next - line_end - 2);
      const size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
      line_end = next;
    }
    const size_t length =
        !head_only && r.has("content-length") ? std::stoul(r.header("content-length")) : 0;
    while (in_.size() < length) {
      if (!fill()) return std::nullopt;
    }
    r.body = in_.substr(0, length);
    in_.erase(0, length);
    return r;
  }

  // True if the server closed the connection (end of stream or reset) within kPatience, with
  // nothing else to read first.
  bool closed_by_server() {
    char c;
    const ssize_t n = ::recv(fd_, &c, 1, 0);
    return in_.empty() && (n == 0 || (n < 0 && errno == ECONNRESET));
  }

 private:
  bool fill() {
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    in_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string in_;  // received, not yet parsed
};

std::string get(const std::string& target, const std::string& extra = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: test\r\n" + extra + "\r\n";
}

std::string post(const std::string& target, const std::string& body) {
  return "POST " + target +
         " HTTP/1.1\r\nHost: test\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         body;
}

// A server with a small table: echo routes that show what the handler got, an authenticate hook
// reading "Authorization: Test <role> <tenant>", and knobs for each test.
class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::vector<Role> all(std::begin(kAllRoles), std::end(kAllRoles));
    auto echo = [](const Request& req) {
      nlohmann::json j = {{"method", req.method}, {"target", req.target},
                          {"path", req.path},     {"query", req.query},
                          {"params", req.params}, {"headers", req.headers},
                          {"body", req.body},     {"remote", req.remote_address}};
      Response r;
      r.body = j.dump();
      return r;
    };
    add({"GET", "/api/v1/echo", Scope::kPublic, {}, echo, "echo"});
    add({"POST", "/api/v1/echo", Scope::kPublic, {}, echo, "echo a body"});
    add({"GET", "/health", Scope::kPublic, {}, echo, "outside /api/"});
    add({"GET",
         "/api/v1/tenants/{tenant}/queues",
         Scope::kTenant,
         {Role::kManager},
         echo,
         "queues"});
    add({"GET",
         "/api/v1/boom",
         Scope::kPublic,
         {},
         [](const Request&) -> Response { throw std::runtime_error("secret detail"); },
         "throws"});
    add({"GET",
         "/api/v1/split",
         Scope::kPublic,
         {},
         [](const Request&) {
           Response r;
           r.headers.emplace_back("X-Bad", "a\r\nSet-Cookie: evil=1");
           return r;
         },
         "a header that would split the response"});
    add({"GET",
         "/api/v1/cached",
         Scope::kPublic,
         {},
         [](const Request&) {
           Response r;
           r.headers.emplace_back("Cache-Control", "max-age=3600");
           r.headers.emplace_back("X-Extra", "yes");
           return r;
         },
         "a handler asking for caching"});
    add({"GET",
         "/api/v1/wait",
         Scope::kPublic,
         {},
         [this](const Request&) {
           // Blocks until `wait_for_` requests are inside handlers at once (or gives up).
           std::unique_lock<std::mutex> lock(mu_);
           ++inside_;
           cv_.notify_all();
           const bool met = cv_.wait_for(lock, kPatience, [this] { return inside_ >= wait_for_; });
           Response r;
           r.status = met ? 200 : 504;
           return r;
         },
         "rendezvous"});
    Router* raw = router_.get();
    add({"GET",
         "/api/openapi.json",
         Scope::kPublic,
         {},
         [raw](const Request&) {
           Response r;
           r.body = raw->openapi().dump();
           return r;
         },
         "this document"});
    authenticate_ = [](Request& req) {
      auto it = req.headers.find("authorization");
      if (it == req.headers.end()) return;
      if (it->second == "Test throw") throw std::runtime_error("auth backend down");
      // "Test <role> <tenant>"
      const std::string& v = it->second;
      const size_t a = v.find(' '), b = v.find(' ', a + 1);
      auto role = role_from(v.substr(a + 1, b - a - 1));
      if (v.compare(0, 5, "Test ") == 0 && role) {
        req.principal = Principal{v.substr(b + 1), "tester", *role};
      }
    };
    config_.read_timeout = 1s;
    config_.body_limit = 1024;
  }

  void add(Route r) { ASSERT_TRUE(router_->add(std::move(r)).is_ok()); }

  void start() {
    auto s = HttpServer::start(config_, router_, authenticate_);
    ASSERT_TRUE(s.is_ok()) << s.message();
    server_ = std::move(s.value());
    ASSERT_NE(server_->port(), 0);
  }

  std::optional<Reply> once(const std::string& request) {
    Client c(server_->port());
    if (!c.connected() || !c.send(request)) return std::nullopt;
    return c.read();
  }

  // The rendezvous state of /api/v1/wait; declared before server_ so that it outlives it.
  std::mutex mu_;
  std::condition_variable cv_;
  int inside_ = 0;
  int wait_for_ = 2;

  std::shared_ptr<Router> router_ = std::make_shared<Router>();
  std::function<void(Request&)> authenticate_;
  HttpConfig config_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, HandlerSeesDecodedRequest) {
  start();
  auto r = once(
      "POST /api/v1/echo?name=a+b%26c&x= HTTP/1.1\r\nHost: test\r\n"
      "X-Custom-Header: One\r\nx-custom-header: Two\r\nContent-Length: 5\r\n\r\nhello");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->header("content-type"), "application/json");
  const auto j = nlohmann::json::parse(r->body);
  EXPECT_EQ(j["method"], "POST");
  EXPECT_EQ(j["target"], "/api/v1/echo?name=a+b%26c&x=");
  EXPECT_EQ(j["path"], "/api/v1/echo");
  EXPECT_EQ(j["query"], (nlohmann::json{{"name", "a b&c"}, {"x", ""}}));
  EXPECT_EQ(j["body"], "hello");
  EXPECT_EQ(j["remote"], "127.0.0.1");
  EXPECT_EQ(j["headers"]["x-custom-header"], "One, Two") << "lower-case names, repeats joined";
  EXPECT_EQ(j["headers"]["host"], "test");
}

TEST_F(HttpServerTest, KeepAliveAndPipelining) {
  start();
  Client c(server_->port());
  ASSERT_TRUE(c.connected());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(c.send(get("/api/v1/echo?i=" + std::to_string(i))));
    auto r = c.read();
    ASSERT_TRUE(r) << "request " << i << " on the same connection";
    EXPECT_EQ(r->status, 200);
    EXPECT_NE(r->header("connection"), "close");
    EXPECT_EQ(nlohmann::json::parse(r->body)["query"]["i"], std::to_string(i));
  }
  // Three requests in one write: three answers, in order.
  ASSERT_TRUE(
      c.send(get("/api/v1/echo?i=a") + post("/api/v1/echo", "xyz") + get("/api/v1/echo?i=c")));
  auto a = c.read(), b = c.read(), d = c.read();
  ASSERT_TRUE(a && b && d);
  EXPECT_EQ(nlohmann::json::parse(a->body)["query"]["i"], "a");
  EXPECT_EQ(nlohmann::json::parse(b->body)["body"], "xyz");
  EXPECT_EQ(nlohmann::json::parse(d->body)["query"]["i"], "c");
  // "Connection: close" is honoured: the answer says so and the connection ends.
  ASSERT_TRUE(c.send(get("/api/v1/echo", "Connection: close\r\n")));
  auto last = c.read();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->header("connection"), "close");
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(HttpServerTest, Http10ClosesUnlessKeepAliveAsked) {
  start();
  Client c(server_->port());
  ASSERT_TRUE(c.send("GET /api/v1/echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  auto r = c.read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << "HTTP/1.0 needs no Host";
  ASSERT_TRUE(c.send("GET /api/v1/echo HTTP/1.0\r\n\r\n"));
  ASSERT_TRUE(c.read());
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(HttpServerTest, ConcurrentKeepAliveClients) {
  config_.threads = 2;
  start();
  constexpr int kClients = 8, kRequests = 25;
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&, t] {
      Client c(server_->port());
      if (!c.connected()) return;
      for (int i = 0; i < kRequests; ++i) {
        const std::string id = std::to_string(t) + "-" + std::to_string(i);
        if (!c.send(post("/api/v1/echo?id=" + id, "body " + id))) return;
        auto r = c.read();
        if (!r || r->status != 200) return;
        const auto j = nlohmann::json::parse(r->body);
        if (j["query"]["id"] == id && j["body"] == "body " + id) ++good;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), kClients * kRequests) << "every answer matched its own request";
}

TEST_F(HttpServerTest, TwoThreadsRunHandlersInParallel) {
  // Each handler waits until both are inside: this passes only if two run at the same time.
  config_.threads = 2;
  start();
  std::optional<Reply> r1, r2;
  std::thread t1([&] { r1 = once(get("/api/v1/wait")); });
  std::thread t2([&] { r2 = once(get("/api/v1/wait")); });
  t1.join();
  t2.join();
  ASSERT_TRUE(r1 && r2);
  EXPECT_EQ(r1->status, 200);
  EXPECT_EQ(r2->status, 200);
}

TEST_F(HttpServerTest, BodyOverTheLimitIs413AndCloses) {
  start();
  {
    // Refused on the Content-Length alone, before the body is sent.
    Client c(server_->port());
    ASSERT_TRUE(c.send("POST /api/v1/echo HTTP/1.1\r\nHost: test\r\nContent-Length: 1025\r\n\r\n"));
    auto r = c.read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413);
    EXPECT_EQ(nlohmann::json::parse(r->body)["error"],
              "the request body is larger than 1024 bytes");
    EXPECT_EQ(r->header("connection"), "close");
    EXPECT_EQ(r->header("x-content-type-options"), "nosniff");
    EXPECT_TRUE(c.closed_by_server());
  }
  {
    // Chunked: refused once the chunks pass the limit, with the body on its way.
    Client c(server_->port());
    std::string chunked =
        "POST /api/v1/echo HTTP/1.1\r\nHost: test\r\n"
        "Transfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 4; ++i) chunked += "200\r\n" + std::string(512, 'x') + "\r\n";
    chunked += "0\r\n\r\n";
    ASSERT_TRUE(c.send(chunked));
    auto r = c.read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413);
    EXPECT_TRUE(c.closed_by_server());
  }
  {
    // Exactly at the limit is fine.
    auto r = once(post("/api/v1/echo", std::string(1024, 'y')));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(nlohmann::json::parse(r->body)["body"].get<std::string>().size(), 1024u);
  }
}

TEST_F(HttpServerTest, HeaderOverTheLimitIs431) {
  config_.header_limit = 4096;
  start();
  Client c(server_->port());
  ASSERT_TRUE(c.send(get("/api/v1/echo", "X-Big: " + std::string(5000, 'z') + "\r\n")));
  auto r = c.read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(HttpServerTest, SlowClientIsCutOff) {
  start();  // read_timeout 1 s
  Client c(server_->port());
  ASSERT_TRUE(c.send("GET /api/v1/echo HTTP/1.1\r\nHost: te"));  // and nothing more
  const auto t0 = Clock::now();
  EXPECT_TRUE(c.closed_by_server());
  const auto waited = Clock::now() - t0;
  EXPECT_GE(waited, 900ms) << "not before the deadline";
  EXPECT_LT(waited, 3s) << "soon after it";
}

TEST_F(HttpServerTest, TricklingClientIsCutOffAtTheDeadline) {
  // One byte every 100 ms keeps the connection busy but never finishes a request: the deadline is
  // for the whole request, not for each read.
  start();
  Client c(server_->port());
  std::atomic<bool> stop{false};
  const auto t0 = Clock::now();
  std::thread trickle([&] {
    const std::string req = get("/api/v1/echo", "X-Long: " + std::string(200, 'a') + "\r\n");
    for (char ch : req) {
      if (stop || !c.send(std::string_view(&ch, 1))) return;
      std::this_thread::sleep_for(100ms);  // pacing, not synchronisation
    }
  });
  const bool closed = c.closed_by_server();
  const auto waited = Clock::now() - t0;
  stop = true;
  trickle.join();
  EXPECT_TRUE(closed);
  EXPECT_GE(waited, 900ms);
  EXPECT_LT(waited, 3s);
}

TEST_F(HttpServerTest, IdleKeepAliveConnectionIsClosedAfterTheTimeout) {
  start();
  Client c(server_->port());
  ASSERT_TRUE(c.send(get("/api/v1/echo")));
  ASSERT_TRUE(c.read());
  const auto t0 = Clock::now();
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_GE(Clock::now() - t0, 900ms);
}

TEST_F(HttpServerTest, MalformedRequestsAre400) {
  start();
  struct Case {
    std::string raw;
    int status;
    std::string error;  // part of the message
  };
  const Case cases[] = {
      {"GARBAGE\r\n\r\n", 400, "malformed request"},
      {"GET /api/v1/echo\r\n\r\n", 400, "malformed request"},
      {"GET /api/v1/echo HTTP/1.1\r\nHost test\r\n\r\n", 400, "malformed request"},
      {"GET /api/v1/echo HTTP/1.1\r\nHost: test\r\nContent-Length: abc\r\n\r\n", 400,
       "malformed request"},
      {"GET /api/v1/echo HTTP/1.1\r\nHost: test\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
       400, "malformed request"},
      {"POST /api/v1/echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400,
       "malformed request"},
      {"GET /api/v1/echo HTTP/1.1\r\n\r\n", 400, "needs a Host header"},
      {"GET api/v1/echo HTTP/1.1\r\nHost: test\r\n\r\n", 400, "starting with '/'"},
      {"GET http://test/api/v1/echo HTTP/1.1\r\nHost: test\r\n\r\n", 400, "starting with '/'"},
      {"GET /api/v1/%zz HTTP/1.1\r\nHost: test\r\n\r\n", 400, "percent-encoding"},
      {"GET /api/v1/../v1/echo HTTP/1.1\r\nHost: test\r\n\r\n", 400, "'..' segments"},
      {"GET /api/v1/echo?a=1&a=2 HTTP/1.1\r\nHost: test\r\n\r\n", 400, "more than once"},
      {"GET /api/v1/echo HTTP/2.0\r\nHost: test\r\n\r\n", 400, "malformed request: bad version"},
  };
  for (const Case& c : cases) {
    auto r = once(c.raw);
    ASSERT_TRUE(r) << c.raw;
    EXPECT_EQ(r->status, c.status) << c.raw;
    EXPECT_EQ(r->header("x-content-type-options"), "nosniff") << c.raw;
    const auto j = nlohmann::json::parse(r->body, nullptr, false);
    ASSERT_TRUE(j.is_object()) << r->body;
    EXPECT_NE(j["error"].get<std::string>().find(c.error), std::string::npos)
        << c.raw << " -> " << r->body;
  }
  // A bad target is not a framing error: the connection stays usable.
  Client c(server_->port());
  ASSERT_TRUE(c.send(get("/api/v1/%zz") + get("/api/v1/echo")));
  auto bad = c.read(), good = c.read();
  ASSERT_TRUE(bad && good);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(good->status, 200);
}

TEST_F(HttpServerTest, ExpectContinueIsAnswered) {
  start();
  Client c(server_->port());
  ASSERT_TRUE(
      c.send("POST /api/v1/echo HTTP/1.1\r\nHost: test\r\nContent-Length: 4\r\n"
             "Expect: 100-continue\r\n\r\n"));
  auto interim = c.read();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(c.send("data"));
  auto r = c.read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(nlohmann::json::parse(r->body)["body"], "data");
}

TEST_F(HttpServerTest, SecurityHeadersOnEveryResponse) {
  start();
  struct Case {
    std::string raw;
    int status;
    bool api;  // under /api/: Cache-Control: no-store
  };
  const Case cases[] = {
      {get("/api/v1/echo"), 200, true},
      {get("/api/v1/nothing"), 404, true},
      {"PUT /api/v1/echo HTTP/1.1\r\nHost: test\r\nContent-Length: 0\r\n\r\n", 405, true},
      {get("/api/v1/tenants/acme/queues"), 401, true},
      {get("/api/v1/boom"), 500, true},
      {get("/api/v1/cached"), 200, true},
      {get("/health"), 200, false},
      {get("/nothing"), 404, false},
  };
  for (const Case& c : cases) {
    auto r = once(c.raw);
    ASSERT_TRUE(r) << c.raw;
    EXPECT_EQ(r->status, c.status) << c.raw;
    EXPECT_EQ(r->header("x-content-type-options"), "nosniff") << c.raw;
    if (c.api) {
      EXPECT_EQ(r->header("cache-control"), "no-store") << c.raw << ": handlers cannot loosen it";
    } else {
      EXPECT_FALSE(r->has("cache-control")) << c.raw;
    }
    EXPECT_FALSE(r->has("server")) << "no product or version is announced";
  }
  auto extra = once(get("/api/v1/cached"));
  ASSERT_TRUE(extra);
  EXPECT_EQ(extra->header("x-extra"), "yes") << "a handler's own headers are sent";
  auto not_allowed = once("PUT /api/v1/echo HTTP/1.1\r\nHost: test\r\nContent-Length: 0\r\n\r\n");
  ASSERT_TRUE(not_allowed);
  EXPECT_EQ(not_allowed->header("allow"), "GET, POST");
}

TEST_F(HttpServerTest, ErrorsCarryNoInternals) {
  start();
  auto boom = once(get("/api/v1/boom"));
  ASSERT_TRUE(boom);
  EXPECT_EQ(boom->status, 500);
  EXPECT_EQ(nlohmann::json::parse(boom->body), (nlohmann::json{{"error", "internal error"}}));
  auto split = once(get("/api/v1/split"));
  ASSERT_TRUE(split);
  EXPECT_EQ(split->status, 500) << "a header with CR LF is refused, not sent";
  EXPECT_FALSE(split->has("set-cookie"));
  auto auth = once(get("/api/v1/tenants/acme/queues", "Authorization: Test throw\r\n"));
  ASSERT_TRUE(auth);
  EXPECT_EQ(auth->status, 500);
  EXPECT_EQ(auth->body.find("backend"), std::string::npos);
}

TEST_F(HttpServerTest, AuthenticateHookFeedsTheTenantPolicy) {
  start();
  const std::string path = "/api/v1/tenants/acme/queues";
  auto anon = once(get(path));
  ASSERT_TRUE(anon);
  EXPECT_EQ(anon->status, 401);
  auto same = once(get(path, "Authorization: Test manager acme\r\n"));
  ASSERT_TRUE(same);
  EXPECT_EQ(same->status, 200);
  EXPECT_EQ(nlohmann::json::parse(same->body)["params"]["tenant"], "acme");
  auto other = once(get(path, "Authorization: Test manager globex\r\n"));
  auto unknown = once(get("/api/v1/no/such", "Authorization: Test manager globex\r\n"));
  ASSERT_TRUE(other && unknown);
  EXPECT_EQ(other->status, 404);
  EXPECT_EQ(other->body, unknown->body);
  auto agent = once(get(path, "Authorization: Test agent acme\r\n"));
  ASSERT_TRUE(agent);
  EXPECT_EQ(agent->status, 403);
}

TEST_F(HttpServerTest, ServesTheOpenApiDocument) {
  start();
  auto r = once(get("/api/openapi.json"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  const auto doc = nlohmann::json::parse(r->body);
  EXPECT_EQ(doc["openapi"].get<std::string>().substr(0, 2), "3.");
  for (const Route& route : router_->routes()) {
    std::string m = route.method;
    for (char& ch : m) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    EXPECT_TRUE(doc["paths"].contains(route.pattern) && doc["paths"][route.pattern].contains(m))
        << route.method << " " << route.pattern;
  }
  EXPECT_EQ(doc["paths"]["/api/v1/tenants/{tenant}/queues"]["get"]["x-tamas-roles"],
            nlohmann::json::array({"manager"}));
}

TEST_F(HttpServerTest, EachRequestIsLogged) {
  start();
  ::testing::internal::CaptureStderr();
  auto r =
      once(get("/api/v1/tenants/acme/queues?token=s3cret", "Authorization: Test agent acme\r\n"));
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(r);
  EXPECT_NE(log.find("method=GET"), std::string::npos) << log;
  EXPECT_NE(log.find("path=/api/v1/tenants/acme/queues"), std::string::npos) << log;
  EXPECT_NE(log.find("status=403"), std::string::npos) << log;
  EXPECT_NE(log.find(" ms="), std::string::npos) << log;
  EXPECT_EQ(log.find("s3cret"), std::string::npos) << "the query is not logged: " << log;
}

TEST_F(HttpServerTest, StopClosesOpenConnections) {
  start();
  Client c(server_->port());
  ASSERT_TRUE(c.send(get("/api/v1/echo")));
  ASSERT_TRUE(c.read());
  const uint16_t port = server_->port();
  server_.reset();  // joins its threads
  EXPECT_TRUE(c.closed_by_server());
  Client late(port);
  EXPECT_FALSE(late.connected()) << "nothing listens any more";
}

TEST_F(HttpServerTest, StartFailures) {
  start();
  HttpConfig busy = config_;
  busy.port = server_->port();
  auto s = HttpServer::start(busy, router_, nullptr);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("127.0.0.1:" + std::to_string(busy.port)), std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("in use"), std::string::npos) << s.message();

  HttpConfig bad = config_;
  bad.address = "localhost";
  s = HttpServer::start(bad, router_, nullptr);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("not an IP address"), std::string::npos) << s.message();

  HttpConfig no_threads = config_;
  no_threads.threads = 0;
  EXPECT_FALSE(HttpServer::start(no_threads, router_, nullptr).is_ok());
  EXPECT_FALSE(HttpServer::start(config_, nullptr, nullptr).is_ok());
}

// A file body is streamed from disk, whole or a window of it; HEAD gives its length only and the
// connection goes on; a file that cannot be read is a 500, not a short answer.
TEST_F(HttpServerTest, FileBodiesAreStreamedFromDisk) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("tamas-http-file-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string content;
  for (int i = 0; i < 300'000; ++i) content.push_back(static_cast<char>('a' + i % 23));
  std::ofstream(dir / "audio.wav", std::ios::binary) << content;
  add({"GET", "/api/v1/file", Scope::kPublic, {},
       [dir](const Request& req) {
         Response r;
         r.content_type = "audio/wav";
         r.file = (dir / req.query.at("name")).string();
         r.file_offset = std::stoull(req.query.at("from"));
         r.file_length = std::stoull(req.query.at("len"));
         return r;
       },
       "a file"});
  start();
  Client c(server_->port());
  ASSERT_TRUE(c.send(get("/api/v1/file?name=audio.wav&from=0&len=300000")));
  auto whole = c.read();
  ASSERT_TRUE(whole.has_value());
  EXPECT_EQ(whole->status, 200);
  EXPECT_EQ(whole->header("content-type"), "audio/wav");
  EXPECT_EQ(whole->body, content);
  ASSERT_TRUE(c.send(get("/api/v1/file?name=audio.wav&from=12345&len=70000")));
  auto window = c.read();
  ASSERT_TRUE(window.has_value());
  EXPECT_EQ(window->body, content.substr(12345, 70000));
  ASSERT_TRUE(c.send("HEAD /api/v1/file?name=audio.wav&from=0&len=300000 HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto head = c.read(/*head=*/true);
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->header("content-length"), "300000");
  ASSERT_TRUE(c.send(get("/api/v1/file?name=audio.wav&from=299990&len=10")));
  auto after = c.read();
  ASSERT_TRUE(after.has_value()) << "the connection goes on after a HEAD";
  EXPECT_EQ(after->body, content.substr(299990));
  auto missing = once(get("/api/v1/file?name=gone.wav&from=0&len=10"));
  ASSERT_TRUE(missing.has_value());
  EXPECT_EQ(missing->status, 500);
  auto beyond = once(get("/api/v1/file?name=audio.wav&from=299990&len=100"));
  ASSERT_TRUE(beyond.has_value());
  EXPECT_EQ(beyond->status, 500) << "never fewer bytes than the header promised";
  std::filesystem::remove_all(dir);
}

// The web UI's files: a file by its path, index.html for the page's own routes, never for the
// API or for a missing asset; the page carries its content security policy.
TEST_F(HttpServerTest, StaticFilesServeThePage) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("tamas-http-static-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "assets");
  std::ofstream(dir / "index.html") << "<!doctype html><title>Tamas</title>";
  std::ofstream(dir / "assets" / "app.js") << "console.log(1)";
  config_.static_dir = dir.string();
  start();
  auto js = once(get("/assets/app.js"));
  ASSERT_TRUE(js.has_value());
  EXPECT_EQ(js->status, 200);
  EXPECT_EQ(js->body, "console.log(1)");
  EXPECT_EQ(js->header("content-type"), "text/javascript; charset=utf-8");
  for (const char* page : {"/", "/agent", "/wallboard"}) {
    auto r = once(get(page));
    ASSERT_TRUE(r.has_value()) << page;
    EXPECT_EQ(r->status, 200) << page;
    EXPECT_EQ(r->body, "<!doctype html><title>Tamas</title>") << page;
    EXPECT_NE(r->header("content-security-policy").find("default-src 'self'"), std::string::npos);
  }
  auto asset = once(get("/assets/missing.png"));
  ASSERT_TRUE(asset.has_value());
  EXPECT_EQ(asset->status, 404) << "a missing file is not the page";
  auto api = once(get("/api/v1/nothing"));
  ASSERT_TRUE(api.has_value());
  EXPECT_EQ(api->status, 404);
  EXPECT_EQ(api->header("content-type"), "application/json");
  auto echo = once(get("/health"));
  ASSERT_TRUE(echo.has_value());
  EXPECT_NE(echo->body.find("\"path\":\"/health\""), std::string::npos) << "routes come first";
  std::filesystem::remove_all(dir);
}

// Beyond max_connections a new connection is answered 503 and closed; once one closes, there is
// room again.
TEST_F(HttpServerTest, ConnectionsBeyondTheCapAreRefused) {
  config_.max_connections = 2;
  config_.read_timeout = 5s;
  start();
  auto a = std::make_unique<Client>(server_->port());
  Client b(server_->port());
  ASSERT_TRUE(a->send(get("/api/v1/echo")) && a->read().has_value());
  ASSERT_TRUE(b.send(get("/api/v1/echo")) && b.read().has_value());
  Client c(server_->port());
  auto full = c.read();
  ASSERT_TRUE(full.has_value());
  EXPECT_EQ(full->status, 503);
  EXPECT_TRUE(c.closed_by_server());
  a.reset();  // one leaves: a new client gets in (once the server has noticed)
  std::optional<Reply> in;
  const auto deadline = Clock::now() + kPatience;
  while (Clock::now() < deadline) {
    Client d(server_->port());
    if (d.send(get("/api/v1/echo")) && (in = d.read()) && in->status == 200) break;
  }
  ASSERT_TRUE(in.has_value());
  EXPECT_EQ(in->status, 200);
}

}  // namespace
}  // namespace tamas::api
