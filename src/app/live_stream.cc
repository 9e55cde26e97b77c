#include "app/live_stream.h"

#include <nlohmann/json.hpp>
#include <vector>

namespace tamas::app {
namespace {

constexpr size_t kMaxQueued = 100'000;

std::shared_ptr<const std::string> text(const nlohmann::json& j) {
  return std::make_shared<const std::string>(j.dump());
}

}  // namespace

LiveHub::LiveHub() : thread_([this] { run(); }) {}

LiveHub::~LiveHub() { stop(); }

void LiveHub::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

size_t LiveHub::subscribers() {
  std::lock_guard<std::mutex> lock(mu_);
  return subs_.size();
}

uint64_t LiveHub::dropped() {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

void LiveHub::publish(const server::LiveEvent& e) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || subs_.empty()) return;
    if (queue_.size() >= kMaxQueued) {
      dropped_++;
      return;
    }
    queue_.push_back(e);
  }
  cv_.notify_one();
}

api::WebSocketHandlers LiveHub::open(std::shared_ptr<api::WebSocketPeer> peer,
                                     const api::Principal& who, const std::string& tenant) {
  uint64_t id = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    id = next_id_++;
    subs_[id] = Subscriber{peer, tenant, who, {false, false, false}};
  }
  api::WebSocketHandlers h;
  h.on_message = [this, id](std::string_view t) { on_message(id, t); };
  h.on_close = [this, id] {
    std::lock_guard<std::mutex> lock(mu_);
    subs_.erase(id);
  };
  return h;
}

// {"subscribe": ["agents", "queues", "contacts"]}: the topics from now on.
void LiveHub::on_message(uint64_t id, std::string_view t) {
  std::shared_ptr<api::WebSocketPeer> peer;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = subs_.find(id);
    if (it == subs_.end()) return;
    peer = it->second.peer.lock();
  }
  if (!peer) return;
  auto error = [&](const std::string& why) {
    peer->send(text({{"type", "error"}, {"error", why}}));
  };
  const nlohmann::json msg = nlohmann::json::parse(t, nullptr, /*allow_exceptions=*/false);
  if (!msg.is_object() || !msg.contains("subscribe") || !msg["subscribe"].is_array()) {
    return error("expected {\"subscribe\": [topics]} with topics among agents, queues, contacts");
  }
  bool topics[3] = {false, false, false};
  nlohmann::json chosen = nlohmann::json::array();
  for (const nlohmann::json& topic : msg["subscribe"]) {
    bool known = false;
    for (auto k : {server::Topic::kAgents, server::Topic::kQueues, server::Topic::kContacts}) {
      if (topic.is_string() && topic.get<std::string>() == server::to_string(k)) {
        known = true;
        if (!topics[static_cast<int>(k)]) chosen.push_back(topic);
        topics[static_cast<int>(k)] = true;
      }
    }
    if (!known) return error("unknown topic " + topic.dump() + ": expected agents, queues, contacts");
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = subs_.find(id);
    if (it == subs_.end()) return;
    std::copy(std::begin(topics), std::end(topics), std::begin(it->second.topics));
  }
  peer->send(text({{"type", "subscribed"}, {"topics", chosen}}));
}

void LiveHub::run() {
  std::vector<std::shared_ptr<api::WebSocketPeer>> to;
  for (;;) {
    std::deque<server::LiveEvent> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      batch.swap(queue_);
    }
    for (const server::LiveEvent& e : batch) {
      to.clear();
      {
        std::lock_guard<std::mutex> lock(mu_);
        for (const auto& [id, s] : subs_) {
          if (s.tenant != e.tenant || !s.topics[static_cast<int>(e.topic)]) continue;
          // An agent sees itself, its own contacts, and the queues.
          if (s.who.role == api::Role::kAgent && e.topic != server::Topic::kQueues &&
              e.agent != s.who.username) {
            continue;
          }
          if (auto p = s.peer.lock()) to.push_back(std::move(p));
        }
      }
      if (to.empty()) continue;
      auto message = std::make_shared<const std::string>(e.json);
      for (const auto& p : to) p->send(message);
      to.clear();
    }
  }
}

}  // namespace tamas::app
