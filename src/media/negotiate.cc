// Offer/answer for the media engine: which G.711 law and telephone-event payload type to use.
// See negotiate() in engine.h.
//
// Thread rules: pure; callable from any thread.
#include <algorithm>
#include <cctype>

#include "media/engine.h"

namespace tamas::media {
namespace {

bool iequals(const std::string& a, const char* b) {
  const std::string_view bv(b);
  return a.size() == bv.size() && std::equal(a.begin(), a.end(), bv.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Static payload types may come without an rtpmap line (RFC 3551), so an empty encoding with PT
// 0 or 8 means PCMU or PCMA.
std::optional<uint8_t> g711_payload_type(const RemoteMedia::Format& f) {
  if (f.clock_rate != 8000) return std::nullopt;
  if (iequals(f.encoding, "PCMU") || (f.encoding.empty() && f.payload_type == 0)) return 0;
  if (iequals(f.encoding, "PCMA") || (f.encoding.empty() && f.payload_type == 8)) return 8;
  return std::nullopt;
}

}  // namespace

Result<Negotiated> negotiate(const RemoteMedia& offer) {
  Negotiated n;
  bool found = false;
  for (const auto& f : offer.formats) {
    if (!found) {
      if (auto pt = g711_payload_type(f)) {
        // The static number (engine.h promises 0 or 8), even if the peer mapped a dynamic one.
        n.payload_type = *pt;
        n.encoding = *pt == 0 ? "PCMU" : "PCMA";
        found = true;
        continue;
      }
    }
    if (!n.telephone_event && iequals(f.encoding, "telephone-event") && f.clock_rate == 8000 &&
        f.payload_type >= 96 && f.payload_type <= 127) {
      n.telephone_event = f.payload_type;
    }
  }
  if (!found) {
    return Status::error("no common codec: the offer has neither PCMU nor PCMA at 8000 Hz");
  }
  switch (offer.direction) {
    case Direction::kSendRecv:
      n.direction = Direction::kSendRecv;
      break;
    case Direction::kSendOnly:
      n.direction = Direction::kRecvOnly;
      break;
    case Direction::kRecvOnly:
      n.direction = Direction::kSendOnly;
      break;
    case Direction::kInactive:
      n.direction = Direction::kInactive;
      break;
  }
  return n;
}

}  // namespace tamas::media
