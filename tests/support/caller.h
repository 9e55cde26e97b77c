// A caller for black-box tests of `tamas serve`: raw SIP over UDP from 127.0.0.1 (the test
// configurations' trunk) and an RTP peer for the media. One thread uses a caller at a time
// (its RTP peer may be driven from a second one, see rtp_peer.h).
#pragma once

#include <cstdint>
#include <string>

#include "support/rtp_peer.h"
#include "support/sip_peer.h"

namespace tamas::test {

struct Caller {
  UdpPeer sip;
  RtpPeer rtp;
  std::string call_id;
  std::string to_tag;
  int cseq = 1;

  // INVITEs `number` (with an SDP offer for `rtp`, or `body`) as call `id`, ACKs the final
  // response and returns its status (-1 when none came within 5 s). On 200 the RTP peer sends to
  // the server's answer.
  int call(uint16_t server, const std::string& number, const std::string& id,
           const std::string& body = "") {
    call_id = id;
    sip.send_to(server, invite(number, sip.port(), id, body.empty() ? sdp_body(rtp.port()) : body));
    const int st = sip.final_status(id);
    to_tag = sip.last_to_tag();
    if (st == 200) {
      const std::string& resp = sip.last_response();
      rtp.set_remote(resp.substr(resp.find("\r\n\r\n") + 4));
      sip.send_to(server, ack(number, sip.port(), id, to_tag));
    } else if (st >= 300) {
      sip.send_to(server, ack(number, sip.port(), id, to_tag));
    }
    return st;
  }
  // BYE; returns the status of its final response (-1 after 5 s).
  int hang_up(uint16_t server, const std::string& number) {
    sip.send_to(server, bye(number, sip.port(), call_id, to_tag, ++cseq));
    return sip.final_status(call_id, "BYE");
  }
};

}  // namespace tamas::test
