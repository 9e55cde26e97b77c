// Contact flows (IVR): what a call hears and does from the moment it reaches a number until it is
// transferred, queued, recorded or hung up.
//
// A Flow is a small graph of named nodes (play, menu, collect, set, branch, voicemail, transfer,
// queue, hangup). The FlowEngine interprets flows for many calls at once, like the Router: events
// in, commands out, time passed in. It reads no clock, touches no file, socket or thread, and is
// driven by one thread: call handle() for each event and advance() when next_deadline() comes.
// Definitions (FlowSet) are immutable and shared: a configuration reload gives new calls a new
// FlowSet while calls in progress keep theirs.
//
// The contract with whoever executes the commands (the SIP/media side, a test):
//  - Answer: answer the call (200 OK), or with `early` send 183 with early media. The engine
//    sends Answer{early=false} before the first Play unless the flow says `answer: early`, and
//    always before Record. A flow that only transfers or hangs up never answers.
//  - Play: play the prompts in order and report PlayDone{play_id} when all have played (or when
//    stopped by StopPlay: report PlayDone for it anyway; a PlayDone for any play id that is not the
//    current one is ignored). When `interruptible`, digits the caller types during the play are
//    reported as DigitReceived as usual; the engine decides to stop it (StopPlay).
//  - Record: beep if asked, record up to `max`, then report RecordDone{path, duration}. Report
//    RecordDone also when the caller hangs up while recording (before CallerHungUp, or after it:
//    the engine waits for RecordDone in both orders).
//  - Transfer: send the call to `target` (an external SIP URI, through `trunk` when set) and
//    report TransferResult{ok}. Targets inside the tenant (its numbers, `flow:NAME`) are followed
//    by the engine itself and never reach the executor.
//  - EnterQueue: hand the call to the routing engine; report QueueConnected when an agent takes
//    it, or QueueExited (timeout, escalation exit, an exit key, or "no queue yet") to continue
//    the flow. While queued the engine drops DigitReceived: the executor itself listens for
//    EnterQueue::exit_keys (it must withdraw the task from the router before the flow goes on)
//    and reports a press as QueueExited{"key:D"}.
//  - Hangup: end the call (BYE when answered, otherwise a final response chosen from `cause`).
//  - Finished: always the last command for a call: write the interaction record. The engine has
//    forgotten the call when it emits Finished; further events for it are ignored.
// The caller hanging up (CallerHungUp) ends the flow at once with a Finished (no Hangup).
//
// Digits: digits typed during an interruptible prompt stop it (StopPlay) and count as input for
// the node (menu choice, collected digits; for a play node they are kept for the next node that
// reads digits, so a caller who knows the menu can type ahead). Digits typed during a
// non-interruptible prompt are dropped: an announcement the business wants heard is heard, and a
// stray key does not pre-select a menu option nobody has offered yet. Menu and collect prompts
// are interruptible unless the node says otherwise; play nodes are not unless they say so.
//
// Variables: each call has string variables, set by `set` and `collect` nodes and substituted as
// ${name} in prompt text, numbers, set values, branch values and transfer targets (unknown names
// become empty). Built in: ${caller} (From user part), ${called} (the number dialled), ${tenant},
// ${language} (setting it to en/fa/ar switches the language of the prompts that follow).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "core/flow/calendar.h"
#include "core/flow/language.h"
#include "core/model/types.h"

namespace tamas::core {

using CallId = TaskId;

// ---- Definitions --------------------------------------------------------------------------------

// One thing to say, as written in a flow. `value` may contain ${var}.
struct PromptSpec {
  enum class Kind : uint8_t {
    kId,        // a prompt of the tenant by id (config `prompts:`), in the call's language
    kText,      // text synthesized at run time (espeak-ng) in `language` or the call's language
    kNumber,    // a whole number, said in words ("twenty-three")
    kDuration,  // a number of seconds, said as an approximate duration ("about 3 minutes")
    kDigits,    // a string of digits, said one by one ("1 0 0")
  };
  Kind kind = Kind::kId;
  std::string value;
  std::optional<Language> language;  // unset: the call's current language
};

// A regex compiled once at load (ECMAScript syntax, whole-string match), with its source text.
struct Pattern {
  std::string source;
  std::shared_ptr<const std::regex> regex;
  bool matches(std::string_view s) const;
  // Fails with the regex library's message when `source` is not a valid regex.
  static Result<Pattern> compile(std::string source);
};

struct PlayNode {
  std::vector<PromptSpec> prompts;
  bool interruptible = false;
  std::string next;  // required
};

struct MenuNode {
  std::vector<PromptSpec> prompts;
  bool interruptible = true;
  std::map<char, std::string> options;         // digit (0-9 * #) -> node
  Duration timeout = std::chrono::seconds(5);  // waiting for a digit after the prompt ended
  uint32_t retries = 2;  // times the menu is offered again after an invalid choice or a timeout
  std::vector<PromptSpec> invalid_prompts;  // played before offering the menu again
  std::vector<PromptSpec> timeout_prompts;
  // Where to go when the retries are used up (after the invalid/timeout prompt); empty = hang up.
  std::string on_failure;
};

struct CollectNode {
  std::vector<PromptSpec> prompts;
  bool interruptible = true;
  std::string variable;     // required; gets the digits (without the '#')
  uint32_t max_digits = 0;  // input ends after this many digits; 0 = only '#' or a timeout ends it
  uint32_t min_digits = 1;  // fewer digits than this (at '#' or timeout) is a failed attempt
  Duration timeout = std::chrono::seconds(5);      // for the first digit after the prompt ended
  Duration inter_digit = std::chrono::seconds(3);  // between digits; a timeout ends the input
  uint32_t retries = 2;
  std::vector<PromptSpec> invalid_prompts;  // too few digits
  std::vector<PromptSpec> timeout_prompts;  // no digit at all
  std::string next;                         // required
  std::string on_failure;  // retries used up; empty = `next` with the variable empty
};

struct SetNode {
  std::vector<std::pair<std::string, std::string>> assignments;  // variable, value with ${var}
  std::string next;
};

struct Condition {
  enum class Kind : uint8_t {
    kEquals,         // ${variable} == value (value may contain ${var})
    kMatches,        // ${variable} matches pattern
    kCallerMatches,  // the caller's number matches pattern
    kOpen,           // calendar is open now (in its hours and not a holiday)
    kClosed,         // the opposite of kOpen
    kHoliday,        // today (in the calendar's zone) is one of its holidays
  };
  Kind kind = Kind::kEquals;
  std::string variable;
  std::string value;
  Pattern pattern;
  std::string calendar;  // a calendar of the FlowSet
  std::string next;
};

struct BranchNode {
  std::vector<Condition> conditions;  // the first that holds wins
  std::string otherwise;              // required
};

struct VoicemailNode {
  std::vector<PromptSpec> prompts;  // not interruptible
  bool beep = true;
  Duration max = std::chrono::minutes(2);
  std::string next;  // after recording; empty = hang up
};

struct TransferNode {
  // `flow:NAME`, a number of the tenant (followed inside the engine), or an external destination
  // (a SIP URI, or a number dialled through `trunk`). Literal external targets are checked against
  // the tenant's transfer_allow list at load; targets with ${var} are checked at run time.
  std::string target;
  std::string trunk;       // for external targets; empty = the executor's choice
  std::string on_failure;  // transfer refused, failed or not allowed; empty = hang up
};

struct QueueNode {
  std::string queue;  // the routing queue's name
  int32_t priority = 0;
  // Where the flow continues when the call leaves the queue without an agent (max wait, an
  // escalation exit without a branch, or no routing yet); empty = hang up.
  std::string on_exit;
  // Named exits of escalation steps (TaskLeftQueue::branch) -> node.
  std::map<std::string, std::string> branches;
  // Exit keys: a key (0-9 * #) the caller may press while waiting to leave the queue -> the node
  // where the flow continues (e.g. '1' -> voicemail). EnterQueue::exit_keys lists them for the
  // executor, which reports a press as QueueExited{queue_key_branch(key)}.
  std::map<char, std::string> keys;
  // When not empty (e.g. "${vip_priority}"): the priority is this text with ${var} substituted,
  // read when the call enters the queue; a value that is not a whole number in -1000..1000 falls
  // back to `priority`.
  std::string priority_from;
};

// Queue priorities are clamped to this range by the configuration and the interpreter.
inline constexpr int32_t kMinQueuePriority = -1000;
inline constexpr int32_t kMaxQueuePriority = 1000;

// The QueueExited::branch by which the executor reports that the caller pressed exit key `key`
// while queued: "key:" followed by the key, e.g. "key:1".
inline constexpr std::string_view kQueueKeyBranchPrefix = "key:";
std::string queue_key_branch(char key);

enum class HangupCause : uint8_t {
  kNormal,       // BYE, or 480 when not yet answered
  kBusy,         // 486
  kRejected,     // 603
  kUnavailable,  // 503
  kError,        // 500: the flow failed
};

struct HangupNode {
  HangupCause cause = HangupCause::kNormal;
};

using NodeBody = std::variant<PlayNode, MenuNode, CollectNode, SetNode, BranchNode, VoicemailNode,
                              TransferNode, QueueNode, HangupNode>;

struct Node {
  std::string name;
  NodeBody body;
};

struct Flow {
  std::string name;
  std::optional<Language> language;  // unset: the tenant's default
  bool early_media = false;          // `answer: early`: 183 + early media until a Record
  std::string start;                 // the first node
  std::map<std::string, Node> nodes;
};

// A problem found by FlowSet::check(): the field path inside the FlowSet and what is wrong.
struct FlowProblem {
  std::string path;  // e.g. "flows.main.nodes.menu.options.1"
  std::string message;
};

// Everything of one tenant that its flows refer to. Immutable once built (by config/).
struct FlowSet {
  std::string tenant;
  Language default_language = Language::kEn;
  std::map<std::string, Flow> flows;
  std::map<std::string, Calendar> calendars;
  std::map<std::string, std::string> numbers;  // the tenant's numbers (DIDs) -> flow name
  std::vector<Pattern> transfer_allow;         // external transfer targets allowed (any match)

  const Flow* find_flow(std::string_view name) const;
  // Checks the graph: every start/next/option names a node of its flow, every calendar exists,
  // every literal transfer target is a flow or number of the tenant or allowed by
  // transfer_allow, every number names a flow. Returns every problem (none when valid); config/
  // maps each path back to its file and line.
  std::vector<FlowProblem> check() const;
  // The first problem of check() as "path: message"; ok when there is none.
  Status validate() const;
};

// How a transfer target resolves (exposed for the config loader's checks).
struct TransferTarget {
  enum class Kind : uint8_t { kFlow, kExternal, kNotAllowed };
  Kind kind = Kind::kNotAllowed;
  std::string flow;  // kFlow
};
TransferTarget resolve_transfer(const FlowSet& set, std::string_view target);

// ---- Events -------------------------------------------------------------------------------------

struct CallInfo {
  std::string tenant;
  std::string from;                  // the caller's number (user part of From), "" when anonymous
  std::string to;                    // the number dialled
  std::optional<Language> language;  // from the number's config; unset: the flow's, the tenant's
};

struct DigitReceived {
  char digit = 0;  // 0-9 * # A-D
};
struct PlayDone {
  uint64_t play_id = 0;
};
struct RecordDone {
  std::string path;  // where the executor stored the recording
  Duration duration{};
};
struct TransferResult {
  bool ok = false;
  std::string reason;  // when failed: for the record
};
struct QueueConnected {
  std::string agent;
};
// The call left the queue without an agent. `branch` is an escalation exit's branch (looked up in
// QueueNode::branches), or queue_key_branch(key) when the caller pressed one of
// EnterQueue::exit_keys (looked up in QueueNode::keys), or empty; a branch the node does not know
// continues at QueueNode::on_exit.
struct QueueExited {
  std::string branch;  // an escalation exit's branch, "key:D" for an exit key, or empty
  std::string reason;  // for the record ("timeout", "no routing yet", ...)
};
struct CallerHungUp {};

using FlowEvent = std::variant<DigitReceived, PlayDone, RecordDone, TransferResult, QueueConnected,
                               QueueExited, CallerHungUp>;

// ---- Commands -----------------------------------------------------------------------------------

// A prompt resolved for one call: variables substituted, language decided.
struct Prompt {
  PromptSpec::Kind kind = PromptSpec::Kind::kId;
  std::string id;      // kId
  std::string text;    // kText; kDigits (the digits)
  int64_t number = 0;  // kNumber; kDuration (seconds)
  Language language = Language::kEn;
};

struct Answer {
  CallId call;
  bool early = false;  // 183 Session Progress with early media instead of 200 OK
};
struct Play {
  CallId call;
  uint64_t play_id = 0;  // unique per engine
  std::vector<Prompt> prompts;
  bool interruptible = false;
};
struct StopPlay {
  CallId call;
  uint64_t play_id = 0;
};
struct Record {
  CallId call;
  Duration max{};
  bool beep = true;
};
struct Transfer {
  CallId call;
  std::string target;  // a SIP URI or a number
  std::string trunk;   // empty = the executor's choice
};
struct EnterQueue {
  CallId call;
  std::string queue;
  int32_t priority = 0;  // QueueNode::priority, or its priority_from resolved for this call
  Language language = Language::kEn;
  std::map<std::string, std::string> variables;
  // Keys (in ascending order, e.g. "1#") that take the caller out of the queue: while the call
  // waits, the executor listens for them; on one, it takes the task out of the routing engine
  // first and then reports QueueExited{queue_key_branch(key)}. Other keys are dropped.
  std::string exit_keys;
  std::string ivr_path;  // the menu choices so far ("1>3"), shown to the agent
};
struct Hangup {
  CallId call;
  HangupCause cause = HangupCause::kNormal;
};

enum class FlowResult : uint8_t {
  kCompleted,         // the flow ended with a hangup node (or after a voicemail's `next`)
  kVoicemail,         // the caller left a voicemail
  kTransferred,       // handed to another destination
  kAnswered,          // an agent took the call from a queue
  kTimeout,           // the caller left a queue without an agent (max wait, no agents, escalation)
  kAbandonedInIvr,    // the caller hung up in the flow
  kAbandonedInQueue,  // the caller hung up while waiting in a queue
  kFailed,            // the flow could not go on (bad target, loop, transfer failed, ...)
};

struct VoicemailInfo {
  std::string caller;
  std::string called;
  std::string path;
  TimePoint at;  // when the recording started
  Duration duration{};
};

struct Finished {
  CallId call;
  std::string flow;  // the flow the call started in
  FlowResult result = FlowResult::kCompleted;
  std::string path;  // menu choices in order, e.g. "1>3"
  std::map<std::string, std::string> variables;
  std::optional<VoicemailInfo> voicemail;
  std::string transfer_target;  // kTransferred
  std::string queue;            // kQueued / kAbandonedInQueue: the last queue
  std::string agent;            // kQueued
  std::string reason;           // kFailed: what went wrong
  TimePoint started;
  TimePoint ended;
};

using FlowCommand =
    std::variant<Answer, Play, StopPlay, Record, Transfer, EnterQueue, Hangup, Finished>;
// The caller owns the vector; the engine appends.
using FlowCommandSink = std::vector<FlowCommand>;

std::string_view to_string(FlowResult r);
std::string_view to_string(HangupCause c);
std::string_view to_string(PromptSpec::Kind k);
std::string_view to_string(Condition::Kind k);

// Replaces each ${name} in `text` with vars[name] (empty when unknown). "$" elsewhere stays.
std::string substitute(std::string_view text, const std::map<std::string, std::string>& vars);

// ---- The interpreter ----------------------------------------------------------------------------

class FlowEngine {
 public:
  FlowEngine();
  ~FlowEngine();
  FlowEngine(const FlowEngine&) = delete;
  FlowEngine& operator=(const FlowEngine&) = delete;

  // Starts `flow_name` of `flows` for a new call. Fails (and emits nothing) when the call id is
  // already running or the flow does not exist; the executor should then reject the call.
  Status start(CallId call, std::shared_ptr<const FlowSet> flows, std::string_view flow_name,
               CallInfo info, TimePoint now, FlowCommandSink& out);

  // An event for a running call; events for unknown calls are ignored (returns false).
  bool handle(CallId call, const FlowEvent& event, TimePoint now, FlowCommandSink& out);

  // Fires every timer due at `now` (menu/collect timeouts, inter-digit timeouts).
  void advance(TimePoint now, FlowCommandSink& out);
  // The earliest pending timer, if any.
  std::optional<TimePoint> next_deadline() const;

  size_t active_calls() const { return calls_.size(); }
  bool is_active(CallId call) const { return calls_.count(call) != 0; }
  // The node a call is in (for the UI and tests); empty when unknown.
  std::string current_node(CallId call) const;

  // Steps (nodes entered) without waiting for the caller before a call is failed as a loop.
  static constexpr uint32_t kMaxStepsPerEvent = 256;

 private:
  struct CallState;
  friend class FlowStep;  // the interpreter proper, in flow.cc

  std::unordered_map<CallId, std::unique_ptr<CallState>> calls_;
  std::set<std::pair<TimePoint, CallId>> timers_;
  uint64_t next_play_id_ = 1;
};

}  // namespace tamas::core
