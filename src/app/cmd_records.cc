// `tamas interactions`, `tamas voicemails` and `tamas agent-events`: the stored records, as JSON
// or a table.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "app/server_options.h"
#include "config/config.h"
#include "store/store.h"

namespace tamas::app {
namespace {

struct RecordOptions {
  ServerOptions server;
  std::string since;
  std::string tenant;
  std::string agent;
  bool json = false;
};

Result<std::unique_ptr<store::Store>> open_store(const RecordOptions& o, store::Query& q) {
  auto cfg = load_server_config(o.server, /*synthesize=*/false);
  if (!cfg) return cfg.status();
  if (!o.since.empty()) {
    auto t = store::parse_time(o.since);
    if (!t) return Status::error("--since: " + t.message());
    q.since = *t;
  }
  if (!o.tenant.empty()) q.tenant = o.tenant;
  if (!o.agent.empty()) q.agent = o.agent;
  return store::open_sqlite(cfg->data_dir + "/tamas.db");
}

int run_interactions(const RecordOptions& o) {
  store::Query q;
  auto st = open_store(o, q);
  if (!st) {
    std::cerr << "tamas interactions: " << st.message() << "\n";
    return 2;
  }
  auto rows = (*st)->interactions(q);
  if (!rows) {
    std::cerr << "tamas interactions: " << rows.message() << "\n";
    return 1;
  }
  if (o.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const store::InteractionRecord& r : *rows) {
      nlohmann::json j = {{"id", r.id},
                          {"tenant", r.tenant},
                          {"channel", r.channel},
                          {"direction", r.direction},
                          {"caller", r.caller},
                          {"called", r.called},
                          {"started_at", store::format_time(r.started_at)},
                          {"answered_at", r.answered_at ? nlohmann::json(store::format_time(
                                                              *r.answered_at))
                                                        : nlohmann::json(nullptr)},
                          {"ended_at", store::format_time(r.ended_at)},
                          {"flow", r.flow},
                          {"ivr_path", r.ivr_path},
                          {"result", r.result},
                          {"ended_by", r.ended_by},
                          {"queue", r.queue},
                          {"agent", r.agent},
                          {"recording", r.recording},
                          {"reason", r.reason},
                          {"transfer_target", r.transfer_target},
                          {"wait_seconds", to_seconds(r.wait)},
                          {"ring_seconds", to_seconds(r.ring)},
                          {"talk_seconds", to_seconds(r.talk)},
                          {"hold_seconds", to_seconds(r.hold)},
                          {"hold_count", r.hold_count},
                          {"transfers", r.transfers},
                          {"variables", r.variables}};
      nlohmann::json timeline = nlohmann::json::array();
      for (const auto& e : r.timeline) {
        timeline.push_back(
            {{"at", store::format_time(e.at)}, {"event", e.event}, {"detail", e.detail}});
      }
      j["timeline"] = std::move(timeline);
      out.push_back(std::move(j));
    }
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::cout << fmt::format("{:<24} {:<8} {:<14} {:<8} {:<10} {:<18} {}\n", "started", "tenant",
                           "caller", "called", "path", "result", "ended by");
  for (const store::InteractionRecord& r : *rows) {
    std::cout << fmt::format("{:<24} {:<8} {:<14} {:<8} {:<10} {:<18} {}\n",
                             store::format_time(r.started_at), r.tenant, r.caller, r.called,
                             r.ivr_path, r.result, r.ended_by);
  }
  return 0;
}

int run_voicemails(const RecordOptions& o) {
  store::Query q;
  auto st = open_store(o, q);
  if (!st) {
    std::cerr << "tamas voicemails: " << st.message() << "\n";
    return 2;
  }
  auto rows = (*st)->voicemails(q);
  if (!rows) {
    std::cerr << "tamas voicemails: " << rows.message() << "\n";
    return 1;
  }
  if (o.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const store::VoicemailRecord& v : *rows) {
      out.push_back({{"id", v.id},
                     {"interaction_id", v.interaction_id},
                     {"tenant", v.tenant},
                     {"caller", v.caller},
                     {"called", v.called},
                     {"at", store::format_time(v.at)},
                     {"duration_seconds", to_seconds(v.duration)},
                     {"path", v.path}});
    }
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  for (const store::VoicemailRecord& v : *rows) {
    std::cout << fmt::format("{:<24} {:<8} {:<14} {:<8} {:>6.1f}s {}\n", store::format_time(v.at),
                             v.tenant, v.caller, v.called, to_seconds(v.duration), v.path);
  }
  return 0;
}

int run_agent_events(const RecordOptions& o) {
  store::Query q;
  auto st = open_store(o, q);
  if (!st) {
    std::cerr << "tamas agent-events: " << st.message() << "\n";
    return 2;
  }
  auto rows = (*st)->agent_events(q);
  if (!rows) {
    std::cerr << "tamas agent-events: " << rows.message() << "\n";
    return 1;
  }
  if (o.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const store::AgentEventRecord& e : *rows) {
      out.push_back({{"tenant", e.tenant},
                     {"agent", e.agent},
                     {"at", store::format_time(e.at)},
                     {"status", e.status},
                     {"state", e.state},
                     {"reason", e.reason},
                     {"previous_status", e.previous_status},
                     {"previous_state", e.previous_state},
                     {"previous_seconds", to_seconds(e.previous)}});
    }
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::cout << fmt::format("{:<24} {:<8} {:<6} {:<10} {:<10} {:<10} {}\n", "at", "tenant", "agent",
                           "status", "state", "reason", "after");
  for (const store::AgentEventRecord& e : *rows) {
    std::cout << fmt::format("{:<24} {:<8} {:<6} {:<10} {:<10} {:<10} {}\n",
                             store::format_time(e.at), e.tenant, e.agent, e.status, e.state,
                             e.reason.empty() ? "-" : e.reason,
                             e.previous_status.empty() ? "-" : format_duration(e.previous));
  }
  return 0;
}

void add_record_options(CLI::App& cmd, RecordOptions& o) {
  add_server_options(cmd, o.server, /*for_serving=*/false);
  cmd.add_option("--since", o.since, "Only records from this UTC time on (ISO 8601)");
  cmd.add_option("--tenant", o.tenant, "Only this tenant's records");
  cmd.add_flag("--json", o.json, "Print a JSON array");
}

}  // namespace

void register_records(CLI::App& app, int& exit_code) {
  auto inter = std::make_shared<RecordOptions>();
  CLI::App* i = app.add_subcommand("interactions", "List the stored interaction records");
  add_record_options(*i, *inter);
  i->callback([inter, &exit_code] { exit_code = run_interactions(*inter); });

  auto vm = std::make_shared<RecordOptions>();
  CLI::App* v = app.add_subcommand("voicemails", "List the stored voicemails");
  add_record_options(*v, *vm);
  v->callback([vm, &exit_code] { exit_code = run_voicemails(*vm); });

  auto ae = std::make_shared<RecordOptions>();
  CLI::App* a = app.add_subcommand(
      "agent-events", "List agents' status and state changes, with how long the previous lasted");
  add_record_options(*a, *ae);
  a->add_option("--agent", ae->agent, "Only this extension's events");
  a->callback([ae, &exit_code] { exit_code = run_agent_events(*ae); });
}

}  // namespace tamas::app
