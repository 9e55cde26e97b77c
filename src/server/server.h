// The live server: SIP calls in, contact flows run, media played and recorded, records stored.
//
// Thread rules: a Server owns one core thread, which owns every call's state and the FlowEngine.
// The SIP thread, the media workers and the prompt resolver only post events to it; it answers
// by calling the (thread-safe) SIP stack, media engine and store. Public methods are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "common/time.h"

namespace tamas::config {
struct ServerConfig;
}

namespace tamas::server {

struct ServerStats {
  uint64_t calls = 0;     // calls started
  uint64_t active = 0;    // calls in progress
  uint64_t rejected = 0;  // INVITEs refused (403, 404, 400, 488, 503)
  // Routing latency: a caller entering a queue that has an idle agent, to that agent's INVITE
  // handed to the SIP stack. Microseconds; 0 with no sample.
  uint64_t routed = 0;  // samples
  int64_t routing_p50_us = 0, routing_p99_us = 0, routing_max_us = 0;
};

class Server {
 public:
  // Opens the store, loads every prompt into memory, binds SIP and RTP and starts the threads.
  // Fails with what could not be done (an address in use, a prompt that does not decode, the
  // database).
  static Result<std::unique_ptr<Server>> start(std::shared_ptr<const config::ServerConfig> config);
  virtual ~Server() = default;  // hangs up every call at once and stops

  // New calls use `config` from now on; calls in progress keep theirs. Fails, keeping the old
  // configuration, when a prompt of the new one does not decode or when the SIP or RTP settings
  // changed (those need a restart).
  virtual Status reload(std::shared_ptr<const config::ServerConfig> config) = 0;
  // Stops taking calls (new INVITEs get 503), lets the calls in progress go on for up to `limit`,
  // then hangs up the rest. Returns when no call is left.
  virtual void drain(Duration limit) = 0;
  virtual ServerStats stats() const = 0;
};

}  // namespace tamas::server
