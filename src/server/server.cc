// The live server (see server.h; the implementation's state and thread rules in server_impl.h):
// ServerImpl's start and stop, the Server interface (called on any thread: it posts to the core
// thread and waits for its answer) and the SIP and media listeners (which only post).
#include "server/server.h"

#include <cstdio>
#include <filesystem>
#include <random>

#include "common/log.h"
#include "server/server_impl.h"

namespace tamas::server::detail {

using namespace std::chrono_literals;

ServerImpl::ServerImpl(std::shared_ptr<const config::ServerConfig> config)
    : config_(std::move(config)) {
  std::random_device rd;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", rd());
  node_ = buf;
}

ServerImpl::~ServerImpl() {
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

Status ServerImpl::start() {
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

// ---- Server ----

Status ServerImpl::reload(std::shared_ptr<const config::ServerConfig> config) {
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

void ServerImpl::drain(Duration limit) {
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

Status ServerImpl::set_agent_status(const std::string& tenant, const std::string& extension,
                                    const std::string& status, const std::string& reason,
                                    Duration limit) {
  auto reply = std::make_shared<std::promise<Status>>();
  auto answer = reply->get_future();
  post(AgentStatusRequest{tenant, extension, status, reason, reply});
  if (answer.wait_for(limit) != std::future_status::ready) {
    return Status::error("the server did not answer within " + format_duration(limit));
  }
  return answer.get();
}

Result<TenantView> ServerImpl::snapshot(const std::string& tenant, Duration limit) {
  auto reply = std::make_shared<std::promise<Result<TenantView>>>();
  auto answer = reply->get_future();
  post(SnapshotRequest{tenant, reply});
  if (answer.wait_for(limit) != std::future_status::ready) {
    return Status::error("the server did not answer within " + format_duration(limit));
  }
  return answer.get();
}

ContactAnswer ServerImpl::agent_contact(const std::string& tenant, const std::string& extension,
                                        const ContactRequest& request, Duration limit) {
  auto reply = std::make_shared<std::promise<ContactAnswer>>();
  auto answer = reply->get_future();
  post(ContactCommand{tenant, extension, request, reply});
  if (answer.wait_for(limit) != std::future_status::ready) {
    return {503, "the server did not answer within " + format_duration(limit), "", {}};
  }
  return answer.get();
}

std::shared_ptr<const config::ServerConfig> ServerImpl::configuration() { return current_config(); }

Result<std::vector<AgentSetup>> ServerImpl::agent_setups(const std::string& tenant,
                                                         Duration limit) {
  return ask_setups(AgentSetupRequest{tenant, std::nullopt, nullptr}, limit);
}

Status ServerImpl::update_agent(const std::string& tenant, const AgentSetup& setup,
                                Duration limit) {
  auto r = ask_setups(AgentSetupRequest{tenant, setup, nullptr}, limit);
  return r.is_ok() ? Status::ok() : r.status();
}

Result<std::vector<AgentSetup>> ServerImpl::ask_setups(AgentSetupRequest req, Duration limit) {
  req.reply = std::make_shared<std::promise<Result<std::vector<AgentSetup>>>>();
  auto answer = req.reply->get_future();
  post(std::move(req));
  if (answer.wait_for(limit) != std::future_status::ready) {
    return Status::error("the server did not answer within " + format_duration(limit));
  }
  return answer.get();
}

void ServerImpl::set_event_listener(EventListener listener) {
  std::lock_guard<std::mutex> lock(listener_mu_);
  listener_ = std::move(listener);
}

ServerStats ServerImpl::stats() const {
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

void ServerImpl::on_incoming_call(const sip::IncomingCall& call) { post(SipIncoming{call}); }
void ServerImpl::on_call_ended(sip::LegId leg, sip::EndReason reason) {
  post(SipEnded{leg, reason});
}
void ServerImpl::on_info_digit(sip::LegId leg, char digit) { post(SipDigit{leg, digit}); }
void ServerImpl::on_register(const sip::IncomingRegister& reg) { post(SipRegister{reg}); }
void ServerImpl::on_reinvite(sip::LegId leg, const std::string& sdp) {
  post(SipReinvite{leg, sdp});
}
void ServerImpl::on_refer(sip::LegId leg, const sip::IncomingRefer& refer) {
  post(SipRefer{leg, refer});
}
void ServerImpl::on_outgoing_progress(sip::LegId leg, int, const std::string&) {
  post(OutProgress{leg});
}
void ServerImpl::on_outgoing_answered(sip::LegId leg, const std::string& sdp) {
  post(OutAnswered{leg, sdp});
}
void ServerImpl::on_invite_sent(sip::LegId, std::chrono::steady_clock::duration delay) {
  routing_latency_.add(delay);
}
void ServerImpl::on_outgoing_failed(sip::LegId leg, int status, const std::string& phrase) {
  post(OutFailed{leg, status, phrase});
}

// ---- media::Listener (media threads) ----

void ServerImpl::on_dtmf(media::SessionId s, char digit, media::DtmfSource) {
  post(MediaDigit{s, digit});
}
void ServerImpl::on_play_done(media::SessionId s, uint64_t play_id, bool) {
  post(MediaPlayDone{s, play_id});
}
void ServerImpl::on_record_done(media::SessionId s, uint64_t, const std::string& path,
                                Duration length) {
  post(MediaRecordDone{s, path, length, ""});
}
void ServerImpl::on_record_failed(media::SessionId s, uint64_t, const std::string& path,
                                  const std::string& message) {
  post(MediaRecordDone{s, path, Duration(0), message});
}
void ServerImpl::on_media_timeout(media::SessionId s) { post(MediaTimeout{s}); }

void ServerImpl::post(CoreEvent e) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(e));
  }
  cv_.notify_one();
}

std::shared_ptr<const config::ServerConfig> ServerImpl::current_config() {
  std::lock_guard<std::mutex> lock(mu_);
  return config_;
}

}  // namespace tamas::server::detail

namespace tamas::server {

Result<std::unique_ptr<Server>> Server::start(std::shared_ptr<const config::ServerConfig> config) {
  auto server = std::make_unique<detail::ServerImpl>(std::move(config));
  if (Status s = server->start(); !s.is_ok()) return s;
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace tamas::server
