// The live stream's hub: the server's LiveEvents fanned out to the WebSocket clients of
// /api/v1/tenants/{tenant}/stream, each getting the topics it subscribed to and only what its
// role may see (docs/api.md, "The live stream").
//
// Thread rules: publish() is called on the server's core thread and only queues; one thread of
// the hub's own sends. open() and the handlers it returns run on the HTTP server's I/O threads.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "api/http.h"
#include "server/events.h"

namespace tamas::app {

class LiveHub {
 public:
  LiveHub();
  ~LiveHub();  // stop()
  LiveHub(const LiveHub&) = delete;
  LiveHub& operator=(const LiveHub&) = delete;

  // Queues an event for the subscribers of its tenant. Events beyond 100,000 unsent are dropped
  // (counted in dropped()): the hub never holds the core thread.
  void publish(const server::LiveEvent& e);
  // A new connection of `who` to `tenant`'s stream: subscribed to nothing until it asks.
  api::WebSocketHandlers open(std::shared_ptr<api::WebSocketPeer> peer, const api::Principal& who,
                              const std::string& tenant);
  // Sends nothing more and joins the thread; connections stay until the HTTP server closes them.
  void stop();

  size_t subscribers();
  uint64_t dropped();

 private:
  struct Subscriber {
    std::weak_ptr<api::WebSocketPeer> peer;
    std::string tenant;
    api::Principal who;
    bool topics[3] = {false, false, false};  // by server::Topic
  };
  void run();
  void on_message(uint64_t id, std::string_view text);

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<server::LiveEvent> queue_;      // guarded by mu_
  std::map<uint64_t, Subscriber> subs_;      // guarded by mu_
  uint64_t next_id_ = 1;                     // guarded by mu_
  uint64_t dropped_ = 0;                     // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::thread thread_;
};

}  // namespace tamas::app
