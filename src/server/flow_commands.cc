// The live server's flow commands (see server_impl.h): what the flow engine asks of a call
// (answer, play, record, transfer, queue, hang up, finish with its record), the announcements and
// messages to queued callers, and a call's end. Core thread only.
#include "server/server_impl.h"

#include <filesystem>

#include "common/log.h"
#include "prompts/numbers.h"

namespace tamas::server::detail {
namespace {

sip::Mode to_mode(media::Direction d) {
  switch (d) {
    case media::Direction::kSendOnly: return sip::Mode::kSendOnly;
    case media::Direction::kRecvOnly: return sip::Mode::kRecvOnly;
    case media::Direction::kInactive: return sip::Mode::kInactive;
    case media::Direction::kSendRecv: break;
  }
  return sip::Mode::kSendRecv;
}

std::pair<int, const char*> sip_status(core::HangupCause c) {
  switch (c) {
    case core::HangupCause::kBusy: return {486, "Busy Here"};
    case core::HangupCause::kRejected: return {603, "Decline"};
    case core::HangupCause::kUnavailable: return {503, "Service Unavailable"};
    case core::HangupCause::kError: return {500, "Server Internal Error"};
    case core::HangupCause::kNormal: break;
  }
  return {480, "Temporarily Unavailable"};
}

}  // namespace

// A message that falls due while something else is being said waits this long.
constexpr Duration kMessageRetry = std::chrono::seconds(5);

void ServerImpl::execute(core::FlowCommandSink& out) {
  for (core::FlowCommand& cmd : out) std::visit([&](auto& c) { run(c); }, cmd);
}

std::string ServerImpl::answer_sdp(const Call& c) {
  sip::SdpAnswer a;
  a.address = c.local.address;
  a.port = c.local.port;
  a.payload_type = c.agreed.payload_type;
  a.encoding = c.agreed.encoding;
  a.telephone_event = c.agreed.telephone_event;
  a.mode = to_mode(c.agreed.direction);
  a.session_id = c.id.value;
  a.version = 1;
  return sip::build_sdp(a);
}

void ServerImpl::run(core::Answer& a) {
  Call* c = find(a.call);
  if (c == nullptr || !c->leg_up || c->answered) return;
  if (a.early) {
    if (!c->sdp_sent) stack_->progress(c->leg, answer_sdp(*c));
  } else {
    stack_->answer(c->leg, answer_sdp(*c));
    c->answered = true;
    c->answered_at = wall_now();
  }
  c->sdp_sent = true;
}

void ServerImpl::run(core::Play& p) {
  Call* c = find(p.call);
  if (c == nullptr) return;
  say(*c, p.play_id, p.prompts);
}

// Plays prompts to the caller: at once when every one is a recorded file in memory, else after
// the resolver thread has synthesized what needs it (PlayReady).
void ServerImpl::say(Call& call, uint64_t play_id, const std::vector<core::Prompt>& prompts) {
  Call* c = &call;
  c->current_play = play_id;
  std::vector<std::shared_ptr<const media::Audio>> items;
  bool all_ready = true;
  for (const core::Prompt& pr : prompts) {
    if (pr.kind != core::PromptSpec::Kind::kId) {
      all_ready = false;
      break;
    }
    const config::PromptSource* src = c->tenant->prompt(pr.id, pr.language);
    auto audio = src && !src->file.empty() ? audio_.find(src->file) : nullptr;
    if (!audio) {
      all_ready = false;
      break;
    }
    items.push_back(std::move(audio));
  }
  if (all_ready) {
    media_->play(c->id.value, play_id, std::move(items));
    return;
  }
  {
    std::lock_guard<std::mutex> lock(resolve_mu_);
    resolve_queue_.push_back({c->id, play_id, prompts, c->config, c->tenant});
  }
  resolve_cv_.notify_one();
}

// One of the server's own announcements to a queued caller (position, a message, the recording
// notice); the queue's music comes back when it ends.
void ServerImpl::announce(Call& c, std::vector<core::Prompt> prompts) {
  c.announce_play = kAnnouncePlayBase + next_announce_++;
  say(c, c.announce_play, prompts);
}

core::Prompt ServerImpl::prompt_id(const Call& c, const std::string& id) {
  core::Prompt p;
  p.kind = core::PromptSpec::Kind::kId;
  p.id = id;
  p.language = c.language;
  return p;
}

void ServerImpl::run(core::StopPlay& s) {
  Call* c = find(s.call);
  if (c == nullptr) return;
  media_->stop_play(s.call.value);
  // The media engine reports the stop (on_play_done), which the flow engine expects.
}

void ServerImpl::run(core::Record& r) {
  Call* c = find(r.call);
  if (c == nullptr) return;
  const std::string dir = c->config->data_dir + "/voicemail/" + c->tenant->id;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  c->recording = dir + "/" + node_ + "-" + std::to_string(c->id.value) + ".wav";
  if (r.beep) media_->play(r.call.value, kBeepPlayId, {media::Audio::beep()});
  media_->record(r.call.value, r.call.value, c->recording, media::RecordMode::kMono, r.max);
}

// An external transfer: a second leg to the destination, bridged to the caller when it answers.
void ServerImpl::run(core::Transfer& t) {
  Call* c = find(t.call);
  if (c == nullptr) return;
  auto uri = transfer_uri(*c->tenant, t.target, t.trunk);
  Status placed = uri ? place_transfer(*c, *uri, bleg_session(c->id)) : uri.status();
  if (!placed) {
    core::FlowCommandSink out;
    flows_.handle(t.call, core::TransferResult{false, placed.message()}, wall_now(), out);
    execute(out);
  }
}

void ServerImpl::run(core::EnterQueue& q) {
  Call* c = find(q.call);
  if (c == nullptr) return;
  TenantRuntime* rt = runtime_of(*c);
  auto qid = rt ? rt->queues.find(q.queue) : decltype(rt->queues.end()){};
  if (rt == nullptr || qid == rt->queues.end()) {
    core::FlowCommandSink out;
    flows_.handle(q.call, core::QueueExited{"", "no queue '" + q.queue + "'"}, wall_now(), out);
    execute(out);
    return;
  }
  c->queued = true;
  c->queue = q.queue;
  c->exit_keys = q.exit_keys;
  if (!q.ivr_path.empty()) c->ivr_path = q.ivr_path;
  const config::QueueSpec* spec = c->tenant->find_queue(q.queue);
  if (spec != nullptr && !spec->music.empty()) {
    const config::PromptSource* src = c->tenant->prompt(spec->music, q.language);
    if (auto audio = src ? audio_.find(src->file) : nullptr) {
      media_->play(c->id.value, kBeepPlayId, {audio}, /*loop=*/true);
    }
  }
  core::TaskSpec task;
  task.id = c->task;
  task.channel = core::Channel::kVoice;
  task.queue = qid->second;
  task.priority = q.priority;
  task.attributes = {{"language", std::string(core::to_string(q.language))}};
  log::info("queued", {{"call", std::to_string(c->id.value)}, {"queue", q.queue}});
  c->language = q.language;
  c->queued_at = wall_now();
  c->event("queued", q.queue);
  contact_event(*c, "queued", "");
  const CallId id = c->id;
  routing_now_ = id;
  routing_since_ = std::chrono::steady_clock::now();
  (void)route_event(*rt, core::TaskArrived{std::move(task)});
  routing_now_ = CallId{};
  c = find(id);
  if (c == nullptr || spec == nullptr || !(c->queued || c->connected)) return;
  if (spec->recording.enabled && !spec->recording.announce.empty() && !c->notice_heard) {
    c->notice_playing = true;
    c->notice_heard = true;
    c->event("notice", spec->recording.announce);
    announce(*c, {prompt_id(*c, spec->recording.announce)});
  }
  if (!c->queued) return;
  if (spec->announce.enabled()) {
    c->next_announce = wall_now() + spec->announce.first_after;
    announce_deadlines_.insert({c->next_announce, id});
  }
  if (!spec->messages.prompts.empty()) {
    c->next_message = wall_now() + spec->messages.every;
    message_deadlines_.insert({c->next_message, id});
  }
}

// "You are number 3 in the queue. Your expected wait is about two minutes.", in the call's
// language, when due (and, if so configured, only when the position changed).
void ServerImpl::announce_due(TimePoint now) {
  while (!announce_deadlines_.empty() && announce_deadlines_.begin()->first <= now) {
    const CallId id = announce_deadlines_.begin()->second;
    announce_deadlines_.erase(announce_deadlines_.begin());
    Call* c = find(id);
    if (c == nullptr || !c->queued || c->connected) continue;
    const config::QueueSpec* spec = c->tenant->find_queue(c->queue);
    TenantRuntime* rt = runtime_of(*c);
    if (spec == nullptr || rt == nullptr) continue;
    c->next_announce = now + spec->announce.every;
    announce_deadlines_.insert({c->next_announce, id});
    auto standing = rt->router->standing(c->task, now);
    if (!standing) continue;  // ringing an agent: no announcement now
    if (spec->announce.only_if_changed && standing->position == c->last_position) continue;
    if (c->announce_play != 0) continue;  // something else is being said: the next round
    c->last_position = standing->position;
    log::info("announced", {{"call", std::to_string(id.value)},
                            {"position", std::to_string(standing->position)},
                            {"expected_wait", format_duration(standing->expected_wait)}});
    std::vector<core::Prompt> sentences;
    for (std::string& text : announcement(spec->announce, standing->position,
                                          standing->expected_wait, c->language)) {
      core::Prompt p;
      p.kind = core::PromptSpec::Kind::kText;
      p.text = std::move(text);
      p.language = c->language;
      sentences.push_back(std::move(p));
    }
    announce(*c, std::move(sentences));
  }
}

// The queue's information messages, in turn, every `messages.every` while the caller waits; one
// that falls while something else is said comes a few seconds later.
void ServerImpl::messages_due(TimePoint now) {
  while (!message_deadlines_.empty() && message_deadlines_.begin()->first <= now) {
    const CallId id = message_deadlines_.begin()->second;
    message_deadlines_.erase(message_deadlines_.begin());
    Call* c = find(id);
    if (c == nullptr || !c->queued || c->connected) continue;
    const config::QueueSpec* spec = c->tenant->find_queue(c->queue);
    if (spec == nullptr || spec->messages.prompts.empty()) continue;
    if (c->announce_play != 0) {
      c->next_message = now + kMessageRetry;
    } else {
      const std::string& prompt =
          spec->messages.prompts[c->message_index++ % spec->messages.prompts.size()];
      log::info("message", {{"call", std::to_string(id.value)}, {"prompt", prompt}});
      c->event("message", prompt);
      announce(*c, {prompt_id(*c, prompt)});
      c->next_message = now + spec->messages.every;
    }
    message_deadlines_.insert({c->next_message, id});
  }
}

// The announcement's sentences, each synthesized (and cached) on its own: the wait sentence
// ("about two minutes") is shared by many callers, and each position's sentence is made once.
std::vector<std::string> ServerImpl::announcement(const config::AnnounceSpec& a, uint32_t position,
                                                  Duration wait, core::Language lang) {
  const std::string n = prompts::number_words(position, lang);
  const std::string d = prompts::duration_phrase(wait, lang);
  std::vector<std::string> out;
  switch (lang) {
    case core::Language::kFa:
      if (a.position) out.push_back("شما نفر " + n + " در صف هستید.");
      if (a.wait_time) out.push_back("زمان انتظار شما " + d + " است.");
      break;
    case core::Language::kAr:
      if (a.position) out.push_back("ترتيبك في قائمة الانتظار " + n + ".");
      if (a.wait_time) out.push_back("مدة انتظارك المتوقعة " + d + ".");
      break;
    case core::Language::kEn:
      if (a.position) out.push_back("You are number " + n + " in the queue.");
      if (a.wait_time) out.push_back("Your expected wait is " + d + ".");
      break;
  }
  return out;
}

// The queue's music again (after an announcement).
void ServerImpl::resume_music(Call& c) {
  const config::QueueSpec* spec = c.tenant->find_queue(c.queue);
  if (spec == nullptr || spec->music.empty()) return;
  const config::PromptSource* src = c.tenant->prompt(spec->music, c.language);
  if (auto audio = src ? audio_.find(src->file) : nullptr) {
    media_->play(c.id.value, kBeepPlayId, {audio}, /*loop=*/true);
  }
}

void ServerImpl::run(core::Hangup& h) {
  Call* c = find(h.call);
  if (c == nullptr || !c->leg_up) return;
  if (c->answered) {
    stack_->hangup(c->leg);
  } else {
    auto [status, phrase] = sip_status(h.cause);
    stack_->reject(c->leg, status, phrase);
  }
  c->leg_up = false;
}

void ServerImpl::run(core::Finished& f) {
  Call* c = find(f.call);
  if (c == nullptr) return;
  if (c->internal) {  // a feature code's confirmation: not a contact
    if (c->leg_up) {
      stack_->hangup(c->leg);
      c->leg_up = false;
    }
    end_call(f.call);
    return;
  }
  store::InteractionRecord r;
  r.id = node_ + "-" + std::to_string(c->id.value);
  r.tenant = c->tenant->id;
  r.caller = c->caller;
  r.called = c->called;
  r.started_at = c->started;
  r.answered_at = c->answered_at;
  r.ended_at = wall_now();
  r.flow = f.flow;
  r.ivr_path = f.path;
  r.result = std::string(core::to_string(f.result));
  r.ended_by = c->ended_by_caller ? "caller" : "system";
  r.queue = f.queue;
  r.agent = f.agent;
  r.reason = f.reason;
  r.variables = f.variables;
  r.recording = c->recording;  // a queued call's conversation (a voicemail's path wins below)
  r.wait = c->wait;
  r.ring = c->ring;
  r.transfers = f.result == core::FlowResult::kTransferred ? 1 : 0;
  r.timeline = c->timeline;
  if (f.voicemail) {
    r.recording = f.voicemail->path;
    store::VoicemailRecord v;
    v.id = r.id;
    v.interaction_id = r.id;
    v.tenant = r.tenant;
    v.caller = f.voicemail->caller;
    v.called = f.voicemail->called;
    v.at = f.voicemail->at;
    v.duration = f.voicemail->duration;
    v.path = f.voicemail->path;
    store_->save_voicemail(std::move(v));
  }
  r.transfer_target = f.transfer_target.empty() && c->bridged ? c->transfer_target
                                                               : f.transfer_target;
  if (c->bridged && c->leg_up && c->b_up) {
    // The flow is done but the conversation goes on through the bridge.
    c->pending_record = std::move(r);
    return;
  }
  log::info("call ended", {{"call", std::to_string(c->id.value)},
                           {"result", r.result},
                           {"path", r.ivr_path},
                           {"ended_by", r.ended_by}});
  ended_event(*c, r);
  store_->save_interaction(std::move(r));
  if (c->leg_up) {
    stack_->hangup(c->leg);
    c->leg_up = false;
  }
  end_call(f.call);
}

void ServerImpl::end_call(CallId id) {
  Call* c = find(id);
  if (c == nullptr) return;
  media_->close(id.value);
  withdraw(*c);
  if (c->connected) {  // a conversation that never got its own ending: the agent wraps up
    c->connected = false;
    if (TenantRuntime* rt = runtime_of(*c)) {
      (void)route_event(*rt, core::TaskCompleted{c->task});
    }
  }
  if (c->b_leg != 0) {
    if (c->b_up) stack_->hangup(c->b_leg);
    b_legs_.erase(c->b_leg);
    media_->close(c->b_session);
  }
  transfer_deadlines_.erase({c->transfer_deadline, id});
  announce_deadlines_.erase({c->next_announce, id});
  message_deadlines_.erase({c->next_message, id});
  if (c->task.value != id.value) requeued_.erase(c->task.value);
  if (c->leg_up) legs_.erase(c->leg);  // ended legs were erased when they ended
  calls_.erase(id);
  active_--;
  notify_if_idle();
}

void ServerImpl::notify_if_idle() {
  if (active_.load() == 0) {
    std::lock_guard<std::mutex> lock(mu_);
    idle_cv_.notify_all();
  }
}

}  // namespace tamas::server::detail
