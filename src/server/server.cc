// The live server: see server.h. This file is the wiring between the SIP stack, the media engine,
// the flow interpreter, the prompt synthesizer and the store.
//
// Thread rules:
//  - core thread (run()): owns calls_, legs_, flows_, config_; executes flow commands.
//  - SIP thread, media workers, media writer: call the Listener methods below, which only post().
//  - resolver thread: turns prompts that need synthesis into audio, then posts PlayReady.
//  - the thread calling reload()/drain(): loads audio, then posts and waits.
#include "server/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <future>
#include <mutex>
#include <map>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>
#include <variant>

#include "common/latency.h"
#include "common/log.h"
#include "config/config.h"
#include "core/flow/flow.h"
#include "media/engine.h"
#include "prompts/numbers.h"
#include "prompts/synth.h"
#include "core/routing/router.h"
#include "server/live_events.h"
#include <nlohmann/json.hpp>
#include "sip/digest.h"
#include "sip/registrar.h"
#include "sip/sip.h"
#include "store/store.h"

namespace tamas::server {
namespace {

using namespace std::chrono_literals;
using core::CallId;

// The local IPv4 address the kernel would use to reach `peer` (no packet is sent: a UDP socket
// is connected and asked its name). Empty when there is no route.
std::string local_address_towards(const std::string& peer) {
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(9);
  if (inet_pton(AF_INET, peer.c_str(), &to.sin_addr) != 1) return "";
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0) {
    sockaddr_in me{};
    socklen_t len = sizeof me;
    char buf[INET_ADDRSTRLEN] = {0};
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&me), &len) == 0 &&
        inet_ntop(AF_INET, &me.sin_addr, buf, sizeof buf) != nullptr) {
      out = buf;
    }
  }
  ::close(fd);
  return out;
}

TimePoint wall_now() {
  return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
}

// Decoded prompts by file path, shared by every call and thread. Audio is immutable.
class AudioCache {
 public:
  std::shared_ptr<const media::Audio> find(const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = audio_.find(path);
    return it == audio_.end() ? nullptr : it->second;
  }
  Result<std::shared_ptr<const media::Audio>> load(const std::string& path) {
    if (auto a = find(path)) return a;
    auto a = media::Audio::load(path);
    if (!a) return a.status();
    std::lock_guard<std::mutex> lock(mu_);
    audio_.emplace(path, *a);
    return *a;
  }
  // Loads every prompt file of a configuration. Fails on the first that does not decode.
  Status preload(const config::ServerConfig& cfg) {
    for (const config::TenantConfig& t : cfg.tenants) {
      for (const auto& [id, entry] : t.prompts) {
        std::vector<const config::PromptSource*> sources;
        for (const auto& [lang, src] : entry.by_language) sources.push_back(&src);
        if (entry.any) sources.push_back(&*entry.any);
        for (const config::PromptSource* src : sources) {
          if (src->file.empty()) continue;
          auto a = load(src->file);
          if (!a) {
            return Status::error("tenant '" + t.id + "', prompt '" + id + "': " + a.message());
          }
        }
      }
    }
    return Status::ok();
  }

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const media::Audio>> audio_;
};

media::RemoteMedia to_remote(const sip::SdpAudio& sdp) {
  media::RemoteMedia r;
  r.address = sdp.address;
  r.port = sdp.port;
  for (const sip::SdpFormat& f : sdp.formats) {
    r.formats.push_back({f.payload_type, f.encoding, f.clock_rate});
  }
  switch (sdp.mode) {
    case sip::Mode::kSendOnly: r.direction = media::Direction::kSendOnly; break;
    case sip::Mode::kRecvOnly: r.direction = media::Direction::kRecvOnly; break;
    case sip::Mode::kInactive: r.direction = media::Direction::kInactive; break;
    case sip::Mode::kSendRecv: r.direction = media::Direction::kSendRecv; break;
  }
  return r;
}

sip::Mode to_mode(media::Direction d) {
  switch (d) {
    case media::Direction::kSendOnly: return sip::Mode::kSendOnly;
    case media::Direction::kRecvOnly: return sip::Mode::kRecvOnly;
    case media::Direction::kInactive: return sip::Mode::kInactive;
    case media::Direction::kSendRecv: break;
  }
  return sip::Mode::kSendRecv;
}

std::pair<int, const char*> sip_status(core::HangupCause c) {
  switch (c) {
    case core::HangupCause::kBusy: return {486, "Busy Here"};
    case core::HangupCause::kRejected: return {603, "Decline"};
    case core::HangupCause::kUnavailable: return {503, "Service Unavailable"};
    case core::HangupCause::kError: return {500, "Server Internal Error"};
    case core::HangupCause::kNormal: break;
  }
  return {480, "Temporarily Unavailable"};
}

// ---- events posted to the core thread ----

struct SipIncoming {
  sip::IncomingCall call;
};
struct SipEnded {
  sip::LegId leg;
  sip::EndReason reason;
};
struct SipDigit {
  sip::LegId leg;
  char digit;
};
struct MediaDigit {
  media::SessionId session;
  char digit;
};
struct MediaPlayDone {
  media::SessionId session;
  uint64_t play_id;
};
struct MediaRecordDone {
  media::SessionId session;
  std::string path;
  Duration length;
  std::string error;
};
struct MediaTimeout {
  media::SessionId session;
};
struct PlayReady {
  CallId call;
  uint64_t play_id;
  std::vector<std::shared_ptr<const media::Audio>> items;
  std::string error;
};
struct SipRegister {
  sip::IncomingRegister reg;
};
struct SipReinvite {
  sip::LegId leg;
  std::string sdp;
};
struct SipRefer {
  sip::LegId leg;
  sip::IncomingRefer refer;
};
struct OutProgress {
  sip::LegId leg;
};
struct OutAnswered {
  sip::LegId leg;
  std::string sdp;
};
struct OutFailed {
  sip::LegId leg;
  int status;
  std::string phrase;
};
struct Reload {
  std::shared_ptr<const config::ServerConfig> config;
  std::shared_ptr<std::promise<void>> applied;  // set once the core thread has applied it
};
struct Drain {};
struct HangupAll {};
struct AgentStatusRequest {
  std::string tenant, extension, status, reason;
  std::shared_ptr<std::promise<Status>> reply;
};
struct SnapshotRequest {
  std::string tenant;
  std::shared_ptr<std::promise<Result<TenantView>>> reply;
};
struct AgentSetupRequest {
  std::string tenant;
  std::optional<AgentSetup> change;  // none: read them all
  std::shared_ptr<std::promise<Result<std::vector<AgentSetup>>>> reply;
};
struct ContactCommand {
  std::string tenant, extension;
  ContactRequest request;
  std::shared_ptr<std::promise<ContactAnswer>> reply;
};
struct Stop {};

using CoreEvent = std::variant<SipIncoming, SipRegister, SipReinvite, SipRefer, SipEnded, SipDigit, MediaDigit,
                               MediaPlayDone,
                               MediaRecordDone, MediaTimeout, PlayReady, OutProgress, OutAnswered,
                               OutFailed, Reload, Drain, HangupAll, SnapshotRequest, AgentStatusRequest,
                               ContactCommand, AgentSetupRequest, Stop>;

struct Call {
  CallId id;
  sip::LegId leg = 0;
  std::shared_ptr<const config::ServerConfig> config;  // keeps `tenant` alive across reloads
  const config::TenantConfig* tenant = nullptr;
  std::string caller, called, flow;
  std::string sip_call_id;  // of the caller's INVITE
  std::string ivr_path;     // the menu choices before the queue, for the agent's phone
  // The router's task for the call: the call id, or a new one each time a transfer puts the
  // caller back in a queue (the agent's last task lives on in wrap-up).
  core::TaskId task;
  bool direct = false;      // an agent's own call to an extension or out: no flow
  TimePoint started;
  std::optional<TimePoint> answered_at;
  media::LocalMedia local;
  media::Negotiated agreed;
  bool leg_up = true;       // the SIP leg has not ended
  bool sdp_sent = false;    // 183 or 200 carried our SDP
  bool answered = false;    // 200 sent
  bool ended_by_caller = false;
  uint64_t current_play = 0;
  std::string recording;
  // An external transfer: the second leg (0 = none) and its media session (bleg_session()).
  sip::LegId b_leg = 0;
  bool b_up = false;
  bool bridged = false;
  std::string transfer_target;
  TimePoint transfer_deadline;
  // The flow finished (transferred) while the bridge goes on: written when a side hangs up.
  std::optional<store::InteractionRecord> pending_record;
  media::SessionId b_session = 0;  // the second leg's media session
  // Queued to agents: the queue, exit keys, and once connected the agent (its extension).
  bool queued = false;
  bool connected = false;  // an agent took it (TaskAssigned)
  std::string queue;
  std::string exit_keys;
  std::string agent;
  bool internal = false;  // a feature-code call: no interaction record
  // Announcements while queued: the play in progress (0 = none), the next one, the last position.
  core::Language language = core::Language::kEn;
  uint64_t announce_play = 0;
  TimePoint next_announce;
  uint32_t last_position = 0;
  // The queue's information messages: when the next is due, and which (they play in turn).
  TimePoint next_message;
  size_t message_index = 0;
  // The recording notice ("this call may be recorded") is playing; an agent who answers meanwhile
  // waits for its end before the conversation (and its recording) starts.
  bool notice_playing = false;
  bool conversation_pending = false;
  bool notice_heard = false;
  // Transfers from the agent's phone: how many, and the talk time of the agents before.
  uint32_t transfers = 0;
  Duration talk_before{};
  // For the record: when it joined the queue, was offered to each agent, was connected.
  TimePoint queued_at, connected_at;
  std::map<uint32_t, TimePoint> offered_at;  // by AgentId
  Duration wait{}, ring{};
  std::vector<store::InteractionRecord::TimelineEvent> timeline;
  // Hold from the far end (the agent's phone sent a=sendonly or a=inactive).
  bool on_hold = false;
  TimePoint hold_started;
  Duration hold_total{};
  uint32_t hold_count = 0;
  // A wrap-up saved while the call still went on (the agent transferred it): written with it.
  std::optional<store::WrapUpRecord> wrapup;
  void event(std::string what, std::string detail = "") {
    timeline.push_back({wall_now(), std::move(what), std::move(detail)});
  }
};

// Play ids of the server's own announcements: far above the flow engine's, which ignores them.
constexpr uint64_t kAnnouncePlayBase = 1ULL << 40;
// A message that falls due while something else is being said waits this long.
constexpr Duration kMessageRetry = std::chrono::seconds(5);

// A phone of an agent being rung for a queued call (one per registered contact).
struct AgentLeg {
  CallId call;
  core::AgentId agent;
  media::SessionId session;
};

// The media session of a call's second leg: the call id with the top bit set.
constexpr media::SessionId kBLegBit = 1ULL << 63;
media::SessionId bleg_session(CallId id) { return id.value | kBLegBit; }

// How long a transfer destination may ring before the caller is told it failed.
constexpr Duration kTransferRingTimeout = std::chrono::seconds(30);

constexpr uint64_t kBeepPlayId = 0;

// Router task ids of callers put back in a queue by a transfer: far above any call id.
constexpr uint64_t kRequeuedTaskBase = 1ULL << 48;  // flow play ids start at 1

// What a tenant has at run time besides its configuration: who may register, where its agents'
// phones are. Built at start; kept across reloads (registrations survive a SIGHUP).
struct TenantRuntime {
  std::string id;
  std::unique_ptr<sip::DigestAuthenticator> auth;
  sip::Registrar registrar;
  std::unique_ptr<core::Router> router;
  std::map<std::string, core::QueueId> queues;  // by queue id
  std::map<std::string, core::AgentId> agents;  // by extension
  std::vector<std::string> extensions;           // by AgentId
  // Each agent's last status and state and since when (by AgentId): for the agent event log.
  struct Presence {
    std::string status, state;
    TimePoint since;
  };
  std::vector<Presence> presence;
  std::shared_ptr<const core::FlowSet> features;  // the feature codes' confirmation flows
  // Each agent's contact for the web side (by extension): ringing, in conversation, or ended and
  // waiting for its wrap-up to be saved.
  struct AgentContact {
    ContactFields fields;
    std::string state;  // ringing, connected, held, wrap-up
    TimePoint since;
    CallId call;
    core::TaskId task;  // the router's task the agent took (for WrapUpDone)
  };
  std::map<std::string, AgentContact> contacts;
  std::map<std::string, AgentSetup> setups;  // each agent's skills and queues now, by extension
  // Queue figures changed since last published, and what was published (to skip repeats).
  bool queues_dirty = true;
  std::map<std::string, std::string> published;
};

// How often, at most, a queue's changed figures are published.
constexpr Duration kQueuePublishEvery = std::chrono::milliseconds(250);

class ServerImpl final : public Server, public sip::Listener, public media::Listener {
 public:
  explicit ServerImpl(std::shared_ptr<const config::ServerConfig> config)
      : config_(std::move(config)) {
    std::random_device rd;
    char buf[16];
    std::snprintf(buf, sizeof buf, "%08x", rd());
    node_ = buf;
  }

  ~ServerImpl() override {
    post(Stop{});
    if (core_.joinable()) core_.join();
    {
      std::lock_guard<std::mutex> lock(resolve_mu_);
      resolve_stop_ = true;
    }
    resolve_cv_.notify_all();
    if (resolver_.joinable()) resolver_.join();
    stack_.reset();  // joins the SIP thread; its last events land in a queue nobody reads
    media_.reset();
    if (store_) (void)store_->flush();
  }

  Status start() {
    const config::ServerConfig& cfg = *config_;
    std::error_code ec;
    std::filesystem::create_directories(cfg.data_dir, ec);
    if (ec) return Status::error(cfg.data_dir + ": cannot create the data folder: " + ec.message());
    auto store = store::open_sqlite(cfg.data_dir + "/tamas.db");
    if (!store) return store.status();
    store_ = std::move(*store);
    auto synth = prompts::Synthesizer::create(cfg.data_dir + "/prompts");
    if (!synth) return synth.status();
    synth_ = std::move(*synth);
    if (Status s = audio_.preload(cfg); !s) return s;
    if (Status s = build_tenants(cfg); !s) return s;

    // Listening on every address: RTP does too, and each call's SDP names the local address
    // that routes to that caller.
    wildcard_ = cfg.sip.address == "0.0.0.0" || cfg.sip.address == "::";
    media::EngineConfig mc;
    mc.bind_address = wildcard_ ? "0.0.0.0" : cfg.sip.address;
    mc.port_min = cfg.rtp.port_min;
    mc.port_max = cfg.rtp.port_max;
    auto media = media::MediaEngine::start(mc, this);
    if (!media) return media.status();
    media_ = std::move(*media);

    sip::StackConfig sc;
    sc.address = cfg.sip.address;
    sc.port = cfg.sip.port;
    auto stack = sip::Stack::start(sc, this);
    if (!stack) return stack.status();
    stack_ = std::move(*stack);

    core_ = std::thread([this] { run(); });
    resolver_ = std::thread([this] { resolve_loop(); });
    log::info("serving", {{"sip", cfg.sip.address + ":" + std::to_string(cfg.sip.port)},
                          {"rtp", std::to_string(cfg.rtp.port_min) + "-" +
                                      std::to_string(cfg.rtp.port_max)},
                          {"data_dir", cfg.data_dir},
                          {"tenants", std::to_string(cfg.tenants.size())}});
    return Status::ok();
  }

  // One runtime per tenant, with a digest authenticator for its realm. The nonce secret is new
  // at every start: a restart makes old nonces stale, and phones simply authenticate again.
  Status build_tenants(const config::ServerConfig& cfg) {
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

  // The tenant's routing domain: its queues (all first, then their escalation, so queues may
  // overflow into each other) and its agents, all logged out until they dial the login code.
  // Skills and queues changed through the API since, over the file's (a queue the file no
  // longer has is left out).
  Status apply_kept_setups(const config::TenantConfig& t, TenantRuntime& rt) {
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
  static core::QueueConfig router_queue(const config::QueueSpec& q, TenantRuntime& rt,
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

  static Status build_router(const config::TenantConfig& t, TenantRuntime& rt) {
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
  static Status add_agent(const config::AgentSpec& a, TenantRuntime& rt) {
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
    AgentSetup& setup = rt.setups[a.extension];
    setup.extension = a.extension;
    setup.name = a.name;
    setup.skills = a.skills;
    for (const auto& m : a.queues) setup.queues.emplace_back(m.queue, m.tier);
    for (size_t c = 0; c < core::kChannelCount; ++c) {
      setup.capacity.emplace_back(core::to_string(static_cast<core::Channel>(c)), a.capacity[c]);
    }
    return Status::ok();
  }

  // A reload's queues and agents for a tenant that runs already: new queues are added, changed
  // ones updated in place (the router applies the change at once: waiting callers are offered
  // under the new settings), and one the configuration no longer has is dropped once no agent is
  // in it and no caller waits in it (until then it keeps serving, and a warning says why); new
  // agents are added.
  void update_routing(const config::TenantConfig& t, TenantRuntime& rt) {
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
    // Agents new in the configuration join, logged out (one the file no longer has stays in the
    // router until the next start, but can no longer register or log in).
    for (const config::AgentSpec& a : t.agents) {
      if (rt.agents.count(a.extension)) continue;
      if (Status st = add_agent(a, rt); !st) {
        log::error("agent not added", {{"tenant", t.id}, {"agent", a.extension}, {"why", st.message()}});
      } else {
        log::info("agent added", {{"tenant", t.id}, {"agent", a.extension}});
      }
    }
    rt.queues_dirty = queues_dirty_ = true;
    run_router_commands(rt, out);
  }

  // Carries out what the router asked for outside an event (a change of set-up): the commands,
  // then the events they lead to.
  void run_router_commands(TenantRuntime& rt, core::CommandSink& out) {
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
  static std::shared_ptr<const core::FlowSet> feature_flows(const config::TenantConfig& t) {
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

  // ---- Server ----

  Status reload(std::shared_ptr<const config::ServerConfig> config) override {
    const config::ServerConfig& now = *current_config();
    if (config->sip.address != now.sip.address || config->sip.port != now.sip.port ||
        config->rtp.port_min != now.rtp.port_min || config->rtp.port_max != now.rtp.port_max ||
        config->data_dir != now.data_dir) {
      return Status::error(config->source +
                           ": sip, rtp and data_dir cannot change while running; restart tamas "
                           "to apply them (the running configuration is kept)");
    }
    if (Status s = audio_.preload(*config); !s) {
      return Status::error(config->source + ": " + s.message() +
                           " (the running configuration is kept)");
    }
    // Applied by the core thread; waited for, so that what the caller does next (an API client
    // reading the queues back, a test's next call) meets the new configuration.
    auto applied = std::make_shared<std::promise<void>>();
    auto done = applied->get_future();
    post(Reload{std::move(config), std::move(applied)});
    if (done.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
      log::warn("reload: the core thread has not applied it yet");
    }
    return Status::ok();
  }

  void drain(Duration limit) override {
    post(Drain{});
    std::unique_lock<std::mutex> lock(mu_);
    if (!idle_cv_.wait_for(lock, limit, [&] { return active_.load() == 0; })) {
      lock.unlock();
      log::warn("drain: time is up; hanging up the calls left",
                {{"calls", std::to_string(active_.load())}});
      post(HangupAll{});
      lock.lock();
      idle_cv_.wait_for(lock, 10s, [&] { return active_.load() == 0; });
    }
  }

  Status set_agent_status(const std::string& tenant, const std::string& extension,
                          const std::string& status, const std::string& reason,
                          Duration limit) override {
    auto reply = std::make_shared<std::promise<Status>>();
    auto answer = reply->get_future();
    post(AgentStatusRequest{tenant, extension, status, reason, reply});
    if (answer.wait_for(limit) != std::future_status::ready) {
      return Status::error("the server did not answer within " + format_duration(limit));
    }
    return answer.get();
  }

  Result<TenantView> snapshot(const std::string& tenant, Duration limit) override {
    auto reply = std::make_shared<std::promise<Result<TenantView>>>();
    auto answer = reply->get_future();
    post(SnapshotRequest{tenant, reply});
    if (answer.wait_for(limit) != std::future_status::ready) {
      return Status::error("the server did not answer within " + format_duration(limit));
    }
    return answer.get();
  }

  ContactAnswer agent_contact(const std::string& tenant, const std::string& extension,
                              const ContactRequest& request, Duration limit) override {
    auto reply = std::make_shared<std::promise<ContactAnswer>>();
    auto answer = reply->get_future();
    post(ContactCommand{tenant, extension, request, reply});
    if (answer.wait_for(limit) != std::future_status::ready) {
      return {503, "the server did not answer within " + format_duration(limit), "", {}};
    }
    return answer.get();
  }

  std::shared_ptr<const config::ServerConfig> configuration() override { return current_config(); }

  Result<std::vector<AgentSetup>> agent_setups(const std::string& tenant, Duration limit) override {
    return ask_setups(AgentSetupRequest{tenant, std::nullopt, nullptr}, limit);
  }

  Status update_agent(const std::string& tenant, const AgentSetup& setup, Duration limit) override {
    auto r = ask_setups(AgentSetupRequest{tenant, setup, nullptr}, limit);
    return r.is_ok() ? Status::ok() : r.status();
  }

  Result<std::vector<AgentSetup>> ask_setups(AgentSetupRequest req, Duration limit) {
    req.reply = std::make_shared<std::promise<Result<std::vector<AgentSetup>>>>();
    auto answer = req.reply->get_future();
    post(std::move(req));
    if (answer.wait_for(limit) != std::future_status::ready) {
      return Status::error("the server did not answer within " + format_duration(limit));
    }
    return answer.get();
  }

  void set_event_listener(EventListener listener) override {
    std::lock_guard<std::mutex> lock(listener_mu_);
    listener_ = std::move(listener);
  }

  ServerStats stats() const override {
    ServerStats s;
    s.calls = calls_started_.load();
    s.active = active_.load();
    s.rejected = rejected_.load();
    s.routed = routing_latency_.count();
    s.routing_p50_us = routing_latency_.percentile_us(0.50);
    s.routing_p99_us = routing_latency_.percentile_us(0.99);
    s.routing_max_us = routing_latency_.max_us();
    return s;
  }

  // ---- sip::Listener (SIP thread) ----

  void on_incoming_call(const sip::IncomingCall& call) override { post(SipIncoming{call}); }
  void on_call_ended(sip::LegId leg, sip::EndReason reason) override {
    post(SipEnded{leg, reason});
  }
  void on_info_digit(sip::LegId leg, char digit) override { post(SipDigit{leg, digit}); }
  void on_register(const sip::IncomingRegister& reg) override { post(SipRegister{reg}); }
  void on_reinvite(sip::LegId leg, const std::string& sdp) override {
    post(SipReinvite{leg, sdp});
  }
  void on_refer(sip::LegId leg, const sip::IncomingRefer& refer) override {
    post(SipRefer{leg, refer});
  }
  void on_outgoing_progress(sip::LegId leg, int, const std::string&) override {
    post(OutProgress{leg});
  }
  void on_outgoing_answered(sip::LegId leg, const std::string& sdp) override {
    post(OutAnswered{leg, sdp});
  }
  void on_invite_sent(sip::LegId, std::chrono::steady_clock::duration delay) override {
    routing_latency_.add(delay);
  }
  void on_outgoing_failed(sip::LegId leg, int status, const std::string& phrase) override {
    post(OutFailed{leg, status, phrase});
  }

  // ---- media::Listener (media threads) ----

  void on_dtmf(media::SessionId s, char digit, media::DtmfSource) override {
    post(MediaDigit{s, digit});
  }
  void on_play_done(media::SessionId s, uint64_t play_id, bool) override {
    post(MediaPlayDone{s, play_id});
  }
  void on_record_done(media::SessionId s, uint64_t, const std::string& path,
                      Duration length) override {
    post(MediaRecordDone{s, path, length, ""});
  }
  void on_record_failed(media::SessionId s, uint64_t, const std::string& path,
                        const std::string& message) override {
    post(MediaRecordDone{s, path, Duration(0), message});
  }
  void on_media_timeout(media::SessionId s) override { post(MediaTimeout{s}); }

 private:
  void post(CoreEvent e) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(std::move(e));
    }
    cv_.notify_one();
  }

  std::shared_ptr<const config::ServerConfig> current_config() {
    std::lock_guard<std::mutex> lock(mu_);
    return config_;
  }

  // ---- the core thread ----

  void run() {
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

  void on(Stop&) {}

  void on(SipIncoming& ev) {
    const sip::IncomingCall& in = ev.call;
    auto reject = [&](int status, const char* phrase, const std::string& why) {
      rejected_++;
      log::info("call refused", {{"status", std::to_string(status)},
                                 {"from", in.from_user},
                                 {"to", in.to_user},
                                 {"source", in.source_ip},
                                 {"why", why}});
      stack_->reject(in.leg, status, phrase);
    };
    if (draining_) return reject(503, "Service Unavailable", "draining");
    std::shared_ptr<const config::ServerConfig> cfg = config_;
    auto route = cfg->route(in.to_user);
    // A call from an agent's phone (not from a trunk of the number's tenant): authenticated as
    // that agent, then a feature code or a number of its tenant.
    const bool from_trunk = route && route->tenant->trunk_for_source(in.source_ip) != nullptr;
    const config::TenantConfig* agent_tenant = nullptr;
    std::string feature;
    if (!from_trunk) {
      agent_tenant = tenant_of(*cfg, in.from_user, in.to_host);
      if (agent_tenant != nullptr) {
        TenantRuntime& rt = *tenants_.at(agent_tenant->id);
        const TimePoint now = wall_now();
        auto challenge = [&](bool stale) {
          std::vector<std::string> h;
          for (const std::string& c : rt.auth->challenges(now, stale)) {
            h.push_back("Proxy-Authenticate: " + c);
          }
          rejected_++;
          stack_->reject(in.leg, 407, "Proxy Authentication Required", h);
        };
        if (in.authorization.empty()) return challenge(false);
        auto creds = sip::parse_credentials(in.authorization);
        if (!creds) return reject(400, "Bad Request", creds.message());
        const config::AgentSpec* agent = agent_tenant->find_agent(creds->username);
        std::optional<sip::DigestSecret> secret;
        if (agent != nullptr) secret = sip::DigestSecret::from_password(agent->password);
        switch (rt.auth->verify(*creds, "INVITE", secret, now)) {
          case sip::DigestVerdict::kOk: break;
          case sip::DigestVerdict::kStale: return challenge(true);
          case sip::DigestVerdict::kMalformed: return reject(400, "Bad Request", "credentials");
          case sip::DigestVerdict::kWrongCredentials: return challenge(false);
        }
        if (creds->username != in.from_user) return reject(403, "Forbidden", "not that agent");
        feature = apply_feature_code(*agent_tenant, rt, in.from_user, in.to_user);
        if (feature.empty() && in.to_user != in.from_user) {
          if (auto uri = direct_target(*agent_tenant, rt, in.to_user)) {
            return start_direct_call(in, cfg, *agent_tenant, uri->first, uri->second);
          }
        }
        if (feature.empty()) {
          route = cfg->route(in.to_user);
          if (!route || route->tenant != agent_tenant) {
            return reject(404, "Not Found", "no such number in the agent's tenant");
          }
        }
      }
    }
    if (!feature.empty()) return start_call(in, cfg, agent_tenant, feature, nullptr, true);
    if (agent_tenant != nullptr) return start_call(in, cfg, route->tenant, route->number->flow,
                                                   route->number, false);
    if (!route) {
      const bool known_source = std::any_of(
          cfg->tenants.begin(), cfg->tenants.end(),
          [&](const config::TenantConfig& t) { return t.trunk_for_source(in.source_ip); });
      if (!known_source) return reject(403, "Forbidden", "not a trunk");
      return reject(404, "Not Found", "no such number");
    }
    if (!from_trunk) return reject(403, "Forbidden", "not a trunk of tenant " + route->tenant->id);
    start_call(in, cfg, route->tenant, route->number->flow, route->number, false);
  }

  // A new call: SDP checked and negotiated, a media session opened, a flow started (the number's
  // flow, or a feature code's confirmation for an agent).
  void start_call(const sip::IncomingCall& in, std::shared_ptr<const config::ServerConfig> cfg,
                  const config::TenantConfig* tenant, const std::string& flow,
                  const config::NumberRoute* number, bool internal) {
    Call* c = open_call(in, cfg, tenant, std::nullopt);
    if (c == nullptr) return;
    const CallId id = c->id;
    c->flow = flow;
    c->internal = internal;

    core::CallInfo info;
    info.tenant = tenant->id;
    info.from = in.from_user;
    info.to = in.to_user;
    if (number != nullptr) info.language = number->language;
    std::shared_ptr<const core::FlowSet> flows =
        internal ? tenants_.at(tenant->id)->features : tenant->flows;
    core::FlowCommandSink out;
    Status s = flows_.start(id, flows, flow, info, wall_now(), out);
    log::info("call", {{"call", std::to_string(id.value)},
                       {"tenant", tenant->id},
                       {"from", in.from_user},
                       {"to", in.to_user},
                       {"flow", flow},
                       {"codec", c->agreed.encoding}});
    if (!s.is_ok()) {
      log::error("flow did not start", {{"call", std::to_string(id.value)}, {"why", s.message()}});
      stack_->reject(in.leg, 500, "Server Internal Error");
      end_call(id);
      return;
    }
    execute(out);
  }

  // The SDP offer checked and negotiated and a media session opened (on the worker of session
  // `near`, when given) for a new call; null, with the INVITE refused, when that fails.
  Call* open_call(const sip::IncomingCall& in, std::shared_ptr<const config::ServerConfig> cfg,
                  const config::TenantConfig* tenant, std::optional<media::SessionId> near) {
    auto reject = [&](int status, const char* phrase, const std::string& why) -> Call* {
      rejected_++;
      log::info("call refused", {{"status", std::to_string(status)},
                                 {"from", in.from_user},
                                 {"to", in.to_user},
                                 {"why", why}});
      stack_->reject(in.leg, status, phrase);
      return nullptr;
    };
    if (!in.sdp) return reject(488, "Not Acceptable Here", "no SDP offer (delayed offer)");
    auto sdp = sip::parse_sdp(*in.sdp);
    if (!sdp) return reject(400, "Bad SDP", sdp.message());
    media::RemoteMedia remote = to_remote(*sdp);
    auto agreed = media::negotiate(remote);
    if (!agreed) return reject(488, "Not Acceptable Here", agreed.message());

    const CallId id{next_call_++};
    auto local = media_->open(id.value, near);
    if (!local) return reject(503, "Service Unavailable", local.message());
    media_->set_remote(id.value, remote, *agreed);

    Call call;
    call.id = id;
    call.task = core::TaskId{id.value};
    call.leg = in.leg;
    call.config = cfg;
    call.tenant = tenant;
    call.caller = in.from_user;
    call.called = in.to_user;
    call.sip_call_id = in.call_id;
    call.started = wall_now();
    call.local = *local;
    if (wildcard_) {
      call.local.address = local_address_towards(in.source_ip);
      if (call.local.address.empty()) call.local.address = "127.0.0.1";
    }
    call.agreed = *agreed;
    legs_[in.leg] = id;
    calls_started_++;
    active_++;
    return &calls_.emplace(id, std::move(call)).first->second;
  }

  // An agent's own call (not a feature code, not a tenant number): to another extension's phone,
  // or out through a trunk when transfer_allow lets the number out. The caller hears ringing
  // until the far end answers. It runs on the media worker of the agent's current call, if any,
  // so that a REFER with Replaces can hand that call's caller to this far end.
  void start_direct_call(const sip::IncomingCall& in, std::shared_ptr<const config::ServerConfig> cfg,
                         const config::TenantConfig& tenant, const std::string& uri,
                         const std::string& agent) {
    std::optional<media::SessionId> near;
    for (const auto& [id, other] : calls_) {
      if (other.bridged && other.agent == in.from_user && other.tenant->id == tenant.id) {
        near = id.value;
      }
    }
    Call* c = open_call(in, cfg, &tenant, near);
    if (c == nullptr) return;
    c->direct = true;
    c->agent = agent;
    store::InteractionRecord r;
    r.id = node_ + "-" + std::to_string(c->id.value);
    r.tenant = tenant.id;
    r.direction = agent.empty() ? "outbound" : "internal";
    r.caller = c->caller;
    r.called = c->called;
    r.started_at = c->started;
    r.result = "missed";
    r.agent = agent;
    c->pending_record = std::move(r);
    log::info("call", {{"call", std::to_string(c->id.value)}, {"tenant", tenant.id},
                       {"from", in.from_user}, {"to", in.to_user}, {"direct", uri}});
    stack_->ringing(c->leg);
    if (Status st = place_transfer(*c, uri, bleg_session(c->id)); !st) {
      transfer_failed(*c, st.message());
    }
  }

  // Where an agent's own call to `dialled` goes, and the agent it reaches ("" when outside):
  // another extension's first registered phone, or a number transfer_allow lets out through a
  // trunk. Nothing for the tenant's own numbers (they run their flows) and anything else.
  std::optional<std::pair<std::string, std::string>> direct_target(const config::TenantConfig& t,
                                                                  TenantRuntime& rt,
                                                                  const std::string& dialled) {
    if (t.find_agent(dialled) != nullptr) {
      auto phones = rt.registrar.contacts(dialled, wall_now());
      if (phones.empty()) return std::nullopt;
      return std::make_pair(phones.front().contact, dialled);
    }
    if (t.flows->numbers.count(dialled)) return std::nullopt;
    if (core::resolve_transfer(*t.flows, dialled).kind != core::TransferTarget::Kind::kExternal) {
      return std::nullopt;
    }
    auto uri = transfer_uri(t, dialled, "");
    if (!uri) return std::nullopt;
    return std::make_pair(*uri, std::string());
  }

  // A feature code dialled by an agent: changes the agent's status and returns the confirmation
  // flow to play ("login", ..., "error"), or "" when `dialled` is not a feature code.
  std::string apply_feature_code(const config::TenantConfig& t, TenantRuntime& rt,
                                 const std::string& extension, const std::string& dialled) {
    const config::FeatureCodes& fc = t.feature_codes;
    core::SetAgentStatus set;
    set.agent = rt.agents.at(extension);
    std::string answer;
    if (dialled == fc.login || dialled == fc.resume) {
      set.status = core::AgentStatus::kAvailable;
      answer = dialled == fc.login ? "login" : "resume";
    } else if (dialled == fc.logout) {
      set.status = core::AgentStatus::kLoggedOut;
      answer = "logout";
    } else if (dialled.rfind(fc.pause, 0) == 0 && dialled.size() <= fc.pause.size() + 1) {
      set.status = core::AgentStatus::kBreak;
      if (dialled.size() == fc.pause.size() + 1) {
        const int n = dialled.back() - '0';
        if (n < 1 || n > static_cast<int>(t.break_reasons.size())) return "error";
        set.reason = t.break_reasons[static_cast<size_t>(n - 1)];
      }
      answer = "pause";
    } else {
      return "";
    }
    if (Status st = route_event(rt, set); !st) {
      log::warn("feature code refused", {{"agent", extension}, {"why", st.message()}});
      return "error";
    }
    log::info("agent status", {{"tenant", t.id}, {"agent", extension}, {"code", dialled},
                               {"status", std::string(core::to_string(set.status))}});
    return answer;
  }

  // The tenant a request for `user`@`host` belongs to: the one whose realm is `host`, else the only
  // tenant with an agent `user`. Null when none (or several) fit.
  const config::TenantConfig* tenant_of(const config::ServerConfig& cfg, const std::string& user,
                                        const std::string& host) {
    if (const config::TenantConfig* t = cfg.tenant_for_realm(host)) return t;
    const config::TenantConfig* found = nullptr;
    for (const config::TenantConfig& t : cfg.tenants) {
      if (t.find_agent(user) != nullptr) {
        if (found != nullptr) return nullptr;  // ambiguous: the phone must name its realm
        found = &t;
      }
    }
    return found;
  }

  // REGISTER (RFC 3261 §10.3) for an agent's phone: digest-authenticated as that agent.
  void on(SipRegister& ev) {
    const sip::IncomingRegister& in = ev.reg;
    const config::TenantConfig* tenant = tenant_of(*config_, in.to_user, in.to_host);
    if (tenant == nullptr) {
      stack_->respond_register(in.id, 404, "Not Found", {});
      return;
    }
    TenantRuntime& rt = *tenants_.at(tenant->id);
    const TimePoint now = wall_now();
    auto challenge = [&](bool stale) {
      std::vector<std::string> h;
      for (const std::string& c : rt.auth->challenges(now, stale)) h.push_back("WWW-Authenticate: " + c);
      stack_->respond_register(in.id, 401, "Unauthorized", h);
    };
    if (in.authorization.empty()) return challenge(false);
    auto creds = sip::parse_credentials(in.authorization);
    if (!creds) {
      log::info("register refused", {{"user", in.to_user}, {"why", creds.message()}});
      stack_->respond_register(in.id, 400, "Bad Request", {});
      return;
    }
    const config::AgentSpec* agent = tenant->find_agent(creds->username);
    std::optional<sip::DigestSecret> secret;
    if (agent != nullptr) secret = sip::DigestSecret::from_password(agent->password);
    switch (rt.auth->verify(*creds, "REGISTER", secret, now)) {
      case sip::DigestVerdict::kOk: break;
      case sip::DigestVerdict::kStale: return challenge(true);
      case sip::DigestVerdict::kMalformed:
        stack_->respond_register(in.id, 400, "Bad Request", {});
        return;
      case sip::DigestVerdict::kWrongCredentials:
        log::info("register refused", {{"user", creds->username}, {"tenant", tenant->id},
                                       {"source", in.source_ip}, {"why", "wrong credentials"}});
        return challenge(false);
    }
    if (creds->username != in.to_user) {  // an agent registers only its own extension
      stack_->respond_register(in.id, 403, "Forbidden", {});
      return;
    }
    sip::RegisterRequest req;
    req.aor = in.to_user;
    for (const auto& c : in.contacts) req.contacts.push_back({c.uri, c.expires});
    req.wildcard = in.wildcard;
    req.expires = in.expires;
    req.call_id = in.call_id;
    req.cseq = in.cseq;
    req.source_address = in.source_ip;
    req.source_port = in.source_port;
    req.transport = in.transport;
    sip::RegisterResult res = rt.registrar.handle_register(req, now);
    std::vector<std::string> headers;
    if (res.ok()) {
      for (const sip::Binding& b : res.bindings) {
        headers.push_back("Contact: <" + b.contact + ">;expires=" +
                          std::to_string(b.expires_in(now)));
      }
      if (res.added > 0 || !res.removed.empty()) {
        log::info("registered", {{"tenant", tenant->id}, {"agent", in.to_user},
                                 {"contacts", std::to_string(res.bindings.size())},
                                 {"source", in.source_ip}});
      }
    } else if (res.status == 423) {
      headers.push_back("Min-Expires: " + std::to_string(res.min_expires));
    }
    stack_->respond_register(in.id, res.status, res.reason, headers);
  }

  // A re-INVITE from the far end of a bridge (the agent's phone): hold (a=sendonly, a=inactive,
  // or no media address) puts the caller on the queue's music; anything else resumes the bridge.
  void on(SipReinvite& ev) {
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
  void hold_call(Call& c) {
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
  void contact_state(const Call& c, const char* state) {
    TenantRuntime* rt = runtime_of(c);
    if (rt == nullptr) return;
    auto it = rt->contacts.find(c.agent);
    if (it == rt->contacts.end() || it->second.call != c.id) return;
    it->second.state = state;
    it->second.since = wall_now();
  }

  void resume_call(Call& c) {
    c.on_hold = false;
    c.hold_total += wall_now() - c.hold_started;
    c.event("resumed", c.agent);
    media_->stop_play(c.id.value);
    media_->bridge(c.id.value, c.b_session);
    contact_state(c, "connected");
    contact_event(c, "resumed", c.agent);
  }

  void on(SipEnded& ev) {
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
  std::vector<uint32_t> standing_offer(const Call& c) const {
    std::vector<uint32_t> out;
    for (const auto& [leg, al] : agent_legs_) {
      if (al.call == c.id && c.offered_at.count(al.agent.value)) out.push_back(al.agent.value);
    }
    return out;
  }

  // The caller is gone while queued or ringing agents: the router hears it was abandoned.
  void withdraw(Call& c) {
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
  void finish_bridge(Call& c, const char* ended_by) {
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

  void on(OutProgress&) {}

  void on(OutAnswered& ev) {
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

  void on(OutFailed& ev) {
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

  void transfer_failed(Call& c, const std::string& why) {
    log::info("transfer failed", {{"call", std::to_string(c.id.value)},
                                  {"to", c.transfer_target},
                                  {"why", why}});
    media_->close(c.b_session);
    b_legs_.erase(c.b_leg);
    c.b_leg = 0;
    c.b_up = false;
    if (c.pending_record) {  // a transfer from the agent's phone: back to the queue, if any
      c.event("transfer-failed", why);
      c.agent.clear();
      if (!c.queue.empty() && requeue(c, c.queue)) return;
      if (c.leg_up) {
        stack_->hangup(c.leg);
        c.leg_up = false;
      }
      finish_bridge(c, "system");
      return;
    }
    flow_event(c.id, core::TransferResult{false, why});
  }

  void expire_transfers(TimePoint now) {
    while (!transfer_deadlines_.empty() && transfer_deadlines_.begin()->first <= now) {
      const CallId id = transfer_deadlines_.begin()->second;
      transfer_deadlines_.erase(transfer_deadlines_.begin());
      Call* c = find(id);
      if (c == nullptr || c->b_leg == 0 || c->bridged) continue;
      stack_->hangup(c->b_leg);  // CANCEL
      transfer_failed(*c, "no answer within " + format_duration(kTransferRingTimeout));
    }
  }

  void on(SipDigit& ev) {
    auto it = legs_.find(ev.leg);
    if (it != legs_.end()) digit(it->second, ev.digit);
  }
  void on(MediaDigit& ev) {
    if (ev.session & kBLegBit) return;  // the far end of a transfer talks to the caller
    digit(CallId{ev.session}, ev.digit);
  }

  // A digit from the caller: an exit key while queued, else input for the flow.
  void digit(CallId id, char d) {
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
  void on(MediaPlayDone& ev) {
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
  void on(MediaRecordDone& ev) {
    if (!ev.error.empty()) {
      log::error("recording failed", {{"call", std::to_string(ev.session)}, {"why", ev.error}});
    }
    flow_event(CallId{ev.session}, core::RecordDone{ev.error.empty() ? ev.path : "", ev.length});
  }
  void on(MediaTimeout& ev) {
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
  void on(PlayReady& ev) {
    Call* c = find(ev.call);
    if (c == nullptr || c->current_play != ev.play_id) return;  // hung up, or a newer play
    if (!ev.error.empty()) {
      log::error("prompt unavailable", {{"call", std::to_string(ev.call.value)}, {"why", ev.error}});
    }
    media_->play(ev.call.value, ev.play_id, std::move(ev.items));
  }
  void on(Reload& ev) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      config_ = ev.config;
    }
    if (Status s = build_tenants(*ev.config); !s) log::error("reload", {{"why", s.message()}});
    log::info("configuration reloaded", {{"source", ev.config->source}});
    if (ev.applied) ev.applied->set_value();
  }
  void on(Drain&) {
    draining_ = true;
    log::info("draining", {{"calls", std::to_string(calls_.size())}});
    notify_if_idle();
  }
  void on(HangupAll&) { hangup_all(); }

  void on(AgentStatusRequest& ev) {
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

  void on(SnapshotRequest& ev) {
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

  static QueueView queue_view(const TenantRuntime& rt, const std::string& name, core::QueueId qid,
                              TimePoint now) {
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

  void emit(const std::string& tenant, Topic topic, const std::string& agent, std::string json,
            std::string_view event = "") {
    std::lock_guard<std::mutex> lock(listener_mu_);
    if (listener_) listener_(LiveEvent{tenant, topic, agent, std::string(event), std::move(json)});
  }

  std::string record_id(const Call& c) const { return node_ + "-" + std::to_string(c.id.value); }

  ContactFields contact_fields(const Call& c, const std::string& agent) const {
    return {record_id(c), c.caller, c.called, c.queue, agent, c.ivr_path};
  }

  void contact_event(const Call& c, std::string_view event, const std::string& agent,
                     const nlohmann::json* extra = nullptr) {
    emit(c.tenant->id, Topic::kContacts, agent,
         server::contact_event(c.tenant->id, wall_now(), event, contact_fields(c, agent), extra),
         event);
  }

  // The agent's contact for the web side is now `state` (a new contact replaces the last).
  void set_contact(TenantRuntime& rt, const Call& c, const std::string& agent,
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
  void offer_ended(TenantRuntime& rt, const Call& c, const std::string& agent) {
    auto it = rt.contacts.find(agent);
    if (it == rt.contacts.end() || it->second.call != c.id || it->second.state != "ringing") return;
    rt.contacts.erase(it);
    contact_event(c, "missed", agent);
  }

  // The conversation of `agent` with `c` is over: the agent's screen asks for the wrap-up.
  void contact_over(const Call& c, const std::string& agent) {
    TenantRuntime* rt = runtime_of(c);
    if (agent.empty() || rt == nullptr) return;
    auto it = rt->contacts.find(agent);
    if (it == rt->contacts.end() || it->second.call != c.id) return;
    it->second.state = "wrap-up";
    it->second.since = wall_now();
  }

  void ended_event(const Call& c, const store::InteractionRecord& r) {
    if (r.queue.empty() && r.agent.empty()) return;  // not a contact of the agents' side
    const nlohmann::json extra = {{"result", r.result}};
    emit(c.tenant->id, Topic::kContacts, r.agent,
         server::contact_event(c.tenant->id, wall_now(), "ended",
                               {r.id, r.caller, r.called, r.queue, r.agent, r.ivr_path}, &extra),
         "ended");
  }

  // An agent's skills and queues replaced in the router (which offers at once what now fits).
  Status apply_setup(TenantRuntime& rt, const AgentSetup& a) {
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

  void on(AgentSetupRequest& ev) {
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
  void on(ContactCommand& ev) {
    ev.reply->set_value(contact_command(ev));
  }

  ContactAnswer contact_command(const ContactCommand& ev) {
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

  static const config::QueueSpec* queue_spec(const std::shared_ptr<const config::ServerConfig>& cfg,
                                             const std::string& tenant, const std::string& queue) {
    for (const config::TenantConfig& t : cfg->tenants) {
      if (t.id == tenant) return t.find_queue(queue);
    }
    return nullptr;
  }

  static ContactView contact_view(const TenantRuntime::AgentContact& ac, const config::QueueSpec* q) {
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
  void publish_queues(TimePoint now) {
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

  void hangup_all() {
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

  void flow_event(CallId id, const core::FlowEvent& e) {
    core::FlowCommandSink out;
    flows_.handle(id, e, wall_now(), out);
    execute(out);
  }

  Call* find(CallId id) {
    auto it = calls_.find(id);
    return it == calls_.end() ? nullptr : &it->second;
  }
  Call* find_task(core::TaskId task) {
    auto it = requeued_.find(task.value);
    return find(it == requeued_.end() ? CallId{task.value} : it->second);
  }

  // ---- the routing engine (one Router per tenant) ----

  // Applies an event to the tenant's router and carries out what it says; events that carrying
  // out produces (a phone that cannot be rung) are fed back until none is left.
  Status route_event(TenantRuntime& rt, const core::Event& event) {
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

  void advance_routers(TimePoint now) {
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

  std::optional<TimePoint> next_router_deadline() const {
    std::optional<TimePoint> next;
    for (const auto& [id, rt] : tenants_) {
      auto d = rt->router->next_deadline();
      if (d && (!next || *d < *next)) next = d;
    }
    return next;
  }

  // Ring every registered phone of the agent; a phone-less agent declines at once.
  void route_command(TenantRuntime& rt, core::OfferTask& o, std::deque<core::Event>& pending) {
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

  // Stop ringing the agent's phones for the task (or hang up one that answered too late).
  void route_command(TenantRuntime& rt, core::CancelOffer& x, std::deque<core::Event>&) {
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

  void route_command(TenantRuntime& rt, core::TaskAssigned& a, std::deque<core::Event>&) {
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
  void start_conversation(Call& call) {
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

  void route_command(TenantRuntime&, core::TaskRejected& r, std::deque<core::Event>&) {
    if (Call* c = find_task(r.task)) leave_queue(c->id, "", std::string(core::to_string(r.reason)));
  }
  void route_command(TenantRuntime&, core::TaskLeftQueue& l, std::deque<core::Event>&) {
    if (Call* c = find_task(l.task)) leave_queue(c->id, l.branch, std::string(core::to_string(l.reason)));
  }
  // A change of an agent's status or state: logged and stored with how long the last one lasted.
  void route_command(TenantRuntime& rt, core::AgentChanged& a, std::deque<core::Event>&) {
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

  void leave_queue(CallId id, const std::string& branch, const std::string& reason) {
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

  void drop_agent_leg(sip::LegId leg) {
    auto it = agent_legs_.find(leg);
    if (it == agent_legs_.end()) return;
    stack_->hangup(leg);
    media_->close(it->second.session);
    agent_legs_.erase(it);
    answered_legs_.erase(leg);
  }

  TenantRuntime* runtime_of(const Call& c) {
    auto it = tenants_.find(c.tenant->id);
    return it == tenants_.end() ? nullptr : it->second.get();
  }

  // ---- flow commands ----

  void execute(core::FlowCommandSink& out) {
    for (core::FlowCommand& cmd : out) std::visit([&](auto& c) { run(c); }, cmd);
  }

  std::string answer_sdp(const Call& c) {
    sip::SdpAnswer a;
    a.address = c.local.address;
    a.port = c.local.port;
    a.payload_type = c.agreed.payload_type;
    a.encoding = c.agreed.encoding;
    a.telephone_event = c.agreed.telephone_event;
    a.mode = to_mode(c.agreed.direction);
    a.session_id = c.id.value;
    a.version = 1;
    return sip::build_sdp(a);
  }

  void run(core::Answer& a) {
    Call* c = find(a.call);
    if (c == nullptr || !c->leg_up || c->answered) return;
    if (a.early) {
      if (!c->sdp_sent) stack_->progress(c->leg, answer_sdp(*c));
    } else {
      stack_->answer(c->leg, answer_sdp(*c));
      c->answered = true;
      c->answered_at = wall_now();
    }
    c->sdp_sent = true;
  }

  void run(core::Play& p) {
    Call* c = find(p.call);
    if (c == nullptr) return;
    say(*c, p.play_id, p.prompts);
  }

  // Plays prompts to the caller: at once when every one is a recorded file in memory, else after
  // the resolver thread has synthesized what needs it (PlayReady).
  void say(Call& call, uint64_t play_id, const std::vector<core::Prompt>& prompts) {
    Call* c = &call;
    c->current_play = play_id;
    std::vector<std::shared_ptr<const media::Audio>> items;
    bool all_ready = true;
    for (const core::Prompt& pr : prompts) {
      if (pr.kind != core::PromptSpec::Kind::kId) {
        all_ready = false;
        break;
      }
      const config::PromptSource* src = c->tenant->prompt(pr.id, pr.language);
      auto audio = src && !src->file.empty() ? audio_.find(src->file) : nullptr;
      if (!audio) {
        all_ready = false;
        break;
      }
      items.push_back(std::move(audio));
    }
    if (all_ready) {
      media_->play(c->id.value, play_id, std::move(items));
      return;
    }
    {
      std::lock_guard<std::mutex> lock(resolve_mu_);
      resolve_queue_.push_back({c->id, play_id, prompts, c->config, c->tenant});
    }
    resolve_cv_.notify_one();
  }

  // One of the server's own announcements to a queued caller (position, a message, the recording
  // notice); the queue's music comes back when it ends.
  void announce(Call& c, std::vector<core::Prompt> prompts) {
    c.announce_play = kAnnouncePlayBase + next_announce_++;
    say(c, c.announce_play, prompts);
  }

  core::Prompt prompt_id(const Call& c, const std::string& id) {
    core::Prompt p;
    p.kind = core::PromptSpec::Kind::kId;
    p.id = id;
    p.language = c.language;
    return p;
  }

  void run(core::StopPlay& s) {
    Call* c = find(s.call);
    if (c == nullptr) return;
    media_->stop_play(s.call.value);
    // The media engine reports the stop (on_play_done), which the flow engine expects.
  }

  void run(core::Record& r) {
    Call* c = find(r.call);
    if (c == nullptr) return;
    const std::string dir = c->config->data_dir + "/voicemail/" + c->tenant->id;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    c->recording = dir + "/" + node_ + "-" + std::to_string(c->id.value) + ".wav";
    if (r.beep) media_->play(r.call.value, kBeepPlayId, {media::Audio::beep()});
    media_->record(r.call.value, r.call.value, c->recording, media::RecordMode::kMono, r.max);
  }

  // An external transfer: a second leg to the destination, bridged to the caller when it answers.
  void run(core::Transfer& t) {
    Call* c = find(t.call);
    if (c == nullptr) return;
    auto uri = transfer_uri(*c->tenant, t.target, t.trunk);
    Status placed = uri ? place_transfer(*c, *uri, bleg_session(c->id)) : uri.status();
    if (!placed) {
      core::FlowCommandSink out;
      flows_.handle(t.call, core::TransferResult{false, placed.message()}, wall_now(), out);
      execute(out);
    }
  }

  // A second leg from the caller to `uri` on media session `session`, bridged when it answers
  // (OutAnswered), given up after kTransferRingTimeout.
  Status place_transfer(Call& c, const std::string& uri, media::SessionId session) {
    c.b_session = session;
    auto local = media_->open(c.b_session, c.id.value);
    if (!local) return local.status();
    sip::SdpAnswer offer;  // offered in the caller's codec, so the bridge needs no transcoding
    offer.address = wildcard_ ? c.local.address : local->address;
    offer.port = local->port;
    offer.payload_type = c.agreed.payload_type;
    offer.encoding = c.agreed.encoding;
    offer.telephone_event = 101;
    offer.session_id = session & 0xffffffffULL;
    sip::OutgoingCall out;
    out.target = uri;
    out.from_user = c.caller;
    out.sdp = sip::build_sdp(offer);
    c.transfer_target = uri;
    c.b_leg = stack_->invite(std::move(out));
    c.b_up = true;
    b_legs_[c.b_leg] = c.id;
    c.transfer_deadline = wall_now() + kTransferRingTimeout;
    transfer_deadlines_.insert({c.transfer_deadline, c.id});
    log::info("transferring", {{"call", std::to_string(c.id.value)}, {"to", uri}});
    return Status::ok();
  }

  // A blind transfer from the agent's phone (REFER in the bridged call): to another agent's
  // extension (its first registered phone), to a queue (its id, or a number whose flow starts
  // with that queue), or to a number transfer_allow lets out through a trunk. The agent's leg is
  // released at once (NOTIFY 200, BYE) and wraps up; the caller hears the queue's music until the
  // destination answers, and goes back to the queue if it does not. Attended transfer (Replaces)
  // is refused with 501.
  void on(SipRefer& ev) {
    auto b = b_legs_.find(ev.leg);
    Call* c = b == b_legs_.end() ? nullptr : find(b->second);
    if (c == nullptr || !c->bridged || c->agent.empty() || !c->pending_record) {
      stack_->refer_status(ev.leg, 403, "Forbidden");
      return;
    }
    if (!ev.refer.replaces_call_id.empty()) return attended_transfer(*c, ev.leg, ev.refer);
    TransferPlan plan = plan_transfer(*c, ev.refer.target_user, ev.refer.target);
    if (plan.status != 200) {
      stack_->refer_status(ev.leg, plan.status,
                           plan.status == 480 ? "Temporarily Unavailable" : "Forbidden");
      return;
    }
    stack_->refer_status(ev.leg, 200, "OK");
    blind_transfer(*c, plan);
  }

  // Where a blind transfer of `c` to `user` (the REFER's user part; `target` the whole URI)
  // goes: another agent's phone, a queue, or out through a trunk. status 200, or 480 (the agent
  // has no phone registered) or 403 (not a place this tenant may send calls).
  struct TransferPlan {
    int status = 200;
    std::string user, uri, queue, agent;
  };
  TransferPlan plan_transfer(Call& c, const std::string& user, const std::string& target) {
    TransferPlan p;
    p.user = user;
    TenantRuntime* rt = runtime_of(c);
    const config::TenantConfig& t = *c.tenant;
    if (t.find_agent(user) != nullptr && rt != nullptr) {
      auto phones = rt->registrar.contacts(user, wall_now());
      if (phones.empty()) {
        p.status = 480;
        return p;
      }
      p.uri = phones.front().contact;
      p.agent = user;
    } else if (p.queue = queue_named(t, user); p.queue.empty()) {
      // transfer_allow may name the whole URI or just the number.
      auto allowed = [&](const std::string& x) {
        return core::resolve_transfer(*t.flows, x).kind == core::TransferTarget::Kind::kExternal;
      };
      auto out = allowed(target) ? Result<std::string>(target)
                 : allowed(user) ? transfer_uri(t, user, "")
                                 : Result<std::string>(Status::error("not allowed"));
      if (!out) {
        log::info("transfer refused", {{"call", std::to_string(c.id.value)},
                                       {"agent", c.agent}, {"to", target}});
        p.status = 403;
        return p;
      }
      p.uri = *out;
    }
    return p;
  }

  void blind_transfer(Call& c, const TransferPlan& plan) {
    const std::string from = c.agent;
    release_agent(c);
    c.transfers++;
    c.event("transferred", from + " to " + plan.user);
    log::info("blind transfer", {{"call", std::to_string(c.id.value)}, {"from", from},
                                 {"to", plan.user}});
    const nlohmann::json to = {{"to", plan.user}};
    contact_event(c, "transferred", from, &to);
    if (!plan.queue.empty()) {
      if (!requeue(c, plan.queue)) transfer_failed(c, "queue " + plan.queue + " is gone");
      return;
    }
    c.agent = plan.agent;
    resume_music(c);
    if (Status st = place_transfer(c, plan.uri, next_fork_session_++); !st) {
      transfer_failed(c, st.message());
    }
  }

  // An attended transfer: the agent, talking to the caller of `c` (usually on hold), called a
  // colleague or a number (a direct call) and now asks, with Replaces naming that call, that the
  // caller take the agent's place in it. The caller is bridged to the far end of the direct call;
  // both of the agent's legs end.
  void attended_transfer(Call& c, sip::LegId refer_leg, const sip::IncomingRefer& refer) {
    Call* consult = nullptr;
    for (auto& [id, other] : calls_) {
      if (other.direct && other.sip_call_id == refer.replaces_call_id) consult = &other;
    }
    if (consult == nullptr || !consult->bridged || !consult->b_up ||
        consult->caller != c.agent || consult->tenant->id != c.tenant->id) {
      stack_->refer_status(refer_leg, 481, "Call/Transaction Does Not Exist");
      return;
    }
    stack_->refer_status(refer_leg, 200, "OK");
    const std::string from = c.agent;
    release_agent(c);
    c.transfers++;
    const std::string to = consult->agent.empty() ? consult->called : consult->agent;
    c.event("transferred", from + " to " + to + " (attended)");
    const nlohmann::json target = {{"to", to}};
    contact_event(c, "transferred", from, &target);
    log::info("attended transfer", {{"call", std::to_string(c.id.value)}, {"from", from},
                                    {"to", to}});
    // The consultation's far end becomes this call's second leg.
    media_->unbridge(consult->id.value);
    transfer_deadlines_.erase({consult->transfer_deadline, consult->id});
    b_legs_[consult->b_leg] = c.id;
    c.b_leg = consult->b_leg;
    c.b_session = consult->b_session;
    c.b_up = true;
    c.bridged = true;
    c.agent = consult->agent;
    c.transfer_target = consult->transfer_target;
    c.connected_at = wall_now();
    consult->b_leg = 0;
    consult->b_up = false;
    consult->bridged = false;
    media_->stop_play(c.id.value);
    media_->bridge(c.id.value, c.b_session);
    c.event("connected", to);
    // The agent's consultation leg ends, with its own record.
    if (consult->leg_up) {
      stack_->hangup(consult->leg);
      consult->leg_up = false;
    }
    consult->talk_before += wall_now() - consult->connected_at;
    finish_bridge(*consult, "agent");
  }

  // The agent leaves a bridged call (a transfer): their leg is hung up, their talk time kept,
  // and the router hears the conversation is over (the agent wraps up).
  void release_agent(Call& c) {
    const TimePoint now = wall_now();
    contact_over(c, c.agent);
    if (c.on_hold) {
      c.on_hold = false;
      c.hold_total += now - c.hold_started;
    }
    if (c.connected_at != TimePoint{}) c.talk_before += now - c.connected_at;
    media_->unbridge(c.id.value);
    if (c.b_leg != 0) {
      b_legs_.erase(c.b_leg);
      if (c.b_up) stack_->hangup(c.b_leg);
      media_->close(c.b_session);
    }
    c.b_leg = 0;
    c.b_up = false;
    c.bridged = false;
    if (c.connected) {
      c.connected = false;
      if (TenantRuntime* rt = runtime_of(c)) {
        (void)route_event(*rt, core::TaskCompleted{c.task});
      }
    }
  }

  // The queue a transfer target names: a queue id, or a number whose flow starts with a queue.
  static std::string queue_named(const config::TenantConfig& t, const std::string& target) {
    if (t.find_queue(target) != nullptr) return target;
    auto number = t.flows->numbers.find(target);
    if (number == t.flows->numbers.end()) return "";
    const core::Flow* flow = t.flows->find_flow(number->second);
    if (flow == nullptr) return "";
    auto start = flow->nodes.find(flow->start);
    if (start == flow->nodes.end()) return "";
    const auto* q = std::get_if<core::QueueNode>(&start->second.body);
    return q != nullptr ? q->queue : "";
  }

  // The caller (whose flow is over) joins `queue` again; false when it does not exist.
  bool requeue(Call& c, const std::string& queue) {
    TenantRuntime* rt = runtime_of(c);
    if (rt == nullptr || !rt->queues.count(queue)) return false;
    if (c.task.value != c.id.value) requeued_.erase(c.task.value);
    c.task = core::TaskId{kRequeuedTaskBase + next_requeued_++};
    requeued_[c.task.value] = c.id;
    core::EnterQueue q;
    q.call = c.id;
    q.queue = queue;
    q.language = c.language;
    run(q);
    return true;
  }

  // A SIP URI as given, or a number sent to a trunk's `uri` (the named trunk, else the tenant's
  // first trunk that has one): sip:NUMBER@HOST[:PORT][;params].
  static Result<std::string> transfer_uri(const config::TenantConfig& tenant,
                                          const std::string& target, const std::string& trunk) {
    if (target.rfind("sip:", 0) == 0) return target;
    for (char ch : target) {
      if (!(std::isdigit(static_cast<unsigned char>(ch)) || ch == '+' || ch == '*' || ch == '#')) {
        return Status::error("transfer target '" + target + "' is neither a SIP URI nor a number");
      }
    }
    const config::Trunk* via = nullptr;
    if (!trunk.empty()) {
      via = tenant.find_trunk(trunk);
    } else {
      for (const config::Trunk& tr : tenant.trunks) {
        if (!tr.uri.empty()) {
          via = &tr;
          break;
        }
      }
    }
    if (via == nullptr || via->uri.rfind("sip:", 0) != 0) {
      return Status::error("no trunk with a uri to send '" + target + "' to");
    }
    return "sip:" + target + "@" + via->uri.substr(4);
  }

  void run(core::EnterQueue& q) {
    Call* c = find(q.call);
    if (c == nullptr) return;
    TenantRuntime* rt = runtime_of(*c);
    auto qid = rt ? rt->queues.find(q.queue) : decltype(rt->queues.end()){};
    if (rt == nullptr || qid == rt->queues.end()) {
      core::FlowCommandSink out;
      flows_.handle(q.call, core::QueueExited{"", "no queue '" + q.queue + "'"}, wall_now(), out);
      execute(out);
      return;
    }
    c->queued = true;
    c->queue = q.queue;
    c->exit_keys = q.exit_keys;
    if (!q.ivr_path.empty()) c->ivr_path = q.ivr_path;
    const config::QueueSpec* spec = c->tenant->find_queue(q.queue);
    if (spec != nullptr && !spec->music.empty()) {
      const config::PromptSource* src = c->tenant->prompt(spec->music, q.language);
      if (auto audio = src ? audio_.find(src->file) : nullptr) {
        media_->play(c->id.value, kBeepPlayId, {audio}, /*loop=*/true);
      }
    }
    core::TaskSpec task;
    task.id = c->task;
    task.channel = core::Channel::kVoice;
    task.queue = qid->second;
    task.priority = q.priority;
    task.attributes = {{"language", std::string(core::to_string(q.language))}};
    log::info("queued", {{"call", std::to_string(c->id.value)}, {"queue", q.queue}});
    c->language = q.language;
    c->queued_at = wall_now();
    c->event("queued", q.queue);
    contact_event(*c, "queued", "");
    const CallId id = c->id;
    routing_now_ = id;
    routing_since_ = std::chrono::steady_clock::now();
    (void)route_event(*rt, core::TaskArrived{std::move(task)});
    routing_now_ = CallId{};
    c = find(id);
    if (c == nullptr || spec == nullptr || !(c->queued || c->connected)) return;
    if (spec->recording.enabled && !spec->recording.announce.empty() && !c->notice_heard) {
      c->notice_playing = true;
      c->notice_heard = true;
      c->event("notice", spec->recording.announce);
      announce(*c, {prompt_id(*c, spec->recording.announce)});
    }
    if (!c->queued) return;
    if (spec->announce.enabled()) {
      c->next_announce = wall_now() + spec->announce.first_after;
      announce_deadlines_.insert({c->next_announce, id});
    }
    if (!spec->messages.prompts.empty()) {
      c->next_message = wall_now() + spec->messages.every;
      message_deadlines_.insert({c->next_message, id});
    }
  }

  // "You are number 3 in the queue. Your expected wait is about two minutes.", in the call's
  // language, when due (and, if so configured, only when the position changed).
  void announce_due(TimePoint now) {
    while (!announce_deadlines_.empty() && announce_deadlines_.begin()->first <= now) {
      const CallId id = announce_deadlines_.begin()->second;
      announce_deadlines_.erase(announce_deadlines_.begin());
      Call* c = find(id);
      if (c == nullptr || !c->queued || c->connected) continue;
      const config::QueueSpec* spec = c->tenant->find_queue(c->queue);
      TenantRuntime* rt = runtime_of(*c);
      if (spec == nullptr || rt == nullptr) continue;
      c->next_announce = now + spec->announce.every;
      announce_deadlines_.insert({c->next_announce, id});
      auto standing = rt->router->standing(c->task, now);
      if (!standing) continue;  // ringing an agent: no announcement now
      if (spec->announce.only_if_changed && standing->position == c->last_position) continue;
      if (c->announce_play != 0) continue;  // something else is being said: the next round
      c->last_position = standing->position;
      log::info("announced", {{"call", std::to_string(id.value)},
                              {"position", std::to_string(standing->position)},
                              {"expected_wait", format_duration(standing->expected_wait)}});
      std::vector<core::Prompt> sentences;
      for (std::string& text : announcement(spec->announce, standing->position,
                                            standing->expected_wait, c->language)) {
        core::Prompt p;
        p.kind = core::PromptSpec::Kind::kText;
        p.text = std::move(text);
        p.language = c->language;
        sentences.push_back(std::move(p));
      }
      announce(*c, std::move(sentences));
    }
  }

  // The queue's information messages, in turn, every `messages.every` while the caller waits; one
  // that falls while something else is said comes a few seconds later.
  void messages_due(TimePoint now) {
    while (!message_deadlines_.empty() && message_deadlines_.begin()->first <= now) {
      const CallId id = message_deadlines_.begin()->second;
      message_deadlines_.erase(message_deadlines_.begin());
      Call* c = find(id);
      if (c == nullptr || !c->queued || c->connected) continue;
      const config::QueueSpec* spec = c->tenant->find_queue(c->queue);
      if (spec == nullptr || spec->messages.prompts.empty()) continue;
      if (c->announce_play != 0) {
        c->next_message = now + kMessageRetry;
      } else {
        const std::string& prompt =
            spec->messages.prompts[c->message_index++ % spec->messages.prompts.size()];
        log::info("message", {{"call", std::to_string(id.value)}, {"prompt", prompt}});
        c->event("message", prompt);
        announce(*c, {prompt_id(*c, prompt)});
        c->next_message = now + spec->messages.every;
      }
      message_deadlines_.insert({c->next_message, id});
    }
  }

  // The announcement's sentences, each synthesized (and cached) on its own: the wait sentence
  // ("about two minutes") is shared by many callers, and each position's sentence is made once.
  static std::vector<std::string> announcement(const config::AnnounceSpec& a, uint32_t position,
                                               Duration wait, core::Language lang) {
    const std::string n = prompts::number_words(position, lang);
    const std::string d = prompts::duration_phrase(wait, lang);
    std::vector<std::string> out;
    switch (lang) {
      case core::Language::kFa:
        if (a.position) out.push_back("شما نفر " + n + " در صف هستید.");
        if (a.wait_time) out.push_back("زمان انتظار شما " + d + " است.");
        break;
      case core::Language::kAr:
        if (a.position) out.push_back("ترتيبك في قائمة الانتظار " + n + ".");
        if (a.wait_time) out.push_back("مدة انتظارك المتوقعة " + d + ".");
        break;
      case core::Language::kEn:
        if (a.position) out.push_back("You are number " + n + " in the queue.");
        if (a.wait_time) out.push_back("Your expected wait is " + d + ".");
        break;
    }
    return out;
  }

  // The queue's music again (after an announcement).
  void resume_music(Call& c) {
    const config::QueueSpec* spec = c.tenant->find_queue(c.queue);
    if (spec == nullptr || spec->music.empty()) return;
    const config::PromptSource* src = c.tenant->prompt(spec->music, c.language);
    if (auto audio = src ? audio_.find(src->file) : nullptr) {
      media_->play(c.id.value, kBeepPlayId, {audio}, /*loop=*/true);
    }
  }

  void run(core::Hangup& h) {
    Call* c = find(h.call);
    if (c == nullptr || !c->leg_up) return;
    if (c->answered) {
      stack_->hangup(c->leg);
    } else {
      auto [status, phrase] = sip_status(h.cause);
      stack_->reject(c->leg, status, phrase);
    }
    c->leg_up = false;
  }

  void run(core::Finished& f) {
    Call* c = find(f.call);
    if (c == nullptr) return;
    if (c->internal) {  // a feature code's confirmation: not a contact
      if (c->leg_up) {
        stack_->hangup(c->leg);
        c->leg_up = false;
      }
      end_call(f.call);
      return;
    }
    store::InteractionRecord r;
    r.id = node_ + "-" + std::to_string(c->id.value);
    r.tenant = c->tenant->id;
    r.caller = c->caller;
    r.called = c->called;
    r.started_at = c->started;
    r.answered_at = c->answered_at;
    r.ended_at = wall_now();
    r.flow = f.flow;
    r.ivr_path = f.path;
    r.result = std::string(core::to_string(f.result));
    r.ended_by = c->ended_by_caller ? "caller" : "system";
    r.queue = f.queue;
    r.agent = f.agent;
    r.reason = f.reason;
    r.variables = f.variables;
    r.recording = c->recording;  // a queued call's conversation (a voicemail's path wins below)
    r.wait = c->wait;
    r.ring = c->ring;
    r.transfers = f.result == core::FlowResult::kTransferred ? 1 : 0;
    r.timeline = c->timeline;
    if (f.voicemail) {
      r.recording = f.voicemail->path;
      store::VoicemailRecord v;
      v.id = r.id;
      v.interaction_id = r.id;
      v.tenant = r.tenant;
      v.caller = f.voicemail->caller;
      v.called = f.voicemail->called;
      v.at = f.voicemail->at;
      v.duration = f.voicemail->duration;
      v.path = f.voicemail->path;
      store_->save_voicemail(std::move(v));
    }
    r.transfer_target = f.transfer_target.empty() && c->bridged ? c->transfer_target
                                                                 : f.transfer_target;
    if (c->bridged && c->leg_up && c->b_up) {
      // The flow is done but the conversation goes on through the bridge.
      c->pending_record = std::move(r);
      return;
    }
    log::info("call ended", {{"call", std::to_string(c->id.value)},
                             {"result", r.result},
                             {"path", r.ivr_path},
                             {"ended_by", r.ended_by}});
    ended_event(*c, r);
    store_->save_interaction(std::move(r));
    if (c->leg_up) {
      stack_->hangup(c->leg);
      c->leg_up = false;
    }
    end_call(f.call);
  }

  void end_call(CallId id) {
    Call* c = find(id);
    if (c == nullptr) return;
    media_->close(id.value);
    withdraw(*c);
    if (c->connected) {  // a conversation that never got its own ending: the agent wraps up
      c->connected = false;
      if (TenantRuntime* rt = runtime_of(*c)) {
        (void)route_event(*rt, core::TaskCompleted{c->task});
      }
    }
    if (c->b_leg != 0) {
      if (c->b_up) stack_->hangup(c->b_leg);
      b_legs_.erase(c->b_leg);
      media_->close(c->b_session);
    }
    transfer_deadlines_.erase({c->transfer_deadline, id});
    announce_deadlines_.erase({c->next_announce, id});
    message_deadlines_.erase({c->next_message, id});
    if (c->task.value != id.value) requeued_.erase(c->task.value);
    if (c->leg_up) legs_.erase(c->leg);  // ended legs were erased when they ended
    calls_.erase(id);
    active_--;
    notify_if_idle();
  }

  void notify_if_idle() {
    if (active_.load() == 0) {
      std::lock_guard<std::mutex> lock(mu_);
      idle_cv_.notify_all();
    }
  }

  // ---- the resolver thread: prompts that need synthesis ----

  struct ResolveJob {
    CallId call;
    uint64_t play_id;
    std::vector<core::Prompt> prompts;
    std::shared_ptr<const config::ServerConfig> config;
    const config::TenantConfig* tenant;
  };

  void resolve_loop() {
    for (;;) {
      ResolveJob job;
      {
        std::unique_lock<std::mutex> lock(resolve_mu_);
        resolve_cv_.wait(lock, [&] { return resolve_stop_ || !resolve_queue_.empty(); });
        if (resolve_stop_) return;
        job = std::move(resolve_queue_.front());
        resolve_queue_.pop_front();
      }
      PlayReady ready{job.call, job.play_id, {}, ""};
      for (const core::Prompt& p : job.prompts) {
        auto audio = resolve(p, *job.tenant);
        if (!audio) {
          ready.error = audio.message();
          continue;  // say what can be said
        }
        ready.items.push_back(*audio);
      }
      post(std::move(ready));
    }
  }

  Result<std::shared_ptr<const media::Audio>> resolve(const core::Prompt& p,
                                                      const config::TenantConfig& tenant) {
    std::string text;
    switch (p.kind) {
      case core::PromptSpec::Kind::kId: {
        const config::PromptSource* src = tenant.prompt(p.id, p.language);
        if (src == nullptr) return Status::error("no prompt '" + p.id + "'");
        if (!src->file.empty()) return audio_.load(src->file);
        text = src->text;
        break;
      }
      case core::PromptSpec::Kind::kText: text = p.text; break;
      case core::PromptSpec::Kind::kNumber:
        text = prompts::number_words(p.number, p.language);
        break;
      case core::PromptSpec::Kind::kDuration:
        text = prompts::duration_phrase(std::chrono::seconds(p.number), p.language);
        break;
      case core::PromptSpec::Kind::kDigits:
        for (char ch : p.text) {
          if (!text.empty()) text += ' ';
          text += ch;
        }
        break;
    }
    auto file = synth_->synthesize(text, p.language);
    if (!file) return file.status();
    return audio_.load(*file);
  }

  // Shared between threads:
  std::mutex listener_mu_;
  EventListener listener_;  // guarded by listener_mu_; called on the core thread
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  std::deque<CoreEvent> queue_;                          // guarded by mu_
  std::shared_ptr<const config::ServerConfig> config_;  // guarded by mu_ (written by core)
  std::atomic<uint64_t> calls_started_{0}, active_{0}, rejected_{0};
  AudioCache audio_;
  LatencyHistogram routing_latency_;  // added to on the SIP thread
  std::string node_;
  bool wildcard_ = false;  // SIP and RTP listen on every address

  std::mutex resolve_mu_;
  std::condition_variable resolve_cv_;
  std::deque<ResolveJob> resolve_queue_;  // guarded by resolve_mu_
  bool resolve_stop_ = false;             // guarded by resolve_mu_

  // Owned; their threads call back into this object, so they are stopped first (destructor).
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<prompts::Synthesizer> synth_;
  std::unique_ptr<media::MediaEngine> media_;
  std::unique_ptr<sip::Stack> stack_;
  std::thread core_;
  std::thread resolver_;

  // Core thread only:
  core::FlowEngine flows_;
  std::unordered_map<CallId, Call> calls_;
  std::map<std::string, std::unique_ptr<TenantRuntime>> tenants_;
  std::unordered_map<sip::LegId, CallId> legs_;    // callers' legs
  std::unordered_map<sip::LegId, CallId> b_legs_;  // second legs: transfers, connected agents
  std::unordered_map<sip::LegId, AgentLeg> agent_legs_;  // agents' phones being rung
  std::unordered_map<uint64_t, CallId> requeued_;        // router task ids of requeued calls
  uint64_t next_requeued_ = 1;
  std::set<sip::LegId> answered_legs_;                   // of those, the ones that answered
  media::SessionId next_fork_session_ = 1ULL << 62;
  std::set<std::pair<TimePoint, CallId>> transfer_deadlines_;
  std::set<std::pair<TimePoint, CallId>> announce_deadlines_;
  std::set<std::pair<TimePoint, CallId>> message_deadlines_;
  uint64_t next_announce_ = 1;
  uint64_t next_call_ = 1;
  bool draining_ = false;
  bool queues_dirty_ = true;        // some tenant's queues_dirty is set
  TimePoint next_queue_publish_{};  // not before
  const TimePoint started_ = wall_now();
  // The call entering a queue right now (0 = none) and since when: its offers are timed.
  CallId routing_now_{};
  std::chrono::steady_clock::time_point routing_since_;
};

}  // namespace

Result<std::unique_ptr<Server>> Server::start(std::shared_ptr<const config::ServerConfig> config) {
  auto server = std::make_unique<ServerImpl>(std::move(config));
  if (Status s = server->start(); !s.is_ok()) return s;
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace tamas::server
