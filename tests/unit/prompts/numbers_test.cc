// Numbers and durations in words: table-driven against known correct spellings.
#include "prompts/numbers.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tamas::prompts {
namespace {

using namespace std::chrono_literals;

struct Case {
  int64_t n;
  const char* words;
};

TEST(NumberWords, English) {
  const std::vector<Case> cases = {
      {0, "zero"},
      {7, "seven"},
      {13, "thirteen"},
      {20, "twenty"},
      {23, "twenty-three"},
      {99, "ninety-nine"},
      {100, "one hundred"},
      {105, "one hundred five"},
      {999, "nine hundred ninety-nine"},
      {1000, "one thousand"},
      {1001, "one thousand one"},
      {2024, "two thousand twenty-four"},
      {9999, "nine thousand nine hundred ninety-nine"},
      {1000000, "one million"},
      {1234567, "one million two hundred thirty-four thousand five hundred sixty-seven"},
      {-42, "minus forty-two"},
  };
  for (const Case& c : cases) EXPECT_EQ(number_words(c.n, Language::kEn), c.words) << c.n;
  EXPECT_EQ(number_words(INT64_MIN, Language::kEn).substr(0, 21), "minus nine quintillio");
}

TEST(NumberWords, Persian) {
  const std::vector<Case> cases = {
      {0, "صفر"},
      {1, "یک"},
      {3, "سه"},
      {10, "ده"},
      {11, "یازده"},
      {12, "دوازده"},
      {15, "پانزده"},
      {18, "هجده"},
      {19, "نوزده"},
      {20, "بیست"},
      {23, "بیست و سه"},
      {30, "سی"},
      {99, "نود و نه"},
      {100, "صد"},
      {101, "صد و یک"},
      {200, "دویست"},
      {300, "سیصد"},
      {512, "پانصد و دوازده"},
      {999, "نهصد و نود و نه"},
      {1000, "هزار"},
      {1001, "هزار و یک"},
      {1403, "هزار و چهارصد و سه"},
      {2000, "دو هزار"},
      {9999, "نه هزار و نهصد و نود و نه"},
      {21000, "بیست و یک هزار"},
      {1000000, "یک میلیون"},
      {2500000, "دو میلیون و پانصد هزار"},
      {1000000000, "یک میلیارد"},
      {-5, "منفی پنج"},
  };
  for (const Case& c : cases) EXPECT_EQ(number_words(c.n, Language::kFa), c.words) << c.n;
}

TEST(NumberWords, ArabicCountingForm) {
  const std::vector<Case> cases = {
      {0, "صفر"},
      {1, "واحد"},
      {2, "اثنان"},
      {3, "ثلاثة"},
      {8, "ثمانية"},
      {10, "عشرة"},
      {11, "أحد عشر"},
      {12, "اثنا عشر"},
      {13, "ثلاثة عشر"},
      {19, "تسعة عشر"},
      {20, "عشرون"},
      {21, "واحد وعشرون"},
      {23, "ثلاثة وعشرون"},
      {99, "تسعة وتسعون"},
      {100, "مائة"},
      {200, "مائتان"},
      {305, "ثلاثمائة وخمسة"},
      {999, "تسعمائة وتسعة وتسعون"},
      {1000, "ألف"},
      {1001, "ألف وواحد"},
      {1234, "ألف ومائتان وأربعة وثلاثون"},
      {2000, "ألفان"},
      {3000, "ثلاثة آلاف"},
      {8000, "ثمانية آلاف"},
      {9999, "تسعة آلاف وتسعمائة وتسعة وتسعون"},
      {10000, "عشرة آلاف"},
      {11000, "أحد عشر ألفًا"},
      {25000, "خمسة وعشرون ألفًا"},
      {100000, "مائة ألف"},
      {200000, "مائتا ألف"},
      {103000, "مائة وثلاثة آلاف"},
      {1000000, "مليون"},
      {3000000, "ثلاثة ملايين"},
      {-4, "سالب أربعة"},
  };
  for (const Case& c : cases) EXPECT_EQ(number_words(c.n, Language::kAr), c.words) << c.n;
}

TEST(NumberWords, ArabicAgreesWithAFeminineNoun) {
  const std::vector<Case> cases = {
      {1, "واحدة"},
      {2, "اثنتان"},
      {3, "ثلاث"},
      {8, "ثماني"},
      {10, "عشر"},
      {11, "إحدى عشرة"},
      {12, "اثنتا عشرة"},
      {13, "ثلاث عشرة"},
      {21, "إحدى وعشرون"},
      {23, "ثلاث وعشرون"},
      {3003, "ثلاثة آلاف وثلاث"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(number_words(c.n, Language::kAr, Gender::kFeminine), c.words) << c.n;
  }
}

TEST(DurationPhrase, AllLanguages) {
  struct D {
    Duration d;
    const char *en, *fa, *ar;
  };
  const std::vector<D> cases = {
      {30s, "less than a minute", "کمتر از یک دقیقه", "أقل من دقيقة"},
      {60s, "about one minute", "حدود یک دقیقه", "دقيقة واحدة تقريبًا"},
      {130s, "about two minutes", "حدود دو دقیقه", "دقيقتان تقريبًا"},
      {3min, "about three minutes", "حدود سه دقیقه", "ثلاث دقائق تقريبًا"},
      {11min, "about eleven minutes", "حدود یازده دقیقه", "إحدى عشرة دقيقة تقريبًا"},
      {25min, "about twenty-five minutes", "حدود بیست و پنج دقیقه", "خمس وعشرون دقيقة تقريبًا"},
      {60min, "about one hour", "حدود یک ساعت", "ساعة واحدة تقريبًا"},
      {70min, "about one hour and ten minutes", "حدود یک ساعت و ده دقیقه",
       "ساعة واحدة وعشر دقائق تقريبًا"},
      {2h + 1min, "about two hours and one minute", "حدود دو ساعت و یک دقیقه",
       "ساعتان ودقيقة واحدة تقريبًا"},
  };
  for (const D& c : cases) {
    EXPECT_EQ(duration_phrase(c.d, Language::kEn), c.en);
    EXPECT_EQ(duration_phrase(c.d, Language::kFa), c.fa);
    EXPECT_EQ(duration_phrase(c.d, Language::kAr), c.ar);
  }
}

}  // namespace
}  // namespace tamas::prompts
