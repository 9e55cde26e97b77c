// An agent's SIP phone for black-box tests of `tamas serve`: a raw SIP user agent over UDP on
// 127.0.0.1 that registers with MD5 digest, dials feature codes (answering the 407), and takes
// the calls the server offers it — rings (180) at once like a real phone, then answers, declines,
// lets it ring, hangs up, holds and resumes, and answers the server's CANCEL and BYE.
//
// The phone keeps what it received but did not need yet (an INVITE arriving while it waits for
// the answer to its own request), so no message is lost; retransmitted requests get the response
// sent before, and ACKs and provisional responses are absorbed.
//
// Thread rules: one thread uses a phone at a time. Waits are bounded (a `limit` argument, 5 s for
// the response to a request of the phone's own); nothing here sleeps.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/time.h"
#include "sip/digest.h"
#include "support/rtp_peer.h"
#include "support/sip_peer.h"

namespace tamas::test {

// The values of header `name` (as written, full form) in a SIP message, in order; empty when
// absent.
inline std::vector<std::string> headers_of(const std::string& msg, const std::string& name) {
  std::vector<std::string> out;
  std::istringstream in(msg);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) break;
    if (line.rfind(name + ":", 0) == 0) {
      std::string v = line.substr(name.size() + 1);
      while (!v.empty() && v.front() == ' ') v.erase(v.begin());
      out.push_back(v);
    }
  }
  return out;
}

// The first value of header `name`, "" when absent.
inline std::string header_of(const std::string& msg, const std::string& name) {
  auto v = headers_of(msg, name);
  return v.empty() ? "" : v.front();
}

inline std::string body_of(const std::string& msg) {
  const auto at = msg.find("\r\n\r\n");
  return at == std::string::npos ? "" : msg.substr(at + 4);
}

inline bool is_request(const std::string& msg, const std::string& method) {
  return msg.rfind(method + " ", 0) == 0;
}

// The URI of a name-addr ("Name" <sip:u@h>;tag=x), or the value itself when it has no <>.
inline std::string uri_of(const std::string& name_addr) {
  const auto open = name_addr.find('<');
  if (open == std::string::npos) return name_addr;
  return name_addr.substr(open + 1, name_addr.find('>', open) - open - 1);
}

// A response to `request` as a phone sends it: Vias, From, Call-ID and CSeq copied, To tagged
// with `tag` unless it has a tag, the phone's Contact, and an SDP body when given.
inline std::string response_to(const std::string& request, int status, const std::string& reason,
                               const std::string& contact, const std::string& tag,
                               const std::string& sdp = "") {
  std::string m = "SIP/2.0 " + std::to_string(status) + " " + reason + "\r\n";
  for (const std::string& v : headers_of(request, "Via")) m += "Via: " + v + "\r\n";
  m += "From: " + header_of(request, "From") + "\r\n";
  std::string to = header_of(request, "To");
  if (to.find("tag=") == std::string::npos) to += ";tag=" + tag;
  m += "To: " + to + "\r\nCall-ID: " + header_of(request, "Call-ID") + "\r\n";
  m += "CSeq: " + header_of(request, "CSeq") + "\r\n";
  m += "Contact: <" + contact + ">\r\n";
  if (!sdp.empty()) m += "Content-Type: application/sdp\r\n";
  return m + "Content-Length: " + std::to_string(sdp.size()) + "\r\n\r\n" + sdp;
}

// Digest credentials (RFC 2617, MD5, qop=auth) answering the MD5 challenge in `challenge` (a 401
// with WWW-Authenticate or a 407 with Proxy-Authenticate, named by `header`) in the challenge's
// own realm, as a phone computes them. "" when the message has no MD5 challenge.
inline std::string md5_credentials(const std::string& challenge, const std::string& header,
                                   const std::string& method, const std::string& uri,
                                   const std::string& user, const std::string& password) {
  auto param = [](const std::string& v, const std::string& key) {
    const auto at = v.find(" " + key + "=\"");
    if (at == std::string::npos) return std::string();
    const auto start = at + key.size() + 3;
    return v.substr(start, v.find('"', start) - start);
  };
  for (const std::string& c : headers_of(challenge, header)) {
    if (c.find("algorithm=MD5") == std::string::npos) continue;
    const std::string realm = param(c, "realm"), nonce = param(c, "nonce");
    const auto alg = sip::DigestAlgorithm::kMd5;
    const std::string ha1 = sip::digest_ha1(alg, user, realm, password);
    const std::string ha2 = sip::digest_hex(alg, method + ":" + uri);
    const std::string response =
        sip::digest_hex(alg, ha1 + ":" + nonce + ":00000001:c0ffee:auth:" + ha2);
    return "Digest username=\"" + user + "\", realm=\"" + realm + "\", nonce=\"" + nonce +
           "\", uri=\"" + uri + "\", response=\"" + response +
           "\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"c0ffee\"";
  }
  return "";
}

class AgentPhone {
 public:
  // A phone of a tenant whose digest realm is `realm` (also the host of the phone's URIs, which
  // is how the server tells tenants apart), talking to the server at 127.0.0.1:`server`.
  AgentPhone(uint16_t server, std::string realm)
      : server_(server), realm_(std::move(realm)), call_rtp_(std::make_unique<RtpPeer>()) {}
  AgentPhone(const AgentPhone&) = delete;
  AgentPhone& operator=(const AgentPhone&) = delete;

  uint16_t port() const { return sip_.port(); }
  // The final response to the phone's last own request (a challenge, a 200 with its bindings).
  const std::string& last_response() const { return last_response_; }
  // The media of the last call answered (replaced by the next answer()).
  RtpPeer& rtp() { return *call_rtp_; }

  // REGISTERs `user` at this phone's address, authenticating as `auth_user` (default: `user`)
  // with `password` when challenged (no password: the challenge is not answered). Returns the
  // final status: 200 registered, 401 wrong credentials (or none given), 403 another agent's
  // extension, -1 when nothing came within 5 s. `user` (and `password`) are the phone's from now
  // on.
  int register_as(const std::string& user, const std::string& password,
                  const std::string& auth_user = "", int expires = 300) {
    user_ = user;
    password_ = password;
    const std::string call_id = "reg-" + user + "-" + std::to_string(port());
    const std::string uri = "sip:" + realm_;
    const std::string aor = "<sip:" + user + "@" + realm_ + ">";
    auto send = [&](const std::string& authorization) {
      const int cseq = ++register_cseq_;
      std::string extra = "Expires: " + std::to_string(expires) + "\r\n";
      if (!authorization.empty()) extra += "Authorization: " + authorization + "\r\n";
      sip_.send_to(server_, request("REGISTER", uri, aor + ";tag=reg", aor, call_id, cseq, extra));
      return final_response(call_id, cseq, "REGISTER");
    };
    const int st = send("");
    if (st != 401 || password.empty()) return st;
    return send(md5_credentials(last_response_, "WWW-Authenticate", "REGISTER", uri,
                                auth_user.empty() ? user : auth_user, password));
  }

  // Dials `number` (a feature code such as *11, another extension) as the registered user,
  // answering the 407 with
  // Proxy-Authorization (the user's password), and ACKs. Returns the final status (200 when
  // accepted; the call stays up until the server's BYE, which is answered whenever it comes; see
  // await_dialled_end), -1 when nothing came within 5 s.
  int dial(const std::string& number) {
    const std::string call_id =
        "dial-" + std::to_string(++dialled_count_) + "-" + std::to_string(port());
    const std::string uri = "sip:" + number + "@" + realm_;
    const std::string from = "<sip:" + user_ + "@" + realm_ + ">;tag=dial";
    dial_rtp_ = std::make_unique<RtpPeer>();
    const std::string sdp = sdp_body(dial_rtp_->port());
    std::string authorization;
    for (int cseq = 1;; ++cseq) {
      const std::string branch = new_branch();
      const std::string extra =
          authorization.empty() ? "" : "Proxy-Authorization: " + authorization + "\r\n";
      sip_.send_to(server_, request("INVITE", uri, from, "<" + uri + ">", call_id, cseq, extra, sdp,
                                    branch));
      const int st = final_response(call_id, cseq, "INVITE");
      if (st < 0) return st;
      const std::string to = header_of(last_response_, "To");
      if (st >= 300) {  // the ACK of a failure is part of the INVITE transaction: same branch
        sip_.send_to(server_, request("ACK", uri, from, to, call_id, cseq, "", "", branch));
        if (st == 407 && cseq == 1) {
          authorization = md5_credentials(last_response_, "Proxy-Authenticate", "INVITE", uri,
                                          user_, password_);
          if (!authorization.empty()) continue;
        }
        return st;
      }
      sip_.send_to(server_, request("ACK", uri_of(header_of(last_response_, "Contact")), from, to,
                                    call_id, cseq, "", ""));
      dial_rtp_->set_remote(body_of(last_response_));
      dialled_ = call_id;
      dialled_to_tag_ = to.substr(to.find("tag=") + 4);
      return st;
    }
  }

  // Waits (up to `limit`) for the server to hang up the call placed by the last dial() (its BYE
  // answered 200) and returns the RMS of the audio heard in it; -1 when no BYE came.
  double await_dialled_end(Duration limit = std::chrono::seconds(10)) {
    auto bye = take(
        [&](const std::string& m) {
          return is_request(m, "BYE") && header_of(m, "Call-ID") == dialled_;
        },
        limit);
    if (!bye) return -1;
    return dial_rtp_->listen(std::chrono::milliseconds(50)).first;  // what is queued already
  }

  // The next call the server offers (an INVITE, already answered 180 Ringing), or nullopt when
  // none comes within `limit`: a bounded wait, also to assert that none comes. To let it ring
  // (until the server's ring timeout cancels it), do nothing with it.
  std::optional<std::string> await_invite(Duration limit) {
    return take(
        [](const std::string& m) {
          return is_request(m, "INVITE") && header_of(m, "To").find("tag=") == std::string::npos;
        },
        limit);
  }

  // Answers an offer with 200 OK and an SDP answer for a new RTP peer (rtp()), sending to the
  // offer's SDP.
  void answer(const std::string& invite) {
    call_rtp_ = std::make_unique<RtpPeer>();
    call_rtp_->set_remote(body_of(invite));
    offer(invite).answered = true;
    respond(invite, 200, "OK", sdp_body(call_rtp_->port()));
  }
  // Refuses an offer: 486 Busy Here, 603 Decline, or another failure status.
  void decline(const std::string& invite, int status = 486) {
    const char* reason = status == 486   ? "Busy Here"
                         : status == 603 ? "Decline"
                         : status == 480 ? "Temporarily Unavailable"
                                         : "Declined";
    respond(invite, status, reason);
  }

  // Waits for the server to end an offered call: a CANCEL while it rings (answered 200, and 487
  // to the INVITE) or a BYE once answered (200). Returns that request; nullopt after `limit`.
  std::optional<std::string> await_hangup(Duration limit) {
    auto msg = take(
        [&](const std::string& m) {
          return (is_request(m, "CANCEL") || is_request(m, "BYE")) &&
                 offers_.count(header_of(m, "Call-ID")) > 0;
        },
        limit);
    if (!msg) return msg;
    respond(*msg, 200, "OK");
    Offer& o = offer(*msg);
    if (is_request(*msg, "CANCEL") && !o.answered) respond(o.invite, 487, "Request Terminated");
    return msg;
  }

  // Hangs up an answered offer (BYE); returns the final status, -1 after 5 s.
  int hang_up(const std::string& invite) {
    Offer& o = offer(invite);
    const int cseq = ++o.cseq;
    sip_.send_to(server_, in_dialog(o, "BYE", cseq, ""));
    return final_response(header_of(invite, "Call-ID"), cseq, "BYE");
  }
  // Puts an answered offer on hold (re-INVITE with a=sendonly) or takes it off (a=sendrecv), and
  // ACKs; returns the final status of the re-INVITE, -1 after 5 s.
  int hold(const std::string& invite) { return reinvite(invite, "sendonly"); }
  int resume(const std::string& invite) { return reinvite(invite, "sendrecv"); }

  // Sends a REFER in the dialog of an answered offer, asking that the caller be sent to
  // `refer_to` (a URI, with ?Replaces=... for an attended transfer). Returns its final status
  // (202 when accepted), -1 after 5 s.
  int refer(const std::string& invite, const std::string& refer_to) {
    Offer& o = offer(invite);
    const int cseq = ++o.cseq;
    const std::string extra = "Refer-To: <" + refer_to + ">\r\nReferred-By: <sip:" + user_ + "@" +
                              realm_ + ">\r\n";
    sip_.send_to(server_, in_dialog(o, "REFER", cseq, "", "", extra));
    return final_response(header_of(invite, "Call-ID"), cseq, "REFER");
  }
  // The next NOTIFY (answered 200): the body of one reporting a REFER's outcome is a status line
  // ("SIP/2.0 200 OK"). nullopt after `limit`.
  std::optional<std::string> await_notify(Duration limit) {
    auto notify = take([](const std::string& m) { return is_request(m, "NOTIFY"); }, limit);
    if (notify) respond(*notify, 200, "OK");
    return notify;
  }
  // The Replaces value naming the call placed by the last dial() (RFC 3891), escaped for a URI:
  // call-id%3Bto-tag%3D...%3Bfrom-tag%3Ddial.
  std::string dialled_replaces() const {
    return dialled_ + "%3Bto-tag%3D" + dialled_to_tag_ + "%3Bfrom-tag%3Ddial";
  }

 private:
  // A call the server placed to this phone, by Call-ID.
  struct Offer {
    std::string invite;
    std::string tag;  // ours, in To
    int cseq = 0;     // of our requests in the dialog
    bool answered = false;
  };

  static std::string key_of(const std::string& msg) {
    return header_of(msg, "Call-ID") + "|" + header_of(msg, "CSeq");
  }
  std::string contact() const {
    return "sip:" + (user_.empty() ? std::string("phone") : user_) +
           "@127.0.0.1:" + std::to_string(port());
  }
  std::string new_branch() {
    return "z9hG4bK-" + std::to_string(port()) + "-" + std::to_string(++branches_);
  }
  Offer& offer(const std::string& msg) { return offers_.at(header_of(msg, "Call-ID")); }

  std::string request(const std::string& method, const std::string& uri, const std::string& from,
                      const std::string& to, const std::string& call_id, int cseq,
                      const std::string& extra, const std::string& sdp = "",
                      std::string branch = "") {
    if (branch.empty()) branch = new_branch();
    std::string m = method + " " + uri +
                    " SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:" + std::to_string(port()) +
                    ";branch=" + branch + ";rport\r\nMax-Forwards: 70\r\n";
    m += "From: " + from + "\r\nTo: " + to + "\r\nCall-ID: " + call_id + "\r\n";
    m += "CSeq: " + std::to_string(cseq) + " " + method + "\r\n";
    m += "Contact: <" + contact() + ">\r\n" + extra;
    if (!sdp.empty()) m += "Content-Type: application/sdp\r\n";
    return m + "Content-Length: " + std::to_string(sdp.size()) + "\r\n\r\n" + sdp;
  }
  // A request of ours in the dialog the server's INVITE started (From and To swapped).
  std::string in_dialog(const Offer& o, const std::string& method, int cseq, const std::string& sdp,
                        const std::string& branch = "", const std::string& extra = "") {
    return request(method, uri_of(header_of(o.invite, "Contact")),
                   header_of(o.invite, "To") + ";tag=" + o.tag, header_of(o.invite, "From"),
                   header_of(o.invite, "Call-ID"), cseq, extra, sdp, branch);
  }

  int reinvite(const std::string& invite, const std::string& mode) {
    Offer& o = offer(invite);
    const int cseq = ++o.cseq;
    const std::string branch = new_branch();
    sip_.send_to(server_, in_dialog(o, "INVITE", cseq,
                                    sdp_body(call_rtp_->port()) + "a=" + mode + "\r\n", branch));
    const int st = final_response(header_of(invite, "Call-ID"), cseq, "INVITE");
    if (st >= 200) sip_.send_to(server_, in_dialog(o, "ACK", cseq, "", st < 300 ? "" : branch));
    return st;
  }

  void respond(const std::string& request, int status, const std::string& reason,
               const std::string& sdp = "") {
    auto o = offers_.find(header_of(request, "Call-ID"));
    const std::string tag = o != offers_.end() ? o->second.tag : "ph";
    const std::string m = response_to(request, status, reason, contact(), tag, sdp);
    sip_.send_to(server_, m);
    sent_[key_of(request)] = m;  // for retransmissions of the request
  }

  // The final response to our request `cseq method` in `call_id` (kept in last_response_), or
  // -1 when none came within 5 s.
  int final_response(const std::string& call_id, int cseq, const std::string& method) {
    const std::string want = std::to_string(cseq) + " " + method;
    auto msg = take(
        [&](const std::string& m) {
          return UdpPeer::status_of(m) >= 200 && header_of(m, "Call-ID") == call_id &&
                 header_of(m, "CSeq") == want;
        },
        std::chrono::seconds(5));
    if (!msg) return -1;
    last_response_ = *msg;
    finished_.insert(key_of(*msg));
    return UdpPeer::status_of(*msg);
  }

  // The first message accepted by `match`: from those kept, else the next to arrive within
  // `limit` (others arriving meanwhile are kept).
  template <typename Match>
  std::optional<std::string> take(Match match, Duration limit) {
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
      if (match(*it)) {
        std::string m = std::move(*it);
        pending_.erase(it);
        return m;
      }
    }
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (auto msg = next(deadline)) {
      if (match(*msg)) return msg;
      pending_.push_back(std::move(*msg));
    }
    return std::nullopt;
  }

  // The next message that needs a decision, receiving until `deadline`. Handled here: ACKs and
  // provisional responses (dropped), retransmissions (answered as before, or dropped); a new
  // INVITE is answered 180 Ringing and the BYE ending the dialled call 200 OK before they are
  // returned.
  std::optional<std::string> next(std::chrono::steady_clock::time_point deadline) {
    for (;;) {
      // Past the deadline, what has arrived already is still read (a limit of 0 polls).
      const auto left = std::max(std::chrono::milliseconds(0),
                                 std::chrono::duration_cast<std::chrono::milliseconds>(
                                     deadline - std::chrono::steady_clock::now()));
      auto msg = sip_.receive(left);
      if (!msg) return std::nullopt;
      const int status = UdpPeer::status_of(*msg);
      if (status > 0) {
        if (status < 200 || finished_.count(key_of(*msg))) continue;
        return msg;
      }
      if (is_request(*msg, "ACK")) continue;
      if (auto sent = sent_.find(key_of(*msg)); sent != sent_.end()) {
        sip_.send_to(server_, sent->second);
        continue;
      }
      const std::string call_id = header_of(*msg, "Call-ID");
      if (is_request(*msg, "BYE") && call_id == dialled_) respond(*msg, 200, "OK");
      if (is_request(*msg, "INVITE") && offers_.count(call_id) == 0) {
        offers_[call_id] = Offer{*msg, "ph" + std::to_string(offers_.size() + 1)};
        respond(*msg, 180, "Ringing");
      }
      return msg;
    }
  }

  const uint16_t server_;
  const std::string realm_;
  UdpPeer sip_;
  std::string user_;
  std::string password_;
  int register_cseq_ = 0;
  int dialled_count_ = 0;
  int branches_ = 0;
  std::string dialled_;  // Call-ID of the last dial()
  std::string dialled_to_tag_;  // the server's tag in it
  std::unique_ptr<RtpPeer> dial_rtp_;
  std::unique_ptr<RtpPeer> call_rtp_;
  std::string last_response_;
  std::map<std::string, Offer> offers_;
  std::deque<std::string> pending_;
  std::map<std::string, std::string> sent_;  // our response by request key (Call-ID|CSeq)
  std::set<std::string> finished_;           // keys of final responses already taken
};

}  // namespace tamas::test
