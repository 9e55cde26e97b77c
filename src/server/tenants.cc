// The live server's tenants (see server_impl.h): each tenant's runtime built from the
// configuration at start (its digest authenticator, its router's queues and agents, the feature
// codes' flows) and brought in line with it on a reload. Core thread (and start(), before it runs).
#include "server/server_impl.h"

#include <random>

#include "common/log.h"

namespace tamas::server::detail {

// One runtime per tenant, with a digest authenticator for its realm. The nonce secret is new
// at every start: a restart makes old nonces stale, and phones simply authenticate again.
Status ServerImpl::build_tenants(const config::ServerConfig& cfg) {
  std::random_device rd;
  std::string secret;
  for (int i = 0; i < 32; ++i) secret += static_cast<char>('a' + rd() % 26);
  for (const config::TenantConfig& t : cfg.tenants) {
    if (auto kept = tenants_.find(t.id); kept != tenants_.end()) {
      update_routing(t, *kept->second);  // a reload keeps the runtime (and its registrations)
      continue;
    }
    auto rt = std::make_unique<TenantRuntime>();
    rt->id = t.id;
    sip::DigestConfig dc;
    dc.realm = t.realm.empty() ? t.id : t.realm;
    dc.secret = secret;
    dc.algorithms.clear();
    for (const std::string& a : t.digest_algorithms) {
      dc.algorithms.push_back(a == "MD5" ? sip::DigestAlgorithm::kMd5
                                         : sip::DigestAlgorithm::kSha256);
    }
    auto auth = sip::DigestAuthenticator::create(dc);
    if (!auth) return Status::error("tenant '" + t.id + "': " + auth.message());
    rt->auth = std::make_unique<sip::DigestAuthenticator>(std::move(*auth));
    if (Status st = build_router(t, *rt); !st) return Status::error("tenant '" + t.id + "': " + st.message());
    if (Status st = apply_kept_setups(t, *rt); !st) return st;
    rt->features = feature_flows(t);
    tenants_.emplace(t.id, std::move(rt));
  }
  return Status::ok();
}

// Agents' skills, queues and capacity changed through the API and kept in the database, applied
// over the file's (a queue the file no longer has is left out).
Status ServerImpl::apply_kept_setups(const config::TenantConfig& t, TenantRuntime& rt) {
  auto kept = store_->agent_setups(t.id);
  if (!kept) return kept.status();
  for (const store::AgentSetupRecord& k : *kept) {
    auto it = rt.setups.find(k.extension);
    if (it == rt.setups.end()) continue;  // no longer in the configuration
    AgentSetup setup = it->second;
    setup.skills = k.skills;
    setup.queues.clear();
    for (const auto& [queue, tier] : k.queues) {
      if (rt.queues.count(queue)) setup.queues.emplace_back(queue, tier);
    }
    if (!k.capacity.empty()) setup.capacity = k.capacity;  // older records kept none
    if (Status st = apply_setup(rt, setup); !st) {
      log::warn("kept agent set-up not applied", {{"tenant", t.id}, {"agent", k.extension},
                                                    {"why", st.message()}});
    }
  }
  return Status::ok();
}

// A queue of the configuration as the router takes it: skills and overflow queues by id (every
// queue it overflows into is in rt.queues already), escalation left out when `escalate` is not.
core::QueueConfig ServerImpl::router_queue(const config::QueueSpec& q, TenantRuntime& rt,
                                           bool escalate) {
  core::QueueConfig qc = q.routing;
  qc.name = q.id;
  for (const auto& [skill, level] : q.skills) {
    qc.skills.push_back({rt.router->add_skill(skill), level});
  }
  qc.escalation.clear();
  for (const config::EscalationSpec& e : escalate ? q.escalation : decltype(q.escalation){}) {
    core::EscalationStep st;
    st.after = e.after;
    st.action = e.action;
    st.amount = e.amount;
    st.branch = e.branch;
    if (!e.overflow_queue.empty()) {
      auto to = rt.queues.find(e.overflow_queue);
      if (to == rt.queues.end()) continue;  // only when adding it failed (logged)
      st.overflow_queue = to->second;
    }
    qc.escalation.push_back(std::move(st));
  }
  return qc;
}

// The tenant's routing domain: its queues (all first, then their escalation, so queues may
// overflow into each other) and its agents, all logged out until they dial the login code.
Status ServerImpl::build_router(const config::TenantConfig& t, TenantRuntime& rt) {
  core::RouterConfig rc;
  rc.break_reasons = t.break_reasons;
  rt.router = std::make_unique<core::Router>(rc);
  core::Router& r = *rt.router;
  for (const config::QueueSpec& q : t.queues) {
    auto id = r.add_queue(router_queue(q, rt, /*escalate=*/false));
    if (!id) return id.status();
    rt.queues[q.id] = *id;
  }
  for (const config::QueueSpec& q : t.queues) {
    const core::QueueConfig qc = router_queue(q, rt, /*escalate=*/true);
    if (Status st = r.set_escalation(rt.queues.at(q.id), qc.escalation); !st) return st;
  }
  for (const config::AgentSpec& a : t.agents) {
    if (Status st = add_agent(a, rt); !st) return st;
  }
  return Status::ok();
}

// An agent of the configuration into the tenant's router (logged out) and the runtime's maps.
Status ServerImpl::add_agent(const config::AgentSpec& a, TenantRuntime& rt) {
  core::Router& r = *rt.router;
  core::AgentConfig ac;
  ac.name = a.extension;
  for (const auto& [skill, level] : a.skills) ac.skills.emplace_back(r.add_skill(skill), level);
  for (const auto& m : a.queues) {
    auto q = rt.queues.find(m.queue);
    if (q == rt.queues.end()) return Status::error("agent " + a.extension + ": no queue " + m.queue);
    ac.queues.push_back({q->second, m.tier});
  }
  ac.wrap_up = a.wrap_up;
  ac.capacity = a.capacity;
  auto id = r.add_agent(std::move(ac));
  if (!id) return id.status();
  rt.agents[a.extension] = *id;
  rt.extensions.push_back(a.extension);
  rt.presence.emplace_back();
  rt.setups[a.extension] = setup_of(a);
  return Status::ok();
}

// An agent's routing set-up as the configuration gives it.
AgentSetup ServerImpl::setup_of(const config::AgentSpec& a) {
  AgentSetup setup;
  setup.extension = a.extension;
  setup.name = a.name;
  setup.skills = a.skills;
  for (const auto& m : a.queues) setup.queues.emplace_back(m.queue, m.tier);
  for (size_t c = 0; c < core::kChannelCount; ++c) {
    setup.capacity.emplace_back(core::to_string(static_cast<core::Channel>(c)), a.capacity[c]);
  }
  return setup;
}

// A reload's queues and agents for a tenant that runs already: new queues are added, changed
// ones updated in place (the router applies the change at once: waiting callers are offered
// under the new settings), and one the configuration no longer has is dropped once no agent is
// in it and no caller waits in it (until then it keeps serving, and a warning says why); new
// agents are added.
void ServerImpl::update_routing(const config::TenantConfig& t, TenantRuntime& rt) {
  core::Router& r = *rt.router;
  for (const config::QueueSpec& q : t.queues) {
    if (rt.queues.count(q.id)) continue;
    if (auto old = r.find_queue(q.id)) {  // dropped earlier, and back
      rt.queues[q.id] = *old;
      continue;
    }
    auto id = r.add_queue(router_queue(q, rt, /*escalate=*/false));
    if (!id) {
      log::error("queue not added", {{"tenant", t.id}, {"queue", q.id}, {"why", id.message()}});
      continue;
    }
    rt.queues[q.id] = *id;
    log::info("queue added", {{"tenant", t.id}, {"queue", q.id}});
  }
  const TimePoint now = wall_now();
  core::CommandSink out;
  for (const config::QueueSpec& q : t.queues) {
    auto it = rt.queues.find(q.id);
    if (it == rt.queues.end()) continue;
    core::QueueConfig qc = router_queue(q, rt, /*escalate=*/true);
    const core::QueueConfig* running = r.queue_config(it->second);
    if (running != nullptr && *running == qc) continue;
    if (Status st = r.update_queue(it->second, std::move(qc), now, out); !st) {
      log::error("queue not changed", {{"tenant", t.id}, {"queue", q.id}, {"why", st.message()}});
    } else {
      log::info("queue changed", {{"tenant", t.id}, {"queue", q.id}});
    }
  }
  // The offers the changes made go out now, before agents leave below (whose logging out then
  // cancels what they were offered).
  run_router_commands(rt, out);
  for (auto it = rt.queues.begin(); it != rt.queues.end();) {
    if (t.find_queue(it->first) != nullptr) {
      ++it;
      continue;
    }
    bool used = r.queue_snapshot(it->second, now).waiting > 0;
    for (const auto& [ext, setup] : rt.setups) {
      for (const auto& [queue, tier] : setup.queues) used = used || queue == it->first;
    }
    if (used) {
      log::warn("queue kept: agents are in it or callers wait in it",
                {{"tenant", t.id}, {"queue", it->first}});
      ++it;
    } else {
      log::info("queue removed", {{"tenant", t.id}, {"queue", it->first}});
      it = rt.queues.erase(it);
    }
  }
  // Agents new in the configuration join, logged out; one that comes back after a removal takes
  // the configuration's set-up again (the router still has it).
  for (const config::AgentSpec& a : t.agents) {
    if (rt.agents.count(a.extension)) {
      rt.setups[a.extension].name = a.name;
      continue;
    }
    Status st;
    if (auto old = r.find_agent(a.extension)) {
      rt.agents[a.extension] = *old;
      rt.setups[a.extension] = setup_of(a);
      st = apply_setup(rt, setup_of(a));
    } else {
      st = add_agent(a, rt);
    }
    if (!st) {
      rt.agents.erase(a.extension);
      rt.setups.erase(a.extension);
      log::error("agent not added", {{"tenant", t.id}, {"agent", a.extension}, {"why", st.message()}});
    } else {
      log::info("agent added", {{"tenant", t.id}, {"agent", a.extension}});
    }
  }
  // One the configuration no longer has is logged out and leaves the tenant's view (its phone can
  // no longer register or log in; the router keeps it, idle, until the next start) — once it has
  // no contact: until then it stays, and a warning says why.
  for (auto it = rt.agents.begin(); it != rt.agents.end();) {
    if (t.find_agent(it->first) != nullptr) {
      ++it;
      continue;
    }
    if (rt.contacts.count(it->first)) {
      log::warn("agent kept: it has a contact", {{"tenant", t.id}, {"agent", it->first}});
      ++it;
      continue;
    }
    if (r.agent_snapshot(it->second, now).status != core::AgentStatus::kLoggedOut) {
      core::Event logout = core::SetAgentStatus{it->second, core::AgentStatus::kLoggedOut, ""};
      (void)route_event(rt, logout);
    }
    log::info("agent removed", {{"tenant", t.id}, {"agent", it->first}});
    rt.setups.erase(it->first);
    it = rt.agents.erase(it);
  }
  rt.queues_dirty = queues_dirty_ = true;
}

// Carries out what the router asked for outside an event (a change of set-up): the commands,
// then the events they lead to.
void ServerImpl::run_router_commands(TenantRuntime& rt, core::CommandSink& out) {
  std::deque<core::Event> pending;
  for (core::Command& c : out) std::visit([&](auto& cmd) { route_command(rt, cmd, pending); }, c);
  while (!pending.empty()) {
    core::Event e = std::move(pending.front());
    pending.pop_front();
    (void)route_event(rt, e);
  }
}

// A one-prompt flow per feature-code answer ("you are logged in"), said by espeak-ng in the
// tenant's language, then a normal hang-up.
std::shared_ptr<const core::FlowSet> ServerImpl::feature_flows(const config::TenantConfig& t) {
  auto set = std::make_shared<core::FlowSet>();
  set->tenant = t.id;
  set->default_language = t.language;
  const std::pair<const char*, const char*> kTexts[] = {
      {"login", "You are logged in."},     {"logout", "You are logged out."},
      {"pause", "You are on a break."},    {"resume", "You are available."},
      {"error", "That code did not work."}};
  for (const auto& [name, text] : kTexts) {
    core::Flow f;
    f.name = name;
    f.start = "say";
    core::PlayNode play;
    play.prompts.push_back({core::PromptSpec::Kind::kText, text, core::Language::kEn});
    play.next = "bye";
    f.nodes["say"] = core::Node{"say", play};
    f.nodes["bye"] = core::Node{"bye", core::HangupNode{}};
    set->flows[name] = std::move(f);
  }
  return set;
}

}  // namespace tamas::server::detail
