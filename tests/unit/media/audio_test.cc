// Audio::load (libsndfile + libsamplerate) and the generated tones.
#include <gtest/gtest.h>
#include <sndfile.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numbers>

#include "media/engine.h"

namespace tamas::media {
namespace {

namespace fs = std::filesystem;

class AudioLoad : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tamas_audio_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

double rms(const std::vector<int16_t>& s, size_t from, size_t to) {
  double sum = 0;
  for (size_t i = from; i < to; ++i) sum += static_cast<double>(s[i]) * s[i];
  return std::sqrt(sum / static_cast<double>(to - from));
}

TEST_F(AudioLoad, StereoAt16kBecomesMonoAt8k) {
  const std::string p = path("tone16k.wav");
  SF_INFO info{};
  info.samplerate = 16000;
  info.channels = 2;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* f = sf_open(p.c_str(), SFM_WRITE, &info);
  ASSERT_NE(f, nullptr) << sf_strerror(nullptr);
  // 1.5 s: 440 Hz on the left, silence on the right -> half the amplitude after mixing.
  std::vector<int16_t> frames(24000 * 2);
  for (size_t i = 0; i < 24000; ++i) {
    frames[2 * i] =
        static_cast<int16_t>(16000 * std::sin(2 * std::numbers::pi * 440 * i / 16000.0));
  }
  ASSERT_EQ(sf_writef_short(f, frames.data(), 24000), 24000);
  sf_close(f);

  auto a = Audio::load(p);
  ASSERT_TRUE(a) << a.message();
  const auto& s = (*a)->samples();
  EXPECT_NEAR(static_cast<double>(s.size()), 12000.0, 20.0);
  EXPECT_NEAR(static_cast<double>((*a)->length().count()), 1500.0, 5.0);
  EXPECT_NEAR(rms(s, 1000, 11000), 8000 / std::sqrt(2.0), 300.0);
}

TEST_F(AudioLoad, At8kMonoIsTakenAsIs) {
  const std::string p = path("mono8k.wav");
  SF_INFO info{};
  info.samplerate = 8000;
  info.channels = 1;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* f = sf_open(p.c_str(), SFM_WRITE, &info);
  ASSERT_NE(f, nullptr);
  std::vector<int16_t> v = {0, 1000, -1000, 32767, -32768};
  sf_writef_short(f, v.data(), static_cast<sf_count_t>(v.size()));
  sf_close(f);
  auto a = Audio::load(p);
  ASSERT_TRUE(a) << a.message();
  EXPECT_EQ((*a)->samples(), v);
}

TEST_F(AudioLoad, ErrorsNameThePath) {
  const std::string missing = path("missing.wav");
  const std::string text = path("text.wav");
  const std::string empty = path("empty.wav");
  const std::string header_only = path("header_only.wav");
  std::ofstream(text) << "this is not a wave file, just some words\n";
  std::ofstream(empty).flush();
  {
    SF_INFO info{};
    info.samplerate = 8000;
    info.channels = 1;
    info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    sf_close(sf_open(header_only.c_str(), SFM_WRITE, &info));  // a valid WAV with no samples
  }
  for (const auto& [p, what] :
       std::vector<std::pair<std::string, std::string>>{{missing, "No such file"},
                                                        {text, "not a readable audio file"},
                                                        {empty, "empty"},
                                                        {header_only, "no audio"},
                                                        {dir_.string(), "not a regular file"}}) {
    auto a = Audio::load(p);
    ASSERT_FALSE(a) << p;
    EXPECT_NE(a.message().find(p), std::string::npos) << a.message();
    EXPECT_NE(a.message().find(what), std::string::npos) << a.message();
  }
}

TEST_F(AudioLoad, TruncatedWavDoesNotCrash) {
  const std::string p = path("cut.wav");
  SF_INFO info{};
  info.samplerate = 22050;
  info.channels = 1;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* f = sf_open(p.c_str(), SFM_WRITE, &info);
  ASSERT_NE(f, nullptr);
  std::vector<int16_t> v(22050, 1000);
  sf_writef_short(f, v.data(), 22050);
  sf_close(f);
  fs::resize_file(p, 44 + 101);  // header plus half a sample short of 51 samples
  auto a = Audio::load(p);
  if (a) {
    EXPECT_LT((*a)->samples().size(), 100u);
  } else {
    EXPECT_NE(a.message().find(p), std::string::npos);
  }
}

TEST(AudioTones, BeepAndSilence) {
  auto b = Audio::beep(std::chrono::milliseconds(400));
  EXPECT_EQ(b->samples().size(), 3200u);
  EXPECT_EQ(b->length(), std::chrono::milliseconds(400));
  EXPECT_GT(rms(b->samples(), 0, 3200), 5000);
  auto s = Audio::silence(std::chrono::milliseconds(20));
  EXPECT_EQ(s->samples(), std::vector<int16_t>(160, 0));
  EXPECT_TRUE(Audio::silence(std::chrono::milliseconds(-5))->samples().empty());
}

}  // namespace
}  // namespace tamas::media
