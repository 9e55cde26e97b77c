// espeak-ng synthesis with an on-disk cache (synth.h). Thread-safe: no shared mutable state but
// atomic counters; files are written under unique temporary names and renamed into place.
#include "prompts/synth.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <vector>

extern char** environ;

namespace tamas::prompts {
namespace fs = std::filesystem;

namespace {

// Two independent 64-bit FNV-1a hashes (different offset bases) give a 128-bit key: collisions
// between prompt texts are not a practical concern, and no crypto library is needed here.
uint64_t fnv1a(std::string_view data, uint64_t basis) {
  uint64_t h = basis;
  for (unsigned char ch : data) {
    h ^= ch;
    h *= 0x100000001b3ULL;
  }
  return h;
}

// A WAV header is 44 bytes: anything not longer than that holds no audio.
bool has_audio(const fs::path& p) {
  std::error_code ec;
  const auto size = fs::file_size(p, ec);
  return !ec && size > 44;
}

}  // namespace

Result<ProcessResult> run_process(const std::vector<std::string>& argv) {
  if (argv.empty()) return Status::error("run_process: no program");
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Status::error(std::string("pipe: ") + strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return Status::error(argv[0] + (rc == ENOENT ? std::string(": not found")
                                                 : std::string(": cannot start: ") + strerror(rc)));
  }
  ProcessResult result;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n > 0) {
      result.output.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    result.exit_status = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.exit_status = 128 + WTERMSIG(status);
  }
  return result;
}

std::string Synthesizer::cache_key(std::string_view voice, std::string_view text,
                                   std::string_view version) {
  std::string data;
  data.append(voice).push_back('\0');
  data.append(text).push_back('\0');
  data.append(version);
  char out[40];
  std::snprintf(out, sizeof out, "%016llx%016llx",
                static_cast<unsigned long long>(fnv1a(data, 0xcbf29ce484222325ULL)),
                static_cast<unsigned long long>(fnv1a(data, 0x84222325cbf29ce4ULL)));
  return std::string(out) + ".wav";
}

Result<std::unique_ptr<Synthesizer>> Synthesizer::create(std::string cache_dir,
                                                         std::string program) {
  auto ran = run_process({program, "--version"});
  if (!ran.is_ok() || ran->exit_status != 0) {
    return Status::error(
        program + " is needed to synthesize text prompts but " +
        (ran.is_ok() ? "`" + program + " --version` failed: " + ran->output
                     : "was not found: install the espeak-ng package, or give every prompt as a "
                       "file"));
  }
  // "eSpeak NG text-to-speech: 1.51  Data at: ..." -> "1.51"
  std::string version = ran->output;
  if (auto colon = version.find(": "); colon != std::string::npos) {
    version = version.substr(colon + 2);
    version = version.substr(0, version.find_first_of(" \n"));
  }
  std::error_code ec;
  fs::create_directories(cache_dir, ec);
  if (ec || !fs::is_directory(cache_dir)) {
    return Status::error("cannot create the prompt cache " + cache_dir + ": " +
                         (ec ? ec.message() : "not a directory"));
  }
  return std::unique_ptr<Synthesizer>(
      new Synthesizer(std::move(cache_dir), std::move(program), std::move(version)));
}

Result<std::string> Synthesizer::synthesize(std::string_view text, core::Language language) {
  if (text.empty()) return Status::error("cannot synthesize an empty text");
  const std::string voice(core::to_string(language));
  const fs::path target = fs::path(cache_dir_) / cache_key(voice, text, version_);
  if (has_audio(target)) {
    ++cache_hits_;
    return target.string();
  }
  const std::string stem = target.string() + ".tmp." + std::to_string(getpid()) + "." +
                           std::to_string(temp_counter_.fetch_add(1));
  const std::string text_file = stem + ".txt";
  const std::string wav_file = stem + ".wav";
  {
    std::ofstream f(text_file, std::ios::binary);
    f.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!f) return Status::error("cannot write " + text_file);
  }
  // -b 1: the text file is UTF-8.
  auto ran = run_process({program_, "-v", voice, "-b", "1", "-f", text_file, "-w", wav_file});
  std::error_code ec;
  fs::remove(text_file, ec);
  const std::string shown =
      text.size() > 60 ? std::string(text.substr(0, 60)) + "..." : std::string(text);
  if (!ran.is_ok()) return ran.status();
  if (ran->exit_status != 0 || !has_audio(wav_file)) {
    fs::remove(wav_file, ec);
    return Status::error(
        program_ + " -v " + voice + " failed on \"" + shown + "\"" +
        (ran->output.empty() ? std::string(" (no audio written)") : ": " + ran->output));
  }
  fs::rename(wav_file, target, ec);
  if (ec) {
    fs::remove(wav_file, ec);
    return Status::error("cannot move the synthesized prompt to " + target.string() + ": " +
                         ec.message());
  }
  ++synthesized_;
  return target.string();
}

}  // namespace tamas::prompts
