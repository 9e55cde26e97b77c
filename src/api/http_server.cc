// HttpServer over Boost.Beast/Asio: the only file of Tamas that includes them.
//
// One io_context run by config.threads threads; each connection is a Session on a strand of its
// own, so a session's handlers never run concurrently while different sessions run in parallel.
// A Session reads one request at a time (header, then body, so `Expect: 100-continue` can be
// answered), hands it to the authenticate hook and the Router, writes the answer and either reads
// the next request (keep-alive) or closes. Every read of a request, from the first byte waited for
// to the last byte of the body, runs under one deadline (tcp_stream's timer): slow and idle
// clients are disconnected when it passes.
#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/core/file.hpp>
#include <boost/beast/http/basic_file_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <atomic>
#include <cctype>
#include <chrono>
#include <deque>
#include <cstdio>
#include <exception>
#include <optional>
#include <thread>

#include "api/http.h"
#include "common/log.h"

namespace tamas::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// After the last response on a connection the server stops sending and reads (and drops) what the
// client still sends for at most this long, so that unread request bytes do not turn the close
// into a reset that destroys the response in flight (what nginx calls a lingering close).
constexpr std::chrono::milliseconds kLinger{2000};

// What every session shares; immutable.
struct Shared {
  Shared(HttpConfig c, std::shared_ptr<const Router> r, std::function<void(Request&)> a)
      : config(std::move(c)), router(std::move(r)), authenticate(std::move(a)) {}
  HttpConfig config;
  std::shared_ptr<const Router> router;
  std::function<void(Request&)> authenticate;
  mutable std::atomic<size_t> open{0};  // connections now
};

// One open connection, counted in Shared::open while it lives (moved from the HTTP session to
// its WebSocket on an upgrade).
class Ticket {
 public:
  explicit Ticket(std::shared_ptr<const Shared> shared) : shared_(std::move(shared)) {
    shared_->open.fetch_add(1);
  }
  Ticket(Ticket&& other) noexcept = default;
  Ticket& operator=(Ticket&&) = delete;
  ~Ticket() {
    if (shared_) shared_->open.fetch_sub(1);
  }

 private:
  std::shared_ptr<const Shared> shared_;
};

// A window of a file as Beast's file body sees it: opened at `offset`, `length` bytes long (the
// body writer reads size() bytes from the current position).
class FileWindow {
 public:
  bool is_open() const { return file_.is_open(); }
  void close(beast::error_code& ec) { file_.close(ec); }
  void open(const char* path, beast::file_mode mode, beast::error_code& ec) {
    file_.open(path, mode, ec);
  }
  Status open_window(const std::string& path, uint64_t offset, uint64_t length) {
    beast::error_code ec;
    file_.open(path.c_str(), beast::file_mode::scan, ec);
    if (!ec) file_.seek(offset, ec);
    const uint64_t size = ec ? 0 : file_.size(ec);
    if (ec || offset + length > size) return Status::error("cannot read " + path);
    length_ = length;
    return Status::ok();
  }
  std::uint64_t size(beast::error_code& ec) const {
    ec = {};
    return length_;
  }
  std::uint64_t pos(beast::error_code& ec) const { return file_.pos(ec); }
  void seek(std::uint64_t offset, beast::error_code& ec) { file_.seek(offset, ec); }
  std::size_t read(void* buffer, std::size_t n, beast::error_code& ec) const {
    return file_.read(buffer, n, ec);
  }
  std::size_t write(const void*, std::size_t, beast::error_code& ec) {
    ec = beast::errc::make_error_code(beast::errc::operation_not_permitted);
    return 0;
  }

 private:
  beast::file file_;
  std::uint64_t length_ = 0;
};
using FileBody = http::basic_file_body<FileWindow>;

// How long streaming a file to a client may take at most (a recording to an audio player).
constexpr std::chrono::minutes kFileWriteLimit{10};

bool is_token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// A handler's extra header must not be able to split the response.
bool is_valid_header(const std::pair<std::string, std::string>& h) {
  if (h.first.empty() || !std::all_of(h.first.begin(), h.first.end(), is_token_char)) return false;
  return h.second.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos;
}

bool under_api(std::string_view path) { return path == "/api" || path.substr(0, 5) == "/api/"; }

// Beast 1.74 has its own string_view; ours is std's.
std::string_view sv(beast::string_view s) { return {s.data(), s.size()}; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A WebSocket connection after the upgrade. Runs on the strand its HTTP session had: one read
// outstanding at a time and one write, the queue of unsent messages between them.
class WsSession final : public WebSocketPeer, public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(tcp::socket socket, std::string remote, Ticket ticket)
      : ws_(std::move(socket)), remote_(std::move(remote)), ticket_(std::move(ticket)) {}
  ~WsSession() override { finish(); }

  using Opener = std::function<WebSocketHandlers(std::shared_ptr<WebSocketPeer>, const Request&)>;

  void run(http::request<http::string_body> upgrade, Opener opener, Request req) {
    beast::get_lowest_layer(ws_).expires_never();  // the websocket's own timeouts from now on
    websocket::stream_base::timeout t;
    t.handshake_timeout = std::chrono::seconds(10);
    t.idle_timeout = std::chrono::seconds(40);  // a ping after 20 s of silence, closed after 40
    t.keep_alive_pings = true;
    ws_.set_option(t);
    ws_.read_message_max(64 << 10);
    auto self = shared_from_this();
    auto request = std::make_shared<http::request<http::string_body>>(std::move(upgrade));
    ws_.async_accept(*request, [self, request, opener = std::move(opener),
                                req = std::move(req)](beast::error_code ec) mutable {
      if (ec) return self->hang_up();
      self->handlers_ = opener(self, req);
      self->read();
    });
  }

  void send(std::shared_ptr<const std::string> text) override {
    if (unsent_.fetch_add(1) >= kMaxUnsent) {  // the client does not read: cut it off
      unsent_.fetch_sub(1);
      if (!overflowed_.exchange(true)) {
        log::info("websocket client too slow, closed", {{"remote", remote_}});
        close_hard();
      }
      return;
    }
    asio::post(ws_.get_executor(), [self = shared_from_this(), text = std::move(text)] {
      self->queue_.push_back(text);
      if (self->queue_.size() == 1) self->write();
    });
  }

  void close() override {
    asio::post(ws_.get_executor(), [self = shared_from_this()] {
      if (self->closing_) return;
      self->closing_ = true;
      self->ws_.async_close(websocket::close_code::normal, [self](beast::error_code) {});
    });
  }

 private:
  void read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->hang_up();
      if (self->ws_.got_text() && self->handlers_.on_message) {
        const auto data = self->buffer_.cdata();
        self->handlers_.on_message(
            std::string_view(static_cast<const char*>(data.data()), data.size()));
      }
      self->buffer_.consume(self->buffer_.size());
      self->read();
    });
  }

  void write() {
    ws_.text(true);
    ws_.async_write(asio::buffer(*queue_.front()),
                    [self = shared_from_this()](beast::error_code ec, std::size_t) {
                      self->queue_.pop_front();
                      self->unsent_.fetch_sub(1);
                      if (ec) return self->hang_up();
                      if (!self->queue_.empty()) self->write();
                    });
  }

  void close_hard() {
    asio::post(ws_.get_executor(), [self = shared_from_this()] { self->hang_up(); });
  }

  // The connection is over (closed by either side, failed, or cut off).
  void hang_up() {
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).close();
    finish();
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    if (handlers_.on_close) handlers_.on_close();
    handlers_ = {};
  }

  websocket::stream<beast::tcp_stream> ws_;
  std::string remote_;
  Ticket ticket_;
  beast::flat_buffer buffer_;
  WebSocketHandlers handlers_;
  std::deque<std::shared_ptr<const std::string>> queue_;  // on the strand
  std::atomic<size_t> unsent_{0};
  std::atomic<bool> overflowed_{false};
  bool closing_ = false;
  bool finished_ = false;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<const Shared> shared)
      : stream_(std::move(socket)), shared_(std::move(shared)), ticket_(shared_) {
    beast::error_code ec;
    const tcp::endpoint peer = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = peer.address().to_string();
  }

  void start() {
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&Session::read_header, shared_from_this()));
  }

 private:
  const HttpConfig& config() const { return shared_->config; }

  void read_header() {
    parser_.emplace();
    parser_->body_limit(config().body_limit);
    parser_->header_limit(static_cast<std::uint32_t>(config().header_limit));
    // One deadline for the whole request: header, 100-continue and body.
    stream_.expires_after(config().read_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::on_header, shared_from_this()));
  }

  void on_header(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec) return on_read_error(ec);
    started_ = Clock::now();
    const auto& req = parser_->get();
    if (!parser_->is_done() && beast::iequals(req[http::field::expect], "100-continue")) {
      continue_.emplace(http::status::continue_, req.version());
      http::async_write(stream_, *continue_,
                        beast::bind_front_handler(&Session::on_continue, shared_from_this()));
      return;
    }
    read_body();
  }

  void on_continue(beast::error_code ec, std::size_t /*bytes*/) {
    continue_.reset();
    if (ec) return close_now();
    read_body();
  }

  void read_body() {
    if (parser_->is_done()) return on_request();
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::on_body, shared_from_this()));
  }

  void on_body(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec) return on_read_error(ec);
    on_request();
  }

  void on_read_error(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == http::error::partial_message) {
      return close_now();  // the client went away, between requests or in the middle of one
    }
    if (ec == beast::error::timeout) {
      // tcp_stream has closed the socket already; there is no one to answer.
      if (parser_ && parser_->got_some()) {
        log::info("http request timed out", {{"remote", remote_}});
      }
      return;
    }
    if (ec == http::error::body_limit) {
      return reply_and_close(json_error(413, "the request body is larger than " +
                                                 std::to_string(config().body_limit) + " bytes"));
    }
    if (ec == http::error::header_limit) {
      return reply_and_close(json_error(431, "the request header is too large"));
    }
    if (ec.category() == beast::http::make_error_code(http::error::bad_method).category()) {
      // Beast's messages are fixed texts ("bad method", "bad target", ...), safe to send.
      return reply_and_close(json_error(400, "malformed request: " + ec.message()));
    }
    close_now();  // reset by the peer, aborted at shutdown, ...
  }

  void reply_and_close(Response r) {
    started_ = Clock::now();
    send(std::move(r), /*keep_alive=*/false, "-", "-", 11);
  }

  void on_request() {
    auto& msg = parser_->get();
    const unsigned version = msg.version();  // 10 or 11: the parser refuses others
    const bool keep_alive = msg.keep_alive();
    Request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    // The raw path is what gets logged: it has no control characters (the parser refuses them)
    // and, unlike the query, no credentials.
    const std::string raw_path = req.target.substr(0, req.target.find('?'));
    if (version == 11 && msg.find(http::field::host) == msg.end()) {
      return send(json_error(400, "an HTTP/1.1 request needs a Host header"), keep_alive,
                  req.method, raw_path, version);
    }
    auto target = parse_target(req.target);
    if (!target) {
      return send(json_error(400, target.message()), keep_alive, req.method, raw_path, version);
    }
    req.path = std::move(target->path);
    req.query = std::move(target->query);
    for (const auto& field : msg) {
      std::string name = lower(sv(field.name_string()));
      auto [it, fresh] = req.headers.emplace(std::move(name), std::string(sv(field.value())));
      if (!fresh) {
        it->second += it->first == "cookie" ? "; " : ", ";
        it->second += sv(field.value());
      }
    }
    const bool upgrade = websocket::is_upgrade(msg);
    if (upgrade) {
      req.body = msg.body();  // the message is kept for the handshake
    } else {
      req.body = std::move(msg.body());
    }
    req.remote_address = remote_;
    const bool head = req.method == "HEAD";
    if (head) req.method = "GET";  // answered as a GET, without the body

    Response res;
    bool ok = true;
    if (shared_->authenticate) {
      try {
        shared_->authenticate(req);
      } catch (const std::exception& e) {
        log::error("http authenticate failed", {{"path", raw_path}, {"error", e.what()}});
        ok = false;
      } catch (...) {
        log::error("http authenticate failed", {{"path", raw_path}, {"error", "unknown"}});
        ok = false;
      }
    }
    const Route* route = nullptr;
    res = ok ? shared_->router->dispatch(req, &route) : json_error(500, "internal error");
    if (res.status == 404 && route == nullptr && req.method == "GET" && !under_api(req.path)) {
      if (auto file = static_file(config().static_dir, req.path)) res = std::move(*file);
    }
    if (res.status == 101) {
      const WebSocketOpener* opener =
          route != nullptr ? shared_->router->websocket(*route) : nullptr;
      if (upgrade && opener != nullptr && !head) {
        log::info("http", {{"method", "GET"}, {"path", raw_path}, {"status", "101"},
                           {"remote", remote_}});
        auto ws = std::make_shared<WsSession>(stream_.release_socket(), remote_,
                                              std::move(ticket_));
        ws->run(parser_->release(), *opener, std::move(req));
        return;
      }
      res = json_error(426, "this path is a WebSocket: ask for an upgrade");
      res.headers.emplace_back("Upgrade", "websocket");
    }
    send(std::move(res), keep_alive, head ? "HEAD" : req.method, raw_path, version, head);
  }

  // Writes `r` (with the security headers) and then reads the next request or closes.
  void send(Response r, bool keep_alive, const std::string& method, const std::string& path,
            unsigned version, bool head = false) {
    if (r.status < 200 || r.status > 599 ||
        !std::all_of(r.headers.begin(), r.headers.end(), is_valid_header)) {
      log::error("http handler gave an invalid response",
                 {{"method", method}, {"path", path}, {"status", std::to_string(r.status)}});
      r = json_error(500, "internal error");
    }
    if (!r.file.empty()) return send_file(std::move(r), keep_alive, method, path, version, head);
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(r.status), version);
    for (auto& [name, value] : r.headers) res->insert(name, value);
    if (r.status == 204 || r.status == 304) r.body.clear();
    if (!r.body.empty()) res->set(http::field::content_type, r.content_type);
    res->set("X-Content-Type-Options", "nosniff");
    if (under_api(path)) res->set(http::field::cache_control, "no-store");
    res->keep_alive(keep_alive);
    if (head) {  // the length the GET would have, and no body
      res->content_length(r.body.size());
    } else {
      res->body() = std::move(r.body);
      res->prepare_payload();
    }

    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - started_).count();
    char duration[32];
    std::snprintf(duration, sizeof duration, "%.3f", ms);
    log::info("http", {{"method", method},
                       {"path", path},
                       {"status", std::to_string(r.status)},
                       {"ms", duration},
                       {"remote", remote_}});

    response_ = res;
    stream_.expires_after(config().read_timeout);
    http::async_write(
        stream_, *res,
        beast::bind_front_handler(&Session::on_write, shared_from_this(), res->keep_alive()));
  }

  // A response whose body is a window of a file, read from disk as it is written.
  void send_file(Response r, bool keep_alive, const std::string& method, const std::string& path,
                 unsigned version, bool head) {
    auto res = std::make_shared<http::response<FileBody>>(static_cast<http::status>(r.status),
                                                          version);
    FileWindow window;
    beast::error_code reset_ec;
    Status opened = window.open_window(r.file, r.file_offset, r.file_length);
    if (opened) res->body().reset(std::move(window), reset_ec);
    if (!opened || reset_ec) {
      log::error("http file response failed", {{"path", path}, {"file", r.file}});
      r.file.clear();
      return send(json_error(500, "internal error"), keep_alive, method, path, version, head);
    }
    for (auto& [name, value] : r.headers) res->insert(name, value);
    res->set(http::field::content_type, r.content_type);
    res->set("X-Content-Type-Options", "nosniff");
    if (under_api(path)) res->set(http::field::cache_control, "no-store");
    res->keep_alive(keep_alive);
    res->content_length(r.file_length);
    log::info("http", {{"method", method},
                       {"path", path},
                       {"status", std::to_string(r.status)},
                       {"bytes", std::to_string(r.file_length)},
                       {"remote", remote_}});
    response_ = res;
    stream_.expires_after(kFileWriteLimit);
    if (head) {  // the header only
      auto header = std::make_shared<http::response_serializer<FileBody>>(*res);
      http::async_write_header(stream_, *header,
                               [self = shared_from_this(), header, keep = res->keep_alive()](
                                   beast::error_code ec, std::size_t n) {
                                 self->on_write(keep, ec, n);
                               });
      return;
    }
    http::async_write(
        stream_, *res,
        beast::bind_front_handler(&Session::on_write, shared_from_this(), res->keep_alive()));
  }

  void on_write(bool keep_alive, beast::error_code ec, std::size_t /*bytes*/) {
    response_.reset();
    if (ec) return close_now();
    if (keep_alive) return read_header();
    linger();
  }

  // Stop sending (the client sees the end of the stream), then drain until the client closes.
  void linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(std::min(kLinger, config().read_timeout));
    drain();
  }

  void drain() {
    stream_.async_read_some(asio::buffer(drain_buffer_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->close_now();
                              self->drain();
                            });
  }

  void close_now() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  const std::shared_ptr<const Shared> shared_;
  Ticket ticket_;
  std::string remote_ = "-";
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::empty_body>> continue_;
  std::shared_ptr<void> response_;  // the response being written, kept alive until written
  Clock::time_point started_ = Clock::now();
  char drain_buffer_[4096];
};

class Server final : public HttpServer {
 public:
  explicit Server(std::shared_ptr<const Shared> shared)
      : shared_(std::move(shared)),
        ioc_(shared_->config.threads),
        acceptor_(asio::make_strand(ioc_)),
        retry_(acceptor_.get_executor()) {}

  ~Server() override {
    ioc_.stop();
    for (std::thread& t : threads_) t.join();
    // Members go in reverse order: the acceptor closes, then ~io_context destroys the pending
    // handlers and with them every Session, whose sockets close.
  }

  uint16_t port() const override { return port_; }

  Status listen() {
    const HttpConfig& c = shared_->config;
    const std::string where = "http: cannot listen on " + c.address + ":" + std::to_string(c.port);
    beast::error_code ec;
    const asio::ip::address address = asio::ip::make_address(c.address, ec);
    if (ec) return Status::error(where + ": '" + c.address + "' is not an IP address");
    const tcp::endpoint endpoint(address, c.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Status::error(where + ": " + ec.message());
    port_ = acceptor_.local_endpoint(ec).port();
    if (ec) return Status::error(where + ": " + ec.message());
    return Status::ok();
  }

  void run() {
    asio::dispatch(acceptor_.get_executor(), [this] { accept(); });
    for (int i = 0; i < shared_->config.threads; ++i) {
      threads_.emplace_back([this] {
        // Handlers catch what they call; this is the last resort, so one bad request cannot take
        // a thread down.
        while (true) {
          try {
            ioc_.run();
            return;
          } catch (const std::exception& e) {
            log::error("http: unexpected exception", {{"error", e.what()}});
          }
        }
      });
    }
  }

 private:
  void accept() {
    acceptor_.async_accept(asio::make_strand(ioc_), [this](beast::error_code ec, tcp::socket s) {
      if (ec == asio::error::operation_aborted) return;
      if (ec) {
        // Out of descriptors, typically: wait a little rather than spin.
        log::warn("http: accept failed", {{"error", ec.message()}});
        retry_.expires_after(std::chrono::milliseconds(100));
        retry_.async_wait([this](beast::error_code wait_ec) {
          if (!wait_ec) accept();
        });
        return;
      }
      if (shared_->open.load() >= shared_->config.max_connections) {
        // Full: say so if the socket takes it at once, and close.
        static constexpr std::string_view kFull =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
            "Content-Length: 43\r\nConnection: close\r\n\r\n"
            "{\"error\":\"too many connections; try again\"}";
        beast::error_code ignored;
        s.non_blocking(true, ignored);
        s.send(asio::buffer(kFull.data(), kFull.size()), 0, ignored);
        s.shutdown(tcp::socket::shutdown_both, ignored);
        s.close(ignored);
        log::warn("http: too many connections, one refused",
                  {{"open", std::to_string(shared_->open.load())}});
      } else {
        std::make_shared<Session>(std::move(s), shared_)->start();
      }
      accept();
    });
  }

  const std::shared_ptr<const Shared> shared_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  asio::steady_timer retry_;
  uint16_t port_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::start(HttpConfig config,
                                                      std::shared_ptr<const Router> router,
                                                      std::function<void(Request&)> authenticate) {
  if (!router) return Status::error("http: no router");
  if (config.threads < 1) return Status::error("http: threads must be at least 1");
  if (config.max_connections < 1) return Status::error("http: max_connections must be at least 1");
  if (config.read_timeout <= std::chrono::milliseconds::zero()) {
    return Status::error("http: read_timeout must be positive");
  }
  auto server = std::make_unique<Server>(
      std::make_shared<const Shared>(std::move(config), std::move(router), std::move(authenticate)));
  if (Status s = server->listen(); !s) return s;
  server->run();
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace tamas::api
