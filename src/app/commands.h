// The `tamas` subcommands. Each registers itself on the CLI11 app and, when chosen, runs and
// stores its exit status in `exit_code` (0 ok, 1 failure at run time, 2 bad input or usage).
#pragma once

namespace CLI {
class App;
}

namespace tamas::app {

void register_sim(CLI::App& app, int& exit_code);
void register_erlang(CLI::App& app, int& exit_code);
void register_serve(CLI::App& app, int& exit_code);    // when built with the live server
void register_records(CLI::App& app, int& exit_code);  // interactions, voicemails, agent-events
void register_user(CLI::App& app, int& exit_code);     // when built with accounts (libsodium)

}  // namespace tamas::app
