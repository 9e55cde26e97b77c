#include "app/api_routes.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <tuple>
#include <nlohmann/json.hpp>

#include "api/http.h"
#include "app/live_stream.h"
#include "auth/accounts.h"
#include "auth/password.h"
#include "config/config.h"
#include "server/live_events.h"
#include "auth/session.h"
#include "server/server.h"
#include "store/store.h"

namespace tamas::app {
namespace {

using api::Request;
using api::Response;
using api::Role;
using json = nlohmann::json;

constexpr const char* kCookie = "tamas_session";

TimePoint now() { return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now()); }

Response json_ok(const json& body, int status = 200) {
  Response r;
  r.status = status;
  r.body = body.dump();
  return r;
}

// The value of cookie `name` in a Cookie header ("a=1; tamas_session=xyz").
std::string cookie(const Request& req, const std::string& name) {
  auto it = req.headers.find("cookie");
  if (it == req.headers.end()) return "";
  const std::string& h = it->second;
  size_t pos = 0;
  while (pos < h.size()) {
    size_t end = h.find(';', pos);
    if (end == std::string::npos) end = h.size();
    std::string part = h.substr(pos, end - pos);
    while (!part.empty() && part.front() == ' ') part.erase(part.begin());
    if (part.rfind(name + "=", 0) == 0) return part.substr(name.size() + 1);
    pos = end + 1;
  }
  return "";
}

std::string header(const Request& req, const std::string& name) {
  auto it = req.headers.find(name);
  return it == req.headers.end() ? "" : it->second;
}

Response login(const ApiContext& ctx, const Request& req) {
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return api::json_error(400, "the body must be a JSON object");
  for (const char* field : {"username", "password"}) {
    if (!body.contains(field) || !body[field].is_string() || body[field].get<std::string>().empty()) {
      return api::json_error(400, std::string("expected a non-empty string"), field);
    }
  }
  if (body.contains("tenant") && !body["tenant"].is_string()) {
    return api::json_error(400, "expected a string (empty for an admin)", "tenant");
  }
  const std::string tenant = body.value("tenant", "");
  const std::string username = body["username"];
  auth::LoginError why{};
  auto s = ctx.sessions->login(*ctx.store, tenant, username, body["password"].get<std::string>(),
                               req.remote_address, now(), &why);
  ctx.store->save_audit({now(), tenant, username, req.remote_address,
                         s ? "auth.login" : "auth.login-refused", s ? "" : s.message()});
  if (!s) {
    switch (why) {
      case auth::LoginError::kLockedOut: return api::json_error(429, s.message());
      case auth::LoginError::kStoreError: return api::json_error(500, "internal error");
      default: return api::json_error(401, s.message());
    }
  }
  Response r = json_ok({{"token", s->token},
                        {"csrf", s->csrf},
                        {"tenant", s->who.tenant},
                        {"username", s->who.username},
                        {"role", s->who.role}});
  r.headers.emplace_back("Set-Cookie", std::string(kCookie) + "=" + s->token +
                                           "; Path=/; HttpOnly; SameSite=Strict");
  return r;
}

json principal_json(const api::Principal& p) {
  return {{"tenant", p.tenant}, {"username", p.username}, {"role", std::string(to_string(p.role))}};
}

json contact_json(const server::ContactView& c, bool desk);

Response live(const ApiContext& ctx, const Request& req) {
  auto v = ctx.server->snapshot(req.params.at("tenant"), std::chrono::seconds(2));
  if (!v) return api::json_error(503, "the live view is not available now");
  // An agent sees the queues, itself and its own contact; the rest see everything.
  const api::Principal& who = *req.principal;
  const bool agent = who.role == Role::kAgent;
  json queues = json::array();
  for (const server::QueueView& q : v->queues) queues.push_back(server::to_json(q));
  json agents = json::array();
  for (const server::AgentView& a : v->agents) {
    if (!agent || a.extension == who.username) agents.push_back(server::to_json(a));
  }
  json contacts = json::array();
  for (const server::ContactView& c : v->contacts) {
    if (agent && c.agent != who.username) continue;
    contacts.push_back(contact_json(c, /*desk=*/false));
  }
  return json_ok({{"tenant", v->tenant},
                  {"calls", v->calls},
                  {"queues", queues},
                  {"agents", agents},
                  {"contacts", contacts}});
}

// Interaction records, newest last, filtered by since / queue / agent / caller / result, paged
// with limit (1..1000, default 100) and offset.
Response interactions(const ApiContext& ctx, const Request& req) {
  store::Query q;
  q.tenant = req.params.at("tenant");
  auto get = [&](const char* name) {
    auto it = req.query.find(name);
    return it == req.query.end() ? std::string() : it->second;
  };
  if (std::string since = get("since"); !since.empty()) {
    auto t = store::parse_time(since);
    if (!t) return api::json_error(400, "expected an ISO 8601 UTC time", "since");
    q.since = *t;
  }
  auto number = [&](const char* name, long dflt, long lo, long hi) -> std::optional<long> {
    const std::string text = get(name);
    if (text.empty()) return dflt;
    char* end = nullptr;
    const long v = std::strtol(text.c_str(), &end, 10);
    if (end == text.c_str() || *end != '\0' || v < lo || v > hi) return std::nullopt;
    return v;
  };
  const auto limit = number("limit", 100, 1, 1000);
  if (!limit) return api::json_error(400, "expected an integer from 1 to 1000", "limit");
  const auto offset = number("offset", 0, 0, 1'000'000);
  if (!offset) return api::json_error(400, "expected an integer from 0 to 1000000", "offset");
  auto exact = [&](const char* name) {
    std::string v = get(name);
    return v.empty() ? std::optional<std::string>() : std::optional<std::string>(v);
  };
  q.queue = exact("queue");
  q.agent = exact("agent");
  q.caller = exact("caller");
  q.result = exact("result");
  q.offset = static_cast<size_t>(*offset);
  q.limit = static_cast<size_t>(*limit);
  auto rows = ctx.store->interactions(q);
  if (!rows) return api::json_error(500, "internal error");
  json out = json::array();
  for (const store::InteractionRecord& r : *rows) {
    out.push_back({{"id", r.id},
                   {"caller", r.caller},
                   {"called", r.called},
                   {"started_at", store::format_time(r.started_at)},
                   {"ended_at", store::format_time(r.ended_at)},
                   {"ivr_path", r.ivr_path},
                   {"queue", r.queue},
                   {"agent", r.agent},
                   {"result", r.result},
                   {"wait_seconds", to_seconds(r.wait)},
                   {"talk_seconds", to_seconds(r.talk)},
                   {"transfers", r.transfers},
                   {"hold_seconds", to_seconds(r.hold)},
                   {"hold_count", r.hold_count},
                   {"disposition", r.disposition},
                   {"wrapup_notes", r.wrapup_notes},
                   {"wrapped_up_by", r.wrapped_up_by}});
  }
  return json_ok({{"interactions", out}, {"offset", *offset}, {"limit", *limit}});
}

// An agent's status: {"status": "available" | "break" | "logged-out", "reason": a break reason}.
// Agents set their own (an agent user's username is the extension); supervisors and managers
// anyone's in their tenant. Every change is audited.
Response set_status(const ApiContext& ctx, const Request& req) {
  const api::Principal& who = *req.principal;
  const std::string& tenant = req.params.at("tenant");
  const std::string& agent = req.params.at("agent");
  if (who.role == Role::kAgent && who.username != agent) {
    return api::json_error(403, "an agent may set only their own status");
  }
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return api::json_error(400, "the body must be a JSON object");
  if (!body.contains("status") || !body["status"].is_string()) {
    return api::json_error(400, "expected available, break or logged-out", "status");
  }
  if (body.contains("reason") && !body["reason"].is_string()) {
    return api::json_error(400, "expected a string", "reason");
  }
  const std::string status = body["status"];
  const std::string reason = body.value("reason", "");
  if (status != "available" && status != "break" && status != "logged-out") {
    return api::json_error(400, "expected available, break or logged-out", "status");
  }
  Status st = ctx.server->set_agent_status(tenant, agent, status, reason, std::chrono::seconds(2));
  if (!st) {
    const bool unknown = st.message().rfind("no agent", 0) == 0;
    return unknown ? api::json_error(404, st.message())
                   : api::json_error(400, st.message(), reason.empty() ? "status" : "reason");
  }
  ctx.store->save_audit({now(), tenant, who.username, req.remote_address, "agent.status",
                         agent + ": " + status + (reason.empty() ? "" : " (" + reason + ")")});
  return json_ok({{"agent", agent}, {"status", status}, {"reason", reason}});
}

// A contact's recording (or voicemail), for the roles that may hear it; one byte range
// (bytes=A-B, A-, -N) as audio players ask for, else the whole file. Only files under the data
// folder's recordings/<tenant> or voicemail/<tenant> are ever served.
Response recording(const ApiContext& ctx, const Request& req) {
  const std::string& tenant = req.params.at("tenant");
  auto rec = ctx.store->find_interaction(tenant, req.params.at("id"));
  if (!rec) return api::json_error(500, "internal error");
  if (!rec->has_value() || (*rec)->recording.empty()) {
    return api::json_error(404, "no recording for this interaction");
  }
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path file = fs::weakly_canonical((*rec)->recording, ec);
  bool inside = false;
  for (const char* kind : {"recordings", "voicemail"}) {
    const fs::path root = fs::weakly_canonical(fs::path(ctx.data_dir) / kind / tenant, ec);
    auto rel = file.lexically_relative(root);
    inside = inside || (!rel.empty() && rel.native().rfind("..", 0) != 0);
  }
  const auto size = fs::file_size(file, ec);
  if (!inside || ec) return api::json_error(404, "no recording for this interaction");
  uint64_t first = 0, last = size == 0 ? 0 : size - 1;
  bool partial = false;
  if (auto it = req.headers.find("range"); it != req.headers.end()) {
    const std::string& r = it->second;
    auto unsatisfiable = [&] {
      Response out = api::json_error(416, "expected one range of bytes within the file");
      out.headers.emplace_back("Content-Range", "bytes */" + std::to_string(size));
      return out;
    };
    if (r.rfind("bytes=", 0) != 0 || r.find(',') != std::string::npos) return unsatisfiable();
    const std::string spec = r.substr(6);
    const size_t dash = spec.find('-');
    if (dash == std::string::npos) return unsatisfiable();
    const std::string a = spec.substr(0, dash), b = spec.substr(dash + 1);
    auto number = [](const std::string& t, uint64_t& v) {
      if (t.empty() || t.size() > 18 || t.find_first_not_of("0123456789") != std::string::npos) {
        return false;
      }
      v = std::stoull(t);
      return true;
    };
    uint64_t x = 0, y = 0;
    if (a.empty()) {  // the last N bytes
      if (!number(b, y) || y == 0 || size == 0) return unsatisfiable();
      first = y >= size ? 0 : size - y;
    } else {
      if (!number(a, x) || x >= size) return unsatisfiable();
      first = x;
      if (!b.empty()) {
        if (!number(b, y) || y < x) return unsatisfiable();
        last = std::min<uint64_t>(y, size - 1);
      }
    }
    partial = true;
  }
  Response out;
  out.content_type = "audio/wav";
  out.file = file.string();  // streamed from disk as the client reads
  out.file_offset = first;
  out.file_length = size == 0 ? 0 : last - first + 1;
  out.status = partial ? 206 : 200;
  out.headers.emplace_back("Accept-Ranges", "bytes");
  if (partial) {
    out.headers.emplace_back("Content-Range", "bytes " + std::to_string(first) + "-" +
                                                  std::to_string(last) + "/" + std::to_string(size));
  }
  if (first == 0) {  // once per listening, not for every range an audio player asks for
    ctx.store->save_audit({now(), tenant, req.principal->username, req.remote_address,
                           "recording.play", (*rec)->id});
  }
  return out;
}

Response list_users(const ApiContext& ctx, const Request& req) {
  auto users = ctx.store->list_users(req.params.at("tenant"));
  if (!users) return api::json_error(500, "internal error");
  json out = json::array();
  for (const store::UserRecord& u : *users) {
    out.push_back({{"username", u.username},
                   {"role", u.role},
                   {"name", u.display_name},
                   {"created_at", store::format_time(u.created_at)},
                   {"disabled", u.disabled}});
  }
  return json_ok({{"users", out}});
}

// {username, role, password, name}: a manager makes supervisors, agents and analysts of the
// tenant; an admin also managers. Admins are made with `tamas user add`.
Response add_user(const ApiContext& ctx, const Request& req) {
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return api::json_error(400, "the body must be a JSON object");
  for (const char* field : {"username", "role", "password"}) {
    if (!body.contains(field) || !body[field].is_string()) {
      return api::json_error(400, "expected a string", field);
    }
  }
  if (body.contains("name") && !body["name"].is_string()) {
    return api::json_error(400, "expected a string", "name");
  }
  const std::string role = body["role"];
  if (role == "admin") return api::json_error(400, "admins are made with tamas user add", "role");
  if (role == "manager" && req.principal->role != Role::kAdmin) {
    return api::json_error(403, "only an admin makes managers");
  }
  auto u = auth::make_user(req.params.at("tenant"), body["username"], role, body["password"],
                           body.value("name", ""), now());
  if (!u) {
    const std::string& m = u.message();
    return api::json_error(400, m.substr(m.find(':') + 2), m.substr(0, m.find(':')));
  }
  if (Status s = ctx.store->add_user(*u); !s) {
    return s.message().find("already exists") != std::string::npos
               ? api::json_error(409, s.message(), "username")
               : api::json_error(500, "internal error");
  }
  ctx.store->save_audit({now(), u->tenant, req.principal->username, req.remote_address,
                         "user.add", u->username + " (" + u->role + ")"});
  return json_ok({{"username", u->username}, {"role", u->role}, {"name", u->display_name}}, 201);
}

// {disabled, password}: a manager changes the tenant's supervisors, agents and analysts; an admin
// also its managers. Disabling (or a new password) ends the user's sessions at once; a disabled
// user's integration tokens stop working too.
Response update_user(const ApiContext& ctx, const Request& req) {
  const std::string& tenant = req.params.at("tenant");
  const std::string& username = req.params.at("username");
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return api::json_error(400, "the body must be a JSON object");
  if (body.contains("disabled") && !body["disabled"].is_boolean()) {
    return api::json_error(400, "expected true or false", "disabled");
  }
  if (body.contains("password") && !body["password"].is_string()) {
    return api::json_error(400, "expected a string", "password");
  }
  auto u = ctx.store->find_user(tenant, username);
  if (!u) return api::json_error(500, "internal error");
  if (!u->has_value()) return api::json_error(404, "no user '" + username + "'");
  if ((*u)->role == "manager" && req.principal->role != Role::kAdmin) {
    return api::json_error(403, "only an admin changes managers");
  }
  if (username == req.principal->username && body.value("disabled", false)) {
    return api::json_error(400, "you cannot disable yourself", "disabled");
  }
  std::string hash;
  if (body.contains("password")) {
    // The same checks as a new account's password.
    auto checked = auth::make_user(tenant, username, (*u)->role, body["password"], "", now());
    if (!checked) {
      const std::string& m = checked.message();
      return api::json_error(400, m.substr(m.find(':') + 2), m.substr(0, m.find(':')));
    }
    hash = checked->password_hash;
  }
  const bool disabled = body.value("disabled", (*u)->disabled);
  auto done = ctx.store->update_user(tenant, username, disabled, hash);
  if (!done) return api::json_error(500, "internal error");
  if (!*done) return api::json_error(404, "no user '" + username + "'");
  if (disabled || !hash.empty()) ctx.sessions->logout_user(tenant, username);
  std::string detail = username;
  if (body.contains("disabled")) detail += disabled ? " disabled" : " enabled";
  if (!hash.empty()) detail += " new password";
  ctx.store->save_audit({now(), tenant, req.principal->username, req.remote_address,
                         "user.update", detail});
  return json_ok({{"username", username}, {"role", (*u)->role}, {"disabled", disabled}});
}

// Integration tokens are listed by the first 16 hex digits of their hash: the token itself is
// shown once, when made.
Response list_tokens(const ApiContext& ctx, const Request& req) {
  auto tokens = ctx.store->list_api_tokens(req.params.at("tenant"));
  if (!tokens) return api::json_error(500, "internal error");
  json out = json::array();
  for (const store::ApiTokenRecord& t : *tokens) {
    out.push_back({{"id", t.token_hash.substr(0, 16)},
                   {"username", t.username},
                   {"label", t.label},
                   {"created_at", store::format_time(t.created_at)}});
  }
  return json_ok({{"tokens", out}});
}

Response revoke_token(const ApiContext& ctx, const Request& req) {
  const std::string& tenant = req.params.at("tenant");
  const std::string& id = req.params.at("id");
  auto gone = ctx.store->delete_api_token(tenant, id);
  if (!gone) return api::json_error(400, gone.message(), "id");
  if (!*gone) return api::json_error(404, "no token '" + id + "'");
  ctx.store->save_audit({now(), tenant, req.principal->username, req.remote_address,
                         "token.revoke", id});
  return json_ok({{"revoked", id}});
}

// A caller's number as the records keep it: digits, + * # and at most 32 of them.
bool valid_number(const std::string& n) {
  if (n.empty() || n.size() > 32) return false;
  for (char ch : n) {
    if (!(std::isdigit(static_cast<unsigned char>(ch)) || ch == '+' || ch == '*' || ch == '#')) {
      return false;
    }
  }
  return true;
}

// What the center knows of a number, and its last 20 contacts (newest first).
Response get_customer(const ApiContext& ctx, const Request& req) {
  const std::string& tenant = req.params.at("tenant");
  const std::string& number = req.params.at("number");
  if (!valid_number(number)) return api::json_error(400, "expected digits, + * or #", "number");
  auto c = ctx.store->find_customer(tenant, number);
  store::Query q;
  q.tenant = tenant;
  q.caller = number;
  q.newest_first = true;
  q.limit = 20;
  auto rows = ctx.store->interactions(q);
  if (!c || !rows) return api::json_error(500, "internal error");
  json history = json::array();
  for (const store::InteractionRecord& r : *rows) {
    history.push_back({{"id", r.id},
                       {"started_at", store::format_time(r.started_at)},
                       {"queue", r.queue},
                       {"agent", r.agent},
                       {"result", r.result}});
  }
  json out = {{"number", number}, {"known", c->has_value()}, {"history", history}};
  if (c->has_value()) {
    out["name"] = (*c)->name;
    out["notes"] = (*c)->notes;
    out["tags"] = (*c)->tags;
    out["updated_at"] = store::format_time((*c)->updated_at);
    out["updated_by"] = (*c)->updated_by;
  }
  return json_ok(out);
}

// {name, notes, tags}: name up to 200 characters, notes up to 4,000, up to 20 tags of up to 40
// characters without line breaks.
Response put_customer(const ApiContext& ctx, const Request& req) {
  const std::string& number = req.params.at("number");
  if (!valid_number(number)) return api::json_error(400, "expected digits, + * or #", "number");
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return api::json_error(400, "the body must be a JSON object");
  store::CustomerRecord c;
  c.tenant = req.params.at("tenant");
  c.number = number;
  for (auto [field, limit, target] : {std::tuple{"name", size_t{200}, &c.name},
                                      std::tuple{"notes", size_t{4000}, &c.notes}}) {
    if (!body.contains(field)) continue;
    if (!body[field].is_string() || body[field].get<std::string>().size() > limit) {
      return api::json_error(400, "expected a string of at most " + std::to_string(limit) +
                                      " bytes", field);
    }
    *target = body[field].get<std::string>();
  }
  if (body.contains("tags")) {
    if (!body["tags"].is_array() || body["tags"].size() > 20) {
      return api::json_error(400, "expected a list of at most 20 tags", "tags");
    }
    for (const json& t : body["tags"]) {
      if (!t.is_string() || t.get<std::string>().empty() || t.get<std::string>().size() > 40 ||
          t.get<std::string>().find_first_of("\r\n") != std::string::npos) {
        return api::json_error(400, "a tag is 1 to 40 bytes on one line", "tags");
      }
      c.tags.push_back(t.get<std::string>());
    }
  }
  c.updated_at = now();
  c.updated_by = req.principal->username;
  if (Status s = ctx.store->save_customer(c); !s) return api::json_error(500, "internal error");
  ctx.store->save_audit({c.updated_at, c.tenant, c.updated_by, req.remote_address,
                         "customer.save", number});
  return json_ok({{"number", number}, {"name", c.name}, {"notes", c.notes}, {"tags", c.tags}});
}

// ---- the live stream ----

// A browser's upgrade must come from a page of this server: a cookie alone must not open another
// site's page a stream (cross-site WebSocket hijacking). Clients that send no Origin are not
// browsers.
bool same_origin(const Request& req) {
  const std::string origin = header(req, "origin");
  if (origin.empty()) return true;
  const std::string host = header(req, "host");
  return !host.empty() && (origin == "http://" + host || origin == "https://" + host);
}

Response stream_check(const ApiContext& ctx, const Request& req, const std::string& tenant) {
  if (ctx.hub == nullptr) return api::json_error(503, "the live stream is not available");
  if (tenant.empty()) {
    return api::json_error(400, "an admin names the tenant: /api/v1/tenants/{tenant}/stream");
  }
  if (!same_origin(req)) return api::json_error(403, "the stream opens only from this server's pages");
  Response r;
  r.status = 101;
  return r;
}

api::WebSocketOpener stream_opener(const ApiContext& ctx, bool own_tenant) {
  return [ctx, own_tenant](std::shared_ptr<api::WebSocketPeer> peer, const Request& req) {
    const std::string tenant = own_tenant ? req.principal->tenant : req.params.at("tenant");
    return ctx.hub->open(std::move(peer), *req.principal, tenant);
  };
}

// ---- the agent's contact ----

// Agents act on their own extension only; supervisors and up on anyone's of the tenant.
std::optional<Response> not_own(const Request& req) {
  if (req.principal->role == Role::kAgent && req.principal->username != req.params.at("agent")) {
    return api::json_error(403, "an agent may act only on their own contact");
  }
  return std::nullopt;
}

// A contact as the live view lists it; the agent's own view adds the queue's codes and script.
json contact_json(const server::ContactView& c, bool desk) {
  json j = {{"id", c.id},       {"caller", c.caller},
            {"called", c.called}, {"queue", c.queue},
            {"agent", c.agent},   {"ivr_path", c.ivr_path},
            {"state", c.state},   {"since", store::format_time(c.since)}};
  if (desk) {
    j["dispositions"] = c.dispositions;
    j["script"] = c.script;
  }
  return j;
}

Response contact(const ApiContext& ctx, const Request& req, server::ContactAction action) {
  if (auto no = not_own(req)) return *no;
  server::ContactRequest cr;
  cr.action = action;
  if (action == server::ContactAction::kTransfer || action == server::ContactAction::kWrapUp) {
    json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (!body.is_object()) return api::json_error(400, "the body must be a JSON object");
    if (action == server::ContactAction::kTransfer) {
      if (!body.contains("to") || !body["to"].is_string() || body["to"].get<std::string>().empty() ||
          body["to"].get<std::string>().size() > 100) {
        return api::json_error(400, "expected an extension, queue:ID or a number", "to");
      }
      cr.target = body["to"];
    } else {
      for (auto [field, limit, target] : {std::tuple{"disposition", size_t{100}, &cr.disposition},
                                          std::tuple{"notes", size_t{4000}, &cr.notes}}) {
        if (!body.contains(field)) continue;
        if (!body[field].is_string() || body[field].get<std::string>().size() > limit) {
          return api::json_error(400, "expected a string of at most " + std::to_string(limit) +
                                          " bytes", field);
        }
        *target = body[field].get<std::string>();
      }
    }
  }
  const std::string& tenant = req.params.at("tenant");
  const std::string& agent = req.params.at("agent");
  server::ContactAnswer a = ctx.server->agent_contact(tenant, agent, cr, std::chrono::seconds(2));
  if (a.status != 200) return api::json_error(a.status, a.error, a.field);
  if (action != server::ContactAction::kGet) {
    static const char* kNames[] = {"get", "hangup", "hold", "resume", "transfer", "wrapup"};
    std::string detail = agent + ": " + a.contact.id;
    if (!cr.target.empty()) detail += " to " + cr.target;
    if (!cr.disposition.empty()) detail += " (" + cr.disposition + ")";
    ctx.store->save_audit({now(), tenant, req.principal->username, req.remote_address,
                           std::string("contact.") + kNames[static_cast<int>(action)], detail});
  }
  return json_ok(contact_json(a.contact, /*desk=*/true));
}

// ---- the tenant's set-up ----

const config::TenantConfig* tenant_config(const std::shared_ptr<const config::ServerConfig>& cfg,
                                          const std::string& tenant) {
  for (const config::TenantConfig& t : cfg->tenants) {
    if (t.id == tenant) return &t;
  }
  return nullptr;
}

// A queue's settings in the configuration's own keys (docs/configuration.md), as a PUT of
// .../queues/{queue} takes them back: durations in seconds, the service-level target in percent.
json queue_settings(const config::QueueSpec& q) {
  const core::QueueConfig& r = q.routing;
  json skills = json::object();
  for (const auto& [skill, level] : q.skills) skills[skill] = level;
  return {{"strategy", std::string(core::to_string(r.strategy))},
          {"sl_seconds", to_seconds(r.sl_threshold)},
          {"sl_target", static_cast<int>(std::lround(q.sl_target * 100))},
          {"ring_timeout", to_seconds(r.ring_timeout)},
          {"wrap_up", to_seconds(r.wrap_up)},
          {"max_wait", to_seconds(r.max_wait)},
          {"max_waiting", r.max_waiting},
          {"max_no_answer", r.max_no_answer},
          {"retry_after", to_seconds(r.retry_after)},
          {"join_empty", std::string(core::to_string(r.join_empty))},
          {"leave_empty", std::string(core::to_string(r.leave_empty))},
          {"skills", skills},
          {"dispositions", q.dispositions},
          {"script", q.script}};
}

Response queues(const ApiContext& ctx, const Request& req) {
  const auto cfg = ctx.server->configuration();
  const config::TenantConfig* t = tenant_config(cfg, req.params.at("tenant"));
  if (t == nullptr) return api::json_error(404, "not found");
  json out = json::array();
  for (const config::QueueSpec& q : t->queues) {
    out.push_back({{"id", q.id},
                   {"strategy", std::string(core::to_string(q.routing.strategy))},
                   {"service_level",
                    {{"target", q.sl_target},
                     {"threshold_seconds", to_seconds(q.routing.sl_threshold)}}},
                   {"wrap_up_seconds", to_seconds(q.routing.wrap_up)},
                   {"ring_timeout_seconds", to_seconds(q.routing.ring_timeout)},
                   {"dispositions", q.dispositions},
                   {"script", q.script},
                   {"settings", queue_settings(q)},
                   {"customized", q.uploaded_keys},
                   {"added", q.uploaded_only}});
  }
  json strategies = json::array();
  for (auto s : {core::Strategy::kLongestIdle, core::Strategy::kRingAll, core::Strategy::kRoundRobin,
                 core::Strategy::kFewestContacts, core::Strategy::kLeastTalkTime,
                 core::Strategy::kLinear, core::Strategy::kRandom, core::Strategy::kBestSkill}) {
    strategies.push_back(std::string(core::to_string(s)));
  }
  json policies = json::array();
  for (auto p : {core::EmptyPolicy::kIgnore, core::EmptyPolicy::kNoAgentsLoggedIn,
                 core::EmptyPolicy::kNoAgentsAvailable}) {
    policies.push_back(std::string(core::to_string(p)));
  }
  return json_ok({{"queues", out},
                  {"break_reasons", t->break_reasons},
                  {"strategies", strategies},
                  {"empty_policies", policies}});
}

std::filesystem::path kept_file(const ApiContext& ctx, const std::string& kind,
                                const std::string& tenant, const std::string& name);
Response flow_error(const std::string& message, const std::string& tenant_prefix,
                    const std::string& display);

// An agent as GET .../agents lists it: its routing set-up now and, from the configuration,
// whether it was made through the API and which of its keys were set through it.
json setup_json(const server::AgentSetup& a, const config::AgentSpec* spec) {
  json skills = json::object();
  for (const auto& [skill, level] : a.skills) skills[skill] = level;
  json memberships = json::array();
  for (const auto& [queue, tier] : a.queues) memberships.push_back({{"queue", queue}, {"tier", tier}});
  json capacity = json::object();
  for (const auto& [channel, n] : a.capacity) capacity[channel] = n;
  return {{"extension", a.extension},
          {"name", a.name},
          {"skills", skills},
          {"queues", memberships},
          {"capacity", capacity},
          {"added", spec != nullptr && spec->uploaded_only},
          {"customized", spec != nullptr ? spec->uploaded_keys : std::vector<std::string>{}}};
}

// Each agent's skills and queues as the router has them now.
Response agents(const ApiContext& ctx, const Request& req) {
  const std::string& tenant = req.params.at("tenant");
  auto setups = ctx.server->agent_setups(tenant, std::chrono::seconds(2));
  if (!setups) return api::json_error(503, "the live view is not available now");
  const auto cfg = ctx.server->configuration();
  const config::TenantConfig* t = tenant_config(cfg, tenant);
  json out = json::array();
  for (const server::AgentSetup& a : *setups) {
    out.push_back(setup_json(a, t != nullptr ? t->find_agent(a.extension) : nullptr));
  }
  return json_ok({{"agents", out}});
}

// The routing fields of a body (skills, queues, capacity), each replacing the agent's; an error
// names the field. `a.capacity` holds every channel already.
std::optional<Response> read_routing_fields(const json& body, server::AgentSetup& a) {
  if (body.contains("capacity")) {
    const json& c = body["capacity"];
    if (!c.is_object()) {
      return api::json_error(400, "expected an object of channels to contacts at once", "capacity");
    }
    for (const auto& [channel, n] : c.items()) {
      auto known = std::find_if(a.capacity.begin(), a.capacity.end(),
                                [&](const auto& have) { return have.first == channel; });
      if (known == a.capacity.end()) {
        return api::json_error(400, "unknown channel '" + channel +
                                        "' (expected voice, chat, email, sms, callback)",
                               "capacity." + channel);
      }
      if (!n.is_number_integer() || n.get<int64_t>() < 0 || n.get<int64_t>() > 100) {
        return api::json_error(400, "expected a whole number of contacts from 0 to 100",
                               "capacity." + channel);
      }
      known->second = static_cast<uint8_t>(n.get<int>());
    }
  }
  if (body.contains("skills")) {
    if (!body["skills"].is_object() || body["skills"].size() > 100) {
      return api::json_error(400, "expected an object of skill names to levels 1..10", "skills");
    }
    a.skills.clear();
    for (const auto& [skill, level] : body["skills"].items()) {
      if (skill.empty() || skill.size() > 64 || !level.is_number_integer() || level.get<int>() < 1 ||
          level.get<int>() > 10) {
        return api::json_error(400, "expected skill names (1 to 64 characters) with levels 1..10",
                               "skills");
      }
      a.skills.emplace_back(skill, static_cast<uint8_t>(level.get<int>()));
    }
  }
  if (body.contains("queues")) {
    if (!body["queues"].is_array() || body["queues"].size() > 100) {
      return api::json_error(400, "expected a list of {queue, tier}", "queues");
    }
    a.queues.clear();
    for (const json& m : body["queues"]) {
      const bool ok = m.is_object() && m.contains("queue") && m["queue"].is_string() &&
                      (!m.contains("tier") ||
                       (m["tier"].is_number_integer() && m["tier"].get<int>() >= 1 &&
                        m["tier"].get<int>() <= 100));
      if (!ok) {
        return api::json_error(400, "each queue is {\"queue\": ID, \"tier\": 1..100}", "queues");
      }
      a.queues.emplace_back(m["queue"].get<std::string>(),
                            static_cast<uint8_t>(m.value("tier", 1)));
    }
  }
  return std::nullopt;
}

// The account fields of a body (name, the SIP password), checked; an error names the field.
std::optional<Response> check_account_fields(const json& body) {
  if (body.contains("name")) {
    const json& n = body["name"];
    if (!n.is_string() || n.get<std::string>().empty() || n.get<std::string>().size() > 100 ||
        n.get<std::string>().find_first_of("\r\n") != std::string::npos) {
      return api::json_error(400, "expected a name of 1 to 100 characters on one line", "name");
    }
  }
  if (body.contains("password")) {
    const json& p = body["password"];
    const std::string pw = p.is_string() ? p.get<std::string>() : "";
    const bool printable = std::all_of(pw.begin(), pw.end(), [](char c) { return c > 0x20 && c < 0x7f; });
    if (!p.is_string() || pw.size() < 8 || pw.size() > 64 || !printable) {
      return api::json_error(400, "the SIP password is 8 to 64 printable ASCII characters, no spaces",
                             "password");
    }
  }
  return std::nullopt;
}

// Keeps `fields` (name, password, and for a new agent its routing) as the agent's entry uploaded
// over the configuration (data_dir/agents/<tenant>/<extension>.yaml, JSON being YAML) and reloads;
// without `keep`, only checks that the configuration loads with them.
std::optional<Response> keep_agent_entry(const ApiContext& ctx, const Request& req,
                                         const std::string& ext, const json& fields,
                                         bool keep = true) {
  if (!ctx.change_flow) return api::json_error(503, "agents cannot be changed here");
  const std::string& tenant = req.params.at("tenant");
  json entry = json::object();
  if (std::ifstream in(kept_file(ctx, "agents", tenant, ext), std::ios::binary); in) {
    entry = json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!entry.is_object()) {
      return api::json_error(409, "agent " + ext + "'s kept entry is not JSON (edited by hand): "
                                  "change it in the data folder");
    }
  }
  for (const auto& [key, value] : fields.items()) entry[key] = value;
  if (Status st = ctx.change_flow("agents", tenant, ext, entry.dump(2) + "\n", keep); !st) {
    const auto cfg = ctx.server->configuration();
    std::string prefix;
    for (size_t i = 0; i < cfg->tenants.size(); ++i) {
      if (cfg->tenants[i].id == tenant) prefix = "tenants[" + std::to_string(i) + "].agents." + ext;
    }
    return flow_error(st.message(), prefix, "agent " + ext);
  }
  return std::nullopt;
}

// {skills, queues, capacity} replace what the agent had, at once (kept in the database); {name,
// password} (admins and managers) are kept as the agent's entry over the configuration's.
Response update_agent(const ApiContext& ctx, const Request& req) {
  const std::string& tenant = req.params.at("tenant");
  server::AgentSetup a;
  a.extension = req.params.at("agent");
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return api::json_error(400, "the body must be a JSON object");
  for (const auto& [key, value] : body.items()) {
    if (key != "skills" && key != "queues" && key != "capacity" && key != "name" &&
        key != "password") {
      return api::json_error(400, "unknown field (expected skills, queues, capacity, name, password)",
                             key);
    }
  }
  const bool account = body.contains("name") || body.contains("password");
  if (account && req.principal->role == Role::kSupervisor) {
    return api::json_error(403, "only admins and managers change an agent's name or password");
  }
  if (auto bad = check_account_fields(body)) return *bad;
  auto setups = ctx.server->agent_setups(tenant, std::chrono::seconds(2));
  if (!setups) return api::json_error(503, "the live view is not available now");
  const server::AgentSetup* now_setup = nullptr;
  for (const server::AgentSetup& s : *setups) {
    if (s.extension == a.extension) now_setup = &s;
  }
  if (now_setup == nullptr) return api::json_error(404, "no agent '" + a.extension + "'");
  a.name = now_setup->name;
  a.skills = now_setup->skills;  // what is not given stays
  a.queues = now_setup->queues;
  a.capacity = now_setup->capacity;
  if (auto bad = read_routing_fields(body, a)) return *bad;
  json account_fields = json::object();
  if (body.contains("name")) account_fields["name"] = body["name"];
  if (body.contains("password")) account_fields["password"] = body["password"];
  if (account) {  // checked before anything changes, so that a refusal changes nothing
    if (auto refused = keep_agent_entry(ctx, req, a.extension, account_fields, /*keep=*/false)) {
      return *refused;
    }
  }
  if (Status st = ctx.server->update_agent(tenant, a, std::chrono::seconds(2)); !st) {
    const std::string& m = st.message();
    if (m.rfind("no agent", 0) == 0) return api::json_error(404, m);
    return api::json_error(400, m,
                           m.rfind("capacity", 0) == 0                ? "capacity"
                           : m.find("queue") != std::string::npos ? "queues"
                                                                  : "skills");
  }
  // Kept, so that a restart keeps the change (the configuration file is not rewritten).
  if (Status kept = ctx.store->save_agent_setup({tenant, a.extension, a.skills, a.queues,
                                                 a.capacity, req.principal->username, now()});
      !kept) {
    return api::json_error(500, "the change is in effect but could not be kept: internal error");
  }
  std::string detail = a.extension + ": queues";
  for (const auto& [queue, tier] : a.queues) detail += " " + queue + "/" + std::to_string(tier);
  detail += "; skills";
  for (const auto& [skill, level] : a.skills) detail += " " + skill + "=" + std::to_string(level);
  detail += "; capacity";
  for (const auto& [channel, n] : a.capacity) detail += " " + channel + "=" + std::to_string(n);
  if (account) {
    if (auto failed = keep_agent_entry(ctx, req, a.extension, account_fields)) return *failed;
    if (body.contains("name")) a.name = body["name"].get<std::string>();
    detail += body.contains("password") ? "; name, SIP password" : "; name";
  }
  ctx.store->save_audit({now(), tenant, req.principal->username, req.remote_address,
                         "agent.update", detail});
  const auto cfg = ctx.server->configuration();
  const config::TenantConfig* t = tenant_config(cfg, tenant);
  return json_ok(setup_json(a, t != nullptr ? t->find_agent(a.extension) : nullptr));
}

// POST: a new agent {extension, password, name, queues, skills, capacity}, kept as its entry over
// the configuration; the reload adds it to the router, logged out.
Response create_agent(const ApiContext& ctx, const Request& req) {
  const std::string& tenant = req.params.at("tenant");
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return api::json_error(400, "the body must be a JSON object");
  for (const auto& [key, value] : body.items()) {
    if (key != "extension" && key != "password" && key != "name" && key != "skills" &&
        key != "queues" && key != "capacity") {
      return api::json_error(
          400, "unknown field (expected extension, password, name, queues, skills, capacity)", key);
    }
  }
  const json& e = body.contains("extension") ? body["extension"] : json();
  const std::string ext = e.is_string() ? e.get<std::string>() : "";
  if (ext.empty() || ext.size() > 15 || ext.find_first_not_of("0123456789") != std::string::npos) {
    return api::json_error(400, "an extension is 1 to 15 digits, as a string", "extension");
  }
  if (!body.contains("password")) return api::json_error(400, "required field is missing", "password");
  if (auto bad = check_account_fields(body)) return *bad;
  server::AgentSetup a;
  a.extension = ext;
  for (size_t c = 0; c < core::kChannelCount; ++c) {
    a.capacity.emplace_back(core::to_string(static_cast<core::Channel>(c)), 0);
  }
  if (auto bad = read_routing_fields(body, a)) return *bad;
  {
    const auto cfg = ctx.server->configuration();
    const config::TenantConfig* t = tenant_config(cfg, tenant);
    if (t == nullptr) return api::json_error(404, "not found");
    if (t->find_agent(ext) != nullptr) {
      return api::json_error(409, "extension " + ext + " is already an agent's", "extension");
    }
  }
  json entry = {{"password", body["password"]}};
  if (body.contains("name")) entry["name"] = body["name"];
  json queues = json::array();
  for (const auto& [queue, tier] : a.queues) queues.push_back({{"queue", queue}, {"tier", tier}});
  entry["queues"] = queues;
  if (body.contains("skills")) entry["skills"] = body["skills"];
  if (body.contains("capacity")) entry["capacity"] = body["capacity"];
  if (auto failed = keep_agent_entry(ctx, req, ext, entry)) return *failed;
  ctx.store->save_audit({now(), tenant, req.principal->username, req.remote_address, "agent.create",
                         ext});
  auto setups = ctx.server->agent_setups(tenant, std::chrono::seconds(2));
  const auto cfg = ctx.server->configuration();
  const config::TenantConfig* t = tenant_config(cfg, tenant);
  for (const server::AgentSetup& s : setups ? *setups : std::vector<server::AgentSetup>{}) {
    if (s.extension != ext) continue;
    Response r = json_ok(setup_json(s, t != nullptr ? t->find_agent(ext) : nullptr));
    r.status = 201;
    return r;
  }
  return api::json_error(500, "the agent is kept but not yet in use: internal error");
}

// DELETE: an agent made through the API, once it has no contact (logged out by the reload).
Response delete_agent(const ApiContext& ctx, const Request& req) {
  const std::string& tenant = req.params.at("tenant");
  const std::string& ext = req.params.at("agent");
  {
    const auto cfg = ctx.server->configuration();
    const config::TenantConfig* t = tenant_config(cfg, tenant);
    const config::AgentSpec* spec = t != nullptr ? t->find_agent(ext) : nullptr;
    if (spec == nullptr) return api::json_error(404, "no agent '" + ext + "'");
    if (!spec->uploaded_only) {
      return api::json_error(400, "agent " + ext + " is in the configuration file: remove it there");
    }
  }
  if (!ctx.change_flow) return api::json_error(503, "agents cannot be changed here");
  server::ContactAnswer c = ctx.server->agent_contact(tenant, ext, {}, std::chrono::seconds(2));
  if (c.status == 200) {
    return api::json_error(409, "agent " + ext + " has a contact (" + c.contact.state +
                                    "): remove it once that is over");
  }
  if (Status st = ctx.change_flow("agents", tenant, ext, "", /*keep=*/true); !st) {
    return api::json_error(400, st.message());
  }
  // An agent made again with this extension starts from its own set-up, not this one's.
  if (Status forgot = ctx.store->delete_agent_setup(tenant, ext); !forgot) {
    return api::json_error(500, "the agent is removed but its kept set-up is not: internal error");
  }
  ctx.store->save_audit({now(), tenant, req.principal->username, req.remote_address, "agent.remove",
                         ext});
  return json_ok({{"agent", ext}, {"removed", true}});
}

// The agent's own figures since midnight in the tenant's time zone.
Response today(const ApiContext& ctx, const Request& req) {
  if (auto no = not_own(req)) return *no;
  const auto cfg = ctx.server->configuration();
  const config::TenantConfig* t = tenant_config(cfg, req.params.at("tenant"));
  if (t == nullptr) return api::json_error(404, "not found");
  const std::string& agent = req.params.at("agent");
  if (t->find_agent(agent) == nullptr) return api::json_error(404, "no agent '" + agent + "'");
  const TimePoint n = now();
  const Duration offset = t->zone_offsets.offset_at(n);
  const auto local_midnight =
      std::chrono::floor<std::chrono::days>(n + offset).time_since_epoch();
  store::Query q;
  q.tenant = t->id;
  q.agent = agent;
  q.since = TimePoint(std::chrono::duration_cast<Duration>(local_midnight) - offset);
  q.limit = 100000;
  auto rows = ctx.store->interactions(q);
  if (!rows) return api::json_error(500, "internal error");
  uint64_t answered = 0, missed = 0;
  Duration talk{}, hold{};
  for (const store::InteractionRecord& r : *rows) {
    if (r.result == "answered" || r.talk > Duration{}) {  // taken (a short call may round to 0)
      answered++;
      talk += r.talk;
      hold += r.hold;
    } else {
      missed++;
    }
  }
  return json_ok({{"agent", agent},
                  {"since", store::format_time(*q.since)},
                  {"answered", answered},
                  {"not_answered", missed},
                  {"talk_seconds", to_seconds(talk)},
                  {"hold_seconds", to_seconds(hold)},
                  {"average_talk_seconds", answered ? to_seconds(talk) / static_cast<double>(answered) : 0.0}});
}

// ---- flows and business-hours calendars uploaded through the API ----

// Where an upload of `kind` (flows, calendars, numbers) named `name` is kept.
std::filesystem::path kept_file(const ApiContext& ctx, const std::string& kind,
                                const std::string& tenant, const std::string& name) {
  return std::filesystem::path(config::uploads_dir(ctx.data_dir, kind)) / tenant / (name + ".yaml");
}

Response list_flows(const ApiContext& ctx, const Request& req, const std::string& kind) {
  const std::string& tenant = req.params.at("tenant");
  const auto cfg = ctx.server->configuration();
  const config::TenantConfig* t = tenant_config(cfg, tenant);
  if (t == nullptr) return api::json_error(404, "not found");
  auto uploaded = [&](const std::string& name) {
    std::error_code ec;
    return std::filesystem::exists(kept_file(ctx, kind, tenant, name), ec);
  };
  json out = json::array();
  if (kind == "calendars") {
    for (const auto& [name, cal] : t->flows->calendars) {
      out.push_back({{"name", name}, {"zone", cal.zone}, {"uploaded", uploaded(name)}});
    }
  } else if (kind == "numbers") {
    for (const config::NumberRoute& n : t->numbers) {
      out.push_back({{"name", n.number}, {"flow", n.flow}, {"uploaded", uploaded(n.number)}});
    }
  } else {
    for (const auto& [name, flow] : t->flows->flows) {
      out.push_back({{"name", name}, {"start", flow.start}, {"uploaded", uploaded(name)}});
    }
  }
  return json_ok({{kind, out}});
}

// The loader's message "<display>:<line>: <field>: <what>" (the line may be missing) as the API's
// error: for an error inside the upload, its line and the field within it.
Response flow_error(const std::string& message, const std::string& tenant_prefix,
                    const std::string& display) {
  if (message.rfind(display + ":", 0) == 0) {
    std::string rest = message.substr(display.size() + 1);
    std::optional<int> line;
    size_t digits = 0;
    while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) ++digits;
    if (digits > 0 && digits < 9 && rest.compare(digits, 2, ": ") == 0) {
      line = std::stoi(rest.substr(0, digits));
      rest.erase(0, digits + 2);
    } else if (rest.rfind(" ", 0) == 0) {
      rest.erase(0, 1);
    }
    const size_t sep = rest.find(": ");
    if (sep != std::string::npos) {
      std::string field = rest.substr(0, sep);
      const std::string what = rest.substr(sep + 2);
      if (field.rfind(tenant_prefix, 0) == 0) field = field.substr(tenant_prefix.size());
      if (!field.empty() && field[0] == '.') field.erase(0, 1);
      json body = {{"error", what}, {"field", field}};
      if (field == "YAML syntax error") body = {{"error", field + ": " + what}};
      if (field.empty()) body.erase("field");  // the entry itself (a number's route)
      if (line) body["line"] = *line;
      Response r;
      r.status = 400;
      r.body = body.dump();
      return r;
    }
  }
  // Not inside the upload (a number naming a flow that is gone, ...): the whole message.
  return api::json_error(400, message);
}

// A queue that exists only by its upload cannot be removed while agents are in it or callers wait
// in it: 409 naming them.
std::optional<Response> queue_in_use(const ApiContext& ctx, const std::string& tenant,
                                     const std::string& queue) {
  const auto cfg = ctx.server->configuration();
  const config::TenantConfig* t = tenant_config(cfg, tenant);
  const config::QueueSpec* q = t == nullptr ? nullptr : t->find_queue(queue);
  if (q == nullptr || !q->uploaded_only) return std::nullopt;
  auto setups = ctx.server->agent_setups(tenant, std::chrono::seconds(2));
  auto live = ctx.server->snapshot(tenant, std::chrono::seconds(2));
  if (!setups || !live) return api::json_error(503, "the live view is not available now");
  std::string members;
  for (const server::AgentSetup& a : *setups) {
    for (const auto& [id, tier] : a.queues) {
      if (id == queue) members += (members.empty() ? "" : ", ") + a.extension;
    }
  }
  if (!members.empty()) {
    return api::json_error(409, "agents " + members + " are in queue '" + queue +
                                    "': take them out of it first");
  }
  for (const server::QueueView& v : live->queues) {
    if (v.id == queue && v.waiting > 0) {
      return api::json_error(409, std::to_string(v.waiting) + " callers wait in queue '" + queue +
                                      "'");
    }
  }
  return std::nullopt;
}

// PUT: the body is the flow's YAML ({start, nodes}) or the calendar's; ?check=true only checks it.
Response put_flow(const ApiContext& ctx, const Request& req, const std::string& kind, bool remove) {
  std::string what = kind;  // "flows" -> "flow"
  what.pop_back();
  if (!ctx.change_flow) return api::json_error(503, kind + " cannot be changed here");
  const std::string& tenant = req.params.at("tenant");
  const std::string& name = req.params.at("name");
  if (!config::valid_flow_name(name)) {
    return api::json_error(400, "a " + what + " name is 1 to 64 of a-z 0-9 _ -", "name");
  }
  std::error_code ec;
  if (remove && !std::filesystem::exists(kept_file(ctx, kind, tenant, name), ec)) {
    return api::json_error(404, "no uploaded " + what + " '" + name + "' (the file's stay there)");
  }
  if (remove && kind == "queues") {
    if (auto busy = queue_in_use(ctx, tenant, name)) return *busy;
  }
  if (!remove && req.body.find_first_not_of(" \t\r\n") == std::string::npos) {
    return api::json_error(400, "the body is the " + what + "'s YAML, as in the configuration");
  }
  const auto check = req.query.find("check");
  const bool keep = remove || check == req.query.end() || check->second != "true";
  Status st = ctx.change_flow(kind, tenant, name, remove ? "" : req.body, keep);
  // Where the tenant's flow sits in the configuration, to name fields from the upload itself.
  const auto cfg = ctx.server->configuration();
  std::string prefix;
  for (size_t i = 0; i < cfg->tenants.size(); ++i) {
    if (cfg->tenants[i].id == tenant) {
      prefix = "tenants[" + std::to_string(i) + "]." + kind + "." + name;
    }
  }
  if (!st) return flow_error(st.message(), prefix, what + " " + name);
  if (keep) {
    ctx.store->save_audit({now(), tenant, req.principal->username, req.remote_address,
                           what + (remove ? ".remove" : ".upload"), name});
  }
  return json_ok({{what, name}, {"kept", keep && !remove}, {"removed", remove}, {"valid", true}});
}

Response metrics(const ApiContext& ctx) {
  const server::ServerStats s = ctx.server->stats();
  Response r;
  r.content_type = "text/plain; version=0.0.4";
  r.body = "# TYPE tamas_calls_total counter\ntamas_calls_total " + std::to_string(s.calls) +
           "\n# TYPE tamas_calls_active gauge\ntamas_calls_active " + std::to_string(s.active) +
           "\n# TYPE tamas_calls_rejected_total counter\ntamas_calls_rejected_total " +
           std::to_string(s.rejected) +
           "\n# TYPE tamas_routing_latency_p99_microseconds gauge\n"
           "tamas_routing_latency_p99_microseconds " +
           std::to_string(s.routing_p99_us) + "\n";
  return r;
}

}  // namespace

std::shared_ptr<const api::Router> build_api_routes(const ApiContext& ctx) {
  auto router = std::make_shared<api::Router>();
  const std::vector<Role> everyone(std::begin(api::kAllRoles), std::end(api::kAllRoles));
  const std::vector<Role> readers = {Role::kAdmin, Role::kManager, Role::kSupervisor,
                                     Role::kAnalyst};
  auto add = [&](api::Route r) {
    if (Status s = router->add(std::move(r)); !s) throw std::logic_error(s.message());
  };
  add({"POST", "/api/v1/auth/login", api::Scope::kPublic, {},
       [ctx](const Request& req) { return login(ctx, req); },
       "Sign in: {tenant, username, password} -> a session cookie and {token, csrf}"});
  add({"POST", "/api/v1/auth/logout", api::Scope::kServer, everyone,
       [ctx](const Request& req) {
         std::string token = cookie(req, kCookie);
         const std::string bearer = header(req, "authorization");
         if (bearer.rfind("Bearer ", 0) == 0) token = bearer.substr(7);
         ctx.sessions->logout(token);
         Response r = json_ok({{"signed_out", true}});
         r.headers.emplace_back("Set-Cookie", std::string(kCookie) +
                                                  "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
         return r;
       },
       "Sign out: the session ends"});
  add({"GET", "/api/v1/me", api::Scope::kServer, everyone,
       [](const Request& req) { return json_ok(principal_json(*req.principal)); },
       "Who is signed in"});
  add({"GET", "/api/v1/tenants/{tenant}/live", api::Scope::kTenant, everyone,
       [ctx](const Request& req) { return live(ctx, req); },
       "The tenant's queues, agents and contacts now (an agent: the queues, itself, its own)"});
  add({"GET", "/api/v1/tenants/{tenant}/interactions", api::Scope::kTenant, readers,
       [ctx](const Request& req) { return interactions(ctx, req); },
       "Interaction records: since, queue, agent, caller, result, limit, offset"});
  add({"PUT", "/api/v1/tenants/{tenant}/agents/{agent}/status", api::Scope::kTenant,
       {Role::kAdmin, Role::kManager, Role::kSupervisor, Role::kAgent},
       [ctx](const Request& req) { return set_status(ctx, req); },
       "Set an agent's status (agents their own; supervisors anyone's): {status, reason}"});
  add({"GET", "/api/v1/tenants/{tenant}/interactions/{id}/recording", api::Scope::kTenant,
       {Role::kAdmin, Role::kManager, Role::kSupervisor, Role::kAnalyst},
       [ctx](const Request& req) { return recording(ctx, req); },
       "The contact's recording or voicemail (audio/wav; one byte range)"});
  add({"GET", "/api/v1/tenants/{tenant}/users", api::Scope::kTenant,
       {Role::kAdmin, Role::kManager}, [ctx](const Request& req) { return list_users(ctx, req); },
       "The tenant's users (never their password hashes)"});
  add({"POST", "/api/v1/tenants/{tenant}/users", api::Scope::kTenant,
       {Role::kAdmin, Role::kManager}, [ctx](const Request& req) { return add_user(ctx, req); },
       "Make a user: {username, role, password, name}"});
  add({"PUT", "/api/v1/tenants/{tenant}/users/{username}", api::Scope::kTenant,
       {Role::kAdmin, Role::kManager}, [ctx](const Request& req) { return update_user(ctx, req); },
       "Disable or enable a user, or set a new password: {disabled, password}"});
  add({"GET", "/api/v1/tenants/{tenant}/tokens", api::Scope::kTenant,
       {Role::kAdmin, Role::kManager}, [ctx](const Request& req) { return list_tokens(ctx, req); },
       "The tenant's integration tokens (id, user, label; never the token)"});
  add({"DELETE", "/api/v1/tenants/{tenant}/tokens/{id}", api::Scope::kTenant,
       {Role::kAdmin, Role::kManager}, [ctx](const Request& req) { return revoke_token(ctx, req); },
       "Revoke an integration token by its id"});
  add({"GET", "/api/v1/tenants/{tenant}/customers/{number}", api::Scope::kTenant, everyone,
       [ctx](const Request& req) { return get_customer(ctx, req); },
       "What the center knows of a caller's number, and its last 20 contacts"});
  add({"PUT", "/api/v1/tenants/{tenant}/customers/{number}", api::Scope::kTenant,
       {Role::kAdmin, Role::kManager, Role::kSupervisor, Role::kAgent},
       [ctx](const Request& req) { return put_customer(ctx, req); },
       "Save a caller's name, notes and tags"});
  auto add_ws = [&](api::Route r, api::WebSocketOpener o) {
    if (Status s = router->add_websocket(std::move(r), std::move(o)); !s) {
      throw std::logic_error(s.message());
    }
  };
  add_ws({"GET", "/api/v1/tenants/{tenant}/stream", api::Scope::kTenant, everyone,
          [ctx](const Request& req) { return stream_check(ctx, req, req.params.at("tenant")); },
          "The live stream (WebSocket): agents, queues, contacts as they change"},
         stream_opener(ctx, /*own_tenant=*/false));
  add_ws({"GET", "/api/v1/stream", api::Scope::kServer, everyone,
          [ctx](const Request& req) { return stream_check(ctx, req, req.principal->tenant); },
          "The live stream of the signed-in user's own tenant (WebSocket)"},
         stream_opener(ctx, /*own_tenant=*/true));
  const std::vector<Role> staff = {Role::kAdmin, Role::kManager, Role::kSupervisor, Role::kAgent};
  add({"GET", "/api/v1/tenants/{tenant}/agents/{agent}/contact", api::Scope::kTenant, staff,
       [ctx](const Request& req) { return contact(ctx, req, server::ContactAction::kGet); },
       "The agent's contact now (ringing, connected, held, or waiting for its wrap-up)"});
  const std::pair<const char*, server::ContactAction> actions[] = {
      {"hangup", server::ContactAction::kHangup},   {"hold", server::ContactAction::kHold},
      {"resume", server::ContactAction::kResume},   {"transfer", server::ContactAction::kTransfer},
      {"wrapup", server::ContactAction::kWrapUp}};
  for (const auto& [name, action] : actions) {
    const server::ContactAction act = action;
    add({"POST", std::string("/api/v1/tenants/{tenant}/agents/{agent}/contact/") + name,
         api::Scope::kTenant, staff,
         [ctx, act](const Request& req) { return contact(ctx, req, act); },
         std::string("The agent's contact: ") + name});
  }
  add({"GET", "/api/v1/tenants/{tenant}/queues", api::Scope::kTenant, everyone,
       [ctx](const Request& req) { return queues(ctx, req); },
       "The tenant's queues (dispositions, script, service level) and break reasons"});
  add({"GET", "/api/v1/tenants/{tenant}/agents", api::Scope::kTenant, readers,
       [ctx](const Request& req) { return agents(ctx, req); },
       "The tenant's agents: skills and queues with tiers"});
  add({"PUT", "/api/v1/tenants/{tenant}/agents/{agent}", api::Scope::kTenant,
       {Role::kAdmin, Role::kManager, Role::kSupervisor},
       [ctx](const Request& req) { return update_agent(ctx, req); },
       "Change an agent's skills, queues (with tiers) and capacity at once; name and SIP password "
       "(admins, managers)"});
  add({"POST", "/api/v1/tenants/{tenant}/agents", api::Scope::kTenant,
       {Role::kAdmin, Role::kManager},
       [ctx](const Request& req) { return create_agent(ctx, req); },
       "Make an agent: {extension, password, name, queues, skills, capacity}"});
  add({"DELETE", "/api/v1/tenants/{tenant}/agents/{agent}", api::Scope::kTenant,
       {Role::kAdmin, Role::kManager},
       [ctx](const Request& req) { return delete_agent(ctx, req); },
       "Remove an agent made through the API"});
  add({"GET", "/api/v1/tenants/{tenant}/agents/{agent}/today", api::Scope::kTenant, everyone,
       [ctx](const Request& req) { return today(ctx, req); },
       "The agent's figures since midnight in the tenant's time zone"});
  add({"GET", "/api/v1/tenants", api::Scope::kServer, {Role::kAdmin},
       [ctx](const Request&) {
         json out = json::array();
         for (const config::TenantConfig& t : ctx.server->configuration()->tenants) {
           out.push_back({{"id", t.id},
                          {"language", std::string(core::to_string(t.language))},
                          {"time_zone", t.time_zone},
                          {"queues", t.queues.size()},
                          {"agents", t.agents.size()}});
         }
         return json_ok({{"tenants", out}});
       },
       "The server's tenants (admins)"});
  for (const std::string kind : {"flows", "calendars", "numbers", "queues"}) {
    const std::string what = kind == "flows"       ? "flow"
                             : kind == "calendars" ? "business-hours calendar"
                             : kind == "queues"    ? "queue's settings"
                                                   : "number's route";
    if (kind != "queues") {  // the queues' list is above, open to every role
      add({"GET", "/api/v1/tenants/{tenant}/" + kind, api::Scope::kTenant,
           {Role::kAdmin, Role::kManager, Role::kSupervisor, Role::kAnalyst},
           [ctx, kind](const Request& req) { return list_flows(ctx, req, kind); },
           "The tenant's " + kind + " and whether each was uploaded through the API"});
    }
    add({"PUT", "/api/v1/tenants/{tenant}/" + kind + "/{name}", api::Scope::kTenant,
         {Role::kAdmin, Role::kManager},
         [ctx, kind](const Request& req) { return put_flow(ctx, req, kind, /*remove=*/false); },
         "Upload a " + what + " as YAML (checked with the whole configuration; ?check=true only "
         "checks)"});
    add({"DELETE", "/api/v1/tenants/{tenant}/" + kind + "/{name}", api::Scope::kTenant,
         {Role::kAdmin, Role::kManager},
         [ctx, kind](const Request& req) { return put_flow(ctx, req, kind, /*remove=*/true); },
         "Remove an uploaded " + what + " (the file's own of that name, if any, comes back)"});
  }
  add({"GET", "/metrics", api::Scope::kServer, {Role::kAdmin},
       [ctx](const Request&) { return metrics(ctx); }, "Prometheus metrics of the server"});
  std::weak_ptr<api::Router> weak = router;
  add({"GET", "/api/v1/openapi.json", api::Scope::kPublic, {},
       [weak](const Request&) {
         auto r = weak.lock();
         return r ? json_ok(r->openapi()) : api::json_error(503, "shutting down");
       },
       "This document"});
  return router;
}

void authenticate(const ApiContext& ctx, api::Request& req) {
  std::string token;
  bool from_cookie = false;
  const std::string bearer = header(req, "authorization");
  if (bearer.rfind("Bearer ", 0) == 0) {
    token = bearer.substr(7);
  } else {
    token = cookie(req, kCookie);
    from_cookie = true;
  }
  if (token.empty()) return;
  if (!from_cookie) {
    if (auto who = auth::Sessions::find_api_token(*ctx.store, token)) {
      if (auto role = api::role_from(who->role)) {
        req.principal = api::Principal{who->tenant, who->username, *role};
      }
      return;
    }
  }
  auto s = ctx.sessions->find(token, now());
  if (!s) return;
  // A cookie comes with every request the browser makes, even one another site caused: a change
  // must also carry the session's CSRF token, which only our page can read.
  if (from_cookie && req.method != "GET" && header(req, "x-csrf-token") != s->csrf) return;
  auto role = api::role_from(s->who.role);
  if (!role) return;
  req.principal = api::Principal{s->who.tenant, s->who.username, *role};
}

}  // namespace tamas::app
