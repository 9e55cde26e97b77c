// The live server's web side (see server_impl.h): the requests the API posts to the core thread
// (an agent's status, the live view, agents' skills and queues, an agent's contact and its call
// control) and the live events of agents, queues and contacts. Core thread only.
#include "server/server_impl.h"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "common/log.h"

namespace tamas::server::detail {

// How often, at most, a queue's changed figures are published.
constexpr Duration kQueuePublishEvery = std::chrono::milliseconds(250);

void ServerImpl::on(AgentStatusRequest& ev) {
  auto it = tenants_.find(ev.tenant);
  if (it == tenants_.end()) return ev.reply->set_value(Status::error("no tenant '" + ev.tenant + "'"));
  TenantRuntime& rt = *it->second;
  auto agent = rt.agents.find(ev.extension);
  if (agent == rt.agents.end()) {
    return ev.reply->set_value(Status::error("no agent '" + ev.extension + "'"));
  }
  auto status = core::agent_status_from_string(ev.status);
  if (!status) {
    return ev.reply->set_value(
        Status::error("'" + ev.status + "' is not available, break or logged-out"));
  }
  core::SetAgentStatus set;
  set.agent = agent->second;
  set.status = *status;
  set.reason = ev.reason;
  ev.reply->set_value(route_event(rt, set));
}

void ServerImpl::on(SnapshotRequest& ev) {
  auto it = tenants_.find(ev.tenant);
  if (it == tenants_.end()) {
    ev.reply->set_value(Status::error("no tenant '" + ev.tenant + "'"));
    return;
  }
  const TenantRuntime& rt = *it->second;
  const TimePoint now = wall_now();
  TenantView v;
  v.tenant = rt.id;
  for (const auto& [name, qid] : rt.queues) v.queues.push_back(queue_view(rt, name, qid, now));
  for (const auto& [ext, aid] : rt.agents) {
    const core::AgentSnapshot a = rt.router->agent_snapshot(aid, now);
    // An agent who has not changed since the server started: in that state since the start.
    v.agents.push_back({ext, std::string(core::to_string(a.status)),
                        std::string(core::to_string(a.state)), std::string(a.reason),
                        to_seconds(std::min(a.in_state, now - started_))});
  }
  for (const auto& [id, c] : calls_) {
    if (c.tenant->id != rt.id || c.internal) continue;
    v.calls++;
    if (c.queued) {
      ContactView q;
      const ContactFields f = contact_fields(c, "");
      q.id = f.id;
      q.caller = f.caller;
      q.called = f.called;
      q.queue = f.queue;
      q.ivr_path = f.ivr_path;
      q.state = "queued";
      q.since = c.queued_at;
      v.contacts.push_back(std::move(q));
    }
  }
  for (const auto& [ext, ac] : rt.contacts) {
    // A wrap-up whose time ran out stays on the agent's desk (the form may still be sent) but
    // is no longer in progress for the wallboard.
    if (ac.state == "wrap-up" &&
        rt.router->agent_snapshot(rt.agents.at(ext), now).state != core::AgentState::kWrapUp) {
      continue;
    }
    v.contacts.push_back(contact_view(ac, nullptr));
  }
  ev.reply->set_value(std::move(v));
}

QueueView ServerImpl::queue_view(const TenantRuntime& rt, const std::string& name,
                                 core::QueueId qid, TimePoint now) {
  const core::QueueSnapshot q = rt.router->queue_snapshot(qid, now);
  QueueView qv;
  qv.id = name;
  qv.waiting = q.waiting;
  qv.longest_wait_seconds = to_seconds(q.longest_wait);
  qv.agents_logged_in = q.agents_logged_in;
  qv.agents_available = q.agents_available;
  qv.agents_idle = q.agents_idle;
  qv.offered = q.totals.offered;
  qv.answered = q.totals.answered;
  qv.abandoned = q.totals.abandoned;
  qv.service_level = q.totals.service_level();
  qv.asa_seconds = q.totals.asa_seconds();
  return qv;
}

// ---- live events (docs/api.md, the stream) ----

void ServerImpl::emit(const std::string& tenant, Topic topic, const std::string& agent,
                      std::string json, std::string_view event) {
  std::lock_guard<std::mutex> lock(listener_mu_);
  if (listener_) listener_(LiveEvent{tenant, topic, agent, std::string(event), std::move(json)});
}

std::string ServerImpl::record_id(const Call& c) const {
  return node_ + "-" + std::to_string(c.id.value);
}

ContactFields ServerImpl::contact_fields(const Call& c, const std::string& agent) const {
  return {record_id(c), c.caller, c.called, c.queue, agent, c.ivr_path};
}

void ServerImpl::contact_event(const Call& c, std::string_view event, const std::string& agent,
                               const nlohmann::json* extra) {
  emit(c.tenant->id, Topic::kContacts, agent,
       server::contact_event(c.tenant->id, wall_now(), event, contact_fields(c, agent), extra),
       event);
}

// The agent's contact for the web side is now `state` (a new contact replaces the last).
void ServerImpl::set_contact(TenantRuntime& rt, const Call& c, const std::string& agent,
                             const std::string& state) {
  auto& ac = rt.contacts[agent];
  if (ac.call != c.id) ac.task = c.task;
  ac.fields = contact_fields(c, agent);
  ac.call = c.id;
  ac.state = state;
  ac.since = wall_now();
}

// The offer of call `c` to `agent` ended without an answer (declined, rang out, taken by
// another, the caller left): the agent's screen drops it.
void ServerImpl::offer_ended(TenantRuntime& rt, const Call& c, const std::string& agent) {
  auto it = rt.contacts.find(agent);
  if (it == rt.contacts.end() || it->second.call != c.id || it->second.state != "ringing") return;
  rt.contacts.erase(it);
  contact_event(c, "missed", agent);
}

// The conversation of `agent` with `c` is over: the agent's screen asks for the wrap-up.
void ServerImpl::contact_over(const Call& c, const std::string& agent) {
  TenantRuntime* rt = runtime_of(c);
  if (agent.empty() || rt == nullptr) return;
  auto it = rt->contacts.find(agent);
  if (it == rt->contacts.end() || it->second.call != c.id) return;
  it->second.state = "wrap-up";
  it->second.since = wall_now();
}

void ServerImpl::ended_event(const Call& c, const store::InteractionRecord& r) {
  if (r.queue.empty() && r.agent.empty()) return;  // not a contact of the agents' side
  const nlohmann::json extra = {{"result", r.result}};
  emit(c.tenant->id, Topic::kContacts, r.agent,
       server::contact_event(c.tenant->id, wall_now(), "ended",
                             {r.id, r.caller, r.called, r.queue, r.agent, r.ivr_path}, &extra),
       "ended");
}

// An agent's skills and queues replaced in the router (which offers at once what now fits).
Status ServerImpl::apply_setup(TenantRuntime& rt, const AgentSetup& a) {
  auto agent = rt.agents.find(a.extension);
  if (agent == rt.agents.end()) return Status::error("no agent '" + a.extension + "'");
  std::vector<std::pair<core::SkillId, uint8_t>> skills;
  for (const auto& [skill, level] : a.skills) skills.emplace_back(rt.router->add_skill(skill), level);
  std::vector<core::QueueMembership> queues;
  for (const auto& [queue, tier] : a.queues) {
    auto q = rt.queues.find(queue);
    if (q == rt.queues.end()) return Status::error("queues: no queue '" + queue + "'");
    queues.push_back({q->second, tier});
  }
  AgentSetup& kept = rt.setups[a.extension];
  std::array<uint8_t, core::kChannelCount> capacity{};
  for (const auto& [channel, n] : kept.capacity) {
    if (auto c = core::channel_from_string(channel)) capacity[static_cast<size_t>(*c)] = n;
  }
  for (const auto& [channel, n] : a.capacity) {
    auto c = core::channel_from_string(channel);
    if (!c) return Status::error("capacity: no channel '" + channel + "'");
    if (n > 100) return Status::error("capacity: " + channel + " is more than 100");
    capacity[static_cast<size_t>(*c)] = n;
  }
  const TimePoint now = wall_now();
  core::CommandSink out;
  Status st = rt.router->update_agent(agent->second, std::move(skills), std::move(queues), now, out);
  if (!st) return st;
  if (Status cap = rt.router->set_capacity(agent->second, capacity, now, out); !cap) return cap;
  kept.skills = a.skills;
  kept.queues = a.queues;
  kept.capacity.clear();
  for (size_t c = 0; c < core::kChannelCount; ++c) {
    kept.capacity.emplace_back(core::to_string(static_cast<core::Channel>(c)), capacity[c]);
  }
  rt.queues_dirty = queues_dirty_ = true;
  run_router_commands(rt, out);
  return Status::ok();
}

void ServerImpl::on(AgentSetupRequest& ev) {
  auto it = tenants_.find(ev.tenant);
  if (it == tenants_.end()) {
    return ev.reply->set_value(Status::error("no tenant '" + ev.tenant + "'"));
  }
  TenantRuntime& rt = *it->second;
  if (ev.change) {
    if (Status st = apply_setup(rt, *ev.change); !st) return ev.reply->set_value(st);
    log::info("agent changed", {{"tenant", rt.id}, {"agent", ev.change->extension},
                                {"queues", std::to_string(ev.change->queues.size())},
                                {"skills", std::to_string(ev.change->skills.size())}});
  }
  std::vector<AgentSetup> all;
  for (const auto& [ext, setup] : rt.setups) all.push_back(setup);
  ev.reply->set_value(std::move(all));
}

// The web side's view of, and hand on, an agent's contact (Server::agent_contact).
void ServerImpl::on(ContactCommand& ev) {
  ev.reply->set_value(contact_command(ev));
}

ContactAnswer ServerImpl::contact_command(const ContactCommand& ev) {
  auto fail = [](int status, std::string why, std::string field = "") {
    return ContactAnswer{status, std::move(why), std::move(field), {}};
  };
  auto t = tenants_.find(ev.tenant);
  if (t == tenants_.end()) return fail(404, "no tenant '" + ev.tenant + "'");
  TenantRuntime& rt = *t->second;
  if (!rt.agents.count(ev.extension)) return fail(404, "no agent '" + ev.extension + "'");
  auto it = rt.contacts.find(ev.extension);
  if (it != rt.contacts.end() && it->second.state == "ringing") {  // still ringing?
    bool rings = false;
    for (const auto& [leg, al] : agent_legs_) {
      rings = rings || (al.call == it->second.call &&
                        rt.extensions.at(al.agent.value) == ev.extension);
    }
    if (!rings) {
      rt.contacts.erase(it);
      it = rt.contacts.end();
    }
  }
  if (it == rt.contacts.end()) return fail(404, "the agent has no contact now");
  TenantRuntime::AgentContact& ac = it->second;
  Call* c = find(ac.call);
  const std::shared_ptr<const config::ServerConfig> cfg = current_config();
  const bool talking = c != nullptr && c->bridged && c->b_up && c->agent == ev.extension &&
                       (ac.state == "connected" || ac.state == "held");
  const ContactRequest& req = ev.request;
  switch (req.action) {
    case ContactAction::kGet: break;
    case ContactAction::kHangup:
      if (!talking) return fail(409, "the agent is not in a conversation");
      contact_over(*c, ev.extension);
      b_legs_.erase(c->b_leg);
      stack_->hangup(c->b_leg);
      c->b_up = false;
      if (c->leg_up) {
        stack_->hangup(c->leg);
        c->leg_up = false;
      }
      finish_bridge(*c, "agent");
      break;
    case ContactAction::kHold:
      if (!talking || c->on_hold) return fail(409, "the agent is not in a conversation off hold");
      hold_call(*c);
      break;
    case ContactAction::kResume:
      if (!talking || !c->on_hold) return fail(409, "the contact is not on hold");
      resume_call(*c);
      break;
    case ContactAction::kTransfer: {
      if (!talking || !c->pending_record) return fail(409, "the agent is not in a conversation");
      TransferPlan plan;
      if (req.target.rfind("queue:", 0) == 0) {
        plan.user = plan.queue = req.target.substr(6);
        if (!rt.queues.count(plan.queue)) {
          return fail(400, "no queue '" + plan.queue + "' in this tenant", "to");
        }
      } else {
        plan = plan_transfer(*c, req.target, req.target);
        if (plan.status == 480) return fail(400, "agent " + req.target + " has no phone registered", "to");
        if (plan.status != 200) {
          return fail(400, "'" + req.target + "' is not an agent, a queue or a number this tenant may transfer to", "to");
        }
      }
      if (plan.agent == ev.extension) return fail(400, "that is the agent's own extension", "to");
      blind_transfer(*c, plan);
      break;
    }
    case ContactAction::kWrapUp: {
      if (ac.state != "wrap-up") return fail(409, "the contact has not ended yet");
      const config::QueueSpec* q = queue_spec(cfg, rt.id, ac.fields.queue);
      if (q != nullptr && !q->dispositions.empty() &&
          std::find(q->dispositions.begin(), q->dispositions.end(), req.disposition) ==
              q->dispositions.end()) {
        return fail(400, "expected one of the queue's dispositions", "disposition");
      }
      store::WrapUpRecord w{rt.id, ac.fields.id, req.disposition, req.notes, ev.extension};
      if (c != nullptr && (c->bridged || c->queued || c->pending_record)) {
        c->wrapup = w;  // the call goes on (transferred): written with its record
      } else {
        store_->save_wrapup(w);
      }
      const nlohmann::json extra = {{"disposition", req.disposition}, {"notes", req.notes}};
      emit(rt.id, Topic::kContacts, ev.extension,
           server::contact_event(rt.id, wall_now(), "wrapped-up", ac.fields, &extra),
           "wrapped-up");
      ContactAnswer done;
      done.contact = contact_view(ac, q);
      done.contact.state = "done";
      const core::TaskId task = ac.task;
      rt.contacts.erase(it);
      // The wrap-up may already have run out; then the router has nothing to end.
      if (rt.router->agent_snapshot(rt.agents.at(ev.extension), wall_now()).state ==
          core::AgentState::kWrapUp) {
        (void)route_event(rt, core::WrapUpDone{rt.agents.at(ev.extension), task});
      }
      return done;
    }
  }
  auto again = rt.contacts.find(ev.extension);
  if (again == rt.contacts.end()) return fail(404, "the agent has no contact now");
  ContactAnswer out;
  out.contact = contact_view(again->second, queue_spec(cfg, rt.id, again->second.fields.queue));
  return out;
}

const config::QueueSpec* ServerImpl::queue_spec(
    const std::shared_ptr<const config::ServerConfig>& cfg, const std::string& tenant,
    const std::string& queue) {
  for (const config::TenantConfig& t : cfg->tenants) {
    if (t.id == tenant) return t.find_queue(queue);
  }
  return nullptr;
}

ContactView ServerImpl::contact_view(const TenantRuntime::AgentContact& ac,
                                     const config::QueueSpec* q) {
  ContactView v;
  v.id = ac.fields.id;
  v.caller = ac.fields.caller;
  v.called = ac.fields.called;
  v.queue = ac.fields.queue;
  v.agent = ac.fields.agent;
  v.ivr_path = ac.fields.ivr_path;
  v.state = ac.state;
  v.since = ac.since;
  if (q != nullptr) {
    v.dispositions = q->dispositions;
    v.script = q->script;
  }
  return v;
}

// Each queue whose figures changed, at most every kQueuePublishEvery.
void ServerImpl::publish_queues(TimePoint now) {
  if (!queues_dirty_ || now < next_queue_publish_) return;
  queues_dirty_ = false;
  next_queue_publish_ = now + kQueuePublishEvery;
  for (auto& [id, rt] : tenants_) {
    if (!rt->queues_dirty) continue;
    rt->queues_dirty = false;
    for (const auto& [name, qid] : rt->queues) {
      const QueueView q = queue_view(*rt, name, qid, now);
      // The longest wait grows by itself; what counts as a change is the rest.
      const std::string key = std::to_string(q.waiting) + "/" + std::to_string(q.agents_logged_in) +
                              "/" + std::to_string(q.agents_available) + "/" +
                              std::to_string(q.agents_idle) + "/" + std::to_string(q.offered) +
                              "/" + std::to_string(q.answered) + "/" + std::to_string(q.abandoned);
      std::string& last = rt->published[name];
      if (last == key) continue;
      last = key;
      emit(rt->id, Topic::kQueues, "", queue_event(rt->id, now, q));
    }
  }
}

}  // namespace tamas::server::detail
