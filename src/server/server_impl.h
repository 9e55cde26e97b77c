// The live server's implementation (see server.h), private to src/server/ and included only by
// its .cc files: the events posted to the core thread, the state of calls and tenants, and
// ServerImpl, the wiring between the SIP stack, the media engine, the flow interpreter, the prompt
// synthesizer and the store.
//
// Thread rules:
//  - core thread (run()): owns calls_, legs_, flows_, config_; executes flow commands.
//  - SIP thread, media workers, media writer: call the Listener methods (server.cc), which only
//    post().
//  - resolver thread: turns prompts that need synthesis into audio, then posts PlayReady.
//  - the thread calling reload()/drain(): loads audio, then posts and waits.
//
// ServerImpl's methods are defined, by subject, in:
//  - server.cc: start and stop, the Server interface, the listeners;
//  - tenants.cc: each tenant's runtime (its router's queues and agents) from the configuration, at
//    start and on a reload;
//  - core_loop.cc: the core thread's loop and the events of calls in progress (legs that end,
//    answer or fail, re-INVITEs for hold, digits, media);
//  - incoming.cc: INVITEs (from trunks and agents' phones: feature codes, direct calls) and
//    REGISTERs;
//  - agents_web.cc: the web side's requests (status, live view, agents' set-ups, an agent's
//    contact and its call control) and the live events;
//  - routing.cc: the routing engine's glue (one Router per tenant): offers, assignments, agents'
//    changes, callers leaving queues;
//  - transfers.cc: second legs (a flow's transfer, an agent's direct call) and the agent's
//    transfers (REFER: blind, attended, back to a queue);
//  - flow_commands.cc: the flow engine's commands, queue announcements and messages, a call's end;
//  - resolver.cc: the resolver thread and the audio cache.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "common/latency.h"
#include "common/status.h"
#include "common/time.h"
#include "config/config.h"
#include "core/flow/flow.h"
#include "core/routing/router.h"
#include "media/engine.h"
#include "prompts/synth.h"
#include "server/live_events.h"
#include "server/server.h"
#include "sip/digest.h"
#include "sip/registrar.h"
#include "sip/sip.h"
#include "store/store.h"

namespace tamas::server::detail {

using core::CallId;
inline TimePoint wall_now() {
  return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
}

// An SDP body's audio as the media engine takes it (incoming.cc).
media::RemoteMedia to_remote(const sip::SdpAudio& sdp);

// Decoded prompts by file path, shared by every call and thread. Audio is immutable.
class AudioCache {
 public:
  std::shared_ptr<const media::Audio> find(const std::string& path);
  Result<std::shared_ptr<const media::Audio>> load(const std::string& path);
  Status preload(const config::ServerConfig& cfg);

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const media::Audio>> audio_;
};

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

// A phone of an agent being rung for a queued call (one per registered contact).
struct AgentLeg {
  CallId call;
  core::AgentId agent;
  media::SessionId session;
};

// The media session of a call's second leg: the call id with the top bit set.
constexpr media::SessionId kBLegBit = 1ULL << 63;
inline media::SessionId bleg_session(CallId id) { return id.value | kBLegBit; }

constexpr uint64_t kBeepPlayId = 0;

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

class ServerImpl final : public Server, public sip::Listener, public media::Listener {
 public:
  explicit ServerImpl(std::shared_ptr<const config::ServerConfig> config);
  ~ServerImpl() override;
  Status start();

  // ---- Server (server.cc) ----

  Status reload(std::shared_ptr<const config::ServerConfig> config) override;
  void drain(Duration limit) override;
  Status set_agent_status(const std::string& tenant, const std::string& extension,
                          const std::string& status, const std::string& reason,
                          Duration limit) override;
  Result<TenantView> snapshot(const std::string& tenant, Duration limit) override;
  ContactAnswer agent_contact(const std::string& tenant, const std::string& extension,
                              const ContactRequest& request, Duration limit) override;
  std::shared_ptr<const config::ServerConfig> configuration() override;
  Result<std::vector<AgentSetup>> agent_setups(const std::string& tenant, Duration limit) override;
  Status update_agent(const std::string& tenant, const AgentSetup& setup, Duration limit) override;
  void set_event_listener(EventListener listener) override;
  ServerStats stats() const override;

  // ---- sip::Listener (SIP thread; server.cc) ----

  void on_incoming_call(const sip::IncomingCall& call) override;
  void on_call_ended(sip::LegId leg, sip::EndReason reason) override;
  void on_info_digit(sip::LegId leg, char digit) override;
  void on_register(const sip::IncomingRegister& reg) override;
  void on_reinvite(sip::LegId leg, const std::string& sdp) override;
  void on_refer(sip::LegId leg, const sip::IncomingRefer& refer) override;
  void on_outgoing_progress(sip::LegId leg, int, const std::string&) override;
  void on_outgoing_answered(sip::LegId leg, const std::string& sdp) override;
  void on_invite_sent(sip::LegId, std::chrono::steady_clock::duration delay) override;
  void on_outgoing_failed(sip::LegId leg, int status, const std::string& phrase) override;

  // ---- media::Listener (media threads; server.cc) ----

  void on_dtmf(media::SessionId s, char digit, media::DtmfSource) override;
  void on_play_done(media::SessionId s, uint64_t play_id, bool) override;
  void on_record_done(media::SessionId s, uint64_t, const std::string& path,
                      Duration length) override;
  void on_record_failed(media::SessionId s, uint64_t, const std::string& path,
                        const std::string& message) override;
  void on_media_timeout(media::SessionId s) override;

 private:
  Result<std::vector<AgentSetup>> ask_setups(AgentSetupRequest req, Duration limit);
  void post(CoreEvent e);
  std::shared_ptr<const config::ServerConfig> current_config();

  // ---- each tenant's runtime (tenants.cc) ----

  Status build_tenants(const config::ServerConfig& cfg);
  Status apply_kept_setups(const config::TenantConfig& t, TenantRuntime& rt);
  static core::QueueConfig router_queue(const config::QueueSpec& q, TenantRuntime& rt,
                                        bool escalate);
  static Status build_router(const config::TenantConfig& t, TenantRuntime& rt);
  static Status add_agent(const config::AgentSpec& a, TenantRuntime& rt);
  static AgentSetup setup_of(const config::AgentSpec& a);
  void update_routing(const config::TenantConfig& t, TenantRuntime& rt);
  void run_router_commands(TenantRuntime& rt, core::CommandSink& out);
  static std::shared_ptr<const core::FlowSet> feature_flows(const config::TenantConfig& t);

  // ---- the core thread (core_loop.cc) ----

  void run();
  void on(Stop&);
  void on(SipReinvite& ev);
  void hold_call(Call& c);
  void contact_state(const Call& c, const char* state);
  void resume_call(Call& c);
  void on(SipEnded& ev);
  std::vector<uint32_t> standing_offer(const Call& c) const;
  void withdraw(Call& c);
  void finish_bridge(Call& c, const char* ended_by);
  void on(OutProgress&);
  void on(OutAnswered& ev);
  void on(OutFailed& ev);
  void on(SipDigit& ev);
  void on(MediaDigit& ev);
  void digit(CallId id, char d);
  void on(MediaPlayDone& ev);
  void on(MediaRecordDone& ev);
  void on(MediaTimeout& ev);
  void on(PlayReady& ev);
  void on(Reload& ev);
  void on(Drain&);
  void on(HangupAll&);
  void hangup_all();
  void flow_event(CallId id, const core::FlowEvent& e);
  Call* find(CallId id);
  Call* find_task(core::TaskId task);

  // ---- calls and registrations arriving (incoming.cc) ----

  void on(SipIncoming& ev);
  void start_call(const sip::IncomingCall& in, std::shared_ptr<const config::ServerConfig> cfg,
                  const config::TenantConfig* tenant, const std::string& flow,
                  const config::NumberRoute* number, bool internal);
  Call* open_call(const sip::IncomingCall& in, std::shared_ptr<const config::ServerConfig> cfg,
                  const config::TenantConfig* tenant, std::optional<media::SessionId> near);
  void start_direct_call(const sip::IncomingCall& in,
                         std::shared_ptr<const config::ServerConfig> cfg,
                         const config::TenantConfig& tenant, const std::string& uri,
                         const std::string& agent);
  std::optional<std::pair<std::string, std::string>> direct_target(const config::TenantConfig& t,
                                                                   TenantRuntime& rt,
                                                                   const std::string& dialled);
  std::string apply_feature_code(const config::TenantConfig& t, TenantRuntime& rt,
                                 const std::string& extension, const std::string& dialled);
  const config::TenantConfig* tenant_of(const config::ServerConfig& cfg, const std::string& user,
                                        const std::string& host);
  void on(SipRegister& ev);

  // ---- the web side and live events (agents_web.cc) ----

  void on(AgentStatusRequest& ev);
  void on(SnapshotRequest& ev);
  static QueueView queue_view(const TenantRuntime& rt, const std::string& name, core::QueueId qid,
                              TimePoint now);
  void emit(const std::string& tenant, Topic topic, const std::string& agent, std::string json,
            std::string_view event = "");
  std::string record_id(const Call& c) const;
  ContactFields contact_fields(const Call& c, const std::string& agent) const;
  void contact_event(const Call& c, std::string_view event, const std::string& agent,
                     const nlohmann::json* extra = nullptr);
  void set_contact(TenantRuntime& rt, const Call& c, const std::string& agent,
                   const std::string& state);
  void offer_ended(TenantRuntime& rt, const Call& c, const std::string& agent);
  void contact_over(const Call& c, const std::string& agent);
  void ended_event(const Call& c, const store::InteractionRecord& r);
  Status apply_setup(TenantRuntime& rt, const AgentSetup& a);
  void on(AgentSetupRequest& ev);
  void on(ContactCommand& ev);
  ContactAnswer contact_command(const ContactCommand& ev);
  static const config::QueueSpec* queue_spec(const std::shared_ptr<const config::ServerConfig>& cfg,
                                             const std::string& tenant, const std::string& queue);
  static ContactView contact_view(const TenantRuntime::AgentContact& ac,
                                  const config::QueueSpec* q);
  void publish_queues(TimePoint now);

  // ---- the routing engine, one Router per tenant (routing.cc) ----

  Status route_event(TenantRuntime& rt, const core::Event& event);
  void advance_routers(TimePoint now);
  std::optional<TimePoint> next_router_deadline() const;
  void route_command(TenantRuntime& rt, core::OfferTask& o, std::deque<core::Event>& pending);
  void route_command(TenantRuntime& rt, core::CancelOffer& x, std::deque<core::Event>&);
  void route_command(TenantRuntime& rt, core::TaskAssigned& a, std::deque<core::Event>&);
  void start_conversation(Call& call);
  void route_command(TenantRuntime&, core::TaskRejected& r, std::deque<core::Event>&);
  void route_command(TenantRuntime&, core::TaskLeftQueue& l, std::deque<core::Event>&);
  void route_command(TenantRuntime& rt, core::AgentChanged& a, std::deque<core::Event>&);
  void leave_queue(CallId id, const std::string& branch, const std::string& reason);
  void drop_agent_leg(sip::LegId leg);
  TenantRuntime* runtime_of(const Call& c);

  // ---- transfers (transfers.cc) ----

  void transfer_failed(Call& c, const std::string& why);
  void expire_transfers(TimePoint now);
  Status place_transfer(Call& c, const std::string& uri, media::SessionId session);
  void on(SipRefer& ev);
  // Where a blind transfer of `c` to `user` (the REFER's user part; `target` the whole URI)
  // goes: another agent's phone, a queue, or out through a trunk. status 200, or 480 (the agent
  // has no phone registered) or 403 (not a place this tenant may send calls).
  struct TransferPlan {
    int status = 200;
    std::string user, uri, queue, agent;
  };
  TransferPlan plan_transfer(Call& c, const std::string& user, const std::string& target);
  void blind_transfer(Call& c, const TransferPlan& plan);
  void attended_transfer(Call& c, sip::LegId refer_leg, const sip::IncomingRefer& refer);
  void release_agent(Call& c);
  static std::string queue_named(const config::TenantConfig& t, const std::string& target);
  bool requeue(Call& c, const std::string& queue);
  static Result<std::string> transfer_uri(const config::TenantConfig& tenant,
                                          const std::string& target, const std::string& trunk);

  // ---- flow commands (flow_commands.cc) ----

  void execute(core::FlowCommandSink& out);
  std::string answer_sdp(const Call& c);
  void run(core::Answer& a);
  void run(core::Play& p);
  void say(Call& call, uint64_t play_id, const std::vector<core::Prompt>& prompts);
  void announce(Call& c, std::vector<core::Prompt> prompts);
  core::Prompt prompt_id(const Call& c, const std::string& id);
  void run(core::StopPlay& s);
  void run(core::Record& r);
  void run(core::Transfer& t);
  void run(core::EnterQueue& q);
  void announce_due(TimePoint now);
  void messages_due(TimePoint now);
  static std::vector<std::string> announcement(const config::AnnounceSpec& a, uint32_t position,
                                               Duration wait, core::Language lang);
  void resume_music(Call& c);
  void run(core::Hangup& h);
  void run(core::Finished& f);
  void end_call(CallId id);
  void notify_if_idle();

  // ---- the resolver thread: prompts that need synthesis (resolver.cc) ----

  struct ResolveJob {
    CallId call;
    uint64_t play_id;
    std::vector<core::Prompt> prompts;
    std::shared_ptr<const config::ServerConfig> config;
    const config::TenantConfig* tenant;
  };

  void resolve_loop();
  Result<std::shared_ptr<const media::Audio>> resolve(const core::Prompt& p,
                                                      const config::TenantConfig& tenant);

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

}  // namespace tamas::server::detail
