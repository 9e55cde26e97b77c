// The live server's core thread (see server_impl.h): its loop, which waits for events and the
// next deadline, and the events of calls in progress: legs that end, answer or fail, re-INVITEs
// (hold), digits, the media engine's reports, reload, drain. Core thread only.
#include "server/server_impl.h"

#include <algorithm>

#include "common/log.h"

namespace tamas::server::detail {

using namespace std::chrono_literals;

void ServerImpl::run() {
  bool stopping = false;
  while (!(stopping && calls_.empty())) {
    std::deque<CoreEvent> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      auto ready = [&] { return !queue_.empty(); };
      std::optional<TimePoint> deadline = flows_.next_deadline();
      if (auto r = next_router_deadline(); r && (!deadline || *r < *deadline)) deadline = r;
      if (queues_dirty_ && (!deadline || next_queue_publish_ < *deadline)) {
        deadline = next_queue_publish_;
      }
      for (const auto* set : {&announce_deadlines_, &message_deadlines_, &transfer_deadlines_}) {
        if (!set->empty() && (!deadline || set->begin()->first < *deadline)) {
          deadline = set->begin()->first;
        }
      }
      if (deadline) {
        cv_.wait_until(lock, std::chrono::system_clock::time_point(*deadline), ready);
      } else if (stopping) {
        cv_.wait_for(lock, 100ms, ready);
      } else {
        cv_.wait(lock, ready);
      }
      batch.swap(queue_);
    }
    for (CoreEvent& e : batch) {
      if (std::holds_alternative<Stop>(e)) {
        stopping = true;
        draining_ = true;
        hangup_all();
        continue;
      }
      std::visit([&](auto& ev) { on(ev); }, e);
    }
    core::FlowCommandSink out;
    flows_.advance(wall_now(), out);
    execute(out);
    expire_transfers(wall_now());
    advance_routers(wall_now());
    announce_due(wall_now());
    messages_due(wall_now());
    publish_queues(wall_now());
    if (stopping) hangup_all();  // calls that arrived while stopping
  }
}

void ServerImpl::on(Stop&) {}

// A re-INVITE from the far end of a bridge (the agent's phone): hold (a=sendonly, a=inactive,
// or no media address) puts the caller on the queue's music; anything else resumes the bridge.
void ServerImpl::on(SipReinvite& ev) {
  auto b = b_legs_.find(ev.leg);
  if (b == b_legs_.end()) return;
  Call* c = find(b->second);
  if (c == nullptr || !c->bridged) return;
  auto sdp = sip::parse_sdp(ev.sdp);
  const bool hold = !sdp || sdp->mode == sip::Mode::kSendOnly ||
                    sdp->mode == sip::Mode::kInactive || sdp->address == "0.0.0.0";
  if (hold && !c->on_hold) {
    hold_call(*c);
  } else if (!hold && c->on_hold) {
    if (sdp) {
      if (auto agreed = media::negotiate(to_remote(*sdp))) {
        media_->set_remote(c->b_session, to_remote(*sdp), *agreed);
      }
    }
    resume_call(*c);
  }
}

// The caller hears the queue's music; the agent hears nothing (from the phone, or the desktop).
void ServerImpl::hold_call(Call& c) {
  c.on_hold = true;
  c.hold_started = wall_now();
  c.hold_count++;
  c.event("held", c.agent);
  media_->unbridge(c.id.value);
  resume_music(c);
  contact_state(c, "held");
  contact_event(c, "held", c.agent);
}

// The state of the contact `c` on its agent's screen, if it is that agent's contact.
void ServerImpl::contact_state(const Call& c, const char* state) {
  TenantRuntime* rt = runtime_of(c);
  if (rt == nullptr) return;
  auto it = rt->contacts.find(c.agent);
  if (it == rt->contacts.end() || it->second.call != c.id) return;
  it->second.state = state;
  it->second.since = wall_now();
}

void ServerImpl::resume_call(Call& c) {
  c.on_hold = false;
  c.hold_total += wall_now() - c.hold_started;
  c.event("resumed", c.agent);
  media_->stop_play(c.id.value);
  media_->bridge(c.id.value, c.b_session);
  contact_state(c, "connected");
  contact_event(c, "resumed", c.agent);
}

void ServerImpl::on(SipEnded& ev) {
  if (auto b = b_legs_.find(ev.leg); b != b_legs_.end()) {
    const CallId id = b->second;
    b_legs_.erase(b);
    Call* c = find(id);
    if (c == nullptr) return;
    c->b_up = false;
    if (ev.reason == sip::EndReason::kLocal) return;  // we hung it up
    // The far end (the transfer's destination, or the agent) hung up: so does the caller.
    if (c->leg_up) {
      stack_->hangup(c->leg);
      c->leg_up = false;
    }
    finish_bridge(*c, c->agent.empty() ? "callee" : "agent");
    return;
  }
  auto it = legs_.find(ev.leg);
  if (it == legs_.end()) return;
  const CallId id = it->second;
  legs_.erase(it);
  Call* c = find(id);
  if (c == nullptr) return;
  c->leg_up = false;
  if (c->b_leg != 0 && c->b_up) {  // ringing or bridged: the second leg goes too
    stack_->hangup(c->b_leg);
    c->b_up = false;
  }
  if (c->pending_record) {
    if (ev.reason != sip::EndReason::kLocal) finish_bridge(*c, "caller");
    return;
  }
  if (c->conversation_pending) {  // gone during the recording notice while the agent waited
    c->conversation_pending = false;
    c->ended_by_caller = ev.reason != sip::EndReason::kFailure;
    flow_event(id, core::QueueConnected{c->agent});  // the record names who took it
    return;
  }
  withdraw(*c);
  if (ev.reason != sip::EndReason::kLocal) {
    c->ended_by_caller = ev.reason != sip::EndReason::kFailure;
    flow_event(id, core::CallerHungUp{});
  }
}

// The agents whose phones ring for the call now (AgentId values).
std::vector<uint32_t> ServerImpl::standing_offer(const Call& c) const {
  std::vector<uint32_t> out;
  for (const auto& [leg, al] : agent_legs_) {
    if (al.call == c.id && c.offered_at.count(al.agent.value)) out.push_back(al.agent.value);
  }
  return out;
}

// The caller is gone while queued or ringing agents: the router hears it was abandoned.
void ServerImpl::withdraw(Call& c) {
  if (!c.queued) return;
  c.queued = false;
  c.wait += wall_now() - c.queued_at;
  if (const auto ringing = standing_offer(c); !ringing.empty()) {
    c.ring = wall_now() - c.offered_at.at(ringing.front());
  }
  if (TenantRuntime* rt = runtime_of(c)) {
    auto standing = rt->router->standing(c.task, wall_now());
    c.event("abandoned", standing ? "position " + std::to_string(standing->position) + ", waited " +
                                        format_duration(c.wait)
                                  : "while an agent's phone rang, waited " + format_duration(c.wait));
    (void)route_event(*rt, core::TaskAbandoned{c.task});
  }
  std::vector<sip::LegId> legs;
  std::set<uint32_t> agents;
  for (auto& [leg, al] : agent_legs_) {
    if (al.call == c.id) {
      legs.push_back(leg);
      agents.insert(al.agent.value);
    }
  }
  for (sip::LegId leg : legs) drop_agent_leg(leg);
  if (TenantRuntime* rt = runtime_of(c)) {
    for (uint32_t a : agents) offer_ended(*rt, c, rt->extensions.at(a));
  }
}

// A bridged call (a transfer, or a caller with an agent) ended: write the record the flow left,
// tell the router the conversation is over (the agent wraps up), and end the call.
void ServerImpl::finish_bridge(Call& c, const char* ended_by) {
  if (c.conversation_pending) {  // the agent left during the recording notice
    c.conversation_pending = false;
    flow_event(c.id, core::QueueConnected{c.agent});
    return;
  }
  if (c.connected) {
    c.connected = false;
    if (TenantRuntime* rt = runtime_of(c)) {
      (void)route_event(*rt, core::TaskCompleted{c.task});
    }
  }
  if (!c.pending_record) {  // still in the flow (answered, flow not finished): let it finish
    c.ended_by_caller = std::string(ended_by) == "caller";
    flow_event(c.id, core::CallerHungUp{});
    return;
  }
  store::InteractionRecord r = std::move(*c.pending_record);
  c.pending_record.reset();
  r.ended_at = wall_now();
  r.ended_by = ended_by;
  if (c.on_hold) c.hold_total += r.ended_at - c.hold_started;
  Duration talk = c.talk_before;
  if (c.bridged && c.connected_at != TimePoint{}) talk += r.ended_at - c.connected_at;
  r.talk = std::max(Duration{}, talk - c.hold_total);
  r.hold = c.hold_total;
  r.hold_count = c.hold_count;
  r.wait = c.wait;
  r.ring = c.ring;
  if (c.transfers > 0) {  // transferred from the agent's phone: the last agent and queue
    r.transfers += c.transfers;
    r.agent = c.agent;
    if (!c.queue.empty()) r.queue = c.queue;
    r.transfer_target = c.transfer_target;
  }
  r.timeline = c.timeline;  // with what happened after the flow finished (hold, resume)
  r.timeline.push_back({r.ended_at, "completed", std::string("hung up by ") + ended_by});
  if (c.wrapup) {  // the agent who left by a transfer wrapped up before the call ended
    r.disposition = c.wrapup->disposition;
    r.wrapup_notes = c.wrapup->notes;
    r.wrapped_up_by = c.wrapup->agent;
  }
  contact_over(c, r.agent);
  ended_event(c, r);
  log::info("call ended", {{"call", std::to_string(c.id.value)},
                           {"result", r.result},
                           {"transfer", r.transfer_target},
                           {"ended_by", r.ended_by}});
  store_->save_interaction(std::move(r));
  end_call(c.id);
}

void ServerImpl::on(OutProgress&) {}

void ServerImpl::on(OutAnswered& ev) {
  if (auto al = agent_legs_.find(ev.leg); al != agent_legs_.end()) {
    Call* c = find(al->second.call);
    auto sdp = sip::parse_sdp(ev.sdp);
    auto agreed = sdp ? media::negotiate(to_remote(*sdp)) : Result<media::Negotiated>(sdp.status());
    if (c == nullptr || !agreed) {
      drop_agent_leg(ev.leg);
      return;
    }
    media_->set_remote(al->second.session, to_remote(*sdp), *agreed);
    answered_legs_.insert(ev.leg);
    const core::AgentId agent = al->second.agent;
    if (TenantRuntime* rt = runtime_of(*c)) {
      (void)route_event(*rt, core::OfferAccepted{c->task, agent});
    }
    // Not taken (another phone or agent won, or the caller left): that phone is hung up.
    if (agent_legs_.count(ev.leg)) drop_agent_leg(ev.leg);
    return;
  }
  auto b = b_legs_.find(ev.leg);
  if (b == b_legs_.end()) {  // a transfer given up on (timeout, caller gone) answered late
    stack_->hangup(ev.leg);
    return;
  }
  Call* c = find(b->second);
  if (c == nullptr) return;
  transfer_deadlines_.erase({c->transfer_deadline, c->id});
  auto fail = [&](const std::string& why) {
    stack_->hangup(ev.leg);
    transfer_failed(*c, why);
  };
  auto sdp = sip::parse_sdp(ev.sdp);
  if (!sdp) return fail("the destination's SDP: " + sdp.message());
  media::RemoteMedia remote = to_remote(*sdp);
  auto agreed = media::negotiate(remote);
  if (!agreed) return fail("the destination's SDP: " + agreed.message());
  media_->set_remote(c->b_session, remote, *agreed);
  if (!c->answered && c->leg_up) {
    stack_->answer(c->leg, answer_sdp(*c));
    c->answered = true;
    c->answered_at = wall_now();
    c->sdp_sent = true;
  }
  media_->bridge(c->id.value, c->b_session);
  c->bridged = true;
  c->connected_at = wall_now();
  c->event(c->pending_record ? "connected" : "transferred",
           c->agent.empty() ? c->transfer_target : c->agent);
  if (c->direct && c->pending_record) {
    c->pending_record->result = "answered";
    c->pending_record->answered_at = c->answered_at;
  }
  log::info("transferred", {{"call", std::to_string(c->id.value)}, {"to", c->transfer_target}});
  flow_event(c->id, core::TransferResult{true, ""});
}

void ServerImpl::on(OutFailed& ev) {
  if (auto al = agent_legs_.find(ev.leg); al != agent_legs_.end()) {
    const AgentLeg leg = al->second;
    media_->close(leg.session);
    agent_legs_.erase(al);
    bool ringing = false;  // another phone of the same agent may still answer
    for (auto& [l, other] : agent_legs_) {
      if (other.call == leg.call && other.agent == leg.agent) ringing = true;
    }
    Call* c = find(leg.call);
    if (ringing || c == nullptr) return;
    const auto reason = ev.status == 486   ? core::DeclineReason::kBusy
                        : ev.status == 603 ? core::DeclineReason::kRejected
                                           : core::DeclineReason::kNoAnswer;
    TenantRuntime* rt = runtime_of(*c);
    c->event(std::string(core::to_string(reason)),
             (rt ? rt->extensions.at(leg.agent.value) + " " : "") + std::to_string(ev.status));
    if (rt != nullptr) {
      offer_ended(*rt, *c, rt->extensions.at(leg.agent.value));
      (void)route_event(*rt, core::OfferDeclined{c->task, leg.agent, reason});
    }
    return;
  }
  auto b = b_legs_.find(ev.leg);
  if (b == b_legs_.end()) return;
  const CallId id = b->second;
  b_legs_.erase(b);
  Call* c = find(id);
  if (c == nullptr) return;
  c->b_up = false;
  transfer_deadlines_.erase({c->transfer_deadline, id});
  transfer_failed(*c, std::to_string(ev.status) + " " + ev.phrase);
}

void ServerImpl::on(SipDigit& ev) {
  auto it = legs_.find(ev.leg);
  if (it != legs_.end()) digit(it->second, ev.digit);
}
void ServerImpl::on(MediaDigit& ev) {
  if (ev.session & kBLegBit) return;  // the far end of a transfer talks to the caller
  digit(CallId{ev.session}, ev.digit);
}

// A digit from the caller: an exit key while queued, else input for the flow.
void ServerImpl::digit(CallId id, char d) {
  Call* c = find(id);
  if (c == nullptr) return;
  if (c->queued) {
    if (c->exit_keys.find(d) == std::string::npos) return;
    if (TenantRuntime* rt = runtime_of(*c)) {
      (void)route_event(*rt, core::TaskWithdrawn{c->task});
    }
    c->event("left", std::string("pressed ") + d);
    leave_queue(id, core::queue_key_branch(d), "");
    return;
  }
  if (c->connected) return;
  flow_event(id, core::DigitReceived{d});
}
void ServerImpl::on(MediaPlayDone& ev) {
  if (ev.play_id == kBeepPlayId || (ev.session & kBLegBit)) return;
  if (ev.play_id >= kAnnouncePlayBase) {
    Call* c = find(CallId{ev.session});
    if (c == nullptr || ev.play_id != c->announce_play) return;
    c->announce_play = 0;
    if (c->notice_playing) {
      c->notice_playing = false;
      if (c->conversation_pending) return start_conversation(*c);
    }
    if (c->queued) resume_music(*c);
    return;
  }
  flow_event(CallId{ev.session}, core::PlayDone{ev.play_id});
}
void ServerImpl::on(MediaRecordDone& ev) {
  if (!ev.error.empty()) {
    log::error("recording failed", {{"call", std::to_string(ev.session)}, {"why", ev.error}});
  }
  flow_event(CallId{ev.session}, core::RecordDone{ev.error.empty() ? ev.path : "", ev.length});
}
void ServerImpl::on(MediaTimeout& ev) {
  Call* c = find(CallId{ev.session & ~kBLegBit});
  if (c == nullptr) return;
  if (c->pending_record) {  // a bridge with no media: end both legs
    if (c->leg_up) stack_->hangup(c->leg);
    if (c->b_up) stack_->hangup(c->b_leg);
    c->leg_up = c->b_up = false;
    finish_bridge(*c, "system");
    return;
  }
  log::warn("no media from the caller; hanging up", {{"call", std::to_string(ev.session)}});
  if (c->leg_up) stack_->hangup(c->leg);
  flow_event(c->id, core::CallerHungUp{});
}
void ServerImpl::on(PlayReady& ev) {
  Call* c = find(ev.call);
  if (c == nullptr || c->current_play != ev.play_id) return;  // hung up, or a newer play
  if (!ev.error.empty()) {
    log::error("prompt unavailable", {{"call", std::to_string(ev.call.value)}, {"why", ev.error}});
  }
  media_->play(ev.call.value, ev.play_id, std::move(ev.items));
}
void ServerImpl::on(Reload& ev) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    config_ = ev.config;
  }
  if (Status s = build_tenants(*ev.config); !s) log::error("reload", {{"why", s.message()}});
  log::info("configuration reloaded", {{"source", ev.config->source}});
  if (ev.applied) ev.applied->set_value();
}
void ServerImpl::on(Drain&) {
  draining_ = true;
  log::info("draining", {{"calls", std::to_string(calls_.size())}});
  notify_if_idle();
}
void ServerImpl::on(HangupAll&) { hangup_all(); }

void ServerImpl::hangup_all() {
  std::vector<CallId> ids;
  for (auto& [id, c] : calls_) ids.push_back(id);
  for (CallId id : ids) {
    Call* c = find(id);
    if (c == nullptr) continue;
    if (c->leg_up) {
      stack_->hangup(c->leg);
      c->leg_up = false;
    }
    if (c->pending_record) {
      finish_bridge(*c, "system");
      continue;
    }
    flow_event(id, core::CallerHungUp{});
    if (find(id) != nullptr) end_call(id);  // a flow that did not finish
  }
}

void ServerImpl::flow_event(CallId id, const core::FlowEvent& e) {
  core::FlowCommandSink out;
  flows_.handle(id, e, wall_now(), out);
  execute(out);
}

Call* ServerImpl::find(CallId id) {
  auto it = calls_.find(id);
  return it == calls_.end() ? nullptr : &it->second;
}
Call* ServerImpl::find_task(core::TaskId task) {
  auto it = requeued_.find(task.value);
  return find(it == requeued_.end() ? CallId{task.value} : it->second);
}

}  // namespace tamas::server::detail
