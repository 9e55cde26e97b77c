// The HTTP foundation of the REST API: the route table with its access policy, and the server.
//
// Routes are declared once, in a `Router`: method, path pattern, scope and the roles allowed.
// `Router::dispatch` is the one place that enforces them: it matches the path, then checks the
// principal, the tenant and the role, and only then runs the handler. Handlers never check access
// themselves. The Router is pure (no sockets, no threads) so the policy is tested without a
// network.
//
// `HttpServer` is HTTP/1.1 over Boost.Beast (included only by src/api/*.cc): keep-alive,
// a body limit (413), a deadline for each request (slow clients are cut off), 400 for malformed
// requests, security headers on every response and one log line per request. Docs: docs/api.md.
//
// Thread rules: a Router is built on one thread and then shared read-only (`shared_ptr<const
// Router>`); dispatch() may run on several server threads at once, so handlers and the
// authenticate hook must be thread-safe and must not block for long (they run on the I/O threads).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace tamas::api {

// Admin is the only role that is not bound to a tenant.
enum class Role : uint8_t { kAdmin, kManager, kSupervisor, kAgent, kAnalyst };
inline constexpr Role kAllRoles[] = {Role::kAdmin, Role::kManager, Role::kSupervisor, Role::kAgent,
                                     Role::kAnalyst};
std::string_view to_string(Role role);              // "admin", "manager", ...
std::optional<Role> role_from(std::string_view s);  // the inverse; nullopt for anything else

// Who is calling, as established by the authenticate hook.
struct Principal {
  std::string tenant;  // may be empty for an admin
  std::string username;
  Role role = Role::kAgent;
};

struct Request {
  std::string method;                          // "GET", as received
  std::string target;                          // as received: path + query
  std::string path;                            // percent-decoded, without the query
  std::map<std::string, std::string> query;    // percent-decoded ('+' is a space)
  std::map<std::string, std::string> params;   // from the route pattern, e.g. {tenant}; decoded
  std::map<std::string, std::string> headers;  // lower-case names; repeated fields joined by ", "
  std::string body;
  std::string remote_address;          // the peer's IP address
  std::optional<Principal> principal;  // set by the authenticate hook, empty if anonymous
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra fields
  // Instead of `body`: `file_length` bytes of the file at `file` from `file_offset`, streamed
  // from disk as the client reads (a recording). If the file cannot be opened when the response
  // is written, the answer becomes a 500.
  std::string file;
  uint64_t file_offset = 0, file_length = 0;
};

// The error format of the whole API: {"error": message} plus {"field": field} when one is given.
Response json_error(int status, std::string message, std::string field = "");

// A request target split and decoded. Only origin-form ("/path?query") is accepted; refused with a
// message: other forms, bad or NUL percent escapes, an encoded '/' in the path (it would change how
// the path splits into segments), '.' or '..' segments, a fragment, repeated or empty query names.
struct Target {
  std::string path;
  std::map<std::string, std::string> query;
};
Result<Target> parse_target(std::string_view target);

// A WebSocket connection as a route's handler sees it, once upgraded.
class WebSocketPeer {
 public:
  virtual ~WebSocketPeer() = default;
  // Queues one text message; thread-safe, never blocks. A peer that lets more than
  // kMaxUnsent messages pile up unsent (a client that does not read) is closed.
  virtual void send(std::shared_ptr<const std::string> text) = 0;
  virtual void close() = 0;  // thread-safe; on_close follows
  static constexpr size_t kMaxUnsent = 1000;
};
// What a WebSocket route does with its connection; both run on an I/O thread, one at a time.
struct WebSocketHandlers {
  std::function<void(std::string_view text)> on_message;  // each text message (at most 64 KiB)
  std::function<void()> on_close;                         // once, however the connection ended
};

// The file a GET of `path` finds under `dir` (the web UI; see HttpConfig::static_dir), with its
// content type: the file itself, else dir/index.html for a path whose last segment has no '.'
// (the page's own routes). Nullopt when there is none or `path` would leave `dir`.
std::optional<Response> static_file(const std::string& dir, const std::string& path);

enum class Scope : uint8_t {
  kPublic,  // no principal needed (login, health, the OpenAPI document)
  kServer,  // any authenticated principal whose role is listed
  kTenant,  // the pattern has a {tenant} parameter; a principal of another tenant gets 404 (the
            // other tenant's existence is never revealed) unless it is an admin; then roles apply
};
std::string_view to_string(Scope scope);  // "public", "server", "tenant"

struct Route {
  std::string method;   // GET, POST, PUT, PATCH or DELETE
  std::string pattern;  // "/api/v1/tenants/{tenant}/queues/{queue}": literal or {name} segments
  Scope scope = Scope::kTenant;
  std::vector<Role> roles;  // who may call it; empty exactly when the scope is kPublic.
                            // Admin is allowed only where listed, like any other role.
  std::function<Response(const Request&)> handler;
  std::string summary;  // one line for the OpenAPI document
};

// Opens a WebSocket endpoint's connection: called once the handshake is done.
using WebSocketOpener =
    std::function<WebSocketHandlers(std::shared_ptr<WebSocketPeer>, const Request&)>;

// The route table. Immutable once shared; see the thread rules above.
class Router {
 public:
  // Adds a route. Fails (and adds nothing) on: an unknown method, a malformed pattern (it must
  // start with '/', have no empty segment and no '?', '%' or '#'; parameters are whole segments
  // named [a-z][a-z0-9_]*, each at most once), a method+pattern already present (parameter names
  // do not count: /a/{x} and /a/{y} are the same route), a kTenant route without {tenant}, roles
  // on a kPublic route or none on another, a missing handler.
  Status add(Route route);
  // Adds a WebSocket endpoint (method GET), checked as add() does: when its handler answers 101
  // to an upgrade request, the server completes the handshake and calls `opener` with the
  // connection. The handler decides (after the policy) whether to accept; a 101 to a request that
  // is not an upgrade becomes 426.
  Status add_websocket(Route route, WebSocketOpener opener);
  // The opener of a route dispatch() matched; null for a plain route.
  const WebSocketOpener* websocket(const Route& route) const;

  // Answers a request: sets req.params and runs the matching route's handler, or refuses with
  // json_error: 404 no route matches the path (or, for kTenant, the principal belongs to another
  // tenant: the same body as an unknown path), 405 with `Allow` the path exists for other methods
  // only, 401 no principal, 403 the principal's role is not listed. When several patterns match,
  // the most specific wins (a literal segment beats a parameter, left to right). A handler that
  // throws gives 500 with a generic message (the exception is logged, never sent): this is the
  // one place handlers' exceptions are caught.
  // `matched`, when given, is set to the route whose handler ran (null when none did).
  Response dispatch(Request& req, const Route** matched = nullptr) const;

  // An OpenAPI 3.0 document with every route: path, method, summary, path parameters, and the
  // scope and roles as the extensions x-tamas-scope and x-tamas-roles.
  nlohmann::json openapi() const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  struct Segment {
    std::string text;  // the literal, or the parameter's name
    bool param = false;
  };
  std::vector<Route> routes_;
  std::vector<std::vector<Segment>> segments_;  // parallel to routes_
  std::vector<WebSocketOpener> openers_;         // parallel to routes_
};

struct HttpConfig {
  std::string address = "127.0.0.1";  // an IPv4 or IPv6 literal
  uint16_t port = 0;                  // 0: any free port (see HttpServer::port())
  size_t body_limit = 1 << 20;        // larger bodies get 413 and the connection is closed
  size_t header_limit = 16 << 10;     // larger request heads get 431 and the connection is closed
  // From the moment the server starts reading a request (including an idle keep-alive wait) until
  // the request is complete; a client that takes longer is disconnected. The same bound applies to
  // writing a response.
  std::chrono::milliseconds read_timeout{10'000};
  int threads = 1;  // I/O threads, each running handlers
  // Connections open at once (HTTP and WebSocket); one more is answered 503 and closed.
  size_t max_connections = 10'000;
  // Files served for GET and HEAD of paths outside /api/ that no route has (the web UI): a file
  // under this folder by its path, else index.html (the page's own routes, like /agent). Empty:
  // none.
  std::string static_dir;
};

class HttpServer {
 public:
  // Listens on config.address:config.port and serves in config.threads threads of its own.
  // `authenticate` (may be empty) runs before dispatch on each well-formed request: it reads the
  // cookie or Authorization header and sets req.principal, or leaves it empty; if it throws, the
  // request gets 500. Fails when the configuration is invalid or the address cannot be bound.
  static Result<std::unique_ptr<HttpServer>> start(HttpConfig config,
                                                   std::shared_ptr<const Router> router,
                                                   std::function<void(Request&)> authenticate);
  virtual ~HttpServer() = default;    // stops serving, closes every connection, joins its threads
  virtual uint16_t port() const = 0;  // the port actually bound

 protected:
  HttpServer() = default;
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
};

}  // namespace tamas::api
