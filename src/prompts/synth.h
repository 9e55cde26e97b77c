// Text-to-speech for prompts: runs espeak-ng and caches the WAVs on disk.
//
// A prompt text in a language becomes <cache_dir>/<key>.wav, where <key> is a hash of the voice,
// the text and the espeak-ng version, so a restart (or a second tenant saying the same thing)
// reuses the file and an espeak-ng upgrade re-synthesizes. espeak-ng is run as a child process
// with an argument vector (posix_spawn, never a shell); the text goes through a file, so no
// text can be mistaken for an option. Files appear atomically (written aside, then renamed).
//
// Thread rules: a Synthesizer may be used from several threads at once (two threads synthesizing
// the same text both write it; the rename makes the last one win, with identical content). It
// blocks for the length of a synthesis (tens of milliseconds): never call it on the core thread
// or a media worker.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "core/flow/language.h"

namespace tamas::prompts {

class Synthesizer {
 public:
  // Checks that `program` runs (`--version`) and that `cache_dir` exists or can be created.
  // Fails with what to do: "espeak-ng not found: install the espeak-ng package (or set ...)".
  static Result<std::unique_ptr<Synthesizer>> create(std::string cache_dir,
                                                     std::string program = "espeak-ng");

  // The path of a WAV saying `text` in `language` (espeak-ng voice en, fa or ar): from the cache
  // when there, otherwise synthesized now. Fails with espeak-ng's own message when it fails or
  // writes nothing, or when the text is empty.
  Result<std::string> synthesize(std::string_view text, core::Language language);

  const std::string& version() const { return version_; }  // e.g. "1.51"
  const std::string& cache_dir() const { return cache_dir_; }
  uint64_t synthesized() const { return synthesized_.load(); }  // espeak-ng runs that made a file
  uint64_t cache_hits() const { return cache_hits_.load(); }

  // The cache file name (without directory) for a voice, text and espeak-ng version.
  static std::string cache_key(std::string_view voice, std::string_view text,
                               std::string_view version);

 private:
  Synthesizer(std::string cache_dir, std::string program, std::string version)
      : cache_dir_(std::move(cache_dir)),
        program_(std::move(program)),
        version_(std::move(version)) {}

  std::string cache_dir_;
  std::string program_;
  std::string version_;
  std::atomic<uint64_t> synthesized_{0};
  std::atomic<uint64_t> cache_hits_{0};
  std::atomic<uint64_t> temp_counter_{0};
};

// Runs `argv` (argv[0] searched in PATH) and returns its exit status with stdout and stderr
// merged. Fails when it cannot be started at all (ENOENT: "not found").
struct ProcessResult {
  int exit_status = 0;  // 0..255, or 128 + signal when killed
  std::string output;
};
Result<ProcessResult> run_process(const std::vector<std::string>& argv);

}  // namespace tamas::prompts
