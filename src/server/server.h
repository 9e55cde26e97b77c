// The live server: SIP calls in, contact flows run, media played and recorded, records stored.
//
// Thread rules: a Server owns one core thread, which owns every call's state and the FlowEngine.
// The SIP thread, the media workers and the prompt resolver only post events to it; it answers
// by calling the (thread-safe) SIP stack, media engine and store. Public methods are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "server/events.h"

namespace tamas::config {
struct ServerConfig;
}

namespace tamas::server {

struct ServerStats {
  uint64_t calls = 0;     // calls started
  uint64_t active = 0;    // calls in progress
  uint64_t rejected = 0;  // INVITEs refused (403, 404, 400, 488, 503)
  // Routing latency: a caller entering a queue that has an idle agent, to that agent's INVITE
  // handed to the SIP stack. Microseconds; 0 with no sample.
  uint64_t routed = 0;  // samples
  int64_t routing_p50_us = 0, routing_p99_us = 0, routing_max_us = 0;
};

// What a wallboard shows of one tenant at one moment (from its router, on the core thread).
struct QueueView {
  std::string id;
  uint32_t waiting = 0;
  double longest_wait_seconds = 0;
  uint32_t agents_logged_in = 0, agents_available = 0, agents_idle = 0;
  uint64_t offered = 0, answered = 0, abandoned = 0;  // since the server started
  double service_level = 1;  // answered within the threshold / offered
  double asa_seconds = 0;    // average wait of answered calls
};
struct AgentView {
  std::string extension;
  std::string status;  // logged-out, available, break
  std::string state;   // idle, reserved, on-contact, wrap-up
  std::string reason;  // the break reason
  double seconds_in_state = 0;
};

// An agent's contact as the agent's screen shows it: the one ringing or in conversation, or the
// last one until its wrap-up is saved.
struct ContactView {
  std::string id;  // the interaction record's id
  std::string caller, called, queue, agent, ivr_path;
  std::string state;  // ringing, connected, held, wrap-up
  TimePoint since;    // in that state since
  std::vector<std::string> dispositions;  // the queue's wrap-up codes
  std::string script;                     // the queue's script for the agent
};

struct TenantView {
  std::string tenant;
  std::vector<QueueView> queues;
  std::vector<AgentView> agents;
  // Callers waiting in a queue (state "queued", no agent) and each agent's contact (ringing,
  // connected, held, wrap-up); without dispositions and script.
  std::vector<ContactView> contacts;
  uint64_t calls = 0;  // the tenant's calls in progress
};

// What the web side may do with an agent's contact, on the server's own legs of the call.
enum class ContactAction : uint8_t { kGet, kHangup, kHold, kResume, kTransfer, kWrapUp };
struct ContactRequest {
  ContactAction action = ContactAction::kGet;
  std::string target;  // kTransfer: an extension, "queue:ID", or a number transfer_allow lets out
  std::string disposition, notes;  // kWrapUp
};
struct ContactAnswer {
  int status = 200;    // 200, or 404 (no such agent or no contact), 409 (not now), 400 (bad input)
  std::string error;   // why, when status is not 200
  std::string field;   // the input field at fault, for 400
  ContactView contact;  // the contact after the action
};

// An agent's routing set-up: skills (name, level 1..10), queues (id, tier from 1) and capacity
// (channel name: voice, chat, email, sms, callback; contacts of it at once, 0..100; every channel).
struct AgentSetup {
  std::string extension, name;
  std::vector<std::pair<std::string, uint8_t>> skills;
  std::vector<std::pair<std::string, uint8_t>> queues;
  std::vector<std::pair<std::string, uint8_t>> capacity;
};

class Server {
 public:
  // Opens the store, loads every prompt into memory, binds SIP and RTP and starts the threads.
  // Fails with what could not be done (an address in use, a prompt that does not decode, the
  // database).
  static Result<std::unique_ptr<Server>> start(std::shared_ptr<const config::ServerConfig> config);
  virtual ~Server() = default;  // hangs up every call at once and stops

  // New calls use `config` from now on; calls in progress keep theirs. Fails, keeping the old
  // configuration, when a prompt of the new one does not decode or when the SIP or RTP settings
  // changed (those need a restart).
  virtual Status reload(std::shared_ptr<const config::ServerConfig> config) = 0;
  // Stops taking calls (new INVITEs get 503), lets the calls in progress go on for up to `limit`,
  // then hangs up the rest. Returns when no call is left.
  virtual void drain(Duration limit) = 0;
  virtual ServerStats stats() const = 0;
  // The tenant's queues and agents now, asked of the core thread; fails for an unknown tenant or
  // when the core does not answer within `limit`.
  virtual Result<TenantView> snapshot(const std::string& tenant, Duration limit) = 0;
  // Sets an agent's status ("available", "break" with a reason of the tenant, "logged-out") as
  // the phone's feature codes do; fails naming what is wrong (no such agent, an unknown reason).
  virtual Status set_agent_status(const std::string& tenant, const std::string& extension,
                                  const std::string& status, const std::string& reason,
                                  Duration limit) = 0;
  // Acts on (or reads) an agent's contact, as the agent's phone would but on the server's legs.
  virtual ContactAnswer agent_contact(const std::string& tenant, const std::string& extension,
                                      const ContactRequest& request, Duration limit) = 0;
  // Each agent's routing set-up now (the configuration's, or what update_agent made of it).
  virtual Result<std::vector<AgentSetup>> agent_setups(const std::string& tenant,
                                                       Duration limit) = 0;
  // Changes an agent's skills and queues (with tiers) at once: the router offers it the tasks of
  // its new queues right away and no longer those of queues it left; a contact in progress goes
  // on. Fails naming what is wrong (no such agent, an unknown queue, a level outside 1..10, a
  // tier of 0, a queue or skill twice), changing nothing. The caller keeps the change
  // (Store::save_agent_setup) so that the next start applies it again.
  virtual Status update_agent(const std::string& tenant, const AgentSetup& setup,
                              Duration limit) = 0;
  // The configuration new calls use now.
  virtual std::shared_ptr<const config::ServerConfig> configuration() = 0;
  // From now on every LiveEvent goes to `listener` (on the core thread; see server/events.h);
  // an empty one stops them. Returns once the core thread no longer calls the previous one.
  virtual void set_event_listener(EventListener listener) = 0;
};

}  // namespace tamas::server
