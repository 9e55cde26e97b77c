// The live server's transfers (see server_impl.h): second legs placed for a flow's transfer or an
// agent's direct call, given up after a ring timeout; and the agent's own transfers from the phone
// (REFER: blind to an extension, a queue or a number; attended with Replaces) or the desktop.
// Core thread only.
#include "server/server_impl.h"

#include <cctype>
#include <nlohmann/json.hpp>

#include "common/log.h"

namespace tamas::server::detail {

// How long a transfer destination may ring before the caller is told it failed.
constexpr Duration kTransferRingTimeout = std::chrono::seconds(30);

// Router task ids of callers put back in a queue by a transfer: far above any call id.
constexpr uint64_t kRequeuedTaskBase = 1ULL << 48;  // flow play ids start at 1

void ServerImpl::transfer_failed(Call& c, const std::string& why) {
  log::info("transfer failed", {{"call", std::to_string(c.id.value)},
                                {"to", c.transfer_target},
                                {"why", why}});
  media_->close(c.b_session);
  b_legs_.erase(c.b_leg);
  c.b_leg = 0;
  c.b_up = false;
  if (c.pending_record) {  // a transfer from the agent's phone: back to the queue, if any
    c.event("transfer-failed", why);
    c.agent.clear();
    if (!c.queue.empty() && requeue(c, c.queue)) return;
    if (c.leg_up) {
      stack_->hangup(c.leg);
      c.leg_up = false;
    }
    finish_bridge(c, "system");
    return;
  }
  flow_event(c.id, core::TransferResult{false, why});
}

void ServerImpl::expire_transfers(TimePoint now) {
  while (!transfer_deadlines_.empty() && transfer_deadlines_.begin()->first <= now) {
    const CallId id = transfer_deadlines_.begin()->second;
    transfer_deadlines_.erase(transfer_deadlines_.begin());
    Call* c = find(id);
    if (c == nullptr || c->b_leg == 0 || c->bridged) continue;
    stack_->hangup(c->b_leg);  // CANCEL
    transfer_failed(*c, "no answer within " + format_duration(kTransferRingTimeout));
  }
}

// A second leg from the caller to `uri` on media session `session`, bridged when it answers
// (OutAnswered), given up after kTransferRingTimeout.
Status ServerImpl::place_transfer(Call& c, const std::string& uri, media::SessionId session) {
  c.b_session = session;
  auto local = media_->open(c.b_session, c.id.value);
  if (!local) return local.status();
  sip::SdpAnswer offer;  // offered in the caller's codec, so the bridge needs no transcoding
  offer.address = wildcard_ ? c.local.address : local->address;
  offer.port = local->port;
  offer.payload_type = c.agreed.payload_type;
  offer.encoding = c.agreed.encoding;
  offer.telephone_event = 101;
  offer.session_id = session & 0xffffffffULL;
  sip::OutgoingCall out;
  out.target = uri;
  out.from_user = c.caller;
  out.sdp = sip::build_sdp(offer);
  c.transfer_target = uri;
  c.b_leg = stack_->invite(std::move(out));
  c.b_up = true;
  b_legs_[c.b_leg] = c.id;
  c.transfer_deadline = wall_now() + kTransferRingTimeout;
  transfer_deadlines_.insert({c.transfer_deadline, c.id});
  log::info("transferring", {{"call", std::to_string(c.id.value)}, {"to", uri}});
  return Status::ok();
}

// A blind transfer from the agent's phone (REFER in the bridged call): to another agent's
// extension (its first registered phone), to a queue (its id, or a number whose flow starts
// with that queue), or to a number transfer_allow lets out through a trunk. The agent's leg is
// released at once (NOTIFY 200, BYE) and wraps up; the caller hears the queue's music until the
// destination answers, and goes back to the queue if it does not. Attended transfer (Replaces)
// is refused with 501.
void ServerImpl::on(SipRefer& ev) {
  auto b = b_legs_.find(ev.leg);
  Call* c = b == b_legs_.end() ? nullptr : find(b->second);
  if (c == nullptr || !c->bridged || c->agent.empty() || !c->pending_record) {
    stack_->refer_status(ev.leg, 403, "Forbidden");
    return;
  }
  if (!ev.refer.replaces_call_id.empty()) return attended_transfer(*c, ev.leg, ev.refer);
  TransferPlan plan = plan_transfer(*c, ev.refer.target_user, ev.refer.target);
  if (plan.status != 200) {
    stack_->refer_status(ev.leg, plan.status,
                         plan.status == 480 ? "Temporarily Unavailable" : "Forbidden");
    return;
  }
  stack_->refer_status(ev.leg, 200, "OK");
  blind_transfer(*c, plan);
}

ServerImpl::TransferPlan ServerImpl::plan_transfer(Call& c, const std::string& user,
                                                   const std::string& target) {
  TransferPlan p;
  p.user = user;
  TenantRuntime* rt = runtime_of(c);
  const config::TenantConfig& t = *c.tenant;
  if (t.find_agent(user) != nullptr && rt != nullptr) {
    auto phones = rt->registrar.contacts(user, wall_now());
    if (phones.empty()) {
      p.status = 480;
      return p;
    }
    p.uri = phones.front().contact;
    p.agent = user;
  } else if (p.queue = queue_named(t, user); p.queue.empty()) {
    // transfer_allow may name the whole URI or just the number.
    auto allowed = [&](const std::string& x) {
      return core::resolve_transfer(*t.flows, x).kind == core::TransferTarget::Kind::kExternal;
    };
    auto out = allowed(target) ? Result<std::string>(target)
               : allowed(user) ? transfer_uri(t, user, "")
                               : Result<std::string>(Status::error("not allowed"));
    if (!out) {
      log::info("transfer refused", {{"call", std::to_string(c.id.value)},
                                     {"agent", c.agent}, {"to", target}});
      p.status = 403;
      return p;
    }
    p.uri = *out;
  }
  return p;
}

void ServerImpl::blind_transfer(Call& c, const TransferPlan& plan) {
  const std::string from = c.agent;
  release_agent(c);
  c.transfers++;
  c.event("transferred", from + " to " + plan.user);
  log::info("blind transfer", {{"call", std::to_string(c.id.value)}, {"from", from},
                               {"to", plan.user}});
  const nlohmann::json to = {{"to", plan.user}};
  contact_event(c, "transferred", from, &to);
  if (!plan.queue.empty()) {
    if (!requeue(c, plan.queue)) transfer_failed(c, "queue " + plan.queue + " is gone");
    return;
  }
  c.agent = plan.agent;
  resume_music(c);
  if (Status st = place_transfer(c, plan.uri, next_fork_session_++); !st) {
    transfer_failed(c, st.message());
  }
}

// An attended transfer: the agent, talking to the caller of `c` (usually on hold), called a
// colleague or a number (a direct call) and now asks, with Replaces naming that call, that the
// caller take the agent's place in it. The caller is bridged to the far end of the direct call;
// both of the agent's legs end.
void ServerImpl::attended_transfer(Call& c, sip::LegId refer_leg, const sip::IncomingRefer& refer) {
  Call* consult = nullptr;
  for (auto& [id, other] : calls_) {
    if (other.direct && other.sip_call_id == refer.replaces_call_id) consult = &other;
  }
  if (consult == nullptr || !consult->bridged || !consult->b_up ||
      consult->caller != c.agent || consult->tenant->id != c.tenant->id) {
    stack_->refer_status(refer_leg, 481, "Call/Transaction Does Not Exist");
    return;
  }
  stack_->refer_status(refer_leg, 200, "OK");
  const std::string from = c.agent;
  release_agent(c);
  c.transfers++;
  const std::string to = consult->agent.empty() ? consult->called : consult->agent;
  c.event("transferred", from + " to " + to + " (attended)");
  const nlohmann::json target = {{"to", to}};
  contact_event(c, "transferred", from, &target);
  log::info("attended transfer", {{"call", std::to_string(c.id.value)}, {"from", from},
                                  {"to", to}});
  // The consultation's far end becomes this call's second leg.
  media_->unbridge(consult->id.value);
  transfer_deadlines_.erase({consult->transfer_deadline, consult->id});
  b_legs_[consult->b_leg] = c.id;
  c.b_leg = consult->b_leg;
  c.b_session = consult->b_session;
  c.b_up = true;
  c.bridged = true;
  c.agent = consult->agent;
  c.transfer_target = consult->transfer_target;
  c.connected_at = wall_now();
  consult->b_leg = 0;
  consult->b_up = false;
  consult->bridged = false;
  media_->stop_play(c.id.value);
  media_->bridge(c.id.value, c.b_session);
  c.event("connected", to);
  // The agent's consultation leg ends, with its own record.
  if (consult->leg_up) {
    stack_->hangup(consult->leg);
    consult->leg_up = false;
  }
  consult->talk_before += wall_now() - consult->connected_at;
  finish_bridge(*consult, "agent");
}

// The agent leaves a bridged call (a transfer): their leg is hung up, their talk time kept,
// and the router hears the conversation is over (the agent wraps up).
void ServerImpl::release_agent(Call& c) {
  const TimePoint now = wall_now();
  contact_over(c, c.agent);
  if (c.on_hold) {
    c.on_hold = false;
    c.hold_total += now - c.hold_started;
  }
  if (c.connected_at != TimePoint{}) c.talk_before += now - c.connected_at;
  media_->unbridge(c.id.value);
  if (c.b_leg != 0) {
    b_legs_.erase(c.b_leg);
    if (c.b_up) stack_->hangup(c.b_leg);
    media_->close(c.b_session);
  }
  c.b_leg = 0;
  c.b_up = false;
  c.bridged = false;
  if (c.connected) {
    c.connected = false;
    if (TenantRuntime* rt = runtime_of(c)) {
      (void)route_event(*rt, core::TaskCompleted{c.task});
    }
  }
}

// The queue a transfer target names: a queue id, or a number whose flow starts with a queue.
std::string ServerImpl::queue_named(const config::TenantConfig& t, const std::string& target) {
  if (t.find_queue(target) != nullptr) return target;
  auto number = t.flows->numbers.find(target);
  if (number == t.flows->numbers.end()) return "";
  const core::Flow* flow = t.flows->find_flow(number->second);
  if (flow == nullptr) return "";
  auto start = flow->nodes.find(flow->start);
  if (start == flow->nodes.end()) return "";
  const auto* q = std::get_if<core::QueueNode>(&start->second.body);
  return q != nullptr ? q->queue : "";
}

// The caller (whose flow is over) joins `queue` again; false when it does not exist.
bool ServerImpl::requeue(Call& c, const std::string& queue) {
  TenantRuntime* rt = runtime_of(c);
  if (rt == nullptr || !rt->queues.count(queue)) return false;
  if (c.task.value != c.id.value) requeued_.erase(c.task.value);
  c.task = core::TaskId{kRequeuedTaskBase + next_requeued_++};
  requeued_[c.task.value] = c.id;
  core::EnterQueue q;
  q.call = c.id;
  q.queue = queue;
  q.language = c.language;
  run(q);
  return true;
}

// A SIP URI as given, or a number sent to a trunk's `uri` (the named trunk, else the tenant's
// first trunk that has one): sip:NUMBER@HOST[:PORT][;params].
Result<std::string> ServerImpl::transfer_uri(const config::TenantConfig& tenant,
                                             const std::string& target, const std::string& trunk) {
  if (target.rfind("sip:", 0) == 0) return target;
  for (char ch : target) {
    if (!(std::isdigit(static_cast<unsigned char>(ch)) || ch == '+' || ch == '*' || ch == '#')) {
      return Status::error("transfer target '" + target + "' is neither a SIP URI nor a number");
    }
  }
  const config::Trunk* via = nullptr;
  if (!trunk.empty()) {
    via = tenant.find_trunk(trunk);
  } else {
    for (const config::Trunk& tr : tenant.trunks) {
      if (!tr.uri.empty()) {
        via = &tr;
        break;
      }
    }
  }
  if (via == nullptr || via->uri.rfind("sip:", 0) != 0) {
    return Status::error("no trunk with a uri to send '" + target + "' to");
  }
  return "sip:" + target + "@" + via->uri.substr(4);
}

}  // namespace tamas::server::detail
