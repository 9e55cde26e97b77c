#include "server/live_events.h"

#include <nlohmann/json.hpp>

#include "store/store.h"

namespace tamas::server {

using json = nlohmann::json;

std::string_view to_string(Topic topic) {
  switch (topic) {
    case Topic::kAgents: return "agents";
    case Topic::kQueues: return "queues";
    case Topic::kContacts: return "contacts";
  }
  return "?";
}

json to_json(const QueueView& q) {
  return {{"id", q.id},
          {"waiting", q.waiting},
          {"longest_wait_seconds", q.longest_wait_seconds},
          {"agents_logged_in", q.agents_logged_in},
          {"agents_available", q.agents_available},
          {"agents_idle", q.agents_idle},
          {"offered", q.offered},
          {"answered", q.answered},
          {"abandoned", q.abandoned},
          {"service_level", q.service_level},
          {"asa_seconds", q.asa_seconds}};
}

json to_json(const AgentView& a) {
  return {{"extension", a.extension},
          {"status", a.status},
          {"state", a.state},
          {"reason", a.reason},
          {"seconds_in_state", a.seconds_in_state}};
}

namespace {
json envelope(const char* type, const std::string& tenant, TimePoint at) {
  return {{"type", type}, {"tenant", tenant}, {"at", store::format_time(at)}};
}
}  // namespace

std::string agent_event(const std::string& tenant, TimePoint at, const AgentView& a) {
  json j = envelope("agent", tenant, at);
  j["agent"] = to_json(a);
  return j.dump();
}

std::string queue_event(const std::string& tenant, TimePoint at, const QueueView& q) {
  json j = envelope("queue", tenant, at);
  j["queue"] = to_json(q);
  return j.dump();
}

std::string contact_event(const std::string& tenant, TimePoint at, std::string_view event,
                          const ContactFields& c, const json* extra) {
  json j = envelope("contact", tenant, at);
  j["event"] = event;
  json contact = {{"id", c.id},         {"caller", c.caller}, {"called", c.called},
                  {"queue", c.queue},   {"agent", c.agent},   {"ivr_path", c.ivr_path}};
  if (extra != nullptr && extra->is_object()) contact.update(*extra);
  j["contact"] = std::move(contact);
  // Caller numbers and notes come from outside: never let bad UTF-8 stop an event.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace tamas::server
