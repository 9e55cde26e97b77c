#include "core/model/types.h"

#include <array>
#include <utility>

namespace tamas::core {
namespace {

template <typename E, size_t N>
std::optional<E> lookup(const std::array<std::pair<std::string_view, E>, N>& table,
                        std::string_view s) {
  for (const auto& [name, value] : table) {
    if (name == s) return value;
  }
  return std::nullopt;
}

template <typename E, size_t N>
std::string_view name_of(const std::array<std::pair<std::string_view, E>, N>& table, E e) {
  for (const auto& [name, value] : table) {
    if (value == e) return name;
  }
  return "?";
}

constexpr std::array<std::pair<std::string_view, Channel>, kChannelCount> kChannels{{
    {"voice", Channel::kVoice},
    {"chat", Channel::kChat},
    {"email", Channel::kEmail},
    {"sms", Channel::kSms},
    {"callback", Channel::kCallback},
}};

constexpr std::array<std::pair<std::string_view, Strategy>, 8> kStrategies{{
    {"longest-idle", Strategy::kLongestIdle},
    {"ring-all", Strategy::kRingAll},
    {"round-robin", Strategy::kRoundRobin},
    {"fewest-contacts", Strategy::kFewestContacts},
    {"least-talk-time", Strategy::kLeastTalkTime},
    {"linear", Strategy::kLinear},
    {"random", Strategy::kRandom},
    {"best-skill", Strategy::kBestSkill},
}};

constexpr std::array<std::pair<std::string_view, EmptyPolicy>, 3> kEmptyPolicies{{
    {"ignore", EmptyPolicy::kIgnore},
    {"no-agents-logged-in", EmptyPolicy::kNoAgentsLoggedIn},
    {"no-agents-available", EmptyPolicy::kNoAgentsAvailable},
}};

constexpr std::array<std::pair<std::string_view, AgentStatus>, 3> kStatuses{{
    {"logged-out", AgentStatus::kLoggedOut},
    {"available", AgentStatus::kAvailable},
    {"break", AgentStatus::kBreak},
}};

constexpr std::array<std::pair<std::string_view, AgentState>, 4> kStates{{
    {"idle", AgentState::kIdle},
    {"reserved", AgentState::kReserved},
    {"on-contact", AgentState::kOnContact},
    {"wrap-up", AgentState::kWrapUp},
}};

}  // namespace

std::string_view to_string(Channel c) { return name_of(kChannels, c); }
std::string_view to_string(AgentStatus s) { return name_of(kStatuses, s); }
std::string_view to_string(AgentState s) { return name_of(kStates, s); }
std::string_view to_string(Strategy s) { return name_of(kStrategies, s); }
std::string_view to_string(EmptyPolicy p) { return name_of(kEmptyPolicies, p); }
std::optional<Channel> channel_from_string(std::string_view s) { return lookup(kChannels, s); }
std::optional<Strategy> strategy_from_string(std::string_view s) {
  if (s == "best-skill-level") return Strategy::kBestSkill;
  if (s == "top-down") return Strategy::kLinear;
  return lookup(kStrategies, s);
}
std::optional<EmptyPolicy> empty_policy_from_string(std::string_view s) {
  return lookup(kEmptyPolicies, s);
}
std::optional<AgentStatus> agent_status_from_string(std::string_view s) {
  return lookup(kStatuses, s);
}

}  // namespace tamas::core
