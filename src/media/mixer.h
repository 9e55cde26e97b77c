// Three-party mixing for supervisors: listen, whisper and barge over one 20 ms frame per party.
//
// Pure functions with saturation (sums are clamped to int16, never wrapped). Not yet wired into
// sessions: the supervisor features will call mix_three() from the worker tick that owns the
// three sessions.
//
// Thread rules: pure; callable from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "media/g711.h"

namespace tamas::media {

using Frame = std::array<int16_t, kFrameSamples>;

// out[i] = clamp(a[i] + b[i]). Spans must have the same length as `out`.
void mix_add(std::span<const int16_t> a, std::span<const int16_t> b, std::span<int16_t> out);

enum class SupervisorMode : uint8_t {
  kListen,   // supervisor hears both; nobody hears the supervisor
  kWhisper,  // supervisor hears both; only the agent hears the supervisor
  kBarge,    // everyone hears the other two
};

struct ThreeWay {
  Frame to_caller, to_agent, to_supervisor;
};

// What each party hears, given what each one said in this frame.
ThreeWay mix_three(const Frame& caller, const Frame& agent, const Frame& supervisor,
                   SupervisorMode mode);

}  // namespace tamas::media
