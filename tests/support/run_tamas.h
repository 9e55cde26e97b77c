// Runs the built `tamas` binary (TAMAS_BINARY) with a subcommand, capturing its exit status,
// standard output and standard error: for black-box tests of the command line.
#pragma once

#include <gtest/gtest.h>
#include <spawn.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace tamas::test {

struct Outcome {
  int status = -1;  // exit status, or -1 when the process did not exit normally
  std::string out;
  std::string err;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `tamas <subcommand> args...` with stdout and stderr captured in temporary files.
// `input`, when given, is the command's standard input.
inline Outcome run_tamas(const std::string& subcommand, const std::vector<std::string>& args,
                         const std::optional<std::string>& input = std::nullopt) {
  std::string out_path = testing::TempDir() + "tamas_" + subcommand + "_out_XXXXXX";
  std::string err_path = testing::TempDir() + "tamas_" + subcommand + "_err_XXXXXX";
  const int out_fd = mkstemp(out_path.data());
  const int err_fd = mkstemp(err_path.data());
  EXPECT_GE(out_fd, 0);
  EXPECT_GE(err_fd, 0);

  std::vector<std::string> argv_strings = {TAMAS_BINARY, subcommand};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
  std::string in_path;
  if (input) {
    in_path = testing::TempDir() + "tamas_" + subcommand + "_in_XXXXXX";
    const int in_fd = mkstemp(in_path.data());
    EXPECT_GE(in_fd, 0);
    EXPECT_EQ(write(in_fd, input->data(), input->size()), static_cast<ssize_t>(input->size()));
    close(in_fd);
    posix_spawn_file_actions_addopen(&actions, 0, in_path.c_str(), O_RDONLY, 0);
  }
  pid_t pid = 0;
  Outcome o;
  if (posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) == 0) {
    int wstatus = 0;
    waitpid(pid, &wstatus, 0);
    if (WIFEXITED(wstatus)) o.status = WEXITSTATUS(wstatus);
  } else {
    ADD_FAILURE() << "cannot run " << TAMAS_BINARY;
  }
  posix_spawn_file_actions_destroy(&actions);
  close(out_fd);
  close(err_fd);
  o.out = slurp(out_path);
  o.err = slurp(err_path);
  std::remove(out_path.c_str());
  std::remove(err_path.c_str());
  if (!in_path.empty()) std::remove(in_path.c_str());
  return o;
}

}  // namespace tamas::test
