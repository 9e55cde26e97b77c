// Audio: loading (libsndfile + libsamplerate, once per prompt) and generated tones. See engine.h.
//
// Thread rules: load() may run on any thread (it blocks on the file); an Audio is immutable once
// built and is shared read-only by every worker.
#include <samplerate.h>
#include <sndfile.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <numbers>

#include "media/engine.h"
#include "media/g711.h"

namespace tamas::media {
namespace {

Status load_error(const std::string& path, const std::string& what) {
  return Status::error("cannot load audio file " + path + ": " + what);
}

struct SndfileCloser {
  void operator()(SNDFILE* f) const { sf_close(f); }
};

}  // namespace

Result<std::shared_ptr<const Audio>> Audio::load(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return load_error(path, std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return load_error(path, "not a regular file");
  if (st.st_size == 0) return load_error(path, "the file is empty");

  SF_INFO info{};
  std::unique_ptr<SNDFILE, SndfileCloser> file(sf_open(path.c_str(), SFM_READ, &info));
  if (!file)
    return load_error(path,
                      std::string("not a readable audio file (") + sf_strerror(nullptr) + ")");
  if (info.channels <= 0 || info.samplerate <= 0) return load_error(path, "no audio format");
  if (info.frames <= 0) return load_error(path, "contains no audio");
  // Ten minutes of audio is far more than any prompt or music loop; refuse to hold more.
  constexpr sf_count_t kMaxSeconds = 600;
  if (info.frames / info.samplerate > kMaxSeconds) {
    return load_error(path, "longer than " + std::to_string(kMaxSeconds) + " s");
  }

  // Read in blocks and mix down as we go, so memory is one mono copy whatever the channels.
  const auto channels = static_cast<size_t>(info.channels);
  std::vector<float> mono;
  mono.reserve(static_cast<size_t>(info.frames));
  constexpr sf_count_t kBlockFrames = 4096;
  std::vector<float> block(static_cast<size_t>(kBlockFrames) * channels);
  for (;;) {
    const sf_count_t got = sf_readf_float(file.get(), block.data(), kBlockFrames);
    if (got <= 0) break;
    for (size_t i = 0; i < static_cast<size_t>(got); ++i) {
      float sum = 0;
      for (size_t c = 0; c < channels; ++c) sum += block[i * channels + c];
      mono.push_back(sum / static_cast<float>(channels));
    }
  }
  if (mono.empty()) {
    return load_error(path, std::string("corrupt audio (") + sf_strerror(file.get()) + ")");
  }

  std::vector<float> resampled;
  if (info.samplerate == kSampleRate) {
    resampled = std::move(mono);
  } else {
    const double ratio = static_cast<double>(kSampleRate) / info.samplerate;
    resampled.resize(static_cast<size_t>(std::ceil(static_cast<double>(mono.size()) * ratio)) + 16);
    SRC_DATA data{};
    data.data_in = mono.data();
    data.input_frames = static_cast<long>(mono.size());
    data.data_out = resampled.data();
    data.output_frames = static_cast<long>(resampled.size());
    data.src_ratio = ratio;
    const int err = src_simple(&data, SRC_SINC_MEDIUM_QUALITY, 1);
    if (err != 0) return load_error(path, std::string("resampling failed: ") + src_strerror(err));
    resampled.resize(static_cast<size_t>(data.output_frames_gen));
  }
  if (resampled.empty()) return load_error(path, "contains no audio");

  std::vector<int16_t> samples(resampled.size());
  src_float_to_short_array(resampled.data(), samples.data(), static_cast<int>(resampled.size()));
  return from_samples(std::move(samples));
}

std::shared_ptr<const Audio> Audio::from_samples(std::vector<int16_t> samples_8k) {
  return std::shared_ptr<const Audio>(new Audio(std::move(samples_8k)));
}

std::shared_ptr<const Audio> Audio::beep(Duration length) {
  // 1 kHz at about -10 dBFS, with 5 ms ramps so it does not click.
  const auto n = static_cast<size_t>(std::max<int64_t>(0, length.count()) * kSampleRate / 1000);
  std::vector<int16_t> s(n);
  const size_t ramp = kSampleRate / 200;
  for (size_t i = 0; i < n; ++i) {
    double gain = 1.0;
    if (i < ramp) gain = static_cast<double>(i) / ramp;
    if (n - i < ramp) gain = std::min(gain, static_cast<double>(n - i) / ramp);
    const double v = 10000.0 * gain * std::sin(2 * std::numbers::pi * 1000.0 * i / kSampleRate);
    s[i] = static_cast<int16_t>(std::lround(v));
  }
  return from_samples(std::move(s));
}

std::shared_ptr<const Audio> Audio::silence(Duration length) {
  const auto n = static_cast<size_t>(std::max<int64_t>(0, length.count()) * kSampleRate / 1000);
  return from_samples(std::vector<int16_t>(n, 0));
}

Duration Audio::length() const {
  return Duration(static_cast<int64_t>(samples_.size()) * 1000 / kSampleRate);
}

}  // namespace tamas::media
