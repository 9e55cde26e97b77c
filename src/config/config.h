// The server configuration: everything `tamas serve --config FILE` needs, read from YAML.
//
// The format is documented field by field in docs/configuration.md. Loading is strict: an unknown
// key, a value of the wrong type, a missing field, a name that refers to nothing (a number to no
// flow, a flow node to no node, a prompt to no prompt, a queue node or an agent to no queue), a
// duplicate (queue id, agent extension, feature code), a prompt file that does not exist, an
// invalid regex, CIDR, time zone or language is an error naming file, line and field path:
//   demo.yaml:42: tenants[0].flows.main.nodes.menu.options.1: no node 'sales2' in flow 'main'
// Text prompts are synthesized with espeak-ng while loading (cached under data_dir/prompts), so a
// loaded configuration has a WAV file for every prompt. Time zones are resolved from the system tz
// database into offset tables (core/flow/calendar.h) while loading.
//
// Per tenant it also holds the queues, agents (with their SIP passwords), break reasons, feature
// codes, SIP realm and webhooks, as plain data named by strings (QueueSpec, AgentSpec) for the
// server to add to its core::Router.
//
// The result is plain data; each tenant's flows are an immutable shared FlowSet that calls keep
// across a reload. Loading does file and process IO (reads the file, stats prompt files, runs
// espeak-ng): call it off the core thread. No shared state: any thread may load.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "core/flow/flow.h"
#include "core/model/types.h"
#include "core/routing/router.h"

namespace tamas::config {

using core::Language;

struct SipConfig {
  std::string address = "0.0.0.0";  // listen address (IPv4/IPv6 literal)
  uint16_t port = 5060;
  bool udp = true;
  bool tcp = false;
};

struct RtpConfig {
  uint16_t port_min = 20000;  // even
  uint16_t port_max = 30000;  // inclusive; RTP uses even ports, RTCP the odd one above
};

struct HttpConfig {
  std::string address = "127.0.0.1";
  uint16_t port = 8080;
};

enum class LogFormat : uint8_t { kText, kJson };
enum class LogLevel : uint8_t { kTrace, kDebug, kInfo, kWarn, kError };

struct LogConfig {
  LogFormat format = LogFormat::kText;
  LogLevel level = LogLevel::kInfo;
};

// An IPv4 or IPv6 network, e.g. 10.0.0.0/8 or 2001:db8::/32 (a bare address is /32 or /128).
struct Cidr {
  std::string text;
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // network address; IPv4 uses the first 4
  uint8_t prefix = 0;

  // Fails with "invalid CIDR '...'" on anything else.
  static Result<Cidr> parse(std::string_view text);
  // True when `address` (a textual IPv4/IPv6 address; IPv4-mapped IPv6 counts as IPv4) is inside.
  bool contains(std::string_view address) const;
};

// A SIP peer that sends calls to us (and, with `uri`, receives calls from us).
struct Trunk {
  std::string name;
  std::vector<Cidr> from;  // source addresses calls are accepted from
  std::string username;    // digest credentials the trunk must present; both empty = none
  std::string password;
  std::string uri;  // where outbound calls go ("sip:host[:port][;transport=tcp]"); empty = none
};

// A number (DID) of the tenant and the flow it starts.
struct NumberRoute {
  std::string number;
  std::string flow;
  std::optional<Language> language;  // the call's language; unset: the flow's, the tenant's
};

// One way to say a prompt: a WAV file, or a text synthesized in a language.
struct PromptSource {
  std::string file;  // absolute path; for text prompts the synthesized WAV (when synthesized)
  std::string text;  // the text, for text prompts
  Language language = Language::kEn;
  bool synthesized = false;  // `file` was made from `text`
};

struct PromptEntry {
  std::string id;
  std::map<Language, PromptSource> by_language;
  std::optional<PromptSource> any;  // `file:` without a language: used for every language
};

// ---- Queues and agents (plain data; the server adds them to a core::Router) --------------------
//
// Skills, queues and agents are named here, not numbered: core ids are handed out by the Router
// when the server adds them. Every name was checked at load (a queue an agent, an escalation step
// or a flow names exists in the tenant; every prompt id exists), so the server can resolve them
// without failing on a dangling name.

// One escalation step of a queue (core::EscalationStep with the overflow queue by name).
struct EscalationSpec {
  Duration after{};  // counted from when the task joined the queue
  core::EscalationStep::Action action = core::EscalationStep::Action::kNextTier;
  uint8_t amount = 1;          // kNextTier: tiers to open; kLowerSkill: levels to lower
  std::string overflow_queue;  // kOverflow: a queue id of the same tenant (never the queue itself)
  std::string branch;          // kExit: QueueNode::branches key; empty = the node's on_exit
};

// Position and expected-wait announcements while a caller waits.
struct AnnounceSpec {
  bool position = false;   // "you are number N in the queue"
  bool wait_time = false;  // "your expected wait is about M minutes"
  Duration first_after{};  // the first announcement, after joining
  Duration every = std::chrono::seconds(30);
  bool only_if_changed = true;  // skip an announcement that would say the same as the last one
  bool enabled() const { return position || wait_time; }
};

// Periodic information messages, played in turn (prompt ids of the tenant).
struct MessagesSpec {
  Duration every = std::chrono::seconds(60);
  std::vector<std::string> prompts;  // empty = none
};

enum class RecordingMode : uint8_t {
  kStereo,  // caller on the left channel, agent on the right
  kMono,    // both mixed
};

struct RecordingSpec {
  bool enabled = true;  // record calls connected through this queue
  RecordingMode mode = RecordingMode::kStereo;
  std::string announce;  // a prompt id played to the caller on joining ("may be recorded"), or ""
};

struct QueueSpec {
  std::string id;  // unique in the tenant; the flow queue node's `queue:`
  // Everything but skills and escalation (which need core ids): name = id.
  core::QueueConfig routing;
  std::vector<std::pair<std::string, uint8_t>> skills;  // skill name, minimum level 1..10
  std::vector<EscalationSpec> escalation;               // in file order
  std::string music;  // a prompt id of the tenant, looped while waiting; "" = the server's tone
  AnnounceSpec announce;
  MessagesSpec messages;
  RecordingSpec recording;
  // Wrap-up codes an agent chooses from after a contact of this queue (none: free notes only),
  // and the script the agent's screen shows with the contact.
  std::vector<std::string> dispositions;
  std::string script;
  // The service level aimed at: this share of calls answered within routing.sl_threshold.
  double sl_target = 0.8;
  // Set through the API (LoadOptions::uploads "queues"): the keys an upload gave, and whether the
  // queue exists only by its upload (the configuration file has no queue of that id).
  std::vector<std::string> uploaded_keys;
  bool uploaded_only = false;
};

struct AgentMembershipSpec {
  std::string queue;  // a queue id of the tenant
  uint8_t tier = 1;   // 1 = first choice
};

struct AgentSpec {
  std::string extension;  // digits, unique in the tenant; the SIP user name and the router's name
  std::string password;   // SIP digest password (never empty)
  std::string name;       // display name; the extension when not given
  std::vector<std::pair<std::string, uint8_t>> skills;  // skill name, level 1..10
  std::vector<AgentMembershipSpec> queues;              // in file order, each queue once
  std::optional<Duration> wrap_up;                      // overrides the queues' wrap-up
  // Contacts of each channel at once, indexed by core::Channel (core::AgentConfig's defaults).
  std::array<uint8_t, core::kChannelCount> capacity = {1, 2, 1, 2, 1};
  // Set through the API (LoadOptions::uploads "agents"), as QueueSpec's.
  std::vector<std::string> uploaded_keys;
  bool uploaded_only = false;
};

// Codes an agent's phone dials to change the agent's status. One source of truth: the server's
// dispatch table is built from this. No code is a prefix of another.
struct FeatureCodes {
  std::string login = "*11";
  std::string logout = "*12";
  std::string pause = "*13";  // may be followed by one digit 1..9: the n-th break reason
  std::string resume = "*14";
};

// The steps of a contact, as the live stream (docs/api.md) and the webhooks name them.
inline constexpr std::string_view kContactEvents[] = {
    "queued", "offered", "missed", "connected", "held", "resumed", "transferred", "ended",
    "wrapped-up"};

// Where a tenant's contact events are POSTed, signed (docs/webhooks.md).
struct WebhookConfig {
  std::string url;     // http:// or https://; checked with parse_http_url (common/url.h)
  std::string secret;  // the HMAC-SHA256 key; at least 16 bytes
  std::vector<std::string> events;  // names from kContactEvents, each once; empty = every one
};

struct TenantConfig {
  std::string id;
  Language language = Language::kEn;
  std::string time_zone = "UTC";
  core::UtcOffsetTable zone_offsets = core::UtcOffsetTable::fixed(Duration{});  // of time_zone
  std::vector<Trunk> trunks;
  std::vector<NumberRoute> numbers;
  std::map<std::string, PromptEntry> prompts;
  // Flows, calendars, numbers and transfer_allow, ready for core::FlowEngine::start.
  std::shared_ptr<const core::FlowSet> flows;
  std::vector<QueueSpec> queues;  // in file order
  std::vector<AgentSpec> agents;  // in file order
  // Reasons an agent may give for a break (core::RouterConfig::break_reasons): not empty, unique,
  // never "no answer" (the router's own).
  std::vector<std::string> break_reasons = {"break", "lunch", "meeting", "training"};
  FeatureCodes feature_codes;
  std::string realm;  // the SIP digest realm of the tenant's phones; unique across tenants
  // Digest algorithms challenged, in order: "SHA-256", "MD5" (each at most once, not empty).
  std::vector<std::string> digest_algorithms = {"SHA-256", "MD5"};
  std::vector<WebhookConfig> webhooks;  // in file order; each URL at most once

  const QueueSpec* find_queue(std::string_view queue_id) const;
  const AgentSpec* find_agent(std::string_view extension) const;

  // The source for prompt `id` in `language`: that language's, else the language-independent
  // file, else the tenant's default language's, else any. Null when the id is unknown.
  const PromptSource* prompt(std::string_view id, Language language) const;
  const Trunk* find_trunk(std::string_view name) const;
  // The trunk whose `from` contains `address`, if any (the first in file order).
  const Trunk* trunk_for_source(std::string_view address) const;
};

struct ServerConfig {
  std::string source;    // the file it was read from
  std::string data_dir;  // absolute
  SipConfig sip;
  RtpConfig rtp;
  HttpConfig http;
  LogConfig log;
  std::vector<TenantConfig> tenants;

  // The tenant and route a dialled number belongs to (numbers are unique across tenants).
  struct Route {
    const TenantConfig* tenant = nullptr;
    const NumberRoute* number = nullptr;
  };
  std::optional<Route> route(std::string_view number) const;
  // The tenant whose realm is `realm` (realms are unique), or null.
  const TenantConfig* tenant_for_realm(std::string_view realm) const;
};

// A flow kept outside the configuration file (uploaded through the API): the YAML of one flow
// ({start, nodes}) and the name that stands for it in messages.
struct FlowText {
  std::string yaml;
  std::string display;
};

struct LoadOptions {
  bool synthesize = true;               // false: text prompts keep file = "" (tests, validation)
  std::string espeak = "espeak-ng";     // the program to run
  std::optional<std::string> data_dir;  // overrides the file's data_dir
  // Uploaded entries by section (kUploadKinds), tenant id and name, each replacing (or adding)
  // that entry of the tenant's section (flows.NAME, calendars.NAME, numbers."NUMBER") before the
  // whole is checked; an error inside one names its `display` and its own line numbers.
  using Uploads = std::map<std::string, std::map<std::string, FlowText>>;  // tenant -> name
  std::map<std::string, Uploads> uploads;                                 // by kind
};

// The sections of a tenant that the API may upload entries of: flows, business-hours calendars,
// numbers (a number's route: a flow name, or {flow, language}) and queues (a map of a queue's
// settings: each key replaces that of the file's queue of that id, or the upload is a new queue;
// errors name it as tenants[N].queues.ID) and agents (the same, keyed by extension).
inline constexpr std::string_view kUploadKinds[] = {"flows", "calendars", "numbers", "queues",
                                                    "agents"};
// Where the uploads of `kind` are kept (<data_dir>/<kind>), and the texts found there
// (<dir>/<tenant>/<name>.yaml, each named <kind>/<tenant>/<name>.yaml in messages); a file that
// cannot be read is an error.
std::string uploads_dir(const std::string& data_dir, std::string_view kind);
Result<LoadOptions::Uploads> read_uploads(const std::string& dir);
// The data folder a configuration file names (absolute), read without checking the rest: where
// uploaded flows are found before the whole is loaded with them.
Result<std::string> read_data_dir(const std::string& path);
// A name an upload may use (a flow, a calendar, a number): 1 to 64 of a-z 0-9 _ -.
bool valid_flow_name(std::string_view name);

// Reads, validates and prepares a configuration. Fails with "<path>: cannot read ..." when the
// file cannot be read, otherwise with "<path>:<line>: <field>: <what was wrong>".
Result<ServerConfig> load_config(const std::string& path, const LoadOptions& options = {});

// The same from text in memory; relative paths (data_dir, prompt files) are resolved against
// `base_dir`, and `display_name` stands for the file in messages.
Result<ServerConfig> load_config_string(std::string_view yaml, std::string_view display_name,
                                        const std::string& base_dir,
                                        const LoadOptions& options = {});

// The UTC offsets of an IANA zone ("Europe/Berlin") for kFirstTableYear..kLastTableYear, from the
// system tz database. Fails with "unknown time zone '...'".
Result<core::UtcOffsetTable> load_zone(std::string_view zone);

std::string_view to_string(LogFormat f);
std::string_view to_string(LogLevel l);

}  // namespace tamas::config
