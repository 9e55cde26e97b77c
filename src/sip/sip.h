// The SIP side of Tamas: a B2BUA user agent over sofia-sip, and SDP in and out.
//
// Thread rules: Stack runs sofia-sip's reactor in a thread of its own; every sofia call happens
// there. Public methods are thread-safe: they queue a command for the SIP thread and return at
// once. Listener methods are called on the SIP thread and must not block.
//
// Policy (who may call, which numbers exist, what to answer) is not decided here: the Listener
// gets every new call with its source address and tells the Stack what to answer. This module
// only speaks SIP: it parses, answers, times transactions out and tears dialogs down. sofia-sip
// is included only by this folder's .cc files.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tamas::sip {

using LegId = uint64_t;

// ---- SDP ----

enum class Mode : uint8_t { kSendRecv, kSendOnly, kRecvOnly, kInactive };

struct SdpFormat {
  uint8_t payload_type = 0;
  std::string encoding;  // as written ("PCMU", "telephone-event"); well-known PTs filled in
  uint32_t clock_rate = 8000;
};

// The audio stream an SDP body offers.
struct SdpAudio {
  std::string address;  // IPv4; from the media-level c= line, else the session-level one
  uint16_t port = 0;
  std::vector<SdpFormat> formats;  // in the m= line's order
  Mode mode = Mode::kSendRecv;     // the sender's view (a=sendonly: it only sends)
};

// Parses an SDP body and returns its first audio stream. Fails with a message saying what was
// wrong: not SDP, no audio m= line, no IPv4 connection address, port 0 (stream refused).
Result<SdpAudio> parse_sdp(std::string_view body);

struct SdpAnswer {
  std::string address;
  uint16_t port = 0;
  uint8_t payload_type = 0;
  std::string encoding;                    // "PCMU" / "PCMA"
  std::optional<uint8_t> telephone_event;  // offered back with "0-16" when set
  Mode mode = Mode::kSendRecv;
  uint64_t session_id = 0;
  uint32_t version = 1;
};
std::string build_sdp(const SdpAnswer& a);

// ---- the user agent ----

enum class Transport : uint8_t { kUdp, kTcp, kOther };

struct IncomingCall {
  LegId leg = 0;
  std::string call_id;
  std::string from_user;     // user part of From (the caller's number)
  std::string from_display;  // display name, may be empty
  std::string to_user;       // user part of the Request-URI (the number dialled)
  std::string source_ip;     // where the INVITE came from (not what its headers claim)
  uint16_t source_port = 0;
  Transport transport = Transport::kUdp;
  std::optional<std::string> sdp;  // the body, when it is application/sdp
  std::string to_host;        // host part of the Request-URI (a tenant's domain, or an address)
  std::string authorization;  // the Proxy-Authorization (else Authorization) value, if any
};

// A REGISTER, parsed; answered with Stack::respond_register.
struct IncomingRegister {
  uint64_t id = 0;
  std::string to_user;  // the address-of-record's user (the extension)
  std::string to_host;  // its host (a tenant's domain, or an address)
  struct Contact {
    std::string uri;
    std::optional<uint32_t> expires;
  };
  std::vector<Contact> contacts;
  bool wildcard = false;  // "Contact: *"
  std::optional<uint32_t> expires;
  std::string call_id;
  uint32_t cseq = 0;
  std::string authorization;  // the Authorization header's value, if any
  std::string source_ip;
  uint16_t source_port = 0;
  Transport transport = Transport::kUdp;
};

enum class EndReason : uint8_t {
  kRemoteBye,     // the peer hung up an answered call
  kRemoteCancel,  // the caller gave up before the answer
  kLocal,         // we hung up or rejected
  kFailure,       // transport error, timeout (no ACK), or the dialog failed
};

struct OutgoingCall {
  std::string target;        // Request-URI, e.g. "sip:600@gw.example.com:5060"
  std::string from_user;     // shown to the callee (the original caller's number)
  std::string from_display;
  std::string sdp;           // our offer
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers, e.g. X-Tamas-Queue
  // When set: the moment the caller started the work this INVITE ends (e.g. a caller entering a
  // queue); Listener::on_invite_sent reports how long before the INVITE left the stack.
  std::chrono::steady_clock::time_point since{};
};

// A REFER (RFC 3515) received in a call: the phone asks that the other party be sent to `target`.
// With `replaces_call_id` set it is an attended transfer (RFC 3891): the other party replaces the
// dialog named by call id and tags.
struct IncomingRefer {
  std::string target;  // the Refer-To URI without its headers, e.g. "sip:1002@acme.test"
  std::string target_user;
  std::string replaces_call_id, replaces_to_tag, replaces_from_tag;
  std::string referred_by;  // the user part of Referred-By (or From)
};

class Listener {
 public:
  virtual ~Listener() = default;
  // A new INVITE. Answer it with Stack::reject / ringing / progress / answer, from any thread.
  virtual void on_incoming_call(const IncomingCall& call) = 0;
  // The leg is gone; its id will not be used again.
  virtual void on_call_ended(LegId leg, EndReason reason) = 0;
  // A REGISTER. Answer it with Stack::respond_register, from any thread.
  virtual void on_register(const IncomingRegister& reg) { (void)reg; }
  // A digit sent as SIP INFO (application/dtmf-relay or application/dtmf).
  virtual void on_info_digit(LegId leg, char digit) = 0;
  // A re-INVITE in an answered call, already answered with our last SDP; `sdp` is the peer's new
  // offer (empty when it sent none). Hold (a=sendonly/inactive) and resume show here.
  virtual void on_reinvite(LegId leg, const std::string& sdp) { (void)leg, (void)sdp; }
  // A REFER in an answered call, already accepted with 202; report how it went with
  // Stack::refer_status.
  virtual void on_refer(LegId leg, const IncomingRefer& refer) { (void)leg, (void)refer; }
  // Outgoing legs (Stack::invite): a provisional response (180, 183 with `sdp` when it has one),
  // the answer (200 with the callee's SDP; the ACK is sent), or a final failure (status >= 300,
  // or 408/503 for a timeout or transport error). After on_outgoing_failed the leg is gone; an
  // answered leg ends with on_call_ended.
  virtual void on_outgoing_progress(LegId leg, int status, const std::string& sdp) {
    (void)leg, (void)status, (void)sdp;
  }
  virtual void on_outgoing_answered(LegId leg, const std::string& sdp) { (void)leg, (void)sdp; }
  // An INVITE placed with OutgoingCall::since was handed to sofia-sip (nua_invite, which sends it
  // on the same thread), `delay` after `since`.
  // Called on the SIP thread: keep it short.
  virtual void on_invite_sent(LegId leg, std::chrono::steady_clock::duration delay) {
    (void)leg, (void)delay;
  }
  virtual void on_outgoing_failed(LegId leg, int status, const std::string& phrase) {
    (void)leg, (void)status, (void)phrase;
  }
};

struct StackConfig {
  std::string address = "127.0.0.1";
  uint16_t port = 5060;  // UDP and TCP both
  std::string user_agent = "Tamas";
};

struct StackStats {
  uint64_t calls_in = 0;   // INVITEs that started a leg
  uint64_t active = 0;     // legs not yet ended
};

class Stack {
 public:
  // Binds the address and starts the SIP thread. Fails (with the address) when it cannot bind.
  static Result<std::unique_ptr<Stack>> start(const StackConfig& config, Listener* listener);
  virtual ~Stack() = default;  // hangs up what is left, shuts sofia-sip down, joins the thread

  // Final failure response to an unanswered leg (e.g. 403, 404, 488, 503); `headers` are added
  // whole ("Proxy-Authenticate: Digest ...").
  virtual void reject(LegId leg, int status, std::string phrase,
                      std::vector<std::string> headers = {}) = 0;
  // The response to a REGISTER (200 with "Contact: <uri>;expires=N" headers, 401 with
  // WWW-Authenticate headers, 423 with Min-Expires, ...).
  virtual void respond_register(uint64_t id, int status, std::string phrase,
                                std::vector<std::string> headers) = 0;
  virtual void ringing(LegId leg) = 0;                   // 180
  virtual void progress(LegId leg, std::string sdp) = 0;  // 183 with SDP (early media)
  virtual void answer(LegId leg, std::string sdp) = 0;    // 200 with SDP
  // BYE for an answered leg; 480 for an incoming one not answered yet; CANCEL for an outgoing one
  // still ringing. on_call_ended follows.
  virtual void hangup(LegId leg) = 0;
  // A NOTIFY for the leg's last REFER, carrying "SIP/2.0 <status> <phrase>" (message/sipfrag);
  // a final status (>= 200) ends the implicit subscription.
  virtual void refer_status(LegId leg, int status, std::string phrase) = 0;
  // Places a call (a new dialog: the B2BUA's other leg). Returns its leg id at once; the outcome
  // comes through the Listener.
  virtual LegId invite(OutgoingCall call) = 0;
  virtual StackStats stats() const = 0;
};

}  // namespace tamas::sip
