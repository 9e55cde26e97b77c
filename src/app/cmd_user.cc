// `tamas user add`: creates an account of the web side. The password is read from standard input
// (one line), so it never appears in the process list or the shell's history.
#include <CLI/CLI.hpp>
#include <iostream>
#include <string>

#include "app/commands.h"
#include "app/server_options.h"
#include "auth/accounts.h"
#include "auth/session.h"
#include "common/log.h"
#include "config/config.h"
#include "store/store.h"

namespace tamas::app {
namespace {

struct UserOptions {
  ServerOptions server;
  std::string tenant;
  std::string username;
  std::string role;
  std::string display_name;
};

int run_user_add(const UserOptions& o) {
  auto fail = [](const std::string& why, int code) {
    std::cerr << "tamas user add: " << why << "\n";
    return code;
  };
  auto cfg = load_server_config(o.server, /*synthesize=*/false);
  if (!cfg) return fail(cfg.message(), 2);
  if (!o.tenant.empty() && o.role != "admin") {
    bool found = false;
    for (const config::TenantConfig& t : cfg->tenants) found = found || t.id == o.tenant;
    if (!found) return fail("--tenant: no tenant '" + o.tenant + "' in " + cfg->source, 2);
  }
  std::string password;
  if (!std::getline(std::cin, password)) return fail("no password on standard input", 2);
  if (!password.empty() && password.back() == '\r') password.pop_back();
  auto u = auth::make_user(o.tenant, o.username, o.role, password, o.display_name,
                           std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now()));
  if (!u) {  // "field: why": the fields but the password are options
    return fail((u.message().rfind("password:", 0) == 0 ? "" : "--") + u.message(), 2);
  }
  auto store = store::open_sqlite(cfg->data_dir + "/tamas.db");
  if (!store) return fail(store.message(), 1);
  if (Status s = (*store)->add_user(*u); !s) return fail(s.message(), 1);
  (*store)->save_audit({u->created_at, u->tenant, "cli", "local", "user.add",
                        u->username + " (" + u->role + ")"});
  if (Status s = (*store)->flush(); !s) return fail(s.message(), 1);
  std::cout << "added " << u->username << " (" << u->role << ")"
            << (u->tenant.empty() ? std::string() : " to tenant " + u->tenant) << "\n";
  return 0;
}

struct TokenOptions {
  ServerOptions server;
  std::string tenant;
  std::string username;
  std::string label;
};

// A Bearer token for an integration, acting as an existing user; printed once, kept as a hash.
int run_token_add(const TokenOptions& o) {
  auto fail = [](const std::string& why, int code) {
    std::cerr << "tamas token add: " << why << "\n";
    return code;
  };
  auto cfg = load_server_config(o.server, /*synthesize=*/false);
  if (!cfg) return fail(cfg.message(), 2);
  auto store = store::open_sqlite(cfg->data_dir + "/tamas.db");
  if (!store) return fail(store.message(), 1);
  auto user = (*store)->find_user(o.tenant, o.username);
  if (!user) return fail(user.message(), 1);
  if (!user->has_value()) {
    return fail("no user '" + o.username + "'" +
                    (o.tenant.empty() ? std::string(" (server-wide)")
                                      : " in tenant '" + o.tenant + "'") +
                    "; make one with tamas user add",
                2);
  }
  const std::string token = auth::new_api_token();
  store::ApiTokenRecord t;
  t.token_hash = auth::token_hash(token);
  t.tenant = o.tenant;
  t.username = o.username;
  t.label = o.label;
  t.created_at = std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
  if (Status s = (*store)->add_api_token(t); !s) return fail(s.message(), 1);
  (*store)->save_audit({t.created_at, o.tenant, "cli", "local", "token.add",
                        o.username + (o.label.empty() ? "" : " (" + o.label + ")")});
  if (Status s = (*store)->flush(); !s) return fail(s.message(), 1);
  std::cout << token << "\n";
  return 0;
}

}  // namespace

void register_user(CLI::App& app, int& exit_code) {
  CLI::App* token = app.add_subcommand("token", "Bearer tokens for integrations");
  token->require_subcommand(1);
  auto t = std::make_shared<TokenOptions>();
  CLI::App* tadd = token->add_subcommand(
      "add", "Make a token acting as an existing user; it is printed once, only its hash is kept");
  add_server_options(*tadd, t->server, /*for_serving=*/false);
  tadd->add_option("--tenant", t->tenant, "The user's tenant (none for an admin)");
  tadd->add_option("--username", t->username, "The user the token acts as")->required();
  tadd->add_option("--label", t->label, "What it is for, e.g. crm");
  tadd->callback([t, &exit_code] { exit_code = run_token_add(*t); });

  CLI::App* user = app.add_subcommand("user", "Accounts of the web side");
  user->require_subcommand(1);
  auto o = std::make_shared<UserOptions>();
  CLI::App* add = user->add_subcommand(
      "add", "Create a user; the password is read from standard input (one line)");
  add_server_options(*add, o->server, /*for_serving=*/false);
  add->add_option("--tenant", o->tenant, "The user's tenant (not for admin)");
  add->add_option("--username", o->username, "The name to sign in with")->required();
  add->add_option("--role", o->role, "admin, manager, supervisor, agent or analyst")->required();
  add->add_option("--name", o->display_name, "The name shown in the UI (default: the username)");
  add->callback([o, &exit_code] { exit_code = run_user_add(*o); });
}

}  // namespace tamas::app
