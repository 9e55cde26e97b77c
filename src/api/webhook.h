// Outgoing webhooks: each contact event of a tenant POSTed, HMAC-signed, to the tenant's URLs.
//
// A `WebhookSender` owns one thread with one Asio io_context (Boost.Asio/Beast and OpenSSL are
// included only by src/api/webhook.cc). `deliver()` only hands the delivery to that thread and
// returns; the thread keeps one queue per target (tenant + URL + secret) and works through each
// queue in order, one request at a time, so a slow or dead target delays only its own queue.
//
// Each request: `POST <url>` with the body as given and the headers
//   Content-Type: application/json      User-Agent: Tamas
//   X-Tamas-Event: <event name>         X-Tamas-Delivery: <unique id, the same on every retry>
//   X-Tamas-Timestamp: <unix seconds>   X-Tamas-Signature: sha256=<hex HMAC-SHA256(secret,
//                                                                  timestamp + "." + body)>
// 2xx is delivered. 5xx, 429, connection errors and timeouts are retried after base, 2 base,
// 4 base, ... until max_attempts; then, like any other status (3xx and 4xx: redirects are not
// followed), the delivery is dropped with a warning naming the tenant, the URL without its query
// and why. A full queue drops its oldest waiting delivery. The wire format and how to verify a
// signature: docs/webhooks.md.
//
// Thread rules: deliver() and stats() may be called from any thread, concurrently; deliver()
// never blocks on the network (it posts to the sender's thread). Destruction abandons what is
// pending, stops promptly even while a target hangs (only a DNS lookup in progress can make it
// wait for the lookup to end) and joins the thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/url.h"

namespace tamas::api {

// Where one tenant's contact events go (config::WebhookConfig, copied by the wiring).
struct WebhookTarget {
  std::string url;                  // http:// or https://, see parse_webhook_url
  std::string secret;               // the HMAC key, at least 16 bytes (config enforces it)
  std::vector<std::string> events;  // event names sent; empty = every event

  bool wants(std::string_view event) const;
};

struct WebhookOptions {
  // The bound on one attempt, from the start of name resolution to the response's header.
  std::chrono::milliseconds timeout{5000};
  // The wait before the first retry; it doubles before each further one.
  std::chrono::milliseconds backoff_base{1000};
  int max_attempts = 5;         // attempts per delivery, the first one included; at least 1
  size_t queue_limit = 10'000;  // deliveries waiting per target; at least 1
};

// Counts since start; each delivery ends exactly once as delivered or dropped.
struct WebhookStats {
  uint64_t delivered = 0;   // answered 2xx
  uint64_t retried = 0;     // attempts that failed and were scheduled again
  uint64_t dropped = 0;     // given up: attempts exhausted, a final status, a bad URL, a full queue
  uint64_t overflowed = 0;  // of `dropped`: pushed out of a full queue
};

// The URL check config loading uses: see tamas::parse_http_url (common/url.h).
inline Result<HttpUrl> parse_webhook_url(std::string_view url) { return parse_http_url(url); }

class WebhookSender {
 public:
  // Starts the sender's thread. Fails when an option is out of range or TLS cannot be set up (the
  // system's trusted certificates are loaded here: HTTPS peers are verified against them and
  // against the URL's host name).
  static Result<std::unique_ptr<WebhookSender>> start(WebhookOptions options = {});
  virtual ~WebhookSender() = default;

  // Queues `json_body` for `target` when target.wants(event_name), and returns at once. A target
  // whose URL does not parse drops the delivery with a warning. `tenant` names the target in logs
  // and keeps tenants' queues apart even when they share a URL.
  virtual void deliver(const std::string& tenant, const WebhookTarget& target,
                       std::string event_name, std::string json_body) = 0;

  virtual WebhookStats stats() const = 0;

 protected:
  WebhookSender() = default;
  WebhookSender(const WebhookSender&) = delete;
  WebhookSender& operator=(const WebhookSender&) = delete;
};

// The signature header's value for `secret`, `timestamp` (unix seconds, as sent) and `body`:
// "sha256=" and the lower-case hex HMAC-SHA256 of timestamp + "." + body. Exposed for receivers
// written against Tamas in C++ and for tests.
std::string webhook_signature(std::string_view secret, std::string_view timestamp,
                              std::string_view body);

}  // namespace tamas::api
