// `tamas serve`: the live server, with signals for drain (SIGTERM, SIGINT) and reload (SIGHUP).
#include <CLI/CLI.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <mutex>
#include <vector>

#include "app/commands.h"
#include "app/server_options.h"
#include "common/log.h"
#include "config/config.h"
#include "server/server.h"
#ifdef TAMAS_HAVE_API
#include "api/http.h"
#include "api/webhook.h"
#include "app/api_routes.h"
#include "app/live_stream.h"
#include "auth/session.h"
#include "store/store.h"
#endif

namespace tamas::app {
namespace {

#ifdef TAMAS_HAVE_API
// Each tenant's webhooks as configured now (replaced on reload); read on the core thread.
class WebhookTable {
 public:
  void set(const config::ServerConfig& cfg) {
    auto next = std::make_shared<std::map<std::string, std::vector<api::WebhookTarget>>>();
    for (const config::TenantConfig& t : cfg.tenants) {
      for (const config::WebhookConfig& w : t.webhooks) {
        (*next)[t.id].push_back(api::WebhookTarget{w.url, w.secret, w.events});
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    table_ = std::move(next);
  }
  // Hands a contact event to each of its tenant's webhooks that wants it.
  void deliver(api::WebhookSender& sender, const server::LiveEvent& e) {
    if (e.topic != server::Topic::kContacts) return;
    std::shared_ptr<const std::map<std::string, std::vector<api::WebhookTarget>>> table;
    {
      std::lock_guard<std::mutex> lock(mu_);
      table = table_;
    }
    if (!table) return;
    auto it = table->find(e.tenant);
    if (it == table->end()) return;
    for (const api::WebhookTarget& t : it->second) {
      if (t.wants(e.event)) sender.deliver(e.tenant, t, e.event, e.json);
    }
  }

 private:
  std::mutex mu_;
  std::shared_ptr<const std::map<std::string, std::vector<api::WebhookTarget>>> table_;
};
#endif

// The web UI's folder: --web-dir, else web/dist beside the folder of the binary (build/tamas in a
// checkout), if it has been built; empty when there is none (the API is served all the same).
std::string web_dir(const ServerOptions& opt) {
  namespace fs = std::filesystem;
  if (!opt.web_dir.empty()) return opt.web_dir;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  const fs::path dist = exe.parent_path().parent_path() / "web" / "dist";
  return fs::exists(dist / "index.html", ec) ? dist.string() : "";
}

int run_serve(const ServerOptions& opt) {
  log::configure(opt.log_format == "json" ? log::Format::kJson : log::Format::kText,
                 log::Level::kInfo);
  // Signals are taken synchronously by this thread: block them before any thread starts so
  // every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto cfg = load_server_config(opt, /*synthesize=*/true);
  if (!cfg) {
    std::cerr << "tamas serve: " << cfg.message() << "\n";
    return 2;
  }
  const config::HttpConfig http = cfg->http;
#ifdef TAMAS_HAVE_API
  std::mutex config_mu;  // SIGHUP and uploaded flows change the configuration one at a time
  WebhookTable webhooks;
  webhooks.set(*cfg);
  auto sender = api::WebhookSender::start();
  if (!sender) {
    std::cerr << "tamas serve: webhooks: " << sender.message() << "\n";
    return 1;
  }
#endif
  const std::string data_dir = cfg->data_dir;
  const std::string db_path = data_dir + "/tamas.db";
  auto server = server::Server::start(std::make_shared<const config::ServerConfig>(std::move(*cfg)));
  if (!server) {
    std::cerr << "tamas serve: " << server.message() << "\n";
    return 1;
  }
#ifdef TAMAS_HAVE_API
  // The web side: its own connection to the database (accounts, audit), sessions in memory.
  auto api_store = store::open_sqlite(db_path);
  if (!api_store) {
    std::cerr << "tamas serve: " << api_store.message() << "\n";
    return 1;
  }
  auth::Sessions sessions;
  LiveHub hub;
  (*server)->set_event_listener([&hub, &webhooks, &sender](const server::LiveEvent& e) {
    hub.publish(e);
    webhooks.deliver(**sender, e);
  });
  struct Unhook {  // on every way out: the server stops calling the hub before the hub goes
    std::unique_ptr<server::Server>& server;
    LiveHub& hub;
    ~Unhook() {
      if (server) server->set_event_listener(nullptr);
      hub.stop();
    }
  } unhook{*server, hub};
  ApiContext ctx{server->get(), api_store->get(), &sessions, data_dir, &hub, {}};
  ctx.change_flow = [&opt, &config_mu, &server, &webhooks, data_dir](
                        const std::string& kind, const std::string& tenant,
                        const std::string& name, const std::string& yaml, bool keep) -> Status {
    std::lock_guard<std::mutex> lock(config_mu);  // one configuration change at a time
    auto next = load_server_config(opt, /*synthesize=*/true, FlowChange{kind, tenant, name, yaml});
    if (!next) return next.status();
    if (!keep) return Status::ok();
    namespace fs = std::filesystem;
    const fs::path dir = fs::path(config::uploads_dir(data_dir, kind)) / tenant;
    const fs::path file = dir / (name + ".yaml");
    std::error_code ec;
    std::string before;  // to put back if the server refuses the result
    if (std::ifstream in(file, std::ios::binary); in) {
      before.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    auto write = [&](const std::string& text) -> Status {
      if (text.empty()) {
        fs::remove(file, ec);
        return Status::ok();
      }
      fs::create_directories(dir, ec);
      const fs::path tmp = dir / (name + ".yaml.tmp");
      std::ofstream(tmp, std::ios::binary | std::ios::trunc) << text;
      fs::rename(tmp, file, ec);  // whole or not at all
      return ec ? Status::error("cannot keep the flow: " + ec.message()) : Status::ok();
    };
    if (Status w = write(yaml); !w) return w;
    auto fresh = std::make_shared<const config::ServerConfig>(std::move(*next));
    if (Status s = (*server)->reload(fresh); !s) {
      (void)write(before);
      return s;
    }
    webhooks.set(*fresh);
    log::info(yaml.empty() ? "upload removed" : "uploaded",
              {{"tenant", tenant}, {"kind", kind}, {"name", name}});
    return Status::ok();
  };
  api::HttpConfig hc;
  hc.address = http.address;
  hc.port = http.port;
  hc.threads = 2;
  hc.static_dir = web_dir(opt);
  if (!hc.static_dir.empty() && !std::filesystem::exists(hc.static_dir + "/index.html")) {
    std::cerr << "tamas serve: --web-dir: no index.html in " << hc.static_dir << "\n";
    return 2;
  }
  auto http_server = api::HttpServer::start(hc, build_api_routes(ctx),
                                            [ctx](api::Request& req) { authenticate(ctx, req); });
  if (!http_server) {
    std::cerr << "tamas serve: HTTP on " << http.address << ":" << http.port << ": "
              << http_server.message() << "\n";
    return 1;
  }
  log::info("http", {{"listen", http.address + ":" + std::to_string((*http_server)->port())},
                     {"web", hc.static_dir.empty() ? "none" : hc.static_dir}});
#else
  (void)http;
  (void)db_path;
  (void)data_dir;
#endif
  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      log::info("reloading the configuration", {{"file", opt.config}});
#ifdef TAMAS_HAVE_API
      std::lock_guard<std::mutex> lock(config_mu);
#endif
      auto next = load_server_config(opt, /*synthesize=*/true);
      if (!next) {
        log::error("reload refused; the running configuration is kept", {{"why", next.message()}});
        continue;
      }
      auto fresh = std::make_shared<const config::ServerConfig>(std::move(*next));
      Status s = (*server)->reload(fresh);
      if (!s.is_ok()) log::error("reload refused", {{"why", s.message()}});
#ifdef TAMAS_HAVE_API
      if (s.is_ok()) webhooks.set(*fresh);
#endif
      continue;
    }
    log::info("draining: no new calls; waiting for calls in progress",
              {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"},
               {"limit", format_duration(opt.drain_timeout)}});
#ifdef TAMAS_HAVE_API
    // No event may reach the hub, and the hub sends nothing, while the connections close.
    (*server)->set_event_listener(nullptr);
    hub.stop();
    http_server->reset();  // no request may reach the server while it stops
#endif
    (*server)->drain(opt.drain_timeout);
    if (const server::ServerStats st = (*server)->stats(); st.routed > 0) {
      log::info("routing latency", {{"n", std::to_string(st.routed)},
                                    {"p50_us", std::to_string(st.routing_p50_us)},
                                    {"p99_us", std::to_string(st.routing_p99_us)},
                                    {"max_us", std::to_string(st.routing_max_us)}});
    }
    server->reset();
    log::info("stopped");
    return 0;
  }
}

}  // namespace

void register_serve(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<ServerOptions>();
  CLI::App* serve = app.add_subcommand("serve", "Run the contact center: SIP, media, flows, records");
  add_server_options(*serve, *opt, /*for_serving=*/true);
  serve->callback([opt, &exit_code] {
    if (Status s = finish_server_options(*opt); !s) {
      std::cerr << "tamas serve: " << s.message() << "\n";
      exit_code = 2;
      return;
    }
    exit_code = run_serve(*opt);
  });
}

}  // namespace tamas::app
