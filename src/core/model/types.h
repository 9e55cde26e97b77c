// Value types shared by the whole core: ids, channels, agent status and state, queue strategies.
//
// Ids are small dense integers handed out by the Router when a queue, agent or skill is added, so
// the core can index arrays with them; TaskId is the exception: it comes from whoever created the
// task (a SIP call, a chat) and must be unique across every node of a cluster.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

namespace tamas::core {

template <typename Tag, typename Rep>
struct Id {
  Rep value{};
  friend constexpr auto operator<=>(Id, Id) = default;
};

using AgentId = Id<struct AgentIdTag, uint32_t>;
using QueueId = Id<struct QueueIdTag, uint32_t>;
using SkillId = Id<struct SkillIdTag, uint16_t>;
using TaskId = Id<struct TaskIdTag, uint64_t>;

enum class Channel : uint8_t { kVoice, kChat, kEmail, kSms, kCallback };
inline constexpr size_t kChannelCount = 5;

// What the agent (or a supervisor for the agent) chose.
enum class AgentStatus : uint8_t { kLoggedOut, kAvailable, kBreak };

// What the system is doing with the agent, derived from the agent's contacts: the most engaged of
// them wins (on contact > reserved > wrap-up > idle).
enum class AgentState : uint8_t { kIdle, kReserved, kOnContact, kWrapUp };

enum class Strategy : uint8_t {
  kLongestIdle,    // the agent idle the longest (default)
  kRingAll,        // offer to every eligible agent at once; the first to accept wins
  kRoundRobin,     // rotate through the members, remembering who was served last
  kFewestContacts, // the agent who has handled the fewest contacts since the statistics reset
  kLeastTalkTime,  // the agent with the least talk time since the statistics reset
  kLinear,         // top-down in the order the members were listed
  kRandom,         // any eligible agent, uniformly
  kBestSkill,      // the highest level in the queue's first required skill, then longest idle
};

// What makes a queue "empty" for join_empty / leave_empty.
enum class EmptyPolicy : uint8_t {
  kIgnore,             // never empty: callers always join and stay
  kNoAgentsLoggedIn,   // empty when no member is logged in (available, on break, or busy)
  kNoAgentsAvailable,  // empty when no member has status available
};

std::string_view to_string(Channel c);
std::string_view to_string(AgentStatus s);
std::string_view to_string(AgentState s);
std::string_view to_string(Strategy s);
std::string_view to_string(EmptyPolicy p);
std::optional<Channel> channel_from_string(std::string_view s);
std::optional<Strategy> strategy_from_string(std::string_view s);
std::optional<EmptyPolicy> empty_policy_from_string(std::string_view s);
std::optional<AgentStatus> agent_status_from_string(std::string_view s);

}  // namespace tamas::core

template <typename Tag, typename Rep>
struct std::hash<tamas::core::Id<Tag, Rep>> {
  size_t operator()(tamas::core::Id<Tag, Rep> id) const noexcept {
    return std::hash<Rep>()(id.value);
  }
};
