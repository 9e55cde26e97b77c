// The live server's resolver thread (see server_impl.h): prompts that need synthesis (text with
// variables, numbers) turned into audio by espeak-ng, off the core thread, and posted back as
// PlayReady; and the audio cache, which every thread reads.
#include "server/server_impl.h"

#include "prompts/numbers.h"
#include "prompts/synth.h"

namespace tamas::server::detail {

std::shared_ptr<const media::Audio> AudioCache::find(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = audio_.find(path);
  return it == audio_.end() ? nullptr : it->second;
}

Result<std::shared_ptr<const media::Audio>> AudioCache::load(const std::string& path) {
  if (auto a = find(path)) return a;
  auto a = media::Audio::load(path);
  if (!a) return a.status();
  std::lock_guard<std::mutex> lock(mu_);
  audio_.emplace(path, *a);
  return *a;
}

// Loads every prompt file of a configuration. Fails on the first that does not decode.
Status AudioCache::preload(const config::ServerConfig& cfg) {
  for (const config::TenantConfig& t : cfg.tenants) {
    for (const auto& [id, entry] : t.prompts) {
      std::vector<const config::PromptSource*> sources;
      for (const auto& [lang, src] : entry.by_language) sources.push_back(&src);
      if (entry.any) sources.push_back(&*entry.any);
      for (const config::PromptSource* src : sources) {
        if (src->file.empty()) continue;
        auto a = load(src->file);
        if (!a) {
          return Status::error("tenant '" + t.id + "', prompt '" + id + "': " + a.message());
        }
      }
    }
  }
  return Status::ok();
}

// ---- the resolver thread: prompts that need synthesis ----

void ServerImpl::resolve_loop() {
  for (;;) {
    ResolveJob job;
    {
      std::unique_lock<std::mutex> lock(resolve_mu_);
      resolve_cv_.wait(lock, [&] { return resolve_stop_ || !resolve_queue_.empty(); });
      if (resolve_stop_) return;
      job = std::move(resolve_queue_.front());
      resolve_queue_.pop_front();
    }
    PlayReady ready{job.call, job.play_id, {}, ""};
    for (const core::Prompt& p : job.prompts) {
      auto audio = resolve(p, *job.tenant);
      if (!audio) {
        ready.error = audio.message();
        continue;  // say what can be said
      }
      ready.items.push_back(*audio);
    }
    post(std::move(ready));
  }
}

Result<std::shared_ptr<const media::Audio>> ServerImpl::resolve(
    const core::Prompt& p, const config::TenantConfig& tenant) {
  std::string text;
  switch (p.kind) {
    case core::PromptSpec::Kind::kId: {
      const config::PromptSource* src = tenant.prompt(p.id, p.language);
      if (src == nullptr) return Status::error("no prompt '" + p.id + "'");
      if (!src->file.empty()) return audio_.load(src->file);
      text = src->text;
      break;
    }
    case core::PromptSpec::Kind::kText: text = p.text; break;
    case core::PromptSpec::Kind::kNumber:
      text = prompts::number_words(p.number, p.language);
      break;
    case core::PromptSpec::Kind::kDuration:
      text = prompts::duration_phrase(std::chrono::seconds(p.number), p.language);
      break;
    case core::PromptSpec::Kind::kDigits:
      for (char ch : p.text) {
        if (!text.empty()) text += ' ';
        text += ch;
      }
      break;
  }
  auto file = synth_->synthesize(text, p.language);
  if (!file) return file.status();
  return audio_.load(*file);
}

}  // namespace tamas::server::detail
