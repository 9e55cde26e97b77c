// Saturating three-party mixer. See mixer.h.
#include "media/mixer.h"

#include <algorithm>
#include <cassert>

namespace tamas::media {

void mix_add(std::span<const int16_t> a, std::span<const int16_t> b, std::span<int16_t> out) {
  assert(a.size() == out.size() && b.size() == out.size());
  for (size_t i = 0; i < out.size(); ++i) {
    const int sum = static_cast<int>(a[i]) + static_cast<int>(b[i]);
    out[i] = static_cast<int16_t>(std::clamp(sum, -32768, 32767));
  }
}

ThreeWay mix_three(const Frame& caller, const Frame& agent, const Frame& supervisor,
                   SupervisorMode mode) {
  ThreeWay w;
  mix_add(caller, agent, w.to_supervisor);
  switch (mode) {
    case SupervisorMode::kListen:
      w.to_caller = agent;
      w.to_agent = caller;
      break;
    case SupervisorMode::kWhisper:
      w.to_caller = agent;
      mix_add(caller, supervisor, w.to_agent);
      break;
    case SupervisorMode::kBarge:
      mix_add(agent, supervisor, w.to_caller);
      mix_add(caller, supervisor, w.to_agent);
      break;
  }
  return w;
}

}  // namespace tamas::media
