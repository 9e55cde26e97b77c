// Contact-flow interpreter: every node type driven with a manual clock, events in, commands out.
#include "core/flow/flow.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace tamas::core {
namespace {

using namespace std::chrono_literals;

PromptSpec prompt(std::string id) { return PromptSpec{PromptSpec::Kind::kId, std::move(id), {}}; }

struct FlowBuilder {
  Flow flow;
  FlowBuilder(std::string name, std::string start) {
    flow.name = std::move(name);
    flow.start = std::move(start);
  }
  FlowBuilder& add(std::string name, NodeBody body) {
    flow.nodes[name] = Node{name, std::move(body)};
    return *this;
  }
};

std::shared_ptr<FlowSet> set_of(std::vector<Flow> flows) {
  auto set = std::make_shared<FlowSet>();
  set->tenant = "t1";
  for (Flow& f : flows) set->flows[f.name] = std::move(f);
  return set;
}

MenuNode main_menu() {
  MenuNode m;
  m.prompts = {prompt("welcome")};
  m.options = {{'1', "sales"}, {'2', "support"}};
  m.timeout = 5s;
  m.retries = 2;
  m.invalid_prompts = {prompt("invalid")};
  m.timeout_prompts = {prompt("no_input")};
  m.on_failure = "bye";
  return m;
}

// A flow: menu -> 1: sales (a submenu: 3 -> thanks), 2: support (play), failure: bye.
std::shared_ptr<FlowSet> menu_flows() {
  MenuNode sales;
  sales.prompts = {prompt("sales_menu")};
  sales.options = {{'3', "thanks"}};
  FlowBuilder b("main", "menu");
  b.add("menu", main_menu())
      .add("sales", sales)
      .add("support", PlayNode{{prompt("support")}, false, "end"})
      .add("thanks", PlayNode{{prompt("thanks")}, false, "end"})
      .add("bye", PlayNode{{prompt("goodbye")}, false, "end"})
      .add("end", HangupNode{});
  return set_of({b.flow});
}

class Harness {
 public:
  explicit Harness(std::shared_ptr<const FlowSet> set, std::string flow = "main",
                   CallInfo info = {"t1", "+4915112345", "100", std::nullopt})
      : set_(std::move(set)) {
    Status s = engine.start(kCall, set_, flow, std::move(info), now, out);
    EXPECT_TRUE(s.is_ok()) << s.message();
  }

  void send(const FlowEvent& e) { engine.handle(kCall, e, now, out); }
  void digit(char d) { send(DigitReceived{d}); }
  void digits(std::string_view ds) {
    for (char d : ds) digit(d);
  }
  // Ends the current play (the last Play command sent).
  void play_done() { send(PlayDone{last<Play>().play_id}); }
  void wait(Duration d) {
    now += d;
    engine.advance(now, out);
  }

  template <typename T>
  std::vector<T> all() const {
    std::vector<T> v;
    for (const auto& c : out) {
      if (const T* t = std::get_if<T>(&c)) v.push_back(*t);
    }
    return v;
  }
  template <typename T>
  T last() const {
    auto v = all<T>();
    EXPECT_FALSE(v.empty());
    return v.empty() ? T{} : v.back();
  }
  template <typename T>
  bool last_is() const {
    return !out.empty() && std::holds_alternative<T>(out.back());
  }
  std::string last_prompt() const {
    auto p = last<Play>();
    return p.prompts.empty() ? "" : p.prompts.front().id;
  }
  Finished finished() const {
    EXPECT_TRUE(last_is<Finished>());
    EXPECT_FALSE(engine.is_active(kCall));
    return last<Finished>();
  }

  static constexpr CallId kCall{7};
  FlowEngine engine;
  FlowCommandSink out;
  TimePoint now = kEpoch + 1000h;

 private:
  std::shared_ptr<const FlowSet> set_;
};

// ---- play, answer, hangup ------------------------------------------------------------------

TEST(FlowPlay, AnswersThenPlaysThenHangsUp) {
  FlowBuilder b("main", "hello");
  b.add("hello", PlayNode{{prompt("hi"), prompt("there")}, false, "end"}).add("end", HangupNode{});
  Harness h(set_of({b.flow}));
  ASSERT_EQ(h.out.size(), 2u);
  ASSERT_TRUE(std::holds_alternative<Answer>(h.out[0]));
  EXPECT_FALSE(std::get<Answer>(h.out[0]).early);
  const Play& play = std::get<Play>(h.out[1]);
  ASSERT_EQ(play.prompts.size(), 2u);
  EXPECT_EQ(play.prompts[0].id, "hi");
  EXPECT_EQ(play.prompts[0].language, Language::kEn);
  EXPECT_EQ(h.engine.current_node(Harness::kCall), "hello");
  h.play_done();
  EXPECT_EQ(h.all<Hangup>().size(), 1u);
  Finished f = h.finished();
  EXPECT_EQ(f.result, FlowResult::kCompleted);
  EXPECT_EQ(f.flow, "main");
  EXPECT_EQ(h.all<Answer>().size(), 1u);
}

TEST(FlowPlay, EarlyMediaAnswersWith183AndStaysEarly) {
  FlowBuilder b("main", "a");
  b.add("a", PlayNode{{prompt("x")}, false, "b"})
      .add("b", PlayNode{{prompt("y")}, false, "end"})
      .add("end", HangupNode{HangupCause::kUnavailable});
  b.flow.early_media = true;
  Harness h(set_of({b.flow}));
  h.play_done();
  h.play_done();
  auto answers = h.all<Answer>();
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_TRUE(answers[0].early);
  EXPECT_EQ(h.last<Hangup>().cause, HangupCause::kUnavailable);
}

TEST(FlowPlay, HangupOnlyFlowNeverAnswers) {
  FlowBuilder b("main", "end");
  b.add("end", HangupNode{HangupCause::kBusy});
  Harness h(set_of({b.flow}));
  EXPECT_TRUE(h.all<Answer>().empty());
  EXPECT_EQ(h.last<Hangup>().cause, HangupCause::kBusy);
  EXPECT_EQ(h.finished().result, FlowResult::kCompleted);
}

TEST(FlowPlay, NonInterruptiblePlayDropsDigits) {
  FlowBuilder b("main", "notice");
  b.add("notice", PlayNode{{prompt("legal")}, false, "menu"})
      .add("menu", main_menu())
      .add("sales", HangupNode{})
      .add("support", HangupNode{})
      .add("bye", HangupNode{});
  Harness h(set_of({b.flow}));
  h.digit('1');
  EXPECT_TRUE(h.all<StopPlay>().empty());
  EXPECT_EQ(h.engine.current_node(Harness::kCall), "notice");
  h.play_done();
  EXPECT_EQ(h.last_prompt(), "welcome");  // the '1' did not select anything
}

TEST(FlowPlay, InterruptiblePlayKeepsDigitsForTheNextMenu) {
  FlowBuilder b("main", "notice");
  b.add("notice", PlayNode{{prompt("promo")}, true, "menu"})
      .add("menu", main_menu())
      .add("sales", HangupNode{})
      .add("support", HangupNode{})
      .add("bye", HangupNode{});
  Harness h(set_of({b.flow}));
  h.digit('2');
  EXPECT_EQ(h.all<StopPlay>().size(), 1u);
  Finished f = h.finished();  // the menu took the typed-ahead '2' without playing its prompt
  EXPECT_EQ(f.path, "2");
  EXPECT_EQ(h.all<Play>().size(), 1u);
}

TEST(FlowPlay, StalePlayDoneIsIgnored) {
  Harness h(menu_flows());
  const uint64_t first = h.last<Play>().play_id;
  h.digit('1');             // interrupts the welcome; the sales menu starts
  h.send(PlayDone{first});  // the executor's report for the stopped play comes late
  EXPECT_EQ(h.engine.current_node(Harness::kCall), "sales");
  EXPECT_FALSE(h.engine.next_deadline().has_value());  // still playing the sales menu
}

// ---- menu ------------------------------------------------------------------------------------

TEST(FlowMenu, ChoicesMakeThePath) {
  Harness h(menu_flows());
  EXPECT_EQ(h.last_prompt(), "welcome");
  h.play_done();
  ASSERT_TRUE(h.engine.next_deadline().has_value());
  EXPECT_EQ(*h.engine.next_deadline(), h.now + 5s);
  h.digit('1');
  EXPECT_FALSE(h.engine.next_deadline().has_value());
  EXPECT_EQ(h.last_prompt(), "sales_menu");
  h.digit('3');  // interrupts the sales menu
  EXPECT_EQ(h.all<StopPlay>().size(), 1u);
  EXPECT_EQ(h.last_prompt(), "thanks");
  h.play_done();
  Finished f = h.finished();
  EXPECT_EQ(f.path, "1>3");
  EXPECT_EQ(f.result, FlowResult::kCompleted);
}

TEST(FlowMenu, InvalidThenTimeoutThenGivesUp) {
  Harness h(menu_flows());
  h.play_done();
  h.digit('7');  // invalid: attempt 1
  EXPECT_EQ(h.last_prompt(), "invalid");
  h.digit('1');  // typed during the (non-interruptible) invalid prompt: dropped
  EXPECT_EQ(h.last_prompt(), "invalid");
  h.play_done();
  EXPECT_EQ(h.last_prompt(), "welcome");  // offered again
  h.play_done();
  h.wait(4999ms);
  EXPECT_EQ(h.last_prompt(), "welcome");
  h.wait(1ms);  // timeout: attempt 2
  EXPECT_EQ(h.last_prompt(), "no_input");
  h.play_done();
  EXPECT_EQ(h.last_prompt(), "welcome");
  h.play_done();
  h.wait(5s);  // attempt 3 > retries (2): timeout prompt, then on_failure
  EXPECT_EQ(h.last_prompt(), "no_input");
  h.play_done();
  EXPECT_EQ(h.last_prompt(), "goodbye");
  h.play_done();
  Finished f = h.finished();
  EXPECT_EQ(f.path, "");
  EXPECT_EQ(f.result, FlowResult::kCompleted);
}

TEST(FlowMenu, RecoversAfterAnInvalidChoice) {
  Harness h(menu_flows());
  h.digit('9');  // interrupts, invalid
  EXPECT_EQ(h.last_prompt(), "invalid");
  h.play_done();
  h.digit('2');
  EXPECT_EQ(h.last_prompt(), "support");
  h.play_done();
  EXPECT_EQ(h.finished().path, "2");
}

TEST(FlowMenu, NoFailureNodeHangsUp) {
  MenuNode m = main_menu();
  m.on_failure.clear();
  m.retries = 0;
  m.timeout_prompts.clear();
  FlowBuilder b("main", "menu");
  b.add("menu", m).add("sales", HangupNode{}).add("support", HangupNode{});
  Harness h(set_of({b.flow}));
  h.play_done();
  h.wait(5s);
  Finished f = h.finished();
  EXPECT_EQ(f.result, FlowResult::kCompleted);
  EXPECT_EQ(f.reason, "no valid menu choice");
  EXPECT_EQ(h.all<Hangup>().size(), 1u);
}

// ---- collect -----------------------------------------------------------------------------------

std::shared_ptr<FlowSet> collect_flow(CollectNode c) {
  c.prompts = {prompt("enter_account")};
  c.variable = "account";
  c.next = "done";
  c.invalid_prompts = {prompt("too_short")};
  c.timeout_prompts = {prompt("nothing")};
  FlowBuilder b("main", "ask");
  b.add("ask", c)
      .add("done",
           PlayNode{{PromptSpec{PromptSpec::Kind::kDigits, "${account}", {}}}, false, "end"})
      .add("failed", HangupNode{HangupCause::kRejected})
      .add("end", HangupNode{});
  return set_of({b.flow});
}

TEST(FlowCollect, HashEndsTheInput) {
  Harness h(collect_flow(CollectNode{}));
  h.digits("12");  // the first digit interrupts the prompt
  EXPECT_EQ(h.all<StopPlay>().size(), 1u);
  EXPECT_EQ(*h.engine.next_deadline(), h.now + 3s);  // inter-digit timer
  h.digits("34#");
  const Play p = h.last<Play>();
  ASSERT_EQ(p.prompts.size(), 1u);
  EXPECT_EQ(p.prompts[0].kind, PromptSpec::Kind::kDigits);
  EXPECT_EQ(p.prompts[0].text, "1234");
  h.play_done();
  EXPECT_EQ(h.finished().variables.at("account"), "1234");
}

TEST(FlowCollect, MaxDigitsEndsTheInput) {
  CollectNode c;
  c.max_digits = 4;
  Harness h(collect_flow(c));
  h.play_done();
  h.digits("98765");  // the fifth digit arrives during the next play: dropped
  h.play_done();
  EXPECT_EQ(h.finished().variables.at("account"), "9876");
}

TEST(FlowCollect, InterDigitTimeoutEndsTheInput) {
  Harness h(collect_flow(CollectNode{}));
  h.play_done();
  h.wait(4s);
  h.digits("55");
  h.wait(2999ms);
  EXPECT_EQ(h.engine.current_node(Harness::kCall), "ask");
  h.wait(1ms);
  EXPECT_EQ(h.engine.current_node(Harness::kCall), "done");
  h.play_done();
  EXPECT_EQ(h.finished().variables.at("account"), "55");
}

TEST(FlowCollect, TooFewDigitsAndTimeoutsRetryThenFail) {
  CollectNode c;
  c.min_digits = 3;
  c.retries = 1;
  c.on_failure = "failed";
  Harness h(collect_flow(c));
  h.play_done();
  h.digits("1#");  // too short: attempt 1
  EXPECT_EQ(h.last_prompt(), "too_short");
  h.play_done();
  EXPECT_EQ(h.last_prompt(), "enter_account");
  h.play_done();
  h.wait(5s);  // nothing: attempt 2 > retries
  EXPECT_EQ(h.last_prompt(), "nothing");
  h.play_done();
  EXPECT_EQ(h.last<Hangup>().cause, HangupCause::kRejected);
  EXPECT_EQ(h.finished().variables.count("account"), 0u);
}

TEST(FlowCollect, WithoutFailureNodeContinuesWithEmptyVariable) {
  CollectNode c;
  c.retries = 0;
  Harness h(collect_flow(c));
  h.play_done();
  h.wait(5s);
  h.play_done();  // the timeout prompt
  // `done` says ${account} as digits: empty, so nothing is played and the flow ends.
  Finished f = h.finished();
  EXPECT_EQ(f.variables.at("account"), "");
}

// ---- set, substitution, language ---------------------------------------------------------------

TEST(FlowSet, SubstitutesAndSwitchesLanguage) {
  SetNode s;
  s.assignments = {{"greeting", "hello ${caller} on ${called}"}, {"language", "fa"}};
  s.next = "say";
  PlayNode say;
  say.prompts = {PromptSpec{PromptSpec::Kind::kText, "${greeting}", {}},
                 PromptSpec{PromptSpec::Kind::kNumber, "${n}", {}},
                 PromptSpec{PromptSpec::Kind::kNumber, "42", Language::kAr}};
  say.next = "end";
  FlowBuilder b("main", "set");
  b.add("set", s).add("say", say).add("end", HangupNode{});
  Harness h(set_of({b.flow}));
  const Play p = h.last<Play>();
  ASSERT_EQ(p.prompts.size(), 2u);  // ${n} is empty: not a number, so not said
  EXPECT_EQ(p.prompts[0].text, "hello +4915112345 on 100");
  EXPECT_EQ(p.prompts[0].language, Language::kFa);
  EXPECT_EQ(p.prompts[1].number, 42);
  EXPECT_EQ(p.prompts[1].language, Language::kAr);
  h.play_done();
  EXPECT_EQ(h.finished().variables.at("language"), "fa");
}

TEST(FlowSet, SubstituteLeavesOtherDollarsAlone) {
  std::map<std::string, std::string> vars = {{"a", "1"}};
  EXPECT_EQ(substitute("$5 ${a}${b} ${a", vars), "$5 1 ${a");
}

TEST(FlowSet, CallLanguageComesFromNumberThenFlowThenTenant) {
  FlowBuilder b("main", "p");
  b.add("p", PlayNode{{prompt("x")}, false, "end"}).add("end", HangupNode{});
  b.flow.language = Language::kAr;
  auto set = set_of({b.flow});
  set->default_language = Language::kFa;
  Harness from_flow(set);
  EXPECT_EQ(from_flow.last<Play>().prompts[0].language, Language::kAr);
  Harness from_number(set, "main", CallInfo{"t1", "1", "2", Language::kFa});
  EXPECT_EQ(from_number.last<Play>().prompts[0].language, Language::kFa);
}

// ---- branch ----------------------------------------------------------------------------------

std::shared_ptr<FlowSet> branch_flow(std::vector<Condition> conds) {
  BranchNode br;
  br.conditions = std::move(conds);
  br.otherwise = "other";
  FlowBuilder b("main", "br");
  b.add("br", br)
      .add("a", HangupNode{})
      .add("b", HangupNode{HangupCause::kBusy})
      .add("other", HangupNode{HangupCause::kRejected});
  return set_of({b.flow});
}

Condition cond(Condition::Kind kind, std::string next) {
  Condition c;
  c.kind = kind;
  c.next = std::move(next);
  return c;
}

TEST(FlowBranch, CallerRegexAndEquals) {
  Condition vip = cond(Condition::Kind::kCallerMatches, "a");
  vip.pattern = Pattern::compile(R"(\+49151\d+)").value();
  Condition eq = cond(Condition::Kind::kEquals, "b");
  eq.variable = "called";
  eq.value = "100";
  {
    Harness h(branch_flow({vip, eq}));
    EXPECT_EQ(h.last<Hangup>().cause, HangupCause::kNormal);
  }
  {
    Harness h(branch_flow({vip, eq}), "main", CallInfo{"t1", "+4930111", "100", std::nullopt});
    EXPECT_EQ(h.last<Hangup>().cause, HangupCause::kBusy);
  }
  {
    Harness h(branch_flow({vip, eq}), "main", CallInfo{"t1", "+4930111", "200", std::nullopt});
    EXPECT_EQ(h.last<Hangup>().cause, HangupCause::kRejected);
  }
}

TEST(FlowBranch, VariableRegexIsAWholeMatch) {
  Condition m = cond(Condition::Kind::kMatches, "a");
  m.variable = "called";
  m.pattern = Pattern::compile("1.").value();
  Harness h(branch_flow({m}));  // "100" is not matched by "1." as a whole
  EXPECT_EQ(h.last<Hangup>().cause, HangupCause::kRejected);
  EXPECT_FALSE(Pattern::compile("(").is_ok());
}

// Europe/Berlin in 2024: CET (+1h) until 31 March 01:00 UTC, CEST (+2h) until 27 October 01:00
// UTC, then CET. (What the config loader builds from the tz database; tested there against it.)
Calendar berlin_office() {
  Calendar cal;
  cal.name = "office";
  cal.zone = "Europe/Berlin";
  using std::chrono::March;
  using std::chrono::October;
  using std::chrono::sys_days;
  cal.offsets.initial = 1h;
  cal.offsets.transitions = {
      {TimePoint(sys_days(2024y / March / 31) + 1h), 2h},
      {TimePoint(sys_days(2024y / October / 27) + 1h), 1h},
  };
  for (int wd = 1; wd <= 5; ++wd) cal.weekly[wd] = {{9h, 17h}};  // Monday to Friday 9-17
  cal.holidays = {{0, 12, 25, "Christmas"}, {2024, 4, 1, "Easter Monday"}};
  return cal;
}

TimePoint utc(std::chrono::year_month_day d, Duration tod) {
  return TimePoint(std::chrono::sys_days(d)) + tod;
}

TEST(FlowCalendar, OpenHoursFollowDst) {
  using std::chrono::April;
  using std::chrono::March;
  const Calendar cal = berlin_office();
  // Friday 29 March 2024 (CET): open 08:00-16:00 UTC.
  EXPECT_FALSE(cal.is_open(utc(2024y / March / 29, 7h + 59min)));
  EXPECT_TRUE(cal.is_open(utc(2024y / March / 29, 8h)));
  EXPECT_TRUE(cal.is_open(utc(2024y / March / 29, 15h + 59min)));
  EXPECT_FALSE(cal.is_open(utc(2024y / March / 29, 16h)));
  // Tuesday 2 April 2024 (CEST): open 07:00-15:00 UTC.
  EXPECT_FALSE(cal.is_open(utc(2024y / April / 2, 6h + 59min)));
  EXPECT_TRUE(cal.is_open(utc(2024y / April / 2, 7h)));
  EXPECT_FALSE(cal.is_open(utc(2024y / April / 2, 15h)));
  // Saturday and Sunday closed.
  EXPECT_FALSE(cal.is_open(utc(2024y / March / 30, 10h)));
  EXPECT_FALSE(cal.is_open(utc(2024y / March / 31, 10h)));
  // Easter Monday (one date) and Christmas (every year).
  EXPECT_TRUE(cal.is_holiday(utc(2024y / April / 1, 10h)));
  EXPECT_FALSE(cal.is_open(utc(2024y / April / 1, 10h)));
  EXPECT_FALSE(cal.is_holiday(utc(2025y / April / 1, 10h)));
  EXPECT_TRUE(cal.is_holiday(utc(2030y / std::chrono::December / 25, 12h)));
  // The holiday follows local midnight: 24 Dec 23:30 UTC is already the 25th in Berlin.
  EXPECT_TRUE(cal.is_holiday(utc(2024y / std::chrono::December / 24, 23h + 30min)));
}

TEST(FlowBranch, BusinessHoursAcrossDstAndHoliday) {
  using std::chrono::April;
  using std::chrono::March;
  auto make = [] {
    Condition holiday = cond(Condition::Kind::kHoliday, "b");
    holiday.calendar = "office";
    Condition open = cond(Condition::Kind::kOpen, "a");
    open.calendar = "office";
    auto set = branch_flow({holiday, open});
    set->calendars["office"] = berlin_office();
    EXPECT_TRUE(set->validate().is_ok()) << set->validate().message();
    return set;
  };
  auto run_at = [&](TimePoint t) {
    FlowEngine engine;
    FlowCommandSink out;
    EXPECT_TRUE(engine.start(CallId{1}, make(), "main", {}, t, out).is_ok());
    for (const auto& c : out) {
      if (auto* h = std::get_if<Hangup>(&c)) return h->cause;
    }
    return HangupCause::kError;
  };
  // 07:30 UTC is 08:30 in CET (closed) but 09:30 in CEST (open).
  EXPECT_EQ(run_at(utc(2024y / March / 29, 7h + 30min)), HangupCause::kRejected);
  EXPECT_EQ(run_at(utc(2024y / April / 2, 7h + 30min)), HangupCause::kNormal);
  EXPECT_EQ(run_at(utc(2024y / April / 1, 7h + 30min)), HangupCause::kBusy);  // Easter Monday
}

// ---- voicemail -------------------------------------------------------------------------------

std::shared_ptr<FlowSet> voicemail_flow(std::string next) {
  VoicemailNode vm;
  vm.prompts = {prompt("leave_message")};
  vm.max = 90s;
  vm.next = std::move(next);
  FlowBuilder b("main", "vm");
  b.add("vm", vm)
      .add("thanks", PlayNode{{prompt("thanks")}, false, "end"})
      .add("end", HangupNode{});
  return set_of({b.flow});
}

TEST(FlowVoicemail, RecordsThenContinues) {
  Harness h(voicemail_flow("thanks"));
  EXPECT_EQ(h.last_prompt(), "leave_message");
  h.digit('1');  // the greeting is not interruptible
  EXPECT_TRUE(h.all<StopPlay>().empty());
  h.play_done();
  const Record r = h.last<Record>();
  EXPECT_EQ(r.max, 90s);
  EXPECT_TRUE(r.beep);
  const TimePoint started = h.now;
  h.now += 12s;
  h.send(RecordDone{"/data/vm/1.wav", 12s});
  EXPECT_EQ(h.last_prompt(), "thanks");
  h.play_done();
  Finished f = h.finished();
  EXPECT_EQ(f.result, FlowResult::kVoicemail);
  ASSERT_TRUE(f.voicemail.has_value());
  EXPECT_EQ(f.voicemail->caller, "+4915112345");
  EXPECT_EQ(f.voicemail->called, "100");
  EXPECT_EQ(f.voicemail->path, "/data/vm/1.wav");
  EXPECT_EQ(f.voicemail->duration, 12s);
  EXPECT_EQ(f.voicemail->at, started);
}

TEST(FlowVoicemail, CallerHangsUpWhileRecordingEitherOrder) {
  {
    Harness h(voicemail_flow(""));
    h.play_done();
    h.send(CallerHungUp{});
    EXPECT_TRUE(h.engine.is_active(Harness::kCall));  // waits for the recording
    h.send(RecordDone{"/vm/a.wav", 5s});
    Finished f = h.finished();
    EXPECT_EQ(f.result, FlowResult::kVoicemail);
    EXPECT_TRUE(h.all<Hangup>().empty());
  }
  {
    Harness h(voicemail_flow(""));
    h.play_done();
    h.send(RecordDone{"/vm/b.wav", 90s});  // max reached: `next` is empty, so hang up
    EXPECT_EQ(h.all<Hangup>().size(), 1u);
    EXPECT_EQ(h.finished().result, FlowResult::kVoicemail);
  }
}

TEST(FlowVoicemail, EarlyMediaFlowAnswersBeforeRecording) {
  auto set = voicemail_flow("");
  set->flows["main"].early_media = true;
  Harness h(set);
  h.play_done();
  auto answers = h.all<Answer>();
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_TRUE(answers[0].early);
  EXPECT_FALSE(answers[1].early);
  EXPECT_TRUE(std::holds_alternative<Record>(h.out.back()));
}

// ---- transfer --------------------------------------------------------------------------------

std::shared_ptr<FlowSet> transfer_flows(std::string target) {
  FlowBuilder main("main", "xfer");
  main.add("xfer", TransferNode{std::move(target), "carrier", "sorry"})
      .add("sorry", PlayNode{{prompt("sorry")}, false, "end"})
      .add("end", HangupNode{});
  FlowBuilder other("other", "hello");
  other.add("hello", PlayNode{{prompt("other_hello")}, false, "end"}).add("end", HangupNode{});
  auto set = set_of({main.flow, other.flow});
  set->numbers = {{"100", "main"}, {"200", "other"}};
  set->transfer_allow = {Pattern::compile(R"(sip:.*@partner\.example)").value(),
                         Pattern::compile(R"(\+4930\d{4,})").value()};
  return set;
}

TEST(FlowTransfer, ExternalAllowedTargetSucceeds) {
  Harness h(transfer_flows("sip:desk@partner.example"));
  const Transfer t = h.last<Transfer>();
  EXPECT_EQ(t.target, "sip:desk@partner.example");
  EXPECT_EQ(t.trunk, "carrier");
  EXPECT_TRUE(h.all<Answer>().empty());
  h.send(TransferResult{true, ""});
  Finished f = h.finished();
  EXPECT_EQ(f.result, FlowResult::kTransferred);
  EXPECT_EQ(f.transfer_target, "sip:desk@partner.example");
}

TEST(FlowTransfer, FailedTransferGoesToOnFailure) {
  Harness h(transfer_flows("+49301234567"));
  h.send(TransferResult{false, "486 Busy Here"});
  EXPECT_EQ(h.last_prompt(), "sorry");
  h.play_done();
  Finished f = h.finished();
  EXPECT_EQ(f.result, FlowResult::kCompleted);
  EXPECT_NE(f.reason.find("486 Busy Here"), std::string::npos);
}

TEST(FlowTransfer, VariableTargetIsCheckedAtRunTime) {
  auto set = transfer_flows("${dest}");
  SetNode s;
  s.assignments = {{"dest", "+1555000"}};  // not allowed
  s.next = "xfer";
  set->flows["main"].nodes["set"] = Node{"set", s};
  set->flows["main"].start = "set";
  EXPECT_TRUE(set->validate().is_ok());  // ${var} targets are not checked at load
  Harness h(set);
  EXPECT_TRUE(h.all<Transfer>().empty());
  EXPECT_EQ(h.last_prompt(), "sorry");
}

TEST(FlowTransfer, InternalNumberAndFlowAreFollowedInside) {
  {
    Harness h(transfer_flows("200"));
    EXPECT_TRUE(h.all<Transfer>().empty());
    EXPECT_EQ(h.last_prompt(), "other_hello");
  }
  {
    Harness h(transfer_flows("flow:other"));
    EXPECT_EQ(h.last_prompt(), "other_hello");
    h.play_done();
    EXPECT_EQ(h.finished().flow, "main");  // the flow the call started in
  }
}

TEST(FlowTransfer, CheckRejectsLiteralTargetsNotAllowed) {
  auto set = transfer_flows("+1555000");
  auto problems = set->check();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].path, "flows.main.nodes.xfer.transfer");
  set = transfer_flows("flow:nope");
  EXPECT_EQ(set->validate().message(), "flows.main.nodes.xfer.transfer: no flow 'nope'");
}

// ---- queue -----------------------------------------------------------------------------------

std::shared_ptr<FlowSet> queue_flow() {
  QueueNode q;
  q.queue = "sales";
  q.priority = 5;
  q.on_exit = "busy";
  q.branches = {{"voicemail", "vm"}};
  FlowBuilder b("main", "q");
  b.add("q", q)
      .add("busy", PlayNode{{prompt("all_busy")}, false, "end"})
      .add("vm", HangupNode{HangupCause::kBusy})
      .add("end", HangupNode{});
  return set_of({b.flow});
}

TEST(FlowQueue, EntersQueueAndExitsToTheFlow) {
  Harness h(queue_flow());
  const EnterQueue q = h.last<EnterQueue>();
  EXPECT_EQ(q.queue, "sales");
  EXPECT_EQ(q.priority, 5);
  EXPECT_EQ(q.variables.at("caller"), "+4915112345");
  EXPECT_EQ(q.ivr_path, "") << "no menu before this queue";
  h.digit('1');  // dropped while queued
  h.send(QueueExited{"", "no routing yet"});
  EXPECT_EQ(h.last_prompt(), "all_busy");
  h.play_done();
  Finished f = h.finished();
  EXPECT_EQ(f.result, FlowResult::kTimeout) << "left the queue without an agent";
  EXPECT_EQ(f.queue, "sales");
}

TEST(FlowQueue, AQueueAsTheFirstNodeAnswersTheCall) {
  Harness h(queue_flow());
  const auto answers = h.all<Answer>();
  ASSERT_EQ(answers.size(), 1u) << "answered before it waits";
  EXPECT_FALSE(answers[0].early);
  ASSERT_TRUE(std::holds_alternative<Answer>(h.out.front()));
  // Even in a flow that answers with early media: a queue answers for real.
  auto set = queue_flow();
  set->flows["main"].early_media = true;
  Harness early(set);
  ASSERT_EQ(early.all<Answer>().size(), 1u);
  EXPECT_FALSE(early.all<Answer>()[0].early);
}

TEST(FlowQueue, ExitBranchAndConnectAndAbandon) {
  {
    Harness h(queue_flow());
    h.send(QueueExited{"voicemail", "escalation"});
    EXPECT_EQ(h.last<Hangup>().cause, HangupCause::kBusy);
  }
  {
    Harness h(queue_flow());
    h.send(QueueConnected{"alice"});
    Finished f = h.finished();
    EXPECT_EQ(f.result, FlowResult::kAnswered);
    EXPECT_EQ(f.agent, "alice");
  }
  {
    Harness h(queue_flow());
    h.send(CallerHungUp{});
    EXPECT_EQ(h.finished().result, FlowResult::kAbandonedInQueue);
  }
}

// A queue with exit keys: 1 -> voicemail, # -> the busy message.
std::shared_ptr<FlowSet> queue_keys_flow() {
  auto set = queue_flow();
  auto& q = std::get<QueueNode>(set->flows["main"].nodes["q"].body);
  q.keys = {{'1', "vm"}, {'#', "busy"}};
  return set;
}

TEST(FlowQueue, ExitKeysAreListedAndLeadToTheirNodes) {
  {
    Harness h(queue_keys_flow());
    EXPECT_EQ(h.last<EnterQueue>().exit_keys, "#1");  // ascending, as the map orders them
    const size_t before = h.out.size();
    h.digit('1');  // the executor listens for exit keys; a DigitReceived while queued is dropped
    EXPECT_EQ(h.out.size(), before);
    EXPECT_EQ(h.engine.current_node(Harness::kCall), "q");
    EXPECT_EQ(queue_key_branch('1'), "key:1");
    h.send(QueueExited{queue_key_branch('1'), ""});
    EXPECT_EQ(h.last<Hangup>().cause, HangupCause::kBusy);  // the "vm" node
    Finished f = h.finished();
    EXPECT_EQ(f.reason, "left queue 'sales': the caller pressed 1");
    EXPECT_EQ(f.queue, "sales");
  }
  {
    Harness h(queue_keys_flow());
    h.send(QueueExited{"key:#", "caller pressed #"});
    EXPECT_EQ(h.last_prompt(), "all_busy");
    h.play_done();
    EXPECT_EQ(h.finished().reason, "left queue 'sales': caller pressed #");
  }
  {
    // A key the node does not know (an executor bug) continues at on_exit, like any exit.
    Harness h(queue_keys_flow());
    h.send(QueueExited{"key:5", ""});
    EXPECT_EQ(h.last_prompt(), "all_busy");
  }
  {
    Harness h(queue_flow());  // no keys: nothing to listen for
    EXPECT_EQ(h.last<EnterQueue>().exit_keys, "");
  }
}

TEST(FlowQueue, CheckNamesBadExitKeys) {
  auto set = queue_keys_flow();
  auto& q = std::get<QueueNode>(set->flows["main"].nodes["q"].body);
  q.keys['1'] = "voicemail2";
  q.keys['x'] = "vm";
  auto problems = set->check();
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].path, "flows.main.nodes.q.keys.1");
  EXPECT_EQ(problems[0].message, "no node 'voicemail2' in flow 'main'");
  EXPECT_EQ(problems[1].path, "flows.main.nodes.q.keys.x");
  EXPECT_EQ(problems[1].message, "an exit key is one key: 0-9, * or #");
}

TEST(FlowQueue, PriorityFromAVariable) {
  // vip callers (+49151...) get ${vip_priority} = 50; others leave it unset and fall back.
  auto make = [](std::string value) {
    auto set = queue_flow();
    auto& q = std::get<QueueNode>(set->flows["main"].nodes["q"].body);
    q.priority_from = "${vip_priority}";
    BranchNode b;
    Condition c;
    c.kind = Condition::Kind::kCallerMatches;
    c.pattern = Pattern::compile("\\+49151.*").value();
    c.next = "vip";
    b.conditions = {c};
    b.otherwise = "q";
    set->flows["main"].nodes["who"] = Node{"who", b};
    set->flows["main"].nodes["vip"] = Node{"vip", SetNode{{{"vip_priority", value}}, "q"}};
    set->flows["main"].start = "who";
    return set;
  };
  EXPECT_EQ(Harness(make("50")).last<EnterQueue>().priority, 50);
  EXPECT_EQ(Harness(make("-7")).last<EnterQueue>().priority, -7);
  EXPECT_EQ(Harness(make("high")).last<EnterQueue>().priority, 5);  // not a number: `priority`
  EXPECT_EQ(Harness(make("5000")).last<EnterQueue>().priority, 5);  // out of range
  EXPECT_EQ(Harness(make("50"), "main", {"t1", "+3312345", "100", std::nullopt})
                .last<EnterQueue>()
                .priority,
            5);  // not a vip: the variable is unset
}

// ---- hang-up mid-flow, loops, unknown calls ----------------------------------------------------

TEST(FlowAbandon, CallerHangsUpInTheMenu) {
  auto set = menu_flows();
  SetNode s;
  s.assignments = {{"segment", "gold"}};
  s.next = "menu";
  set->flows["main"].nodes["set"] = Node{"set", s};
  set->flows["main"].start = "set";
  Harness h(set);
  h.digit('1');
  h.send(CallerHungUp{});
  Finished f = h.finished();
  EXPECT_EQ(f.result, FlowResult::kAbandonedInIvr);
  EXPECT_EQ(f.path, "1");
  EXPECT_EQ(f.variables.at("segment"), "gold");
  EXPECT_TRUE(h.all<Hangup>().empty());
  EXPECT_FALSE(h.engine.next_deadline().has_value());
  EXPECT_FALSE(h.engine.handle(Harness::kCall, DigitReceived{'1'}, h.now, h.out));
}

TEST(FlowAbandon, HangUpWhileWaitingClearsTheTimer) {
  Harness h(menu_flows());
  h.play_done();
  EXPECT_TRUE(h.engine.next_deadline().has_value());
  h.send(CallerHungUp{});
  EXPECT_FALSE(h.engine.next_deadline().has_value());
  EXPECT_EQ(h.engine.active_calls(), 0u);
}

TEST(FlowLoop, EndlessLoopFailsTheCall) {
  FlowBuilder b("main", "a");
  b.add("a", SetNode{{{"x", "1"}}, "b"}).add("b", SetNode{{{"y", "2"}}, "a"});
  Harness h(set_of({b.flow}));
  EXPECT_EQ(h.last<Hangup>().cause, HangupCause::kError);
  Finished f = h.finished();
  EXPECT_EQ(f.result, FlowResult::kFailed);
  EXPECT_NE(f.reason.find("loop"), std::string::npos);
}

TEST(FlowEngineApi, StartFailures) {
  FlowEngine engine;
  FlowCommandSink out;
  auto set = menu_flows();
  EXPECT_FALSE(engine.start(CallId{1}, set, "nope", {}, kEpoch, out).is_ok());
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(engine.start(CallId{1}, set, "main", {}, kEpoch, out).is_ok());
  EXPECT_FALSE(engine.start(CallId{1}, set, "main", {}, kEpoch, out).is_ok());
}

TEST(FlowCheck, ReportsEveryBadReference) {
  auto set = menu_flows();
  std::get<MenuNode>(set->flows["main"].nodes["menu"].body).options['1'] = "sales2";
  set->numbers["100"] = "mian";
  auto problems = set->check();
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].path, "flows.main.nodes.menu.options.1");
  EXPECT_EQ(problems[0].message, "no node 'sales2' in flow 'main'");
  EXPECT_EQ(problems[1].path, "numbers.100");
}

TEST(FlowEngineApi, ManyCallsShareTimers) {
  FlowEngine engine;
  FlowCommandSink out;
  auto set = menu_flows();
  TimePoint t = kEpoch;
  for (uint64_t i = 1; i <= 3; ++i) {
    ASSERT_TRUE(engine.start(CallId{i}, set, "main", {}, t, out).is_ok());
  }
  uint64_t play = 1;
  for (uint64_t i = 1; i <= 3; ++i) {
    engine.handle(CallId{i}, PlayDone{play++}, t + std::chrono::seconds(i), out);
  }
  EXPECT_EQ(engine.next_deadline(), t + 6s);
  out.clear();
  engine.advance(t + 7s, out);  // calls 1 and 2 time out
  EXPECT_EQ(out.size(), 2u);
  EXPECT_EQ(engine.next_deadline(), t + 8s);
}

}  // namespace
}  // namespace tamas::core
