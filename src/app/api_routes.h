// The REST API's first routes (/api/v1) over the live server: sign-in, who am I, the live view of
// a tenant, its interaction records, and metrics. The route table (api::Router) enforces roles
// and tenants before any handler runs; this file only declares and answers.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/status.h"

namespace tamas::api {
class Router;
struct Request;
}  // namespace tamas::api
namespace tamas::auth {
class Sessions;
}
namespace tamas::server {
class Server;
}
namespace tamas::store {
class Store;
}

namespace tamas::app {

class LiveHub;

struct ApiContext {
  server::Server* server = nullptr;
  store::Store* store = nullptr;
  auth::Sessions* sessions = nullptr;
  std::string data_dir;  // recordings and voicemails are served only from under it
  LiveHub* hub = nullptr;  // the live stream's; none: the stream routes answer 503
  // Loads the configuration with the tenant's entry `name` of section `kind` (flows, calendars,
  // numbers) as `yaml` (empty: without the uploaded one); with `keep`, keeps it under the data
  // folder and reloads the server with the result. Fails with the loader's message
  // ("<where>:<line>: <field>: <what>"). None: uploads answer 503.
  std::function<Status(const std::string& kind, const std::string& tenant, const std::string& name,
                       const std::string& yaml, bool keep)>
      change_flow;
};

// Every route of /api/v1 (and /metrics); fails only on a programming error in the table.
std::shared_ptr<const api::Router> build_api_routes(const ApiContext& ctx);

// Sets req.principal from the session cookie (`tamas_session`, with X-CSRF-Token required on
// anything but GET) or an `Authorization: Bearer` token; leaves it empty otherwise.
void authenticate(const ApiContext& ctx, api::Request& req);

}  // namespace tamas::app
