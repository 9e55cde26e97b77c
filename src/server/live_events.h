// The JSON of the live view and of the stream's events (docs/api.md), built in one place for the
// live route, the stream and the webhooks.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

#include "common/time.h"
#include "server/server.h"

namespace tamas::server {

nlohmann::json to_json(const QueueView& q);
nlohmann::json to_json(const AgentView& a);

// The fields of a contact every contact event carries.
struct ContactFields {
  std::string id, caller, called, queue, agent, ivr_path;
};

// One stream message: {"type", "tenant", "at", ...}.
std::string agent_event(const std::string& tenant, TimePoint at, const AgentView& a);
std::string queue_event(const std::string& tenant, TimePoint at, const QueueView& q);
// `extra` (an object, or null) is merged into "contact": result, disposition, notes, to.
std::string contact_event(const std::string& tenant, TimePoint at, std::string_view event,
                          const ContactFields& c, const nlohmann::json* extra = nullptr);

}  // namespace tamas::server
