// The contact-flow interpreter (flow.h): one small state machine per call.
//
// Each call is in one node and one phase of it (playing, waiting for a digit, recording, ...).
// Nodes that need nothing from the caller (set, branch, an internal transfer) chain through
// `pending` inside run(), bounded by kMaxStepsPerEvent so a loop in a flow fails the call instead
// of the thread. A call that ends is marked done and erased by the public entry point that was
// running it, never while a FlowStep still refers to it. Single-threaded like the Router.
#include "core/flow/flow.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <utility>

namespace tamas::core {

// ---- Small helpers ------------------------------------------------------------------------------

bool Pattern::matches(std::string_view s) const {
  if (!regex) return false;
  return std::regex_match(s.begin(), s.end(), *regex);
}

Result<Pattern> Pattern::compile(std::string source) {
  // std::regex reports a bad pattern by throwing; this is the one place that catches it.
  try {
    auto re = std::make_shared<const std::regex>(source, std::regex::ECMAScript);
    return Pattern{std::move(source), std::move(re)};
  } catch (const std::regex_error& e) {
    return Status::error("invalid regex '" + source + "': " + e.what());
  }
}

std::string substitute(std::string_view text, const std::map<std::string, std::string>& vars) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{') {
      const size_t close = text.find('}', i + 2);
      if (close != std::string_view::npos) {
        auto it = vars.find(std::string(text.substr(i + 2, close - i - 2)));
        if (it != vars.end()) out += it->second;
        i = close + 1;
        continue;
      }
    }
    out += text[i++];
  }
  return out;
}

std::string_view to_string(FlowResult r) {
  switch (r) {
    case FlowResult::kCompleted:
      return "completed";
    case FlowResult::kVoicemail:
      return "voicemail";
    case FlowResult::kTransferred:
      return "transferred";
    case FlowResult::kAnswered:
      return "answered";
    case FlowResult::kTimeout:
      return "timeout";
    case FlowResult::kAbandonedInIvr:
      return "abandoned_in_ivr";
    case FlowResult::kAbandonedInQueue:
      return "abandoned_in_queue";
    case FlowResult::kFailed:
      return "failed";
  }
  return "?";
}

std::string_view to_string(HangupCause c) {
  switch (c) {
    case HangupCause::kNormal:
      return "normal";
    case HangupCause::kBusy:
      return "busy";
    case HangupCause::kRejected:
      return "rejected";
    case HangupCause::kUnavailable:
      return "unavailable";
    case HangupCause::kError:
      return "error";
  }
  return "?";
}

std::string_view to_string(PromptSpec::Kind k) {
  switch (k) {
    case PromptSpec::Kind::kId:
      return "prompt";
    case PromptSpec::Kind::kText:
      return "say";
    case PromptSpec::Kind::kNumber:
      return "number";
    case PromptSpec::Kind::kDuration:
      return "duration";
    case PromptSpec::Kind::kDigits:
      return "digits";
  }
  return "?";
}

std::string_view to_string(Condition::Kind k) {
  switch (k) {
    case Condition::Kind::kEquals:
      return "equals";
    case Condition::Kind::kMatches:
      return "matches";
    case Condition::Kind::kCallerMatches:
      return "caller";
    case Condition::Kind::kOpen:
      return "open";
    case Condition::Kind::kClosed:
      return "closed";
    case Condition::Kind::kHoliday:
      return "holiday";
  }
  return "?";
}

std::string queue_key_branch(char key) {
  std::string b(kQueueKeyBranchPrefix);
  b += key;
  return b;
}

// ---- FlowSet ------------------------------------------------------------------------------------

const Flow* FlowSet::find_flow(std::string_view name) const {
  auto it = flows.find(std::string(name));
  return it == flows.end() ? nullptr : &it->second;
}

TransferTarget resolve_transfer(const FlowSet& set, std::string_view target) {
  TransferTarget t;
  if (target.substr(0, 5) == "flow:") {
    if (set.find_flow(target.substr(5)) != nullptr) {
      t.kind = TransferTarget::Kind::kFlow;
      t.flow = std::string(target.substr(5));
    }
    return t;
  }
  if (auto it = set.numbers.find(std::string(target)); it != set.numbers.end()) {
    t.kind = TransferTarget::Kind::kFlow;
    t.flow = it->second;
    return t;
  }
  if (target.empty()) return t;
  for (const Pattern& p : set.transfer_allow) {
    if (p.matches(target)) {
      t.kind = TransferTarget::Kind::kExternal;
      return t;
    }
  }
  return t;
}

std::vector<FlowProblem> FlowSet::check() const {
  std::vector<FlowProblem> problems;
  for (const auto& [flow_name, flow] : flows) {
    const std::string base = "flows." + flow_name;
    auto need_node = [&](const std::string& path, const std::string& target, bool required) {
      if (target.empty()) {
        if (required) problems.push_back({path, "a node is required"});
        return;
      }
      if (flow.nodes.count(target) == 0) {
        problems.push_back({path, "no node '" + target + "' in flow '" + flow_name + "'"});
      }
    };
    need_node(base + ".start", flow.start, true);
    for (const auto& [node_name, node] : flow.nodes) {
      const std::string np = base + ".nodes." + node_name;
      std::visit(
          [&](const auto& n) {
            using T = std::decay_t<decltype(n)>;
            if constexpr (std::is_same_v<T, PlayNode>) {
              need_node(np + ".next", n.next, true);
            } else if constexpr (std::is_same_v<T, MenuNode>) {
              for (const auto& [digit, target] : n.options) {
                need_node(np + ".options." + std::string(1, digit), target, true);
              }
              need_node(np + ".on_failure", n.on_failure, false);
            } else if constexpr (std::is_same_v<T, CollectNode>) {
              if (n.variable.empty()) problems.push_back({np + ".into", "a variable is required"});
              if (n.max_digits != 0 && n.min_digits > n.max_digits) {
                problems.push_back({np + ".min_digits", "more than max_digits"});
              }
              need_node(np + ".next", n.next, true);
              need_node(np + ".on_failure", n.on_failure, false);
            } else if constexpr (std::is_same_v<T, SetNode>) {
              need_node(np + ".next", n.next, true);
            } else if constexpr (std::is_same_v<T, BranchNode>) {
              for (size_t i = 0; i < n.conditions.size(); ++i) {
                const Condition& c = n.conditions[i];
                const std::string cp = np + ".branch[" + std::to_string(i) + "]";
                if ((c.kind == Condition::Kind::kOpen || c.kind == Condition::Kind::kClosed ||
                     c.kind == Condition::Kind::kHoliday) &&
                    calendars.count(c.calendar) == 0) {
                  problems.push_back({cp + "." + std::string(to_string(c.kind)),
                                      "no calendar '" + c.calendar + "'"});
                }
                need_node(cp + ".goto", c.next, true);
              }
              need_node(np + ".otherwise", n.otherwise, true);
            } else if constexpr (std::is_same_v<T, VoicemailNode>) {
              need_node(np + ".next", n.next, false);
            } else if constexpr (std::is_same_v<T, TransferNode>) {
              if (n.target.find("${") == std::string::npos &&
                  resolve_transfer(*this, n.target).kind == TransferTarget::Kind::kNotAllowed) {
                problems.push_back(
                    {np + ".transfer", n.target.substr(0, 5) == "flow:"
                                           ? "no flow '" + n.target.substr(5) + "'"
                                           : "'" + n.target +
                                                 "' is neither a number or flow of the tenant nor "
                                                 "allowed by transfer_allow"});
              }
              need_node(np + ".on_failure", n.on_failure, false);
            } else if constexpr (std::is_same_v<T, QueueNode>) {
              need_node(np + ".on_exit", n.on_exit, false);
              for (const auto& [branch, target] : n.branches) {
                need_node(np + ".branches." + branch, target, true);
              }
              for (const auto& [key, target] : n.keys) {
                const std::string kp = np + ".keys." + std::string(1, key);
                if (std::string_view("0123456789*#").find(key) == std::string_view::npos) {
                  problems.push_back({kp, "an exit key is one key: 0-9, * or #"});
                }
                need_node(kp, target, true);
              }
            }
          },
          node.body);
    }
  }
  for (const auto& [number, flow] : numbers) {
    if (flows.count(flow) == 0) {
      problems.push_back({"numbers." + number, "no flow '" + flow + "'"});
    }
  }
  return problems;
}

Status FlowSet::validate() const {
  auto problems = check();
  if (problems.empty()) return Status::ok();
  return Status::error(problems.front().path + ": " + problems.front().message);
}

// ---- Per-call state -----------------------------------------------------------------------------

enum class Phase : uint8_t {
  kIdle,          // between nodes
  kPlaying,       // a play node's prompts
  kPrompt,        // a menu/collect prompt
  kWaitInput,     // a menu/collect waiting for a digit (timer set)
  kFeedback,      // an invalid/timeout prompt of a menu/collect
  kVmPrompt,      // a voicemail greeting
  kRecording,     // a voicemail being recorded
  kTransferring,  // waiting for TransferResult
  kQueued,        // handed to a queue
};

struct FlowEngine::CallState {
  CallId id;
  std::shared_ptr<const FlowSet> set;
  const Flow* flow = nullptr;  // points into *set
  std::string first_flow;
  CallInfo info;
  Language language = Language::kEn;
  std::map<std::string, std::string> vars;
  TimePoint started;

  const Node* node = nullptr;  // the current node, inside *flow
  std::string node_name;
  std::optional<std::string> pending;
  Phase phase = Phase::kIdle;
  uint64_t play_id = 0;
  bool play_interruptible = false;
  std::string buffer;  // type-ahead: digits for the next node that reads digits
  std::string digits;  // a collect node's input so far
  uint32_t attempts = 0;
  bool feedback_final = false;

  bool answered = false;
  bool early = false;
  bool hung_up = false;
  std::string path;
  std::optional<VoicemailInfo> voicemail;
  bool left_queue = false;  // left a queue without an agent, not by the caller's choice
  std::optional<VoicemailInfo> voicemail_pending;  // while recording
  std::string transfer_target;
  std::string agent;
  std::string queue;
  std::string reason;
  std::optional<TimePoint> deadline;
  bool done = false;
};

// One step of the interpreter for one call: the engine, the call, the time and the sink together.
class FlowStep {
 public:
  using CallState = FlowEngine::CallState;
  FlowStep(FlowEngine& engine, CallState& c, TimePoint now, FlowCommandSink& out)
      : e_(engine), c_(c), now_(now), out_(out) {}

  void run() {
    uint32_t steps = 0;
    while (c_.pending && !c_.done) {
      const std::string name = std::move(*c_.pending);
      c_.pending.reset();
      if (++steps > FlowEngine::kMaxStepsPerEvent) {
        hang_up(HangupCause::kError, FlowResult::kFailed,
                "more than " + std::to_string(FlowEngine::kMaxStepsPerEvent) +
                    " nodes without waiting for the caller (a loop?) at '" + name + "'");
        return;
      }
      auto it = c_.flow->nodes.find(name);
      if (it == c_.flow->nodes.end()) {
        hang_up(HangupCause::kError, FlowResult::kFailed,
                "no node '" + name + "' in flow '" + c_.flow->name + "'");
        return;
      }
      c_.node = &it->second;
      c_.node_name = name;
      c_.phase = Phase::kIdle;
      set_timer(std::nullopt);
      std::visit([this](const auto& n) { exec(n); }, c_.node->body);
    }
  }

  void on_event(const FlowEvent& event) {
    std::visit([this](const auto& ev) { on(ev); }, event);
    run();
  }

  void on_timer() {
    c_.deadline.reset();
    if (c_.phase != Phase::kWaitInput) return;
    if (std::get_if<MenuNode>(&c_.node->body) != nullptr) {
      menu_failed(/*timed_out=*/true);
    } else if (std::get_if<CollectNode>(&c_.node->body) != nullptr) {
      collect_end(/*timed_out=*/true);
    }
    run();
  }

  void go(const std::string& node) {
    if (node.empty()) {
      hang_up(HangupCause::kNormal, default_result(), "");
    } else {
      c_.pending = node;
    }
  }

 private:
  FlowResult default_result() const {
    if (c_.voicemail) return FlowResult::kVoicemail;
    return c_.left_queue ? FlowResult::kTimeout : FlowResult::kCompleted;
  }

  // ---- Commands ----

  void set_timer(std::optional<TimePoint> at) {
    if (c_.deadline) e_.timers_.erase({*c_.deadline, c_.id});
    c_.deadline = at;
    if (at) e_.timers_.insert({*at, c_.id});
  }

  void ensure_answered(bool for_record) {
    if (c_.answered) return;
    if (c_.flow->early_media && !for_record) {
      if (!c_.early) out_.push_back(Answer{c_.id, true});
      c_.early = true;
      return;
    }
    out_.push_back(Answer{c_.id, false});
    c_.answered = true;
  }

  std::optional<Prompt> resolve(const PromptSpec& spec) const {
    Prompt p;
    p.kind = spec.kind;
    p.language = spec.language.value_or(c_.language);
    const std::string value = substitute(spec.value, c_.vars);
    switch (spec.kind) {
      case PromptSpec::Kind::kId:
        if (value.empty()) return std::nullopt;
        p.id = value;
        break;
      case PromptSpec::Kind::kText:
        if (value.empty()) return std::nullopt;
        p.text = value;
        break;
      case PromptSpec::Kind::kNumber:
      case PromptSpec::Kind::kDuration: {
        // A value that is not a whole number says nothing rather than something wrong.
        auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), p.number);
        if (ec != std::errc() || ptr != value.data() + value.size()) return std::nullopt;
        break;
      }
      case PromptSpec::Kind::kDigits:
        for (char ch : value) {
          if (std::isdigit(static_cast<unsigned char>(ch)) != 0) p.text += ch;
        }
        if (p.text.empty()) return std::nullopt;
        break;
    }
    return p;
  }

  // Starts playing `specs`; false (and nothing sent) when none of them resolves to anything.
  bool start_play(const std::vector<PromptSpec>& specs, bool interruptible) {
    Play play;
    play.call = c_.id;
    play.interruptible = interruptible;
    for (const PromptSpec& s : specs) {
      if (auto p = resolve(s)) play.prompts.push_back(std::move(*p));
    }
    if (play.prompts.empty()) return false;
    ensure_answered(false);
    play.play_id = e_.next_play_id_++;
    c_.play_id = play.play_id;
    c_.play_interruptible = interruptible;
    out_.push_back(std::move(play));
    return true;
  }

  void stop_play() {
    if (c_.play_id == 0) return;
    out_.push_back(StopPlay{c_.id, c_.play_id});
    c_.play_id = 0;
  }

  void finish(FlowResult result, std::string reason) {
    if (c_.done) return;
    stop_play();
    set_timer(std::nullopt);
    Finished f;
    f.call = c_.id;
    f.flow = c_.first_flow;
    f.result = result;
    f.path = c_.path;
    f.variables = c_.vars;
    f.voicemail = c_.voicemail;
    f.transfer_target = c_.transfer_target;
    f.queue = c_.queue;
    f.agent = c_.agent;
    f.reason = reason.empty() ? c_.reason : std::move(reason);
    f.started = c_.started;
    f.ended = now_;
    out_.push_back(std::move(f));
    c_.done = true;
    c_.pending.reset();
  }

  void hang_up(HangupCause cause, FlowResult result, std::string reason) {
    if (c_.done) return;
    stop_play();
    out_.push_back(Hangup{c_.id, cause});
    finish(result, std::move(reason));
  }

  // ---- Nodes ----

  void exec(const PlayNode& n) {
    if (start_play(n.prompts, n.interruptible)) {
      c_.phase = Phase::kPlaying;
    } else {
      go(n.next);
    }
  }

  void exec(const MenuNode& n) {
    c_.attempts = 0;
    offer_menu(n);
  }

  void offer_menu(const MenuNode& n) {
    if (!c_.buffer.empty()) {
      const char d = c_.buffer.front();
      c_.buffer.erase(0, 1);
      menu_choice(n, d);
      return;
    }
    if (start_play(n.prompts, n.interruptible)) {
      c_.phase = Phase::kPrompt;
    } else {
      wait_input(n.timeout);
    }
  }

  void wait_input(Duration timeout) {
    c_.phase = Phase::kWaitInput;
    set_timer(now_ + timeout);
  }

  void menu_choice(const MenuNode& n, char d) {
    set_timer(std::nullopt);
    auto it = n.options.find(d);
    if (it == n.options.end()) {
      menu_failed(/*timed_out=*/false);
      return;
    }
    if (!c_.path.empty()) c_.path += '>';
    c_.path += d;
    c_.pending = it->second;
  }

  // An invalid choice or a timeout: say so, then offer the menu again or give up.
  void menu_failed(bool timed_out) {
    const auto& n = std::get<MenuNode>(c_.node->body);
    ++c_.attempts;
    c_.feedback_final = c_.attempts > n.retries;
    c_.buffer.clear();
    if (start_play(timed_out ? n.timeout_prompts : n.invalid_prompts, false)) {
      c_.phase = Phase::kFeedback;
    } else {
      after_feedback();
    }
  }

  void exec(const CollectNode& n) {
    c_.attempts = 0;
    offer_collect(n);
  }

  void offer_collect(const CollectNode& n) {
    c_.digits.clear();
    c_.phase = Phase::kIdle;
    // Type-ahead first: the caller may have entered everything already.
    while (!c_.buffer.empty()) {
      const char d = c_.buffer.front();
      c_.buffer.erase(0, 1);
      if (collect_digit(n, d)) return;
    }
    if (!c_.digits.empty()) {
      wait_input(n.inter_digit);
    } else if (start_play(n.prompts, n.interruptible)) {
      c_.phase = Phase::kPrompt;
    } else {
      wait_input(n.timeout);
    }
  }

  // Adds a digit; true when that ended the input (and the node moved on or failed an attempt).
  bool collect_digit(const CollectNode& n, char d) {
    set_timer(std::nullopt);
    if (d == '#') {
      collect_end(/*timed_out=*/false);
      return true;
    }
    c_.digits += d;
    if (n.max_digits != 0 && c_.digits.size() >= n.max_digits) {
      collect_end(/*timed_out=*/false);
      return true;
    }
    return false;
  }

  void collect_end(bool timed_out) {
    const auto& n = std::get<CollectNode>(c_.node->body);
    set_timer(std::nullopt);
    if (c_.digits.size() >= n.min_digits) {
      c_.vars[n.variable] = c_.digits;
      c_.pending = n.next;
      return;
    }
    ++c_.attempts;
    c_.feedback_final = c_.attempts > n.retries;
    c_.buffer.clear();
    const bool nothing = timed_out && c_.digits.empty();
    if (start_play(nothing ? n.timeout_prompts : n.invalid_prompts, false)) {
      c_.phase = Phase::kFeedback;
    } else {
      after_feedback();
    }
  }

  void after_feedback() {
    if (const auto* menu = std::get_if<MenuNode>(&c_.node->body)) {
      if (!c_.feedback_final) {
        offer_menu(*menu);
      } else if (menu->on_failure.empty()) {
        hang_up(HangupCause::kNormal, default_result(), "no valid menu choice");
      } else {
        c_.pending = menu->on_failure;
      }
    } else if (const auto* collect = std::get_if<CollectNode>(&c_.node->body)) {
      if (!c_.feedback_final) {
        offer_collect(*collect);
      } else if (collect->on_failure.empty()) {
        c_.vars[collect->variable] = "";
        c_.pending = collect->next;
      } else {
        c_.pending = collect->on_failure;
      }
    }
  }

  void exec(const SetNode& n) {
    for (const auto& [name, value] : n.assignments) {
      std::string v = substitute(value, c_.vars);
      if (name == "language") {
        // Switching language: only to one we speak; anything else keeps the current one.
        if (auto l = language_from_string(v)) {
          c_.language = *l;
        } else {
          v = std::string(to_string(c_.language));
        }
      }
      c_.vars[name] = std::move(v);
    }
    go(n.next);
  }

  bool holds(const Condition& cond) const {
    auto var = [&](const std::string& name) {
      auto it = c_.vars.find(name);
      return it == c_.vars.end() ? std::string() : it->second;
    };
    auto calendar = [&]() -> const Calendar* {
      auto it = c_.set->calendars.find(cond.calendar);
      return it == c_.set->calendars.end() ? nullptr : &it->second;
    };
    switch (cond.kind) {
      case Condition::Kind::kEquals:
        return var(cond.variable) == substitute(cond.value, c_.vars);
      case Condition::Kind::kMatches:
        return cond.pattern.matches(var(cond.variable));
      case Condition::Kind::kCallerMatches:
        return cond.pattern.matches(c_.info.from);
      case Condition::Kind::kOpen: {
        const Calendar* cal = calendar();
        return cal != nullptr && cal->is_open(now_);
      }
      case Condition::Kind::kClosed: {
        const Calendar* cal = calendar();
        return cal == nullptr || !cal->is_open(now_);
      }
      case Condition::Kind::kHoliday: {
        const Calendar* cal = calendar();
        return cal != nullptr && cal->is_holiday(now_);
      }
    }
    return false;
  }

  void exec(const BranchNode& n) {
    for (const Condition& cond : n.conditions) {
      if (holds(cond)) {
        go(cond.next);
        return;
      }
    }
    go(n.otherwise);
  }

  void exec(const VoicemailNode& n) {
    if (start_play(n.prompts, false)) {
      c_.phase = Phase::kVmPrompt;
    } else {
      start_record();
    }
  }

  void start_record() {
    const auto& n = std::get<VoicemailNode>(c_.node->body);
    ensure_answered(true);
    out_.push_back(Record{c_.id, n.max, n.beep});
    c_.phase = Phase::kRecording;
    VoicemailInfo vm;
    vm.caller = c_.info.from;
    vm.called = c_.info.to;
    vm.at = now_;
    c_.voicemail_pending = vm;
  }

  void exec(const TransferNode& n) {
    const std::string target = substitute(n.target, c_.vars);
    const TransferTarget t = resolve_transfer(*c_.set, target);
    switch (t.kind) {
      case TransferTarget::Kind::kFlow: {
        const Flow* f = c_.set->find_flow(t.flow);
        c_.flow = f;
        c_.pending = f->start;
        if (f->language && !c_.info.language) {
          c_.language = *f->language;
          c_.vars["language"] = std::string(to_string(c_.language));
        }
        return;
      }
      case TransferTarget::Kind::kExternal:
        c_.transfer_target = target;
        out_.push_back(Transfer{c_.id, target, n.trunk});
        c_.phase = Phase::kTransferring;
        return;
      case TransferTarget::Kind::kNotAllowed:
        c_.reason = "transfer to '" + target + "' is not allowed";
        if (n.on_failure.empty()) {
          hang_up(HangupCause::kError, FlowResult::kFailed, "");
        } else {
          c_.pending = n.on_failure;
        }
        return;
    }
  }

  void exec(const QueueNode& n) {
    ensure_answered(true);  // a caller waits answered (music, announcements), never on early media
    c_.queue = n.queue;
    EnterQueue q;
    q.call = c_.id;
    q.queue = n.queue;
    q.priority = n.priority;
    if (!n.priority_from.empty()) {
      const std::string v = substitute(n.priority_from, c_.vars);
      int32_t p = 0;
      auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), p);
      if (!v.empty() && ec == std::errc() && ptr == v.data() + v.size() && p >= kMinQueuePriority &&
          p <= kMaxQueuePriority) {
        q.priority = p;
      }
    }
    q.language = c_.language;
    q.variables = c_.vars;
    for (const auto& [key, target] : n.keys) q.exit_keys += key;
    q.ivr_path = c_.path;
    out_.push_back(std::move(q));
    c_.phase = Phase::kQueued;
  }

  void exec(const HangupNode& n) {
    hang_up(n.cause, n.cause == HangupCause::kError ? FlowResult::kFailed : default_result(), "");
  }

  // ---- Events ----

  void on(const DigitReceived& ev) {
    const char d = ev.digit;
    switch (c_.phase) {
      case Phase::kPlaying: {
        if (!c_.play_interruptible) return;  // dropped: see flow.h
        stop_play();
        c_.buffer += d;
        go(std::get<PlayNode>(c_.node->body).next);
        return;
      }
      case Phase::kPrompt:
        if (!c_.play_interruptible) return;
        stop_play();
        input(d);
        return;
      case Phase::kWaitInput:
        input(d);
        return;
      default:
        return;  // feedback prompts, greetings, recording, transfer, queue: dropped
    }
  }

  void input(char d) {
    if (const auto* menu = std::get_if<MenuNode>(&c_.node->body)) {
      menu_choice(*menu, d);
    } else if (const auto* collect = std::get_if<CollectNode>(&c_.node->body)) {
      if (!collect_digit(*collect, d)) wait_input(collect->inter_digit);
    }
  }

  void on(const PlayDone& ev) {
    if (ev.play_id == 0 || ev.play_id != c_.play_id) return;  // stale or stopped
    c_.play_id = 0;
    switch (c_.phase) {
      case Phase::kPlaying:
        go(std::get<PlayNode>(c_.node->body).next);
        return;
      case Phase::kPrompt:
        if (const auto* menu = std::get_if<MenuNode>(&c_.node->body)) {
          wait_input(menu->timeout);
        } else if (const auto* collect = std::get_if<CollectNode>(&c_.node->body)) {
          wait_input(collect->timeout);
        }
        return;
      case Phase::kFeedback:
        after_feedback();
        return;
      case Phase::kVmPrompt:
        start_record();
        return;
      default:
        return;
    }
  }

  void on(const RecordDone& ev) {
    if (c_.phase != Phase::kRecording || !c_.voicemail_pending) return;
    VoicemailInfo vm = std::move(*c_.voicemail_pending);
    c_.voicemail_pending.reset();
    vm.path = ev.path;
    vm.duration = ev.duration;
    c_.voicemail = std::move(vm);
    c_.phase = Phase::kIdle;
    if (c_.hung_up) {
      finish(FlowResult::kVoicemail, "");
    } else {
      go(std::get<VoicemailNode>(c_.node->body).next);
    }
  }

  void on(const TransferResult& ev) {
    if (c_.phase != Phase::kTransferring) return;
    c_.phase = Phase::kIdle;
    if (ev.ok) {
      finish(FlowResult::kTransferred, "");
      return;
    }
    c_.reason = "transfer to '" + c_.transfer_target + "' failed" +
                (ev.reason.empty() ? "" : ": " + ev.reason);
    c_.transfer_target.clear();
    const auto& n = std::get<TransferNode>(c_.node->body);
    if (n.on_failure.empty()) {
      hang_up(HangupCause::kError, FlowResult::kFailed, "");
    } else {
      c_.pending = n.on_failure;
    }
  }

  void on(const QueueConnected& ev) {
    if (c_.phase != Phase::kQueued) return;
    c_.agent = ev.agent;
    finish(FlowResult::kAnswered, "");
  }

  void on(const QueueExited& ev) {
    if (c_.phase != Phase::kQueued) return;
    c_.phase = Phase::kIdle;
    const auto& n = std::get<QueueNode>(c_.node->body);
    const std::string_view branch = ev.branch;
    const bool key_exit = branch.size() == kQueueKeyBranchPrefix.size() + 1 &&
                          branch.substr(0, kQueueKeyBranchPrefix.size()) == kQueueKeyBranchPrefix;
    c_.left_queue = !key_exit;
    if (!ev.reason.empty()) {
      c_.reason = "left queue '" + n.queue + "': " + ev.reason;
    } else if (key_exit) {
      c_.reason =
          "left queue '" + n.queue + "': the caller pressed " + std::string(1, branch.back());
    }
    if (key_exit) {
      if (auto it = n.keys.find(branch.back()); it != n.keys.end()) {
        c_.pending = it->second;
        return;
      }
    }
    if (auto it = n.branches.find(ev.branch); !ev.branch.empty() && it != n.branches.end()) {
      c_.pending = it->second;
    } else {
      go(n.on_exit);
    }
  }

  void on(const CallerHungUp&) {
    c_.hung_up = true;
    if (c_.phase == Phase::kRecording) return;  // the message ends here: wait for RecordDone
    c_.play_id = 0;                             // nothing to stop: the call is gone
    FlowResult r = FlowResult::kAbandonedInIvr;
    if (c_.phase == Phase::kQueued) {
      r = FlowResult::kAbandonedInQueue;
    } else if (c_.voicemail) {
      r = FlowResult::kVoicemail;
    }
    finish(r, "");
  }

  FlowEngine& e_;
  CallState& c_;
  TimePoint now_;
  FlowCommandSink& out_;
};

// ---- FlowEngine ---------------------------------------------------------------------------------

FlowEngine::FlowEngine() = default;
FlowEngine::~FlowEngine() = default;

Status FlowEngine::start(CallId call, std::shared_ptr<const FlowSet> flows,
                         std::string_view flow_name, CallInfo info, TimePoint now,
                         FlowCommandSink& out) {
  if (!flows) return Status::error("no flows for call " + std::to_string(call.value));
  if (calls_.count(call) != 0) {
    return Status::error("call " + std::to_string(call.value) + " is already in a flow");
  }
  const Flow* flow = flows->find_flow(flow_name);
  if (flow == nullptr) {
    return Status::error("tenant '" + flows->tenant + "' has no flow '" + std::string(flow_name) +
                         "'");
  }
  auto c = std::make_unique<CallState>();
  c->id = call;
  c->set = std::move(flows);
  c->flow = flow;
  c->first_flow = flow->name.empty() ? std::string(flow_name) : flow->name;
  c->language = info.language.value_or(flow->language.value_or(c->set->default_language));
  c->vars["caller"] = info.from;
  c->vars["called"] = info.to;
  c->vars["tenant"] = info.tenant;
  c->vars["language"] = std::string(to_string(c->language));
  c->info = std::move(info);
  c->started = now;
  c->pending = flow->start;
  CallState& state = *c;
  calls_.emplace(call, std::move(c));
  FlowStep(*this, state, now, out).run();
  if (state.done) calls_.erase(call);
  return Status::ok();
}

bool FlowEngine::handle(CallId call, const FlowEvent& event, TimePoint now, FlowCommandSink& out) {
  auto it = calls_.find(call);
  if (it == calls_.end()) return false;
  CallState& c = *it->second;
  FlowStep(*this, c, now, out).on_event(event);
  if (c.done) calls_.erase(call);
  return true;
}

void FlowEngine::advance(TimePoint now, FlowCommandSink& out) {
  while (!timers_.empty() && timers_.begin()->first <= now) {
    const CallId call = timers_.begin()->second;
    timers_.erase(timers_.begin());
    auto it = calls_.find(call);
    if (it == calls_.end()) continue;
    CallState& c = *it->second;
    c.deadline.reset();
    FlowStep(*this, c, now, out).on_timer();
    if (c.done) calls_.erase(call);
  }
}

std::optional<TimePoint> FlowEngine::next_deadline() const {
  if (timers_.empty()) return std::nullopt;
  return timers_.begin()->first;
}

std::string FlowEngine::current_node(CallId call) const {
  auto it = calls_.find(call);
  if (it == calls_.end()) return {};
  return it->second->node_name;
}

}  // namespace tamas::core
