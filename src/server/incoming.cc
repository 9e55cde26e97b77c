// The live server's calls and registrations arriving (see server_impl.h): an INVITE from a trunk
// or an agent's phone (authenticated; a feature code, a direct call or a tenant's number), the
// new call's SDP and media session, and REGISTER. Core thread only.
#include "server/server_impl.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "common/log.h"

namespace tamas::server::detail {
namespace {

// The local IPv4 address the kernel would use to reach `peer` (no packet is sent: a UDP socket
// is connected and asked its name). Empty when there is no route.
std::string local_address_towards(const std::string& peer) {
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(9);
  if (inet_pton(AF_INET, peer.c_str(), &to.sin_addr) != 1) return "";
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0) {
    sockaddr_in me{};
    socklen_t len = sizeof me;
    char buf[INET_ADDRSTRLEN] = {0};
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&me), &len) == 0 &&
        inet_ntop(AF_INET, &me.sin_addr, buf, sizeof buf) != nullptr) {
      out = buf;
    }
  }
  ::close(fd);
  return out;
}

}  // namespace

media::RemoteMedia to_remote(const sip::SdpAudio& sdp) {
  media::RemoteMedia r;
  r.address = sdp.address;
  r.port = sdp.port;
  for (const sip::SdpFormat& f : sdp.formats) {
    r.formats.push_back({f.payload_type, f.encoding, f.clock_rate});
  }
  switch (sdp.mode) {
    case sip::Mode::kSendOnly: r.direction = media::Direction::kSendOnly; break;
    case sip::Mode::kRecvOnly: r.direction = media::Direction::kRecvOnly; break;
    case sip::Mode::kInactive: r.direction = media::Direction::kInactive; break;
    case sip::Mode::kSendRecv: r.direction = media::Direction::kSendRecv; break;
  }
  return r;
}

void ServerImpl::on(SipIncoming& ev) {
  const sip::IncomingCall& in = ev.call;
  auto reject = [&](int status, const char* phrase, const std::string& why) {
    rejected_++;
    log::info("call refused", {{"status", std::to_string(status)},
                               {"from", in.from_user},
                               {"to", in.to_user},
                               {"source", in.source_ip},
                               {"why", why}});
    stack_->reject(in.leg, status, phrase);
  };
  if (draining_) return reject(503, "Service Unavailable", "draining");
  std::shared_ptr<const config::ServerConfig> cfg = config_;
  auto route = cfg->route(in.to_user);
  // A call from an agent's phone (not from a trunk of the number's tenant): authenticated as
  // that agent, then a feature code or a number of its tenant.
  const bool from_trunk = route && route->tenant->trunk_for_source(in.source_ip) != nullptr;
  const config::TenantConfig* agent_tenant = nullptr;
  std::string feature;
  if (!from_trunk) {
    agent_tenant = tenant_of(*cfg, in.from_user, in.to_host);
    if (agent_tenant != nullptr) {
      TenantRuntime& rt = *tenants_.at(agent_tenant->id);
      const TimePoint now = wall_now();
      auto challenge = [&](bool stale) {
        std::vector<std::string> h;
        for (const std::string& c : rt.auth->challenges(now, stale)) {
          h.push_back("Proxy-Authenticate: " + c);
        }
        rejected_++;
        stack_->reject(in.leg, 407, "Proxy Authentication Required", h);
      };
      if (in.authorization.empty()) return challenge(false);
      auto creds = sip::parse_credentials(in.authorization);
      if (!creds) return reject(400, "Bad Request", creds.message());
      const config::AgentSpec* agent = agent_tenant->find_agent(creds->username);
      std::optional<sip::DigestSecret> secret;
      if (agent != nullptr) secret = sip::DigestSecret::from_password(agent->password);
      switch (rt.auth->verify(*creds, "INVITE", secret, now)) {
        case sip::DigestVerdict::kOk: break;
        case sip::DigestVerdict::kStale: return challenge(true);
        case sip::DigestVerdict::kMalformed: return reject(400, "Bad Request", "credentials");
        case sip::DigestVerdict::kWrongCredentials: return challenge(false);
      }
      if (creds->username != in.from_user) return reject(403, "Forbidden", "not that agent");
      feature = apply_feature_code(*agent_tenant, rt, in.from_user, in.to_user);
      if (feature.empty() && in.to_user != in.from_user) {
        if (auto uri = direct_target(*agent_tenant, rt, in.to_user)) {
          return start_direct_call(in, cfg, *agent_tenant, uri->first, uri->second);
        }
      }
      if (feature.empty()) {
        route = cfg->route(in.to_user);
        if (!route || route->tenant != agent_tenant) {
          return reject(404, "Not Found", "no such number in the agent's tenant");
        }
      }
    }
  }
  if (!feature.empty()) return start_call(in, cfg, agent_tenant, feature, nullptr, true);
  if (agent_tenant != nullptr) return start_call(in, cfg, route->tenant, route->number->flow,
                                                 route->number, false);
  if (!route) {
    const bool known_source = std::any_of(
        cfg->tenants.begin(), cfg->tenants.end(),
        [&](const config::TenantConfig& t) { return t.trunk_for_source(in.source_ip); });
    if (!known_source) return reject(403, "Forbidden", "not a trunk");
    return reject(404, "Not Found", "no such number");
  }
  if (!from_trunk) return reject(403, "Forbidden", "not a trunk of tenant " + route->tenant->id);
  start_call(in, cfg, route->tenant, route->number->flow, route->number, false);
}

// A new call: SDP checked and negotiated, a media session opened, a flow started (the number's
// flow, or a feature code's confirmation for an agent).
void ServerImpl::start_call(const sip::IncomingCall& in,
                            std::shared_ptr<const config::ServerConfig> cfg,
                            const config::TenantConfig* tenant, const std::string& flow,
                            const config::NumberRoute* number, bool internal) {
  Call* c = open_call(in, cfg, tenant, std::nullopt);
  if (c == nullptr) return;
  const CallId id = c->id;
  c->flow = flow;
  c->internal = internal;

  core::CallInfo info;
  info.tenant = tenant->id;
  info.from = in.from_user;
  info.to = in.to_user;
  if (number != nullptr) info.language = number->language;
  std::shared_ptr<const core::FlowSet> flows =
      internal ? tenants_.at(tenant->id)->features : tenant->flows;
  core::FlowCommandSink out;
  Status s = flows_.start(id, flows, flow, info, wall_now(), out);
  log::info("call", {{"call", std::to_string(id.value)},
                     {"tenant", tenant->id},
                     {"from", in.from_user},
                     {"to", in.to_user},
                     {"flow", flow},
                     {"codec", c->agreed.encoding}});
  if (!s.is_ok()) {
    log::error("flow did not start", {{"call", std::to_string(id.value)}, {"why", s.message()}});
    stack_->reject(in.leg, 500, "Server Internal Error");
    end_call(id);
    return;
  }
  execute(out);
}

// The SDP offer checked and negotiated and a media session opened (on the worker of session
// `near`, when given) for a new call; null, with the INVITE refused, when that fails.
Call* ServerImpl::open_call(const sip::IncomingCall& in,
                            std::shared_ptr<const config::ServerConfig> cfg,
                            const config::TenantConfig* tenant,
                            std::optional<media::SessionId> near) {
  auto reject = [&](int status, const char* phrase, const std::string& why) -> Call* {
    rejected_++;
    log::info("call refused", {{"status", std::to_string(status)},
                               {"from", in.from_user},
                               {"to", in.to_user},
                               {"why", why}});
    stack_->reject(in.leg, status, phrase);
    return nullptr;
  };
  if (!in.sdp) return reject(488, "Not Acceptable Here", "no SDP offer (delayed offer)");
  auto sdp = sip::parse_sdp(*in.sdp);
  if (!sdp) return reject(400, "Bad SDP", sdp.message());
  media::RemoteMedia remote = to_remote(*sdp);
  auto agreed = media::negotiate(remote);
  if (!agreed) return reject(488, "Not Acceptable Here", agreed.message());

  const CallId id{next_call_++};
  auto local = media_->open(id.value, near);
  if (!local) return reject(503, "Service Unavailable", local.message());
  media_->set_remote(id.value, remote, *agreed);

  Call call;
  call.id = id;
  call.task = core::TaskId{id.value};
  call.leg = in.leg;
  call.config = cfg;
  call.tenant = tenant;
  call.caller = in.from_user;
  call.called = in.to_user;
  call.sip_call_id = in.call_id;
  call.started = wall_now();
  call.local = *local;
  if (wildcard_) {
    call.local.address = local_address_towards(in.source_ip);
    if (call.local.address.empty()) call.local.address = "127.0.0.1";
  }
  call.agreed = *agreed;
  legs_[in.leg] = id;
  calls_started_++;
  active_++;
  return &calls_.emplace(id, std::move(call)).first->second;
}

// An agent's own call (not a feature code, not a tenant number): to another extension's phone,
// or out through a trunk when transfer_allow lets the number out. The caller hears ringing
// until the far end answers. It runs on the media worker of the agent's current call, if any,
// so that a REFER with Replaces can hand that call's caller to this far end.
void ServerImpl::start_direct_call(const sip::IncomingCall& in,
                                   std::shared_ptr<const config::ServerConfig> cfg,
                                   const config::TenantConfig& tenant, const std::string& uri,
                                   const std::string& agent) {
  std::optional<media::SessionId> near;
  for (const auto& [id, other] : calls_) {
    if (other.bridged && other.agent == in.from_user && other.tenant->id == tenant.id) {
      near = id.value;
    }
  }
  Call* c = open_call(in, cfg, &tenant, near);
  if (c == nullptr) return;
  c->direct = true;
  c->agent = agent;
  store::InteractionRecord r;
  r.id = node_ + "-" + std::to_string(c->id.value);
  r.tenant = tenant.id;
  r.direction = agent.empty() ? "outbound" : "internal";
  r.caller = c->caller;
  r.called = c->called;
  r.started_at = c->started;
  r.result = "missed";
  r.agent = agent;
  c->pending_record = std::move(r);
  log::info("call", {{"call", std::to_string(c->id.value)}, {"tenant", tenant.id},
                     {"from", in.from_user}, {"to", in.to_user}, {"direct", uri}});
  stack_->ringing(c->leg);
  if (Status st = place_transfer(*c, uri, bleg_session(c->id)); !st) {
    transfer_failed(*c, st.message());
  }
}

// Where an agent's own call to `dialled` goes, and the agent it reaches ("" when outside):
// another extension's first registered phone, or a number transfer_allow lets out through a
// trunk. Nothing for the tenant's own numbers (they run their flows) and anything else.
std::optional<std::pair<std::string, std::string>> ServerImpl::direct_target(
    const config::TenantConfig& t, TenantRuntime& rt, const std::string& dialled) {
  if (t.find_agent(dialled) != nullptr) {
    auto phones = rt.registrar.contacts(dialled, wall_now());
    if (phones.empty()) return std::nullopt;
    return std::make_pair(phones.front().contact, dialled);
  }
  if (t.flows->numbers.count(dialled)) return std::nullopt;
  if (core::resolve_transfer(*t.flows, dialled).kind != core::TransferTarget::Kind::kExternal) {
    return std::nullopt;
  }
  auto uri = transfer_uri(t, dialled, "");
  if (!uri) return std::nullopt;
  return std::make_pair(*uri, std::string());
}

// A feature code dialled by an agent: changes the agent's status and returns the confirmation
// flow to play ("login", ..., "error"), or "" when `dialled` is not a feature code.
std::string ServerImpl::apply_feature_code(const config::TenantConfig& t, TenantRuntime& rt,
                                           const std::string& extension,
                                           const std::string& dialled) {
  const config::FeatureCodes& fc = t.feature_codes;
  core::SetAgentStatus set;
  set.agent = rt.agents.at(extension);
  std::string answer;
  if (dialled == fc.login || dialled == fc.resume) {
    set.status = core::AgentStatus::kAvailable;
    answer = dialled == fc.login ? "login" : "resume";
  } else if (dialled == fc.logout) {
    set.status = core::AgentStatus::kLoggedOut;
    answer = "logout";
  } else if (dialled.rfind(fc.pause, 0) == 0 && dialled.size() <= fc.pause.size() + 1) {
    set.status = core::AgentStatus::kBreak;
    if (dialled.size() == fc.pause.size() + 1) {
      const int n = dialled.back() - '0';
      if (n < 1 || n > static_cast<int>(t.break_reasons.size())) return "error";
      set.reason = t.break_reasons[static_cast<size_t>(n - 1)];
    }
    answer = "pause";
  } else {
    return "";
  }
  if (Status st = route_event(rt, set); !st) {
    log::warn("feature code refused", {{"agent", extension}, {"why", st.message()}});
    return "error";
  }
  log::info("agent status", {{"tenant", t.id}, {"agent", extension}, {"code", dialled},
                             {"status", std::string(core::to_string(set.status))}});
  return answer;
}

// The tenant a request for `user`@`host` belongs to: the one whose realm is `host`, else the only
// tenant with an agent `user`. Null when none (or several) fit.
const config::TenantConfig* ServerImpl::tenant_of(const config::ServerConfig& cfg,
                                                  const std::string& user,
                                                  const std::string& host) {
  if (const config::TenantConfig* t = cfg.tenant_for_realm(host)) return t;
  const config::TenantConfig* found = nullptr;
  for (const config::TenantConfig& t : cfg.tenants) {
    if (t.find_agent(user) != nullptr) {
      if (found != nullptr) return nullptr;  // ambiguous: the phone must name its realm
      found = &t;
    }
  }
  return found;
}

// REGISTER (RFC 3261 §10.3) for an agent's phone: digest-authenticated as that agent.
void ServerImpl::on(SipRegister& ev) {
  const sip::IncomingRegister& in = ev.reg;
  const config::TenantConfig* tenant = tenant_of(*config_, in.to_user, in.to_host);
  if (tenant == nullptr) {
    stack_->respond_register(in.id, 404, "Not Found", {});
    return;
  }
  TenantRuntime& rt = *tenants_.at(tenant->id);
  const TimePoint now = wall_now();
  auto challenge = [&](bool stale) {
    std::vector<std::string> h;
    for (const std::string& c : rt.auth->challenges(now, stale)) h.push_back("WWW-Authenticate: " + c);
    stack_->respond_register(in.id, 401, "Unauthorized", h);
  };
  if (in.authorization.empty()) return challenge(false);
  auto creds = sip::parse_credentials(in.authorization);
  if (!creds) {
    log::info("register refused", {{"user", in.to_user}, {"why", creds.message()}});
    stack_->respond_register(in.id, 400, "Bad Request", {});
    return;
  }
  const config::AgentSpec* agent = tenant->find_agent(creds->username);
  std::optional<sip::DigestSecret> secret;
  if (agent != nullptr) secret = sip::DigestSecret::from_password(agent->password);
  switch (rt.auth->verify(*creds, "REGISTER", secret, now)) {
    case sip::DigestVerdict::kOk: break;
    case sip::DigestVerdict::kStale: return challenge(true);
    case sip::DigestVerdict::kMalformed:
      stack_->respond_register(in.id, 400, "Bad Request", {});
      return;
    case sip::DigestVerdict::kWrongCredentials:
      log::info("register refused", {{"user", creds->username}, {"tenant", tenant->id},
                                     {"source", in.source_ip}, {"why", "wrong credentials"}});
      return challenge(false);
  }
  if (creds->username != in.to_user) {  // an agent registers only its own extension
    stack_->respond_register(in.id, 403, "Forbidden", {});
    return;
  }
  sip::RegisterRequest req;
  req.aor = in.to_user;
  for (const auto& c : in.contacts) req.contacts.push_back({c.uri, c.expires});
  req.wildcard = in.wildcard;
  req.expires = in.expires;
  req.call_id = in.call_id;
  req.cseq = in.cseq;
  req.source_address = in.source_ip;
  req.source_port = in.source_port;
  req.transport = in.transport;
  sip::RegisterResult res = rt.registrar.handle_register(req, now);
  std::vector<std::string> headers;
  if (res.ok()) {
    for (const sip::Binding& b : res.bindings) {
      headers.push_back("Contact: <" + b.contact + ">;expires=" +
                        std::to_string(b.expires_in(now)));
    }
    if (res.added > 0 || !res.removed.empty()) {
      log::info("registered", {{"tenant", tenant->id}, {"agent", in.to_user},
                               {"contacts", std::to_string(res.bindings.size())},
                               {"source", in.source_ip}});
    }
  } else if (res.status == 423) {
    headers.push_back("Min-Expires: " + std::to_string(res.min_expires));
  }
  stack_->respond_register(in.id, res.status, res.reason, headers);
}

}  // namespace tamas::server::detail
