// The SIP user agent over sofia-sip's NUA: see sip.h for the contract.
//
// Thread rules: one thread (started here) owns the su_root reactor, the NUA and every handle.
// Other threads reach it only through `post()`: a mutex-guarded queue of commands plus an
// eventfd registered with the reactor to wake it.
//
// NUA is run with its own media negotiation off (NUTAG_MEDIA_ENABLE(0)): SDP bodies pass through
// untouched and offer/answer is decided by the media engine, as FreeSWITCH does.
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstring>
#include <functional>
#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

#include "sip/dep_sofia.h"
#include "sip/sip.h"

namespace tamas::sip {
namespace {

struct Leg {
  LegId id = 0;
  nua_handle_t* nh = nullptr;
  std::string sdp;        // our last SDP (183/200), offered again on a re-INVITE
  uint32_t sdp_version = 1;
  bool answered = false;   // a 2xx was sent (incoming) or received (outgoing)
  bool responded = false;  // a final response was sent (incoming) or received (outgoing)
  bool ended = false;      // on_call_ended (or on_outgoing_failed) was reported
  bool outgoing = false;
  std::string refer_event;  // the Event of the last REFER received ("refer" or "refer;id=N")
};

std::string user_of(const url_t* url) {
  return (url != nullptr && url->url_user != nullptr) ? url->url_user : "";
}

// The digit of an INFO body: "Signal=5\r\nDuration=160" (dtmf-relay) or "5" (dtmf).
std::optional<char> info_digit(const sip_t* sip) {
  if (sip == nullptr || sip->sip_payload == nullptr || sip->sip_content_type == nullptr ||
      sip->sip_content_type->c_type == nullptr) {
    return std::nullopt;
  }
  std::string_view type = sip->sip_content_type->c_type;
  std::string_view body(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
  auto valid = [](char c) {
    return (c >= '0' && c <= '9') || c == '*' || c == '#' || (c >= 'A' && c <= 'D');
  };
  if (type == "application/dtmf-relay") {
    auto pos = body.find("Signal=");
    if (pos == std::string_view::npos) return std::nullopt;
    pos += 7;
    while (pos < body.size() && body[pos] == ' ') ++pos;
    if (pos < body.size() && valid(body[pos])) return body[pos];
    return std::nullopt;
  }
  if (type == "application/dtmf") {
    size_t pos = 0;
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\r' || body[pos] == '\n')) ++pos;
    if (pos < body.size() && valid(body[pos])) return body[pos];
  }
  return std::nullopt;
}

class SofiaStack final : public Stack {
 public:
  SofiaStack(StackConfig config, Listener* listener)
      : config_(std::move(config)), listener_(listener) {}

  ~SofiaStack() override {
    if (thread_.joinable()) {
      post([this] { begin_shutdown(); });
      thread_.join();
    }
    if (wake_fd_ >= 0) ::close(wake_fd_);
  }

  Status start() {
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) return Status::error(std::string("eventfd: ") + std::strerror(errno));
    std::promise<Status> ready;
    auto started = ready.get_future();
    thread_ = std::thread([this, &ready] { run(ready); });
    Status s = started.get();
    if (!s.is_ok()) thread_.join();
    return s;
  }

  void reject(LegId leg, int status, std::string phrase,
              std::vector<std::string> headers) override {
    post([=, this] {
      Leg* l = find(leg);
      if (l == nullptr || l->responded) return;
      l->responded = true;
      const std::string extra = join_headers(headers);
      nua_respond(l->nh, status, intern(phrase),
                  TAG_IF(!extra.empty(), SIPTAG_HEADER_STR(extra.c_str())), TAG_END());
    });
  }

  void respond_register(uint64_t id, int status, std::string phrase,
                        std::vector<std::string> headers) override {
    post([=, this] {
      auto it = registers_.find(id);
      if (it == registers_.end()) return;
      PendingRegister pending = it->second;
      registers_.erase(it);
      const std::string extra = join_headers(headers);
      nua_respond(pending.nh, status, intern(phrase), NUTAG_WITH_SAVED(pending.saved),
                  TAG_IF(!extra.empty(), SIPTAG_HEADER_STR(extra.c_str())), TAG_END());
      nua_destroy_event(pending.saved);
      nua_handle_destroy(pending.nh);
    });
  }

  // nua_respond() hands the reason phrase to sofia's own stack thread as a bare pointer, read
  // when the response is sent: it must outlive the call. Phrases are few and reused, so each is
  // kept for the life of the stack.
  const char* intern(const std::string& phrase) {
    return phrases_.insert(phrase).first->c_str();
  }

  static std::string join_headers(const std::vector<std::string>& headers) {
    std::string out;
    for (const std::string& h : headers) {
      if (h.find_first_of("\r\n") != std::string::npos) continue;  // one header per entry
      out += h + "\r\n";
    }
    return out;
  }

  void ringing(LegId leg) override {
    post([=, this] {
      Leg* l = find(leg);
      if (l == nullptr || l->responded) return;
      nua_respond(l->nh, SIP_180_RINGING, TAG_END());
    });
  }

  void progress(LegId leg, std::string sdp) override {
    post([=, this] {
      Leg* l = find(leg);
      if (l == nullptr || l->responded) return;
      nua_respond(l->nh, SIP_183_SESSION_PROGRESS, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                  SIPTAG_PAYLOAD_STR(sdp.c_str()), TAG_END());
    });
  }

  void answer(LegId leg, std::string sdp) override {
    post([=, this] {
      Leg* l = find(leg);
      if (l == nullptr || l->responded) return;
      l->responded = true;
      l->answered = true;
      l->sdp = sdp;
      nua_respond(l->nh, SIP_200_OK, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                  SIPTAG_PAYLOAD_STR(sdp.c_str()), TAG_END());
    });
  }

  LegId invite(OutgoingCall call) override {
    const LegId id = next_leg_.fetch_add(1);
    post([this, id, call = std::move(call)] { place(id, call); });
    return id;
  }

  void hangup(LegId leg) override {
    post([=, this] {
      Leg* l = find(leg);
      if (l == nullptr) return;
      if (l->answered) {
        nua_bye(l->nh, TAG_END());
      } else if (l->outgoing) {
        nua_cancel(l->nh, TAG_END());
      } else if (!l->responded) {
        l->responded = true;
        nua_respond(l->nh, SIP_480_TEMPORARILY_UNAVAILABLE, TAG_END());
      }
      ended(*l, EndReason::kLocal);
    });
  }

  void refer_status(LegId leg, int status, std::string phrase) override {
    post([=, this, phrase = std::move(phrase)] {
      Leg* l = find(leg);
      if (l == nullptr || l->ended || l->refer_event.empty()) return;
      refer_notify(*l, status, phrase);
    });
  }

  StackStats stats() const override {
    StackStats s;
    s.calls_in = calls_in_.load();
    s.active = active_.load();
    return s;
  }

 private:
  void post(std::function<void()> fn) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(std::move(fn));
    }
    const uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
  }

  static int on_wake(su_root_magic_t*, su_wait_t*, su_wakeup_arg_t* arg) {
    auto* self = reinterpret_cast<SofiaStack*>(arg);
    uint64_t n = 0;
    [[maybe_unused]] auto r = ::read(self->wake_fd_, &n, sizeof n);
    std::vector<std::function<void()>> work;
    {
      std::lock_guard<std::mutex> lock(self->mu_);
      work.swap(self->queue_);
    }
    for (auto& fn : work) fn();
    return 0;
  }

  void run(std::promise<Status>& ready) {
    // sofia-sip logs to stderr through its own loggers; keep only its critical errors unless the
    // operator asks for more with its usual variables (NUA_DEBUG, NTA_DEBUG, TPORT_DEBUG).
    for (const char* var : {"NUA_DEBUG", "NTA_DEBUG", "TPORT_DEBUG", "SOFIA_DEBUG"}) {
      setenv(var, "1", /*overwrite=*/0);
    }
    su_init();
    root_ = su_root_create(nullptr);
    if (root_ == nullptr) {
      su_deinit();
      ready.set_value(Status::error("sofia-sip: cannot create the reactor"));
      return;
    }
    const std::string url = "sip:" + config_.address + ":" + std::to_string(config_.port);
    nua_ = nua_create(root_, &SofiaStack::on_event, reinterpret_cast<nua_magic_t*>(this),
                      NUTAG_URL(url.c_str()), NUTAG_MEDIA_ENABLE(0), NUTAG_AUTOANSWER(0),
                      NUTAG_AUTOACK(1), NUTAG_AUTOALERT(0), NUTAG_APPL_METHOD("INFO"),
                      NUTAG_APPL_METHOD("REGISTER"),
                      // Added to sofia's default Allow, which already has REFER and NOTIFY
                      // (naming them here too made nua_create crash in msg_params_join under
                      // ASan with sofia-sip 1.12.11).
                      NUTAG_ALLOW("INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, REGISTER"),
                      SIPTAG_USER_AGENT_STR(config_.user_agent.c_str()), TAG_END());
    if (nua_ == nullptr) {
      su_root_destroy(root_);
      su_deinit();
      ready.set_value(Status::error("cannot listen for SIP on " + config_.address + ":" +
                                    std::to_string(config_.port) +
                                    " (UDP and TCP): the address is in use or not local"));
      return;
    }
    su_wait_t wait[1];
    su_wait_create(wait, wake_fd_, SU_WAIT_IN);
    su_root_register(root_, wait, &SofiaStack::on_wake, reinterpret_cast<su_wakeup_arg_t*>(this),
                     0);
    ready.set_value(Status::ok());
    su_root_run(root_);
    if (shutdown_timer_ != nullptr) su_timer_destroy(shutdown_timer_);
    su_root_unregister(root_, wait, &SofiaStack::on_wake, reinterpret_cast<su_wakeup_arg_t*>(this));
    nua_destroy(nua_);
    su_root_destroy(root_);
    su_deinit();
  }

  void begin_shutdown() {
    shutting_down_ = true;
    for (auto& [id, pending] : registers_) {
      nua_respond(pending.nh, SIP_503_SERVICE_UNAVAILABLE, NUTAG_WITH_SAVED(pending.saved),
                  TAG_END());
      nua_destroy_event(pending.saved);
      nua_handle_destroy(pending.nh);
    }
    registers_.clear();
    for (auto& [id, leg] : legs_) {
      if (leg.answered) {
        nua_bye(leg.nh, TAG_END());
      } else if (leg.outgoing) {
        nua_cancel(leg.nh, TAG_END());
      } else if (!leg.responded) {
        leg.responded = true;
        nua_respond(leg.nh, SIP_503_SERVICE_UNAVAILABLE, TAG_END());
      }
    }
    nua_shutdown(nua_);
    // NUA waits for every transaction to end (a BYE to a peer that never answers takes 32 s);
    // a stopping server does not: the reactor stops after a few seconds whatever is left.
    shutdown_timer_ = su_timer_create(su_root_task(root_), 3000);
    if (shutdown_timer_ != nullptr) {
      su_timer_set(shutdown_timer_, &SofiaStack::on_shutdown_timeout,
                   reinterpret_cast<su_timer_arg_t*>(this));
    }
  }

  static void on_shutdown_timeout(su_root_magic_t*, su_timer_t*, su_timer_arg_t* arg) {
    auto* self = reinterpret_cast<SofiaStack*>(arg);
    su_root_break(self->root_);
  }

  Leg* find(LegId id) {
    auto it = legs_.find(id);
    return it == legs_.end() ? nullptr : &it->second;
  }

  void ended(Leg& l, EndReason reason) {
    if (l.ended) return;
    l.ended = true;
    active_--;
    listener_->on_call_ended(l.id, reason);
  }

  static void on_event(nua_event_t event, int status, char const* phrase, nua_t* nua,
                       nua_magic_t* magic, nua_handle_t* nh, nua_hmagic_t* hmagic,
                       sip_t const* sip, tagi_t tags[]) {
    auto* self = reinterpret_cast<SofiaStack*>(magic);
    self->handle_event(event, status, phrase, nua, nh, reinterpret_cast<Leg*>(hmagic), sip, tags);
  }

  void handle_event(nua_event_t event, int status, char const* phrase, nua_t* nua,
                    nua_handle_t* nh, Leg* leg, sip_t const* sip, tagi_t tags[]) {
    switch (event) {
      case nua_i_invite:
        if (leg == nullptr) {
          incoming(nua, nh, sip);
        } else {
          reinvite(*leg, nua, sip);
        }
        break;
      case nua_i_info: {
        nua_respond(nh, SIP_200_OK, NUTAG_WITH_THIS(nua), TAG_END());
        if (leg != nullptr) {
          if (auto d = info_digit(sip)) listener_->on_info_digit(leg->id, *d);
        }
        break;
      }
      case nua_i_cancel:
        if (leg != nullptr) {
          leg->responded = true;
          ended(*leg, EndReason::kRemoteCancel);
        }
        break;
      case nua_i_bye:
        if (leg != nullptr) ended(*leg, EndReason::kRemoteBye);
        break;
      case nua_i_state: {
        int state = nua_callstate_init;
        tl_gets(tags, NUTAG_CALLSTATE_REF(state), TAG_END());
        if (state == nua_callstate_terminated && leg != nullptr) {
          ended(*leg, status >= 300 && !leg->answered && !leg->responded ? EndReason::kFailure
                                                                          : EndReason::kLocal);
          const LegId id = leg->id;
          nua_handle_bind(nh, nullptr);
          nua_handle_destroy(nh);
          legs_.erase(id);
        }
        break;
      }
      case nua_i_register:
        incoming_register(nua, nh, sip);
        break;
      case nua_i_refer:
        // In a call, sofia has answered 202 and keeps the implicit subscription; outside one
        // there is nothing to transfer.
        if (leg != nullptr && leg->answered) {
          refer(*leg, sip, tags);
        } else if (leg == nullptr) {
          nua_handle_destroy(nh);
        }
        break;
      case nua_r_invite:
        if (leg != nullptr && leg->outgoing) outgoing_response(*leg, status, phrase, sip);
        break;
      case nua_r_shutdown:
        if (status >= 200) su_root_break(root_);
        break;
      default:
        // Requests outside a dialog that NUA does not answer itself get a clean refusal.
        if (event == nua_i_method || event == nua_i_message || event == nua_i_subscribe ||
            event == nua_i_publish || event == nua_i_notify) {
          nua_respond(nh, SIP_501_NOT_IMPLEMENTED, NUTAG_WITH_THIS(nua), TAG_END());
          if (leg == nullptr) nua_handle_destroy(nh);
        }
        break;
    }
  }

  // A re-INVITE in an answered call (a hold or resume, a session refresh): answered with our SDP
  // again, its o= version bumped (RFC 3264 §8), and reported with the peer's new SDP.
  void reinvite(Leg& leg, nua_t* nua, sip_t const* sip) {
    if (!leg.answered || leg.sdp.empty()) {
      nua_respond(leg.nh, 491, "Request Pending", NUTAG_WITH_THIS(nua), TAG_END());
      return;
    }
    const std::string from = " " + std::to_string(leg.sdp_version) + " IN IP4 ";
    const std::string to = " " + std::to_string(leg.sdp_version + 1) + " IN IP4 ";
    if (auto pos = leg.sdp.find(from); pos != std::string::npos) {
      leg.sdp.replace(pos, from.size(), to);
      leg.sdp_version++;
    }
    nua_respond(leg.nh, SIP_200_OK, NUTAG_WITH_THIS(nua),
                SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(leg.sdp.c_str()),
                TAG_END());
    std::string body;
    if (sip != nullptr && sip->sip_payload != nullptr) {
      body.assign(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
    }
    listener_->on_reinvite(leg.id, body);
  }

  void refer(Leg& leg, sip_t const* sip, tagi_t tags[]) {
    sip_event_t const* event = nullptr;
    tl_gets(tags, NUTAG_REFER_EVENT_REF(event), TAG_END());
    leg.refer_event = "refer";
    if (event != nullptr && event->o_type != nullptr) {
      leg.refer_event = event->o_type;
      if (event->o_id != nullptr) leg.refer_event += std::string(";id=") + event->o_id;
    }
    if (sip == nullptr || sip->sip_refer_to == nullptr) {
      refer_notify(leg, 400, "Bad Request");
      return;
    }
    IncomingRefer r;
    su_home_t* home = static_cast<su_home_t*>(su_home_new(sizeof(su_home_t)));
    url_t* url = url_hdup(home, sip->sip_refer_to->r_url);
    if (url != nullptr) {
      r.target_user = user_of(url);
      if (url->url_headers != nullptr) {
        // ?Replaces=callid%3Bto-tag%3Dx%3Bfrom-tag%3Dy (RFC 3891 §3 in a Refer-To URI)
        std::string headers = url->url_headers;
        char* unescaped = su_strdup(home, headers.c_str());
        url_unescape(unescaped, headers.c_str());
        headers = unescaped;
        const std::string key = "Replaces=";
        if (auto at = headers.find(key); at != std::string::npos) {
          std::string value = headers.substr(at + key.size());
          value = value.substr(0, value.find('&'));
          // callid;to-tag=x;from-tag=y
          size_t start = 0;
          for (int i = 0; start <= value.size(); ++i) {
            const size_t end = std::min(value.find(';', start), value.size());
            const std::string part = value.substr(start, end - start);
            if (i == 0) r.replaces_call_id = part;
            if (part.rfind("to-tag=", 0) == 0) r.replaces_to_tag = part.substr(7);
            if (part.rfind("from-tag=", 0) == 0) r.replaces_from_tag = part.substr(9);
            start = end + 1;
          }
        }
        url->url_headers = nullptr;
      }
      if (char* text = url_as_string(home, url)) r.target = text;
    }
    const url_t* by = sip->sip_referred_by != nullptr ? sip->sip_referred_by->b_url
                      : sip->sip_from != nullptr      ? sip->sip_from->a_url
                                                      : nullptr;
    r.referred_by = user_of(by);
    su_home_unref(home);
    if (r.target.empty()) {
      refer_notify(leg, 400, "Bad Request");
      return;
    }
    listener_->on_refer(leg.id, r);
  }

  void refer_notify(Leg& leg, int status, const std::string& phrase) {
    const std::string frag = "SIP/2.0 " + std::to_string(status) + " " + phrase + "\r\n";
    nua_notify(leg.nh, NUTAG_SUBSTATE(status >= 200 ? nua_substate_terminated : nua_substate_active),
               SIPTAG_EVENT_STR(leg.refer_event.c_str()),
               SIPTAG_CONTENT_TYPE_STR("message/sipfrag;version=2.0"),
               SIPTAG_PAYLOAD_STR(frag.c_str()), TAG_END());
  }

  void place(LegId id, const OutgoingCall& call) {
    if (shutting_down_) {
      listener_->on_outgoing_failed(id, 503, "Service Unavailable");
      return;
    }
    nua_handle_t* nh = nua_handle(nua_, nullptr, SIPTAG_TO_STR(call.target.c_str()), TAG_END());
    if (nh == nullptr) {
      listener_->on_outgoing_failed(id, 400, "invalid target " + call.target);
      return;
    }
    Leg& leg = legs_[id];
    leg.id = id;
    leg.nh = nh;
    leg.outgoing = true;
    leg.sdp = call.sdp;  // our offer: answered again on a re-INVITE
    nua_handle_bind(nh, reinterpret_cast<nua_hmagic_t*>(&leg));
    active_++;
    // The caller's number comes from outside: only characters valid in a SIP user part pass.
    std::string user;
    for (char c : call.from_user) {
      if (std::isalnum(static_cast<unsigned char>(c)) || std::strchr("+*#._-", c)) user += c;
    }
    std::string display;
    for (char c : call.from_display) {
      if (c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20) display += c;
    }
    std::string from = "<sip:" + (user.empty() ? std::string("anonymous") : user) + "@" +
                       config_.address + ">";
    if (!display.empty()) from = "\"" + display + "\" " + from;
    std::string extra;
    for (const auto& [name, value] : call.headers) extra += name + ": " + value + "\r\n";
    nua_invite(nh, NUTAG_URL(call.target.c_str()), SIPTAG_FROM_STR(from.c_str()),
               SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(call.sdp.c_str()),
               TAG_IF(!extra.empty(), SIPTAG_HEADER_STR(extra.c_str())), TAG_END());
    if (call.since != std::chrono::steady_clock::time_point{}) {
      listener_->on_invite_sent(id, std::chrono::steady_clock::now() - call.since);
    }
  }

  void outgoing_response(Leg& leg, int status, const char* phrase, sip_t const* sip) {
    std::string body;
    if (sip != nullptr && sip->sip_payload != nullptr) {
      body.assign(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
    }
    if (status < 200) {
      if (status > 100) listener_->on_outgoing_progress(leg.id, status, body);
      return;
    }
    leg.responded = true;
    if (status < 300) {
      leg.answered = true;
      listener_->on_outgoing_answered(leg.id, body);
      return;
    }
    if (!leg.ended) {
      leg.ended = true;
      active_--;
      listener_->on_outgoing_failed(leg.id, status, phrase ? phrase : "");
    }
  }

  // Where the current request came from.
  static void source_of(nua_t* nua, std::string& ip, uint16_t& port, Transport& transport) {
    msg_t* m = nua_current_request(nua);
    if (m == nullptr) return;
    su_addrinfo_t* ai = msg_addrinfo(m);
    if (ai == nullptr || ai->ai_addr == nullptr || ai->ai_family != AF_INET) return;
    char host[64] = {0};
    const auto* sa = reinterpret_cast<const sockaddr_in*>(ai->ai_addr);
    inet_ntop(AF_INET, &sa->sin_addr, host, sizeof host);
    ip = host;
    port = ntohs(sa->sin_port);
    transport = ai->ai_protocol == IPPROTO_TCP ? Transport::kTcp : Transport::kUdp;
  }

  // An Authorization / Proxy-Authorization value ("Digest username=..., ...") rebuilt from what
  // sofia parsed (its scheme and name=value parameters), or "" when there is none.
  static std::string authorization_text(const msg_auth_t* a) {
    if (a == nullptr || a->au_scheme == nullptr) return "";
    std::string out = a->au_scheme;
    const char* sep = " ";
    for (const msg_param_t* p = a->au_params; p != nullptr && *p != nullptr; ++p) {
      out += sep;
      out += *p;
      sep = ", ";
    }
    return out;
  }

  void incoming_register(nua_t* nua, nua_handle_t* nh, sip_t const* sip) {
    if (sip == nullptr || sip->sip_to == nullptr) {
      nua_respond(nh, SIP_400_BAD_REQUEST, NUTAG_WITH_THIS(nua), TAG_END());
      nua_handle_destroy(nh);
      return;
    }
    IncomingRegister reg;
    reg.id = next_register_++;
    reg.to_user = user_of(sip->sip_to->a_url);
    if (sip->sip_to->a_url->url_host) reg.to_host = sip->sip_to->a_url->url_host;
    su_home_t* home = static_cast<su_home_t*>(su_home_new(sizeof(su_home_t)));
    for (const sip_contact_t* c = sip->sip_contact; c != nullptr; c = c->m_next) {
      if (c->m_url->url_type == url_any) {
        reg.wildcard = true;
        continue;
      }
      IncomingRegister::Contact contact;
      if (char* uri = url_as_string(home, c->m_url)) contact.uri = uri;
      if (const char* e = msg_params_find(c->m_params, "expires=")) {
        contact.expires = static_cast<uint32_t>(std::strtoul(e, nullptr, 10));
      }
      reg.contacts.push_back(std::move(contact));
    }
    su_home_unref(home);
    if (sip->sip_expires) reg.expires = static_cast<uint32_t>(sip->sip_expires->ex_delta);
    if (sip->sip_call_id && sip->sip_call_id->i_id) reg.call_id = sip->sip_call_id->i_id;
    if (sip->sip_cseq) reg.cseq = sip->sip_cseq->cs_seq;
    reg.authorization = authorization_text(sip->sip_authorization);
    source_of(nua, reg.source_ip, reg.source_port, reg.transport);
    // Answered later (from the listener's thread): keep the request (sofia's saved event).
    PendingRegister& pending = registers_[reg.id];
    pending.nh = nh;
    nua_save_event(nua, pending.saved);
    listener_->on_register(reg);
  }

  void incoming(nua_t* nua, nua_handle_t* nh, sip_t const* sip) {
    if (shutting_down_) {
      nua_respond(nh, SIP_503_SERVICE_UNAVAILABLE, NUTAG_WITH_THIS(nua), TAG_END());
      nua_handle_destroy(nh);
      return;
    }
    const LegId id = next_leg_.fetch_add(1);
    Leg& leg = legs_[id];
    leg.id = id;
    leg.nh = nh;
    nua_handle_bind(nh, reinterpret_cast<nua_hmagic_t*>(&leg));
    calls_in_++;
    active_++;

    IncomingCall call;
    call.leg = id;
    if (sip != nullptr) {
      if (sip->sip_call_id && sip->sip_call_id->i_id) call.call_id = sip->sip_call_id->i_id;
      if (sip->sip_from) {
        call.from_user = user_of(sip->sip_from->a_url);
        if (sip->sip_from->a_display) call.from_display = sip->sip_from->a_display;
      }
      if (sip->sip_request) {
        call.to_user = user_of(sip->sip_request->rq_url);
        if (sip->sip_request->rq_url->url_host) {
          call.to_host = sip->sip_request->rq_url->url_host;
        }
      }
      call.authorization = authorization_text(
          sip->sip_proxy_authorization ? sip->sip_proxy_authorization : sip->sip_authorization);
      if (sip->sip_payload && sip->sip_content_type && sip->sip_content_type->c_type &&
          std::strcmp(sip->sip_content_type->c_type, "application/sdp") == 0) {
        call.sdp = std::string(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
      }
    }
    source_of(nua, call.source_ip, call.source_port, call.transport);
    listener_->on_incoming_call(call);
  }

  StackConfig config_;
  Listener* const listener_;
  std::thread thread_;
  int wake_fd_ = -1;
  std::mutex mu_;
  std::vector<std::function<void()>> queue_;  // guarded by mu_

  // SIP thread only:
  su_root_t* root_ = nullptr;
  nua_t* nua_ = nullptr;
  std::unordered_map<LegId, Leg> legs_;  // node-based: Leg addresses are stable (hmagic)
  std::atomic<LegId> next_leg_{1};       // any thread (invite() hands out ids at once)
  std::set<std::string> phrases_;        // reason phrases given to sofia (intern())
  struct PendingRegister {
    nua_handle_t* nh = nullptr;
    nua_saved_event_t saved[1] = {nullptr};
  };
  std::unordered_map<uint64_t, PendingRegister> registers_;  // REGISTERs waiting for an answer
  uint64_t next_register_ = 1;
  bool shutting_down_ = false;
  su_timer_t* shutdown_timer_ = nullptr;

  std::atomic<uint64_t> calls_in_{0};
  std::atomic<uint64_t> active_{0};
};

}  // namespace

Result<std::unique_ptr<Stack>> Stack::start(const StackConfig& config, Listener* listener) {
  auto stack = std::make_unique<SofiaStack>(config, listener);
  if (Status s = stack->start(); !s.is_ok()) return s;
  return std::unique_ptr<Stack>(std::move(stack));
}

}  // namespace tamas::sip
