// The pure half of src/api/http.h: roles, the error format, request targets and the route table.
// No sockets and no Boost here (the server is in http_server.cc).
#include "api/http.h"

#include <algorithm>
#include <cctype>
#include <exception>
#include <nlohmann/json.hpp>
#include <set>

#include "common/log.h"

namespace tamas::api {
namespace {

constexpr std::string_view kRoleNames[] = {"admin", "manager", "supervisor", "agent", "analyst"};
constexpr std::string_view kMethods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};

// JSON text that never throws on invalid UTF-8 (messages may quote what a client sent).
std::string dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes `s`; nullopt for a malformed escape or an encoded NUL.
std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      const int hi = hex_value(s[i + 1]);
      const int lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      const char decoded = static_cast<char>(hi * 16 + lo);
      if (decoded == '\0') return std::nullopt;
      out += decoded;
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

// "/a/b" -> {"a", "b"}; "/" -> {}; "/a/" -> {"a", ""}. `path` starts with '/'.
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  if (path.size() <= 1) return parts;
  size_t start = 1;
  while (true) {
    const size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) {
      parts.push_back(path.substr(start));
      return parts;
    }
    parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
}

bool is_param_name(std::string_view s) {
  if (s.empty() || !(s[0] >= 'a' && s[0] <= 'z')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// RFC 3986 pchar minus '%' (a pattern's literals are written decoded and must need no escaping).
bool is_literal_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("-._~!$&'()*+,;=:@").find(c) != std::string_view::npos;
}

}  // namespace

std::string_view to_string(Role role) { return kRoleNames[static_cast<size_t>(role)]; }

std::optional<Role> role_from(std::string_view s) {
  for (Role r : kAllRoles) {
    if (to_string(r) == s) return r;
  }
  return std::nullopt;
}

std::string_view to_string(Scope scope) {
  switch (scope) {
    case Scope::kPublic:
      return "public";
    case Scope::kServer:
      return "server";
    case Scope::kTenant:
      return "tenant";
  }
  return "?";
}

Response json_error(int status, std::string message, std::string field) {
  nlohmann::json j = {{"error", std::move(message)}};
  if (!field.empty()) j["field"] = std::move(field);
  Response r;
  r.status = status;
  r.body = dump(j);
  return r;
}

Result<Target> parse_target(std::string_view target) {
  if (target.empty() || target[0] != '/') {
    return Status::error("the request target must be a path starting with '/'");
  }
  if (target.find('#') != std::string_view::npos) {
    return Status::error("the request target must not contain a fragment ('#')");
  }
  const size_t qmark = target.find('?');
  const std::string_view raw_path = target.substr(0, qmark);
  Target t;
  for (std::string_view raw : split_path(raw_path)) {
    auto seg = percent_decode(raw, /*plus_is_space=*/false);
    if (!seg) return Status::error("bad percent-encoding in the path");
    if (seg->find('/') != std::string::npos) {
      return Status::error("an encoded '/' (%2F) in the path is not accepted");
    }
    if (*seg == "." || *seg == "..") {
      return Status::error("'.' and '..' segments in the path are not accepted");
    }
    t.path += '/';
    t.path += *seg;
  }
  if (t.path.empty()) t.path = "/";
  if (qmark == std::string_view::npos) return t;

  std::string_view rest = target.substr(qmark + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;  // "a=1&&b=2", a trailing '&'
    const size_t eq = pair.find('=');
    auto name = percent_decode(pair.substr(0, eq), /*plus_is_space=*/true);
    auto value =
        percent_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1),
                       /*plus_is_space=*/true);
    if (!name || !value) return Status::error("bad percent-encoding in the query");
    if (name->empty()) return Status::error("a query parameter without a name");
    if (!t.query.emplace(*name, std::move(*value)).second) {
      return Status::error("query parameter '" + *name + "' is given more than once");
    }
  }
  return t;
}

Status Router::add(Route route) {
  const std::string where = route.method + " " + route.pattern + ": ";
  if (std::find(std::begin(kMethods), std::end(kMethods), route.method) == std::end(kMethods)) {
    return Status::error(where + "the method must be one of GET, POST, PUT, PATCH, DELETE");
  }
  if (route.pattern.empty() || route.pattern[0] != '/') {
    return Status::error(where + "the pattern must start with '/'");
  }
  std::vector<Segment> segments;
  std::set<std::string_view> names;
  for (std::string_view s : split_path(route.pattern)) {
    if (s.empty()) return Status::error(where + "the pattern has an empty segment");
    if (s.front() == '{' || s.back() == '}') {
      const std::string_view name = s.size() >= 2 ? s.substr(1, s.size() - 2) : std::string_view();
      if (s.front() != '{' || s.back() != '}' || !is_param_name(name)) {
        return Status::error(where + "a parameter is a whole segment '{name}' with a name of " +
                             "[a-z][a-z0-9_]*, not '" + std::string(s) + "'");
      }
      if (!names.insert(name).second) {
        return Status::error(where + "parameter '" + std::string(name) + "' appears twice");
      }
      segments.push_back({std::string(name), true});
    } else {
      if (!std::all_of(s.begin(), s.end(), is_literal_char) || s == "." || s == "..") {
        return Status::error(where + "segment '" + std::string(s) +
                             "' has a character a literal segment may not have");
      }
      segments.push_back({std::string(s), false});
    }
  }
  if (route.scope == Scope::kTenant && names.count("tenant") == 0) {
    return Status::error(where + "a tenant-scoped route needs a {tenant} parameter");
  }
  if (route.scope == Scope::kPublic && !route.roles.empty()) {
    return Status::error(where + "a public route lists no roles");
  }
  if (route.scope != Scope::kPublic && route.roles.empty()) {
    return Status::error(where + "a route that is not public needs at least one role");
  }
  if (!route.handler) return Status::error(where + "the route has no handler");
  for (size_t i = 0; i < routes_.size(); ++i) {
    if (routes_[i].method != route.method || segments_[i].size() != segments.size()) continue;
    bool same = true;
    for (size_t k = 0; k < segments.size() && same; ++k) {
      const Segment& a = segments_[i][k];
      const Segment& b = segments[k];
      same = a.param == b.param && (a.param || a.text == b.text);
    }
    if (same) {
      return Status::error(where + "the same route as " + routes_[i].method + " " +
                           routes_[i].pattern);
    }
  }
  routes_.push_back(std::move(route));
  segments_.push_back(std::move(segments));
  openers_.emplace_back();
  return Status::ok();
}

Status Router::add_websocket(Route route, WebSocketOpener opener) {
  if (route.method != "GET") {
    return Status::error(route.method + " " + route.pattern + ": a WebSocket route is a GET");
  }
  if (!opener) return Status::error("GET " + route.pattern + ": the WebSocket route has no opener");
  if (Status s = add(std::move(route)); !s) return s;
  openers_.back() = std::move(opener);
  return Status::ok();
}

const WebSocketOpener* Router::websocket(const Route& route) const {
  if (routes_.empty() || &route < routes_.data() || &route >= routes_.data() + routes_.size()) {
    return nullptr;
  }
  const WebSocketOpener& o = openers_[static_cast<size_t>(&route - routes_.data())];
  return o ? &o : nullptr;
}

Response Router::dispatch(Request& req, const Route** matched) const {
  if (matched != nullptr) *matched = nullptr;
  const std::vector<std::string_view> parts =
      req.path.empty() || req.path[0] != '/' ? std::vector<std::string_view>{std::string_view()}
                                             : split_path(req.path);
  auto matches = [&](const std::vector<Segment>& segs) {
    if (segs.size() != parts.size()) return false;
    for (size_t k = 0; k < segs.size(); ++k) {
      if (segs[k].param ? parts[k].empty() : segs[k].text != parts[k]) return false;
    }
    return true;
  };
  // a is more specific than b: at the first segment where they differ in kind, a has a literal.
  auto more_specific = [](const std::vector<Segment>& a, const std::vector<Segment>& b) {
    for (size_t k = 0; k < a.size(); ++k) {
      if (a[k].param != b[k].param) return !a[k].param;
    }
    return false;
  };

  std::set<std::string> allowed;
  const size_t kNone = routes_.size();
  size_t best = kNone;
  for (size_t i = 0; i < routes_.size(); ++i) {
    if (!matches(segments_[i])) continue;
    allowed.insert(routes_[i].method);
    if (routes_[i].method == req.method &&
        (best == kNone || more_specific(segments_[i], segments_[best]))) {
      best = i;
    }
  }
  if (allowed.empty()) return json_error(404, "not found");
  if (best == kNone) {
    Response r = json_error(405, "method " + req.method + " is not allowed here");
    std::string allow;
    for (const std::string& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
    r.headers.emplace_back("Allow", allow);
    return r;
  }

  const Route& route = routes_[best];
  req.params.clear();
  for (size_t k = 0; k < parts.size(); ++k) {
    if (segments_[best][k].param) req.params[segments_[best][k].text] = std::string(parts[k]);
  }

  // The access policy, for every route, before any handler runs.
  if (route.scope != Scope::kPublic) {
    if (!req.principal) return json_error(401, "authentication required");
    const Principal& who = *req.principal;
    if (route.scope == Scope::kTenant && who.role != Role::kAdmin &&
        who.tenant != req.params.at("tenant")) {
      return json_error(404, "not found");  // byte for byte an unknown path
    }
    if (std::find(route.roles.begin(), route.roles.end(), who.role) == route.roles.end()) {
      std::string roles;
      for (Role r : route.roles) roles += (roles.empty() ? "" : ", ") + std::string(to_string(r));
      return json_error(403, "this needs one of the roles: " + roles);
    }
  }

  if (matched != nullptr) *matched = &route;
  try {
    return route.handler(req);
  } catch (const std::exception& e) {
    log::error("http handler failed",
               {{"method", route.method}, {"route", route.pattern}, {"error", e.what()}});
  } catch (...) {
    log::error("http handler failed",
               {{"method", route.method}, {"route", route.pattern}, {"error", "unknown"}});
  }
  return json_error(500, "internal error");
}

nlohmann::json Router::openapi() const {
  nlohmann::json paths = nlohmann::json::object();
  for (size_t i = 0; i < routes_.size(); ++i) {
    const Route& r = routes_[i];
    nlohmann::json op = {{"summary", r.summary}, {"x-tamas-scope", to_string(r.scope)}};
    nlohmann::json roles = nlohmann::json::array();
    for (Role role : r.roles) roles.push_back(to_string(role));
    op["x-tamas-roles"] = roles;
    nlohmann::json params = nlohmann::json::array();
    for (const Segment& s : segments_[i]) {
      if (s.param) {
        params.push_back({{"name", s.text},
                          {"in", "path"},
                          {"required", true},
                          {"schema", {{"type", "string"}}}});
      }
    }
    if (!params.empty()) op["parameters"] = params;
    nlohmann::json error = {{"description", "an error: {\"error\": message, \"field\": field}"}};
    nlohmann::json responses = {{"200", {{"description", "success"}}}};
    if (r.scope != Scope::kPublic) {
      responses["401"] = error;
      responses["403"] = error;
    }
    responses["404"] = error;
    op["responses"] = responses;
    std::string method = r.method;
    std::transform(method.begin(), method.end(), method.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    paths[r.pattern][method] = op;
  }
  return {
      {"openapi", "3.0.3"}, {"info", {{"title", "Tamas API"}, {"version", "1"}}}, {"paths", paths}};
}

}  // namespace tamas::api
