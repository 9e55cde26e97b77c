#include "app/server_options.h"

#include <CLI/CLI.hpp>
#include <charconv>

#include "config/config.h"

namespace tamas::app {
namespace {

// "ADDR:PORT" (IPv4 or a name; "[v6]:PORT" too).
Result<std::pair<std::string, uint16_t>> split_host_port(const std::string& text,
                                                         const std::string& option) {
  const auto colon = text.rfind(':');
  auto fail = [&] {
    return Status::error(option + ": '" + text + "' is not ADDRESS:PORT (e.g. 127.0.0.1:5060)");
  };
  if (colon == std::string::npos || colon == 0) return fail();
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  const std::string p = text.substr(colon + 1);
  auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
  if (ec != std::errc() || ptr != p.data() + p.size() || port == 0 || port > 65535) return fail();
  return std::make_pair(host, static_cast<uint16_t>(port));
}

}  // namespace

void add_server_options(CLI::App& cmd, ServerOptions& opt, bool for_serving) {
  cmd.add_option("--config", opt.config, "The configuration file (YAML)")->required();
  cmd.add_option("--data-dir", opt.data_dir, "Where records, recordings and prompts live");
  if (!for_serving) return;
  cmd.add_option("--sip-listen", opt.sip_listen, "SIP address and port, e.g. 127.0.0.1:5060");
  cmd.add_option("--rtp-ports", opt.rtp_ports, "RTP port range, e.g. 20000-29999");
  cmd.add_option("--http-listen", opt.http_listen, "HTTP address and port (web UI and API)");
  cmd.add_option("--web-dir", opt.web_dir,
                 "The web UI's files (default: web/dist beside the binary's folder, if built)");
  cmd.add_option("--log-format", opt.log_format, "text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  cmd.add_option("--drain-timeout", opt.drain_text,
                 "On SIGTERM, how long calls in progress may go on (default 30s)");
}

Status finish_server_options(ServerOptions& opt) {
  auto d = parse_duration(opt.drain_text);
  if (!d) return Status::error("--drain-timeout: " + d.message());
  opt.drain_timeout = *d;
  if (!opt.sip_listen.empty()) {
    if (auto hp = split_host_port(opt.sip_listen, "--sip-listen"); !hp) return hp.status();
  }
  if (!opt.http_listen.empty()) {
    if (auto hp = split_host_port(opt.http_listen, "--http-listen"); !hp) return hp.status();
  }
  if (!opt.rtp_ports.empty()) {
    unsigned a = 0, b = 0;
    char dash = 0;
    if (std::sscanf(opt.rtp_ports.c_str(), "%u%c%u", &a, &dash, &b) != 3 || dash != '-' ||
        a == 0 || b > 65535 || a + 1 >= b) {
      return Status::error("--rtp-ports: '" + opt.rtp_ports +
                           "' is not a port range FIRST-LAST (e.g. 20000-29999, at least 2 ports)");
    }
  }
  return Status::ok();
}

Result<config::ServerConfig> load_server_config(const ServerOptions& opt, bool synthesize,
                                                const std::optional<FlowChange>& change) {
  config::LoadOptions lo;
  lo.synthesize = synthesize;
  if (!opt.data_dir.empty()) lo.data_dir = opt.data_dir;
  // The data folder (where uploaded flows are kept) is the option's, else the file's.
  std::string data_dir = opt.data_dir;
  if (data_dir.empty()) {
    auto named = config::read_data_dir(opt.config);
    if (!named) return named.status();
    data_dir = *named;
  }
  for (std::string_view kind : config::kUploadKinds) {
    auto kept = config::read_uploads(config::uploads_dir(data_dir, kind));
    if (!kept) return kept.status();
    lo.uploads[std::string(kind)] = std::move(*kept);
  }
  if (change) {
    auto& kept = lo.uploads[change->kind][change->tenant];
    if (change->yaml.empty()) {
      kept.erase(change->name);
    } else {
      std::string what = change->kind;  // "flows" -> "flow"
      what.pop_back();
      kept[change->name] = {change->yaml, what + " " + change->name};
    }
  }
  auto cfg = config::load_config(opt.config, lo);
  if (!cfg) return cfg.status();
  if (!opt.sip_listen.empty()) {
    auto hp = split_host_port(opt.sip_listen, "--sip-listen");
    cfg->sip.address = hp->first;
    cfg->sip.port = hp->second;
  }
  if (!opt.http_listen.empty()) {
    auto hp = split_host_port(opt.http_listen, "--http-listen");
    cfg->http.address = hp->first;
    cfg->http.port = hp->second;
  }
  if (!opt.rtp_ports.empty()) {
    unsigned a = 0, b = 0;
    std::sscanf(opt.rtp_ports.c_str(), "%u-%u", &a, &b);
    cfg->rtp.port_min = static_cast<uint16_t>(a);
    cfg->rtp.port_max = static_cast<uint16_t>(b);
  }
  return cfg;
}

}  // namespace tamas::app
