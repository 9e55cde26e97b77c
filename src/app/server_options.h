// Options shared by the commands that read a server configuration (serve, interactions,
// voicemails), and how they override the file.
#pragma once

#include <optional>
#include <string>

#include "common/status.h"
#include "common/time.h"

namespace CLI {
class App;
}
namespace tamas::config {
struct ServerConfig;
}

namespace tamas::app {

struct ServerOptions {
  std::string config;
  std::string data_dir;
  std::string sip_listen;   // ADDR:PORT
  std::string rtp_ports;    // A-B
  std::string http_listen;  // ADDR:PORT
  std::string web_dir;      // the web UI's files; empty: web/dist beside the binary's folder
  std::string log_format = "text";
  std::string drain_text = "30s";
  Duration drain_timeout = std::chrono::seconds(30);
};

void add_server_options(CLI::App& cmd, ServerOptions& opt, bool for_serving);
// Checks the option values (formats, ranges); fails naming the option.
Status finish_server_options(ServerOptions& opt);
// Loads the configuration file with the entries uploaded through the API (under the data folder,
// config::uploads_dir) and applies the command-line overrides. `change` (an entry: kind, tenant,
// name, YAML; an empty YAML removes the upload) is checked in place of what is kept, without
// being kept.
struct FlowChange {
  std::string kind;  // one of config::kUploadKinds
  std::string tenant, name, yaml;
};
Result<config::ServerConfig> load_server_config(const ServerOptions& opt, bool synthesize,
                                                const std::optional<FlowChange>& change = {});

}  // namespace tamas::app
