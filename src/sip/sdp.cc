// SDP in (sofia-sip's parser) and out (a fixed template): see sip.h.
#include <arpa/inet.h>

#include <cstdio>
#include <memory>

#include "sip/dep_sofia.h"
#include "sip/sip.h"

namespace tamas::sip {
namespace {

struct HomeDeleter {
  void operator()(su_home_t* h) const { su_home_unref(h); }
};
struct ParserDeleter {
  void operator()(sdp_parser_t* p) const { sdp_parser_free(p); }
};

Mode mode_of(unsigned m) {
  switch (m) {
    case sdp_sendonly: return Mode::kSendOnly;
    case sdp_recvonly: return Mode::kRecvOnly;
    case sdp_inactive: return Mode::kInactive;
    default: return Mode::kSendRecv;
  }
}

const char* mode_attr(Mode m) {
  switch (m) {
    case Mode::kSendOnly: return "sendonly";
    case Mode::kRecvOnly: return "recvonly";
    case Mode::kInactive: return "inactive";
    case Mode::kSendRecv: break;
  }
  return "sendrecv";
}

bool is_ipv4(const char* s) {
  in_addr a{};
  return s != nullptr && inet_pton(AF_INET, s, &a) == 1;
}

}  // namespace

Result<SdpAudio> parse_sdp(std::string_view body) {
  if (body.empty()) return Status::error("the SDP body is empty");
  std::unique_ptr<su_home_t, HomeDeleter> home(static_cast<su_home_t*>(su_home_new(sizeof(su_home_t))));
  if (!home) return Status::error("out of memory parsing SDP");
  // Freed when this returns, after every use of what it parsed.
  std::unique_ptr<sdp_parser_t, ParserDeleter> parser(
      sdp_parse(home.get(), body.data(), static_cast<issize_t>(body.size()), 0));
  sdp_session_t* session = sdp_session(parser.get());
  if (session == nullptr) {
    const char* why = sdp_parsing_error(parser.get());
    return Status::error(std::string("the SDP does not parse: ") + (why ? why : "unknown error"));
  }
  SdpAudio audio;
  const sdp_media_t* m = session->sdp_media;
  while (m != nullptr && m->m_type != sdp_media_audio) m = m->m_next;
  if (m == nullptr) return Status::error("the SDP has no audio stream (m=audio)");
  if (m->m_port == 0 || m->m_port > 65535) {
    return Status::error("the SDP's audio stream has port " + std::to_string(m->m_port));
  }
  const sdp_connection_t* c = m->m_connections ? m->m_connections : session->sdp_connection;
  if (c == nullptr || !is_ipv4(c->c_address)) {
    return Status::error("the SDP's audio stream has no IPv4 connection address (c=IN IP4 ...)");
  }
  audio.address = c->c_address;
  audio.port = static_cast<uint16_t>(m->m_port);
  audio.mode = mode_of(m->m_mode);
  for (const sdp_rtpmap_t* r = m->m_rtpmaps; r != nullptr; r = r->rm_next) {
    SdpFormat f;
    f.payload_type = static_cast<uint8_t>(r->rm_pt);
    f.encoding = r->rm_encoding ? r->rm_encoding : "";
    f.clock_rate = static_cast<uint32_t>(r->rm_rate);
    audio.formats.push_back(std::move(f));
  }
  return audio;
}

std::string build_sdp(const SdpAnswer& a) {
  char buf[1024];
  std::string formats = std::to_string(a.payload_type);
  std::string rtpmaps = "a=rtpmap:" + std::to_string(a.payload_type) + " " + a.encoding + "/8000\r\n";
  if (a.telephone_event) {
    const std::string te = std::to_string(*a.telephone_event);
    formats += " " + te;
    rtpmaps += "a=rtpmap:" + te + " telephone-event/8000\r\na=fmtp:" + te + " 0-16\r\n";
  }
  std::snprintf(buf, sizeof buf,
                "v=0\r\n"
                "o=tamas %llu %u IN IP4 %s\r\n"
                "s=Tamas\r\n"
                "c=IN IP4 %s\r\n"
                "t=0 0\r\n"
                "m=audio %u RTP/AVP %s\r\n"
                "%s"
                "a=ptime:20\r\n"
                "a=%s\r\n",
                static_cast<unsigned long long>(a.session_id), a.version, a.address.c_str(),
                a.address.c_str(), static_cast<unsigned>(a.port), formats.c_str(), rtpmaps.c_str(),
                mode_attr(a.mode));
  return buf;
}

}  // namespace tamas::sip
