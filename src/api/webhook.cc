// WebhookSender over Boost.Asio/Beast, OpenSSL (through Asio's ssl layer) and libsodium (HMAC).
//
// One thread runs one io_context and owns every TargetQueue; deliver() only posts to it, so the
// queues need no lock (the counters are atomics, read by stats() from anywhere). A TargetQueue
// sends its front delivery with an Attempt (resolve, connect, TLS handshake, write, read the
// response header, all under one deadline timer that closes the socket when it fires), and only
// when that delivery is finished (delivered or dropped) does it start the next one: order is kept
// per target, and targets never wait for each other. Between retries the front delivery waits on
// the queue's backoff timer. Each attempt is one connection (`Connection: close`): simple, and a
// response can never be mistaken for another delivery's.
//
// Teardown: ~Sender stops the io_context and joins the thread; the queues, then the pending
// handlers (which own the Attempts and with them the sockets) are destroyed without running.
#include "api/webhook.h"

#include <openssl/ssl.h>
#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <optional>
#include <thread>
#include <utility>

#include "common/log.h"

namespace tamas::api {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;

constexpr milliseconds kMaxBackoff = std::chrono::hours(1);
constexpr uint32_t kResponseHeaderLimit = 16 << 10;

bool sodium_ready() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

// A random (version 4) UUID: unique per delivery, so receivers can drop the duplicates that
// retries can cause (a 2xx lost on the way back).
std::string new_delivery_id() {
  unsigned char b[16];
  randombytes_buf(b, sizeof b);
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[b[i] >> 4];
    out += kHex[b[i] & 0x0f];
  }
  return out;
}

// Event names become a header value: keep them to a safe, boring alphabet.
bool is_event_name(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
  });
}

struct Outcome {
  enum class Kind : uint8_t { kDelivered, kRetry, kFinal };
  Kind kind = Kind::kRetry;
  std::string why;  // for logs: "HTTP 503", "cannot connect: Connection refused", ...
};

Outcome classify(unsigned status) {
  const std::string s = "HTTP " + std::to_string(status);
  if (status >= 200 && status < 300) return {Outcome::Kind::kDelivered, s};
  if (status >= 500 || status == 429) return {Outcome::Kind::kRetry, s};
  if (status >= 300 && status < 400) {
    return {Outcome::Kind::kFinal, s + " (redirects are not followed)"};
  }
  return {Outcome::Kind::kFinal, s};
}

// One request on one connection, bounded by one deadline. Owned by the handlers it has pending
// (shared_from_this), like the server's Session; calls `done` exactly once, unless the io_context
// stops first (then it is destroyed without calling it).
class Attempt : public std::enable_shared_from_this<Attempt> {
 public:
  using Done = std::function<void(Outcome)>;
  using Request = http::request<http::string_body>;

  Attempt(asio::io_context& ioc, ssl::context& tls, const HttpUrl& url, Request request,
          milliseconds timeout, Done done)
      : url_(url),
        request_(std::move(request)),
        timeout_(timeout),
        done_(std::move(done)),
        timer_(ioc),
        resolver_(ioc) {
    if (url_.tls) {
      tls_.emplace(ioc, tls);
    } else {
      plain_.emplace(ioc);
    }
  }

  void run() {
    timer_.expires_after(timeout_);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->finished_) return;
      // Whatever is pending fails with operation_aborted and reports the timeout.
      self->timed_out_ = true;
      self->resolver_.cancel();
      beast::error_code ignored;
      self->socket().close(ignored);
    });
    if (url_.ip_literal) {
      beast::error_code ec;
      const asio::ip::address address = asio::ip::make_address(url_.host, ec);
      if (ec) return fail("bad address", ec);  // parse_http_url checked it: not expected
      socket().async_connect(tcp::endpoint(address, url_.port),
                             [self = shared_from_this()](beast::error_code connect_ec) {
                               self->on_connect(connect_ec);
                             });
      return;
    }
    resolver_.async_resolve(
        url_.host, std::to_string(url_.port), tcp::resolver::numeric_service,
        [self = shared_from_this()](beast::error_code ec, const tcp::resolver::results_type& r) {
          if (ec) return self->fail("cannot resolve " + self->url_.host, ec);
          asio::async_connect(self->socket(), r,
                              [self](beast::error_code connect_ec, const tcp::endpoint&) {
                                self->on_connect(connect_ec);
                              });
        });
  }

 private:
  tcp::socket& socket() { return tls_ ? tls_->next_layer() : *plain_; }

  void on_connect(beast::error_code ec) {
    if (ec) return fail("cannot connect", ec);
    if (!tls_) return write(*plain_);
    // Certificates and SNI name hosts without the root's trailing dot.
    std::string name = url_.host;
    if (!url_.ip_literal && name.back() == '.') name.pop_back();
    // SNI for names only (RFC 6066 forbids literals). SSL_set_tlsext_host_name is this call in a
    // macro with a C cast.
    if (!url_.ip_literal && SSL_ctrl(tls_->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME,
                                     TLSEXT_NAMETYPE_host_name, name.data()) != 1) {
      return finish({Outcome::Kind::kRetry, "TLS: cannot set the server name"});
    }
    tls_->set_verify_mode(ssl::verify_peer);
    tls_->set_verify_callback(ssl::host_name_verification(name));
    tls_->async_handshake(ssl::stream_base::client,
                          [self = shared_from_this()](beast::error_code hs_ec) {
                            if (hs_ec) return self->fail("TLS handshake failed", hs_ec);
                            self->write(*self->tls_);
                          });
  }

  template <typename Stream>
  void write(Stream& stream) {
    http::async_write(stream, request_,
                      [self = shared_from_this(), &stream](beast::error_code ec, std::size_t) {
                        if (ec) return self->fail("cannot send the request", ec);
                        self->read(stream);
                      });
  }

  template <typename Stream>
  void read(Stream& stream) {
    parser_.header_limit(kResponseHeaderLimit);
    // Only the status matters; the body is not read (the connection closes after it).
    http::async_read_header(stream, buffer_, parser_,
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->fail("no response", ec);
                              self->finish(classify(self->parser_.get().result_int()));
                            });
  }

  void fail(const std::string& what, beast::error_code ec) {
    if (timed_out_) {
      return finish(
          {Outcome::Kind::kRetry, "timed out after " + std::to_string(timeout_.count()) + " ms"});
    }
    finish({Outcome::Kind::kRetry, what + ": " + ec.message()});
  }

  void finish(Outcome outcome) {
    if (finished_) return;
    finished_ = true;
    timer_.cancel();
    beast::error_code ignored;
    socket().close(ignored);
    Done done = std::move(done_);
    done(std::move(outcome));  // may destroy the TargetQueue that made this Attempt
  }

  const HttpUrl url_;
  Request request_;
  const milliseconds timeout_;
  Done done_;
  asio::steady_timer timer_;
  tcp::resolver resolver_;
  std::optional<tcp::socket> plain_;
  std::optional<ssl::stream<tcp::socket>> tls_;
  beast::flat_buffer buffer_;
  http::response_parser<http::empty_body> parser_;
  bool timed_out_ = false;
  bool finished_ = false;
};

struct Delivery {
  std::string id;
  std::string event;
  std::string body;
};

// One target's deliveries, in order. The front one is in flight (or waiting to be retried)
// exactly while `busy`.
struct TargetQueue {
  TargetQueue(asio::io_context& ioc, std::string k, std::string t, std::string s, HttpUrl u)
      : key(std::move(k)),
        tenant(std::move(t)),
        secret(std::move(s)),
        url(std::move(u)),
        backoff(ioc) {}

  const std::string key;
  const std::string tenant;
  const std::string secret;
  const HttpUrl url;
  std::deque<Delivery> queue;
  bool busy = false;
  int attempts = 0;  // of the front delivery
  uint64_t overflowed = 0;
  asio::steady_timer backoff;
};

class Sender final : public WebhookSender {
 public:
  explicit Sender(WebhookOptions options)
      : options_(options),
        tls_(ssl::context::tls_client),
        ioc_(1),
        work_(asio::make_work_guard(ioc_)) {}

  ~Sender() override {
    work_.reset();
    ioc_.stop();
    if (thread_.joinable()) thread_.join();
    targets_.clear();  // before ioc_: their timers belong to it
  }

  Status init() {
    if (SSL_CTX_set_min_proto_version(tls_.native_handle(), TLS1_2_VERSION) != 1) {
      return Status::error("webhooks: cannot set up TLS: TLS 1.2 is not available");
    }
    beast::error_code ec;
    tls_.set_options(ssl::context::default_workarounds | ssl::context::no_compression, ec);
    if (!ec) tls_.set_default_verify_paths(ec);
    if (!ec) tls_.set_verify_mode(ssl::verify_peer, ec);
    if (ec) return Status::error("webhooks: cannot set up TLS: " + ec.message());
    thread_ = std::thread([this] {
      while (true) {
        try {
          ioc_.run();
          return;
        } catch (const std::exception& e) {
          // Handlers catch what they call; this is the last resort.
          log::error("webhooks: unexpected exception", {{"error", e.what()}});
        }
      }
    });
    return Status::ok();
  }

  void deliver(const std::string& tenant, const WebhookTarget& target, std::string event_name,
               std::string json_body) override {
    if (!target.wants(event_name)) return;
    asio::post(ioc_, [this, tenant, target, event = std::move(event_name),
                      body = std::move(json_body)]() mutable {
      enqueue(tenant, target, std::move(event), std::move(body));
    });
  }

  WebhookStats stats() const override {
    WebhookStats s;
    s.delivered = delivered_.load(std::memory_order_relaxed);
    s.retried = retried_.load(std::memory_order_relaxed);
    s.dropped = dropped_.load(std::memory_order_relaxed);
    s.overflowed = overflowed_.load(std::memory_order_relaxed);
    return s;
  }

 private:
  // ---- On the sender's thread only ----

  void enqueue(const std::string& tenant, const WebhookTarget& target, std::string event,
               std::string body) {
    if (!is_event_name(event)) {
      return drop_early(tenant, target, log::json_quote(event.substr(0, 64)),
                        "the event name is not [a-z0-9._-]+");
    }
    std::string key = tenant + '\n' + target.url + '\n' + target.secret;
    auto it = targets_.find(key);
    if (it == targets_.end()) {
      Result<HttpUrl> url = parse_http_url(target.url);
      if (!url) return drop_early(tenant, target, event, url.message());
      auto q =
          std::make_unique<TargetQueue>(ioc_, key, tenant, target.secret, std::move(url).value());
      it = targets_.emplace(std::move(key), std::move(q)).first;
    }
    TargetQueue& q = *it->second;
    q.queue.push_back(Delivery{new_delivery_id(), std::move(event), std::move(body)});
    const size_t waiting = q.queue.size() - (q.busy ? 1 : 0);
    if (waiting > options_.queue_limit) {
      // The oldest waiting one goes; the front one, if in flight, is already on its way.
      auto victim = q.queue.begin() + (q.busy ? 1 : 0);
      ++q.overflowed;
      dropped_.fetch_add(1, std::memory_order_relaxed);
      overflowed_.fetch_add(1, std::memory_order_relaxed);
      if (q.overflowed == 1 || q.overflowed % 1000 == 0) {
        log::warn(
            "webhook dropped",
            {{"tenant", q.tenant},
             {"url", q.url.without_query()},
             {"event", victim->event},
             {"delivery", victim->id},
             {"why", "the queue is full (" + std::to_string(options_.queue_limit) + " waiting); " +
                         std::to_string(q.overflowed) + " dropped so far for this target"}});
      }
      q.queue.erase(victim);
    }
    if (!q.busy) send_front(&q);
  }

  void drop_early(const std::string& tenant, const WebhookTarget& target, const std::string& event,
                  const std::string& why) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    // Without the query, which may hold a token (parse_http_url's messages leave it out too).
    log::warn("webhook dropped", {{"tenant", tenant},
                                  {"url", target.url.substr(0, target.url.find('?'))},
                                  {"event", event},
                                  {"why", why}});
  }

  // Sends the front delivery of `q`, or, with nothing left, forgets `q` (it is made again by the
  // next delivery; a reload that changes the targets leaves nothing behind).
  void send_front(TargetQueue* q) {
    if (q->queue.empty()) {
      targets_.erase(targets_.find(q->key));  // destroys *q
      return;
    }
    q->busy = true;
    const Delivery& d = q->queue.front();
    // Signed at each attempt: the timestamp is when it was sent, so a receiver may refuse old
    // ones (replays) without refusing a delivery that waited in the queue.
    const std::string timestamp =
        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count());
    Attempt::Request req(http::verb::post, q->url.target, 11);
    req.set(http::field::host, q->url.host_header());
    req.set(http::field::user_agent, "Tamas");
    req.set(http::field::content_type, "application/json");
    req.set(http::field::connection, "close");
    req.set("X-Tamas-Event", d.event);
    req.set("X-Tamas-Delivery", d.id);
    req.set("X-Tamas-Timestamp", timestamp);
    req.set("X-Tamas-Signature", webhook_signature(q->secret, timestamp, d.body));
    req.body() = d.body;
    req.prepare_payload();
    std::make_shared<Attempt>(ioc_, tls_, q->url, std::move(req), options_.timeout,
                              [this, q](Outcome o) { on_outcome(q, std::move(o)); })
        ->run();
  }

  void on_outcome(TargetQueue* q, Outcome o) {
    Delivery& d = q->queue.front();
    ++q->attempts;
    if (o.kind == Outcome::Kind::kDelivered) {
      delivered_.fetch_add(1, std::memory_order_relaxed);
      log::debug("webhook delivered", {{"tenant", q->tenant},
                                       {"url", q->url.without_query()},
                                       {"event", d.event},
                                       {"delivery", d.id},
                                       {"attempts", std::to_string(q->attempts)}});
      return next(q);
    }
    if (o.kind == Outcome::Kind::kRetry && q->attempts < options_.max_attempts) {
      retried_.fetch_add(1, std::memory_order_relaxed);
      const int doublings = std::min(q->attempts - 1, 20);
      const milliseconds wait = std::min(options_.backoff_base * (int64_t{1} << doublings),
                                         std::max(kMaxBackoff, options_.backoff_base));
      log::info("webhook retry", {{"tenant", q->tenant},
                                  {"url", q->url.without_query()},
                                  {"event", d.event},
                                  {"delivery", d.id},
                                  {"attempt", std::to_string(q->attempts)},
                                  {"why", o.why},
                                  {"in_ms", std::to_string(wait.count())}});
      q->backoff.expires_after(wait);
      q->backoff.async_wait([this, q](beast::error_code ec) {
        if (!ec) send_front(q);
      });
      return;
    }
    dropped_.fetch_add(1, std::memory_order_relaxed);
    std::string why = o.why;
    if (o.kind == Outcome::Kind::kRetry) {
      why += " (" + std::to_string(q->attempts) + (q->attempts == 1 ? " attempt)" : " attempts)");
    } else {
      why += " (not retried)";
    }
    log::warn("webhook dropped", {{"tenant", q->tenant},
                                  {"url", q->url.without_query()},
                                  {"event", d.event},
                                  {"delivery", d.id},
                                  {"why", why}});
    next(q);
  }

  void next(TargetQueue* q) {
    q->queue.pop_front();
    q->attempts = 0;
    q->busy = false;
    send_front(q);
  }

  const WebhookOptions options_;
  // Declared before ioc_ so that it outlives the Attempts that ~io_context destroys.
  ssl::context tls_;
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::map<std::string, std::unique_ptr<TargetQueue>> targets_;  // by tenant, URL and secret
  std::atomic<uint64_t> delivered_{0};
  std::atomic<uint64_t> retried_{0};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> overflowed_{0};
  std::thread thread_;
};

}  // namespace

bool WebhookTarget::wants(std::string_view event) const {
  return events.empty() || std::find(events.begin(), events.end(), event) != events.end();
}

std::string webhook_signature(std::string_view secret, std::string_view timestamp,
                              std::string_view body) {
  sodium_ready();
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(secret.data()),
                              secret.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(timestamp.data()),
                                timestamp.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>("."), 1);
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(body.data()),
                                body.size());
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_final(&state, mac);
  char hex[crypto_auth_hmacsha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
  return "sha256=" + std::string(hex);
}

Result<std::unique_ptr<WebhookSender>> WebhookSender::start(WebhookOptions options) {
  if (options.timeout <= milliseconds::zero()) {
    return Status::error("webhooks: timeout must be positive");
  }
  if (options.backoff_base < milliseconds::zero()) {
    return Status::error("webhooks: backoff_base must not be negative");
  }
  if (options.max_attempts < 1) return Status::error("webhooks: max_attempts must be at least 1");
  if (options.queue_limit < 1) return Status::error("webhooks: queue_limit must be at least 1");
  if (!sodium_ready()) return Status::error("webhooks: libsodium could not start");
  // The one place exceptions (Asio's, OpenSSL's through Asio, std::thread's) become a Status.
  try {
    auto sender = std::make_unique<Sender>(options);
    if (Status s = sender->init(); !s) return s;
    return std::unique_ptr<WebhookSender>(std::move(sender));
  } catch (const std::exception& e) {
    return Status::error(std::string("webhooks: cannot start: ") + e.what());
  }
}

}  // namespace tamas::api
