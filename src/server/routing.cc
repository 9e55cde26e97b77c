// The live server's routing engine glue (see server_impl.h): one core::Router per tenant, fed
// events and carrying out its commands: ringing agents' phones, connecting the one that answers,
// agents' changes, callers leaving queues. Core thread only.
#include "server/server_impl.h"

#include <filesystem>

#include "common/log.h"

namespace tamas::server::detail {

// Applies an event to the tenant's router and carries out what it says; events that carrying
// out produces (a phone that cannot be rung) are fed back until none is left.
Status ServerImpl::route_event(TenantRuntime& rt, const core::Event& event) {
  rt.queues_dirty = true;
  queues_dirty_ = true;
  std::deque<core::Event> pending{event};
  Status first;
  bool is_first = true;
  while (!pending.empty()) {
    core::Event e = std::move(pending.front());
    pending.pop_front();
    core::CommandSink out;
    Status st = rt.router->handle(e, wall_now(), out);
    if (is_first) first = st;
    is_first = false;
    if (!st.is_ok()) log::warn("routing", {{"tenant", rt.id}, {"why", st.message()}});
    for (core::Command& c : out) {
      std::visit([&](auto& cmd) { route_command(rt, cmd, pending); }, c);
    }
  }
  return first;
}

void ServerImpl::advance_routers(TimePoint now) {
  for (auto& [id, rt] : tenants_) {
    core::CommandSink out;
    rt->router->advance(now, out);
    if (!out.empty()) {
      rt->queues_dirty = true;
      queues_dirty_ = true;
    }
    std::deque<core::Event> pending;
    for (core::Command& c : out) {
      std::visit([&](auto& cmd) { route_command(*rt, cmd, pending); }, c);
    }
    while (!pending.empty()) {
      core::Event e = std::move(pending.front());
      pending.pop_front();
      (void)route_event(*rt, e);
    }
  }
}

std::optional<TimePoint> ServerImpl::next_router_deadline() const {
  std::optional<TimePoint> next;
  for (const auto& [id, rt] : tenants_) {
    auto d = rt->router->next_deadline();
    if (d && (!next || *d < *next)) next = d;
  }
  return next;
}

// GCC 12 at -O2 reports -Wmaybe-uninitialized in the next function: it takes moving the
// core::Event temporary into `pending` for a read of the variant's other alternatives (a false
// positive with std::variant). It did not while the function sat in one file with its callers.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
// Ring every registered phone of the agent; a phone-less agent declines at once.
void ServerImpl::route_command(TenantRuntime& rt, core::OfferTask& o,
                               std::deque<core::Event>& pending) {
  Call* c = find_task(o.task);
  const std::string& ext = rt.extensions.at(o.agent.value);
  std::vector<sip::Binding> phones = rt.registrar.contacts(ext, wall_now());
  if (c == nullptr || phones.empty()) {
    if (c != nullptr) log::info("agent has no registered phone", {{"agent", ext}});
    pending.push_back(core::OfferDeclined{o.task, o.agent, core::DeclineReason::kBusy});
    return;
  }
  for (const sip::Binding& phone : phones) {
    const media::SessionId session = next_fork_session_++;
    auto local = media_->open(session, c->id.value);
    if (!local) continue;
    sip::SdpAnswer offer;
    offer.address = wildcard_ ? c->local.address : local->address;
    offer.port = local->port;
    offer.payload_type = c->agreed.payload_type;
    offer.encoding = c->agreed.encoding;
    offer.telephone_event = 101;
    offer.session_id = session & 0xffffffffULL;
    sip::OutgoingCall out;
    out.target = phone.contact;
    out.from_user = c->caller;
    out.sdp = sip::build_sdp(offer);
    out.headers = {{"X-Tamas-Queue", c->queue}};
    if (!c->ivr_path.empty()) out.headers.emplace_back("X-Tamas-IVR", c->ivr_path);
    if (c->id == routing_now_) out.since = routing_since_;  // offered as it entered the queue
    const sip::LegId leg = stack_->invite(std::move(out));
    agent_legs_[leg] = AgentLeg{c->id, o.agent, session};
  }
  c->offered_at[o.agent.value] = wall_now();
  c->event("offered", ext);
  set_contact(rt, *c, ext, "ringing");
  contact_event(*c, "offered", ext);
  log::info("offering", {{"call", std::to_string(c->id.value)}, {"agent", ext},
                         {"phones", std::to_string(phones.size())}});
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// Stop ringing the agent's phones for the task (or hang up one that answered too late).
void ServerImpl::route_command(TenantRuntime& rt, core::CancelOffer& x, std::deque<core::Event>&) {
  Call* c = find_task(x.task);
  if (c != nullptr && x.reason == core::CancelReason::kRingTimeout) {
    c->event("no-answer", rt.extensions.at(x.agent.value));
  }
  std::vector<sip::LegId> legs;
  for (auto& [leg, al] : agent_legs_) {
    if (c != nullptr && al.call == c->id && al.agent == x.agent) legs.push_back(leg);
  }
  for (sip::LegId leg : legs) drop_agent_leg(leg);
  if (c != nullptr) offer_ended(rt, *c, rt.extensions.at(x.agent.value));
}

void ServerImpl::route_command(TenantRuntime& rt, core::TaskAssigned& a, std::deque<core::Event>&) {
  Call* c = find_task(a.task);
  if (c == nullptr) return;
  // The phone that answered is the one still marked answered; others of the agent are dropped.
  sip::LegId winner = 0;
  for (auto& [leg, al] : agent_legs_) {
    if (al.call == c->id && al.agent == a.agent && answered_legs_.count(leg)) winner = leg;
  }
  std::vector<sip::LegId> others;
  for (auto& [leg, al] : agent_legs_) {
    if (al.call == c->id && leg != winner) others.push_back(leg);
  }
  for (sip::LegId leg : others) drop_agent_leg(leg);
  if (winner == 0) return;
  const AgentLeg al = agent_legs_.at(winner);
  agent_legs_.erase(winner);
  answered_legs_.erase(winner);
  c->b_leg = winner;
  c->b_up = true;
  c->b_session = al.session;
  c->bridged = true;
  c->connected = true;
  c->queued = false;
  c->agent = rt.extensions.at(a.agent.value);
  c->connected_at = wall_now();
  c->wait += c->connected_at - c->queued_at;
  if (auto it = c->offered_at.find(a.agent.value); it != c->offered_at.end()) {
    c->ring = c->connected_at - it->second;
  }
  c->event("connected", c->agent);
  std::vector<std::string> losers;  // ring-all: the others' phones stop
  for (const auto& [ext, ac] : rt.contacts) {
    if (ac.call == c->id && ext != c->agent && ac.state == "ringing") losers.push_back(ext);
  }
  for (const std::string& ext : losers) offer_ended(rt, *c, ext);
  set_contact(rt, *c, c->agent, "connected");
  rt.contacts[c->agent].task = a.task;
  contact_event(*c, "connected", c->agent);
  b_legs_[winner] = c->id;
  log::info("connected", {{"call", std::to_string(c->id.value)}, {"queue", c->queue},
                          {"agent", c->agent},
                          {"waited", format_duration(a.waited)}});
  if (c->notice_playing) {  // the caller hears the whole recording notice first
    c->conversation_pending = true;
    return;
  }
  start_conversation(*c);
}

// Caller and agent talk: the bridge, the recording, and the flow told it is connected.
void ServerImpl::start_conversation(Call& call) {
  Call* c = &call;
  c->conversation_pending = false;
  media_->stop_play(c->id.value);
  media_->bridge(c->id.value, c->b_session);
  const config::QueueSpec* q = c->tenant->find_queue(c->queue);
  if (q != nullptr && q->recording.enabled && c->recording.empty()) {  // one file per contact
    const std::string dir = c->config->data_dir + "/recordings/" + c->tenant->id;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    c->recording = dir + "/" + node_ + "-" + std::to_string(c->id.value) + ".wav";
    media_->record(c->id.value, c->id.value, c->recording,
                   q->recording.mode == config::RecordingMode::kStereo ? media::RecordMode::kStereo
                                                                       : media::RecordMode::kMono,
                   Duration(0));
  }
  flow_event(c->id, core::QueueConnected{c->agent});
}

void ServerImpl::route_command(TenantRuntime&, core::TaskRejected& r, std::deque<core::Event>&) {
  if (Call* c = find_task(r.task)) leave_queue(c->id, "", std::string(core::to_string(r.reason)));
}
void ServerImpl::route_command(TenantRuntime&, core::TaskLeftQueue& l, std::deque<core::Event>&) {
  if (Call* c = find_task(l.task)) leave_queue(c->id, l.branch, std::string(core::to_string(l.reason)));
}
// A change of an agent's status or state: logged and stored with how long the last one lasted.
void ServerImpl::route_command(TenantRuntime& rt, core::AgentChanged& a, std::deque<core::Event>&) {
  const TimePoint now = wall_now();
  store::AgentEventRecord e;
  e.tenant = rt.id;
  e.agent = rt.extensions.at(a.agent.value);
  e.at = now;
  e.status = core::to_string(a.status);
  e.state = core::to_string(a.state);
  if (a.status == core::AgentStatus::kBreak && a.reason < rt.router->break_reasons().size()) {
    e.reason = rt.router->break_reasons()[a.reason];
  }
  TenantRuntime::Presence& last = rt.presence.at(a.agent.value);
  if (!last.status.empty()) {
    e.previous_status = last.status;
    e.previous_state = last.state;
    e.previous = now - last.since;
  }
  last = {e.status, e.state, now};
  log::info("agent", {{"tenant", rt.id}, {"agent", e.agent}, {"status", e.status},
                      {"state", e.state}, {"reason", e.reason},
                      {"after", format_duration(e.previous)}});
  emit(rt.id, Topic::kAgents, e.agent,
       agent_event(rt.id, now, AgentView{e.agent, e.status, e.state, e.reason, 0}));
  store_->save_agent_event(std::move(e));
}

void ServerImpl::leave_queue(CallId id, const std::string& branch, const std::string& reason) {
  Call* c = find(id);
  if (c == nullptr || !c->queued) return;
  c->queued = false;
  c->wait += wall_now() - c->queued_at;
  if (!reason.empty()) c->event("left", reason);
  media_->stop_play(id.value);
  if (c->pending_record) {  // back in a queue after a transfer: the flow is over, so is the call
    if (c->leg_up) {
      stack_->hangup(c->leg);
      c->leg_up = false;
    }
    finish_bridge(*c, "system");
    return;
  }
  flow_event(id, core::QueueExited{branch, reason});
}

void ServerImpl::drop_agent_leg(sip::LegId leg) {
  auto it = agent_legs_.find(leg);
  if (it == agent_legs_.end()) return;
  stack_->hangup(leg);
  media_->close(it->second.session);
  agent_legs_.erase(it);
  answered_legs_.erase(leg);
}

TenantRuntime* ServerImpl::runtime_of(const Call& c) {
  auto it = tenants_.find(c.tenant->id);
  return it == tenants_.end() ? nullptr : it->second.get();
}

}  // namespace tamas::server::detail
