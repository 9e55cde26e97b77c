// G.711 µ-law (PCMU, RTP payload type 0) and A-law (PCMA, payload type 8): encode, decode and
// direct transcoding between the two laws, through tables built once from spandsp's reference
// functions (so the bit patterns are the ITU's, and the per-sample cost is one table look-up).
//
// Thread rules: pure functions over immutable tables; callable from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace tamas::media {

enum class Codec : uint8_t { kPcmu = 0, kPcma = 8 };  // value = static RTP payload type

inline constexpr int kSampleRate = 8000;
inline constexpr int kFrameSamples = 160;  // 20 ms
inline constexpr uint8_t kPcmuSilence = 0xFF;
inline constexpr uint8_t kPcmaSilence = 0xD5;

// PT 0 -> kPcmu, PT 8 -> kPcma, anything else -> nullopt.
std::optional<Codec> codec_from_payload_type(uint8_t payload_type);
inline uint8_t payload_type(Codec c) { return static_cast<uint8_t>(c); }
std::string_view codec_name(Codec c);

uint8_t linear_to_ulaw(int16_t sample);
int16_t ulaw_to_linear(uint8_t code);
uint8_t linear_to_alaw(int16_t sample);
int16_t alaw_to_linear(uint8_t code);

// `out` must be at least as long as `in`.
void encode(Codec codec, std::span<const int16_t> in, uint8_t* out);
void decode(Codec codec, std::span<const uint8_t> in, int16_t* out);
// Re-encodes a payload in place from one law to the other (identity when from == to).
void transcode(Codec from, Codec to, std::span<uint8_t> payload);
uint8_t silence_byte(Codec c);

}  // namespace tamas::media
