// espeak-ng synthesis: a WAV per language, the cache hit on the second request, clear failures.
#include "prompts/synth.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace tamas::prompts {
namespace {

namespace fs = std::filesystem;

class SynthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tamas-synth-test-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(SynthTest, EachLanguageMakesAWavAndTheSecondRequestIsCached) {
  auto synth = Synthesizer::create(dir_.string());
  ASSERT_TRUE(synth.is_ok()) << synth.message();
  EXPECT_FALSE((*synth)->version().empty());
  const std::pair<core::Language, const char*> texts[] = {
      {core::Language::kEn, "Welcome to Tamas."},
      {core::Language::kFa, "به تماس خوش آمدید."},
      {core::Language::kAr, "مرحبا بكم في تماس."},
  };
  for (const auto& [lang, text] : texts) {
    auto path = (*synth)->synthesize(text, lang);
    ASSERT_TRUE(path.is_ok()) << path.message();
    EXPECT_GT(fs::file_size(*path), 1000u) << *path;
    std::ifstream f(*path, std::ios::binary);
    char riff[4] = {};
    f.read(riff, 4);
    EXPECT_EQ(std::string(riff, 4), "RIFF");
  }
  EXPECT_EQ((*synth)->synthesized(), 3u);
  EXPECT_EQ((*synth)->cache_hits(), 0u);

  const auto first = (*synth)->synthesize("Welcome to Tamas.", core::Language::kEn);
  ASSERT_TRUE(first.is_ok());
  const auto mtime = fs::last_write_time(*first);
  // A new synthesizer over the same directory (a restart) finds the file too.
  auto again = Synthesizer::create(dir_.string());
  ASSERT_TRUE(again.is_ok());
  auto second = (*again)->synthesize("Welcome to Tamas.", core::Language::kEn);
  ASSERT_TRUE(second.is_ok());
  EXPECT_EQ(*second, *first);
  EXPECT_EQ((*again)->synthesized(), 0u);
  EXPECT_EQ((*again)->cache_hits(), 1u);
  EXPECT_EQ(fs::last_write_time(*second), mtime);
  EXPECT_EQ((*synth)->cache_hits(), 1u);

  // The same text in another voice is another file.
  auto other = (*again)->synthesize("Welcome to Tamas.", core::Language::kAr);
  ASSERT_TRUE(other.is_ok());
  EXPECT_NE(*other, *first);
  // Only the WAVs remain: no temporary files.
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir_)) {
    EXPECT_EQ(e.path().extension(), ".wav");
    ++files;
  }
  EXPECT_EQ(files, 4u);
}

TEST_F(SynthTest, TextStartingWithADashIsNotAnOption) {
  auto synth = Synthesizer::create(dir_.string());
  ASSERT_TRUE(synth.is_ok());
  auto path = (*synth)->synthesize("--help me", core::Language::kEn);
  ASSERT_TRUE(path.is_ok()) << path.message();
  EXPECT_GT(fs::file_size(*path), 1000u);
}

TEST_F(SynthTest, MissingProgramIsAClearError) {
  auto synth = Synthesizer::create(dir_.string(), "espeak-ng-not-installed");
  ASSERT_FALSE(synth.is_ok());
  EXPECT_NE(synth.message().find("install the espeak-ng package"), std::string::npos)
      << synth.message();
}

TEST_F(SynthTest, FailingProgramIsAClearError) {
  // `false` accepts --version? No: it exits 1, so creation fails naming the command.
  auto synth = Synthesizer::create(dir_.string(), "false");
  ASSERT_FALSE(synth.is_ok());
  EXPECT_NE(synth.message().find("--version` failed"), std::string::npos) << synth.message();
}

TEST(SynthKey, DependsOnVoiceTextAndVersion) {
  const auto k = Synthesizer::cache_key("en", "hi", "1.51");
  EXPECT_EQ(k.size(), 36u);
  EXPECT_NE(k, Synthesizer::cache_key("fa", "hi", "1.51"));
  EXPECT_NE(k, Synthesizer::cache_key("en", "hi!", "1.51"));
  EXPECT_NE(k, Synthesizer::cache_key("en", "hi", "1.52"));
  EXPECT_EQ(k, Synthesizer::cache_key("en", "hi", "1.51"));
}

TEST(RunProcess, CapturesOutputAndStatus) {
  auto r = run_process({"sh", "-c", "echo out; echo err >&2; exit 3"});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->exit_status, 3);
  EXPECT_NE(r->output.find("out"), std::string::npos);
  EXPECT_NE(r->output.find("err"), std::string::npos);
}

}  // namespace
}  // namespace tamas::prompts
