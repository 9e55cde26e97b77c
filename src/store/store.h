// Persistence of interaction records, voicemails, agents' status changes, accounts and the audit log.
//
// One interface, `Store`; `open_sqlite` is the embedded implementation (WAL mode, versioned
// migrations). PostgreSQL will be a second implementation behind the same interface.
//
// Thread rules: save_*() may be called from any thread and never wait on disk: records go to a
// queue that a writer thread owned by the Store drains, many per transaction. flush() waits until
// everything queued so far is committed. Reads use their own connection and may be called from
// any thread. The destructor flushes and joins the writer.
//
// Storage format: docs/storage.md.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"

namespace tamas::store {

struct InteractionRecord {
  std::string id;  // globally unique (the node prefix and the call id)
  std::string tenant;
  std::string channel = "voice";
  std::string direction = "inbound";
  std::string caller;
  std::string called;
  TimePoint started_at;
  std::optional<TimePoint> answered_at;  // when the server answered the caller
  TimePoint ended_at;
  std::string flow;
  std::string ivr_path;  // menu choices, "1>3"
  std::string result;    // completed, voicemail, transferred, abandoned-in-ivr, failed, ...
  std::string ended_by;  // caller, callee (the far end of a transfer), system
  std::string queue;
  std::string agent;
  std::string recording;  // path of the recording or voicemail, if any
  std::string reason;     // for failures
  std::string transfer_target;  // where the call was transferred (result "transferred")
  Duration wait{};   // in queue: from joining to an agent's answer (or to leaving)
  Duration ring{};   // the answering agent's phone rang this long
  Duration talk{};   // connected to the agent (or the transfer's destination)
  Duration hold{};   // on hold, in all
  uint32_t hold_count = 0;
  uint32_t transfers = 0;
  // What happened, in order: {at, event, detail} ("queued", "offered", "no-answer", "connected",
  // "abandoned", "completed", ...), stored as JSON text.
  struct TimelineEvent {
    TimePoint at;
    std::string event;
    std::string detail;
  };
  std::vector<TimelineEvent> timeline;
  std::map<std::string, std::string> variables;  // chosen in the IVR
  // The agent's wrap-up: a disposition code of the queue and notes (empty until saved).
  std::string disposition;
  std::string wrapup_notes;
  std::string wrapped_up_by;
};

// An agent's skills and queues as changed through the API (over the configuration's), kept so
// that a restart keeps them.
struct AgentSetupRecord {
  std::string tenant, extension;
  std::vector<std::pair<std::string, uint8_t>> skills;  // name, level
  std::vector<std::pair<std::string, uint8_t>> queues;  // queue id, tier
  // Contacts of a channel at once (voice, chat, ...); empty when never changed (older records).
  std::vector<std::pair<std::string, uint8_t>> capacity;  // channel, contacts
  std::string updated_by;
  TimePoint updated_at;
};

// An agent's wrap-up of a contact, saved onto its interaction record after the record.
struct WrapUpRecord {
  std::string tenant;
  std::string interaction_id;
  std::string disposition;
  std::string notes;
  std::string agent;
};

struct VoicemailRecord {
  std::string id;
  std::string interaction_id;
  std::string tenant;
  std::string caller;
  std::string called;
  TimePoint at;
  Duration duration{};
  std::string path;
};

// A change of an agent's status (logged out, available, break) or state (idle, reserved, on a
// contact, wrap-up), with how long the previous pair lasted; like a queue log's agent lines.
struct AgentEventRecord {
  std::string tenant;
  std::string agent;  // the extension
  TimePoint at;
  std::string status;
  std::string state;
  std::string reason;  // the break reason when the status is break
  std::string previous_status, previous_state;  // "" for the first event since the server started
  Duration previous{};                          // how long the previous status and state lasted
};

// A person who signs in to the web side: an admin of the whole server (tenant ""), or a manager,
// supervisor, agent or analyst of one tenant. The password is kept only as an argon2id hash.
struct UserRecord {
  std::string tenant;
  std::string username;
  std::string role;  // admin, manager, supervisor, agent, analyst
  std::string password_hash;
  std::string display_name;
  TimePoint created_at;
  bool disabled = false;
};

// A long-lived Bearer token for an integration (a CRM, a reporting job), acting as one user. Only
// its SHA-256 is kept; the token itself is shown once, when made.
struct ApiTokenRecord {
  std::string token_hash;  // hex SHA-256 of the token
  std::string tenant;
  std::string username;
  std::string label;
  TimePoint created_at;
};

// What the center knows of a caller, by number: shown to the agent when the caller rings.
struct CustomerRecord {
  std::string tenant;
  std::string number;
  std::string name;
  std::string notes;
  std::vector<std::string> tags;
  TimePoint updated_at;
  std::string updated_by;
};

// Who changed what, when, from where: configuration, accounts, other people's state.
struct AuditRecord {
  TimePoint at;
  std::string tenant;
  std::string actor;   // the username, or "cli" for the command line
  std::string source;  // the remote address, or "local"
  std::string action;  // e.g. "user.add"
  std::string detail;
};

struct Query {
  std::optional<std::string> tenant;
  std::optional<TimePoint> since;  // started_at (interactions) / at (voicemails, agent events)
  std::optional<std::string> agent;  // this extension (interactions, agent events)
  // Interactions only: these exact values, newest first when asked, `offset` rows skipped.
  std::optional<std::string> caller, queue, result;
  bool newest_first = false;
  size_t offset = 0;
  size_t limit = 10000;
};

class Store {
 public:
  virtual ~Store() = default;
  virtual void save_interaction(InteractionRecord r) = 0;
  virtual void save_voicemail(VoicemailRecord v) = 0;
  virtual void save_agent_event(AgentEventRecord e) = 0;
  // Sets the wrap-up fields of an interaction saved before (in the same write order); a record
  // saved later with its own wrap-up fields keeps those.
  virtual void save_wrapup(WrapUpRecord w) = 0;
  // Waits until everything saved before the call is committed; the first write error, if any.
  virtual Status flush() = 0;
  // Oldest first.
  virtual Result<std::vector<InteractionRecord>> interactions(const Query& q) = 0;
  // One record of the tenant by id (without its timeline and variables); nullopt when none.
  virtual Result<std::optional<InteractionRecord>> find_interaction(const std::string& tenant,
                                                                    const std::string& id) = 0;
  virtual Result<std::vector<VoicemailRecord>> voicemails(const Query& q) = 0;
  virtual Result<std::vector<AgentEventRecord>> agent_events(const Query& q) = 0;
  virtual void save_audit(AuditRecord a) = 0;
  virtual Result<std::vector<AuditRecord>> audit_log(const Query& q) = 0;

  // Accounts, read and written at once (not queued). add_user fails, saying so, when the user
  // exists in that tenant.
  virtual Status add_user(const UserRecord& u) = 0;
  virtual Result<std::optional<UserRecord>> find_user(const std::string& tenant,
                                                      const std::string& username) = 0;
  virtual Result<std::vector<UserRecord>> list_users(const std::string& tenant) = 0;  // by name
  virtual Status add_api_token(const ApiTokenRecord& t) = 0;
  // Customers: written at once (replacing the number's record), read by number.
  virtual Status save_customer(const CustomerRecord& c) = 0;
  virtual Result<std::optional<CustomerRecord>> find_customer(const std::string& tenant,
                                                              const std::string& number) = 0;
  virtual Result<std::optional<ApiTokenRecord>> find_api_token(const std::string& token_hash) = 0;
  // The tenant's integration tokens (newest first) and revoking one by its hash or a prefix of it
  // of at least 16 hex digits (false when none matched; fails when the prefix is ambiguous).
  virtual Result<std::vector<ApiTokenRecord>> list_api_tokens(const std::string& tenant) = 0;
  // Replaces the kept set-up of an agent (at once, not queued) / the tenant's, by extension.
  virtual Status save_agent_setup(const AgentSetupRecord& a) = 0;
  virtual Result<std::vector<AgentSetupRecord>> agent_setups(const std::string& tenant) = 0;
  // Forgets an agent's kept set-up (the agent was removed); nothing to forget is not an error.
  virtual Status delete_agent_setup(const std::string& tenant, const std::string& extension) = 0;
  virtual Result<bool> delete_api_token(const std::string& tenant, const std::string& prefix) = 0;
  // Changes an account: disabled, and the password hash when not empty. False when there is no
  // such user.
  virtual Result<bool> update_user(const std::string& tenant, const std::string& username,
                                   bool disabled, const std::string& password_hash) = 0;
};

// Opens (creating it and its folder if needed) the SQLite database at `path` and brings its
// schema to the current version. Fails with the path and SQLite's message (not a database,
// read-only, newer schema than this build knows).
Result<std::unique_ptr<Store>> open_sqlite(const std::string& path);

// ISO 8601 UTC with milliseconds ("2026-11-22T14:05:09.123Z"), as stored; and back.
std::string format_time(TimePoint t);
Result<TimePoint> parse_time(const std::string& iso);

}  // namespace tamas::store
