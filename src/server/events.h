// What the live server tells the web side as it happens: agents' status and state, queues'
// figures and contacts' steps. The core thread makes one LiveEvent per change and hands it to the
// listener given to Server::set_event_listener; the WebSocket stream (/api/v1/stream) and the
// tenants' webhooks are built on it.
//
// Thread rules: the listener is called on the server's core thread, so it must be quick and must
// not call back into the Server (queue the event and return).
#pragma once

#include <functional>
#include <string>

namespace tamas::server {

enum class Topic : uint8_t {
  kAgents,    // an agent's status or state changed
  kQueues,    // a queue's figures changed (coalesced: at most one per queue every 250 ms)
  kContacts,  // a contact was queued, offered, connected, held, resumed, transferred, ended,
              // or its wrap-up was saved
};
std::string_view to_string(Topic topic);  // "agents", "queues", "contacts"

struct LiveEvent {
  std::string tenant;
  Topic topic = Topic::kAgents;
  // The agent this event concerns (its extension), or empty: an agent sees the events of its own
  // contacts and of itself; supervisors see all of their tenant's.
  std::string agent;
  // For kContacts, the step: queued, offered, missed, connected, held, resumed, transferred,
  // ended, wrapped-up (what webhooks are chosen by).
  std::string event;
  // The event as the stream sends it: one JSON object with "type" ("agent", "queue", "contact")
  // and "tenant"; see docs/api.md for each type's fields.
  std::string json;
};

using EventListener = std::function<void(const LiveEvent&)>;

}  // namespace tamas::server
