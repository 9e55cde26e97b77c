// The `tamas` binary: parses the command line and runs one subcommand.
#include <CLI/CLI.hpp>
#include <iostream>

#include "app/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"Tamas: an open-source contact center"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "tamas 0.1.0");
  int exit_code = 0;
  tamas::app::register_sim(app, exit_code);
  tamas::app::register_erlang(app, exit_code);
#ifdef TAMAS_HAVE_SERVER
  tamas::app::register_serve(app, exit_code);
  tamas::app::register_records(app, exit_code);
#endif
#ifdef TAMAS_HAVE_ACCOUNTS
  tamas::app::register_user(app, exit_code);
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);  // prints the message and the usage
    return 2;     // bad usage is bad input: status 2, like every other input error
  }
  return exit_code;
}
