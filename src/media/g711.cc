// G.711 tables, built on first use from spandsp's reference functions. See g711.h.
#include "media/g711.h"

#include <array>

#include "media/dep_spandsp.h"

namespace tamas::media {
namespace {

struct Tables {
  std::array<uint8_t, 65536> to_ulaw;
  std::array<uint8_t, 65536> to_alaw;
  std::array<int16_t, 256> from_ulaw;
  std::array<int16_t, 256> from_alaw;
  std::array<uint8_t, 256> ulaw_to_alaw;
  std::array<uint8_t, 256> alaw_to_ulaw;

  Tables() {
    for (int i = 0; i < 65536; ++i) {
      const int linear = i - 32768;
      to_ulaw[static_cast<size_t>(i)] = ::linear_to_ulaw(linear);
      to_alaw[static_cast<size_t>(i)] = ::linear_to_alaw(linear);
    }
    for (int i = 0; i < 256; ++i) {
      const auto code = static_cast<uint8_t>(i);
      from_ulaw[code] = ::ulaw_to_linear(code);
      from_alaw[code] = ::alaw_to_linear(code);
    }
    // Through linear, as spandsp's ulaw_to_alaw() does (its own tables are not exported).
    for (int i = 0; i < 256; ++i) {
      const auto code = static_cast<uint8_t>(i);
      ulaw_to_alaw[code] = to_alaw[static_cast<size_t>(from_ulaw[code] + 32768)];
      alaw_to_ulaw[code] = to_ulaw[static_cast<size_t>(from_alaw[code] + 32768)];
    }
  }
};

const Tables& tables() {
  static const Tables t;  // thread-safe initialisation (C++11 magic statics)
  return t;
}

size_t index(int16_t s) { return static_cast<size_t>(static_cast<int>(s) + 32768); }

}  // namespace

std::optional<Codec> codec_from_payload_type(uint8_t payload_type) {
  if (payload_type == 0) return Codec::kPcmu;
  if (payload_type == 8) return Codec::kPcma;
  return std::nullopt;
}

std::string_view codec_name(Codec c) { return c == Codec::kPcmu ? "PCMU" : "PCMA"; }

uint8_t linear_to_ulaw(int16_t sample) { return tables().to_ulaw[index(sample)]; }
int16_t ulaw_to_linear(uint8_t code) { return tables().from_ulaw[code]; }
uint8_t linear_to_alaw(int16_t sample) { return tables().to_alaw[index(sample)]; }
int16_t alaw_to_linear(uint8_t code) { return tables().from_alaw[code]; }

void encode(Codec codec, std::span<const int16_t> in, uint8_t* out) {
  const auto& t = codec == Codec::kPcmu ? tables().to_ulaw : tables().to_alaw;
  for (size_t i = 0; i < in.size(); ++i) out[i] = t[index(in[i])];
}

void decode(Codec codec, std::span<const uint8_t> in, int16_t* out) {
  const auto& t = codec == Codec::kPcmu ? tables().from_ulaw : tables().from_alaw;
  for (size_t i = 0; i < in.size(); ++i) out[i] = t[in[i]];
}

void transcode(Codec from, Codec to, std::span<uint8_t> payload) {
  if (from == to) return;
  const auto& t = from == Codec::kPcmu ? tables().ulaw_to_alaw : tables().alaw_to_ulaw;
  for (auto& b : payload) b = t[b];
}

uint8_t silence_byte(Codec c) { return c == Codec::kPcmu ? kPcmuSilence : kPcmaSilence; }

}  // namespace tamas::media
