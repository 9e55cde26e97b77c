// Numbers and durations in words (numbers.h). Written by hand: ICU's RuleBasedNumberFormat
// spells numbers too, but its Persian and Arabic rule sets choose forms (e.g. Arabic gender
// agreement with a counted noun, the "ألفًا" accusative) we need to control and test exactly,
// and it would make prompts/ depend on ICU for ~200 lines of tables. Pure; any thread.
#include "prompts/numbers.h"

#include <array>
#include <string_view>
#include <vector>

namespace tamas::prompts {
namespace {

// ---- English ------------------------------------------------------------------------------------

constexpr std::array<std::string_view, 20> kEnOnes = {
    "zero",     "one",     "two",     "three",     "four",     "five",    "six",
    "seven",    "eight",   "nine",    "ten",       "eleven",   "twelve",  "thirteen",
    "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
constexpr std::array<std::string_view, 10> kEnTens = {
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"};
constexpr std::array<std::string_view, 7> kEnScales = {
    "", "thousand", "million", "billion", "trillion", "quadrillion", "quintillion"};

std::string en_below_1000(unsigned n) {
  std::string out;
  if (n >= 100) {
    out += kEnOnes[n / 100];
    out += " hundred";
    n %= 100;
    if (n != 0) out += ' ';
  }
  if (n >= 20) {
    out += kEnTens[n / 10];
    if (n % 10 != 0) {
      out += '-';
      out += kEnOnes[n % 10];
    }
  } else if (n != 0) {
    out += kEnOnes[n];
  }
  return out;
}

// The three-digit groups of `n`, least significant first.
std::vector<unsigned> groups_of(uint64_t n) {
  std::vector<unsigned> g;
  while (n != 0) {
    g.push_back(static_cast<unsigned>(n % 1000));
    n /= 1000;
  }
  return g;
}

std::string en_words(uint64_t n) {
  if (n == 0) return std::string(kEnOnes[0]);
  const auto g = groups_of(n);
  std::string out;
  for (size_t i = g.size(); i-- > 0;) {
    if (g[i] == 0) continue;
    if (!out.empty()) out += ' ';
    out += en_below_1000(g[i]);
    if (i > 0) {
      out += ' ';
      out += kEnScales[i];
    }
  }
  return out;
}

// ---- Persian ------------------------------------------------------------------------------------

constexpr std::array<std::string_view, 20> kFaOnes = {
    "صفر", "یک",    "دو",     "سه",    "چهار",   "پنج",    "شش",     "هفت",  "هشت",  "نه",
    "ده",  "یازده", "دوازده", "سیزده", "چهارده", "پانزده", "شانزده", "هفده", "هجده", "نوزده"};
constexpr std::array<std::string_view, 10> kFaTens = {"",      "",    "بیست",  "سی",    "چهل",
                                                      "پنجاه", "شصت", "هفتاد", "هشتاد", "نود"};
constexpr std::array<std::string_view, 10> kFaHundreds = {
    "", "صد", "دویست", "سیصد", "چهارصد", "پانصد", "ششصد", "هفتصد", "هشتصد", "نهصد"};
constexpr std::array<std::string_view, 7> kFaScales = {
    "", "هزار", "میلیون", "میلیارد", "تریلیون", "کوادریلیون", "کوینتیلیون"};
constexpr std::string_view kFaAnd = " و ";

std::string fa_below_1000(unsigned n) {
  std::vector<std::string_view> parts;
  if (n >= 100) parts.push_back(kFaHundreds[n / 100]);
  n %= 100;
  if (n >= 20) {
    parts.push_back(kFaTens[n / 10]);
    if (n % 10 != 0) parts.push_back(kFaOnes[n % 10]);
  } else if (n != 0) {
    parts.push_back(kFaOnes[n]);
  }
  std::string out;
  for (std::string_view p : parts) {
    if (!out.empty()) out += kFaAnd;
    out += p;
  }
  return out;
}

std::string fa_words(uint64_t n) {
  if (n == 0) return std::string(kFaOnes[0]);
  const auto g = groups_of(n);
  std::string out;
  for (size_t i = g.size(); i-- > 0;) {
    if (g[i] == 0) continue;
    if (!out.empty()) out += kFaAnd;
    if (i == 1 && g[i] == 1) {
      out += kFaScales[1];  // 1000 is "هزار", not "یک هزار"
      continue;
    }
    out += fa_below_1000(g[i]);
    if (i > 0) {
      out += ' ';
      out += kFaScales[i];
    }
  }
  return out;
}

// ---- Arabic -------------------------------------------------------------------------------------

// Index 0 unused for the gendered tables; the counting form of a masculine noun is kArMasc.
constexpr std::array<std::string_view, 11> kArMasc = {
    "صفر", "واحد", "اثنان", "ثلاثة", "أربعة", "خمسة", "ستة", "سبعة", "ثمانية", "تسعة", "عشرة"};
constexpr std::array<std::string_view, 11> kArFem = {
    "صفر", "واحدة", "اثنتان", "ثلاث", "أربع", "خمس", "ست", "سبع", "ثماني", "تسع", "عشر"};
constexpr std::array<std::string_view, 10> kArTens = {"",      "",     "عشرون", "ثلاثون", "أربعون",
                                                      "خمسون", "ستون", "سبعون", "ثمانون", "تسعون"};
constexpr std::array<std::string_view, 10> kArHundreds = {
    "",        "مائة",   "مائتان",  "ثلاثمائة", "أربعمائة",
    "خمسمائة", "ستمائة", "سبعمائة", "ثمانمائة", "تسعمائة"};
constexpr std::string_view kArAnd = " و";  // the conjunction is written joined to the next word

// A counted noun's forms: one, two (dual), 3-10 (plural), 11-99 (singular accusative).
struct ArNoun {
  std::string_view one, two, plural, accusative;
};
constexpr std::array<ArNoun, 7> kArScales = {{
    {"", "", "", ""},
    {"ألف", "ألفان", "آلاف", "ألفًا"},
    {"مليون", "مليونان", "ملايين", "مليونًا"},
    {"مليار", "ملياران", "مليارات", "مليارًا"},
    {"تريليون", "تريليونان", "تريليونات", "تريليونًا"},
    {"كوادريليون", "كوادريليونان", "كوادريليونات", "كوادريليونًا"},
    {"كوينتليون", "كوينتليونان", "كوينتليونات", "كوينتليونًا"},
}};

std::string ar_below_100(unsigned n, Gender g) {
  const auto& ones = g == Gender::kFeminine ? kArFem : kArMasc;
  if (n <= 10) return std::string(ones[n]);
  if (n < 20) {
    const unsigned u = n - 10;
    std::string out;
    if (u == 1) {
      out = g == Gender::kFeminine ? "إحدى" : "أحد";
    } else if (u == 2) {
      out = g == Gender::kFeminine ? "اثنتا" : "اثنا";
    } else {
      out = ones[u];
    }
    out += g == Gender::kFeminine ? " عشرة" : " عشر";
    return out;
  }
  const unsigned u = n % 10;
  std::string out;
  if (u != 0) {
    out = u == 1 && g == Gender::kFeminine ? "إحدى" : std::string(ones[u]);
    out += kArAnd;
  }
  out += kArTens[n / 10];
  return out;
}

std::string ar_below_1000(unsigned n, Gender g) {
  std::string out;
  if (n >= 100) out = kArHundreds[n / 100];
  n %= 100;
  if (n != 0) {
    if (!out.empty()) out += kArAnd;
    out += ar_below_100(n, g);
  }
  return out;
}

// `k` (1..999) of a masculine counted noun, with the noun: ألف، ألفان، ثلاثة آلاف، أحد عشر ألفًا.
std::string ar_counted(unsigned k, const ArNoun& noun) {
  if (k == 1) return std::string(noun.one);
  if (k == 2) return std::string(noun.two);
  const unsigned r = k % 100;
  std::string words = ar_below_1000(k, Gender::kMasculine);
  if (k == 200) words = "مائتا";  // construct state of the dual: مائتا ألف
  words += ' ';
  if (r >= 3 && r <= 10) {
    words += noun.plural;
  } else if (r >= 11) {
    words += noun.accusative;
  } else {
    words += noun.one;  // r == 0 (مائة ألف); r of 1 or 2 above 100: see numbers.h
  }
  return words;
}

std::string ar_words(uint64_t n, Gender g) {
  if (n == 0) return std::string(kArMasc[0]);
  const auto groups = groups_of(n);
  std::string out;
  for (size_t i = groups.size(); i-- > 0;) {
    if (groups[i] == 0) continue;
    if (!out.empty()) out += kArAnd;
    out += i == 0 ? ar_below_1000(groups[i], g) : ar_counted(groups[i], kArScales[i]);
  }
  return out;
}

// `n` of a feminine noun (minutes, hours) with the noun: دقيقة واحدة، دقيقتان، ثلاث دقائق، إحدى
// عشرة دقيقة.
std::string ar_feminine_count(uint64_t n, const ArNoun& noun) {
  if (n == 1) return std::string(noun.one) + " واحدة";
  if (n == 2) return std::string(noun.two);
  const uint64_t r = n % 100;
  std::string out = ar_words(n, Gender::kFeminine) + " ";
  out += r >= 3 && r <= 10 ? noun.plural : noun.accusative;
  return out;
}

uint64_t magnitude(int64_t n) {
  return n < 0 ? static_cast<uint64_t>(-(n + 1)) + 1 : static_cast<uint64_t>(n);
}

}  // namespace

std::string number_words(int64_t n, Language language, Gender counted) {
  const uint64_t m = magnitude(n);
  switch (language) {
    case Language::kEn:
      return (n < 0 ? "minus " : "") + en_words(m);
    case Language::kFa:
      return (n < 0 ? "منفی " : "") + fa_words(m);
    case Language::kAr:
      return (n < 0 ? "سالب " : "") + ar_words(m, counted);
  }
  return std::to_string(n);
}

std::string duration_phrase(Duration d, Language language) {
  const int64_t seconds = d.count() < 0 ? 0 : d.count() / 1000;
  if (seconds < 60) {
    switch (language) {
      case Language::kEn:
        return "less than a minute";
      case Language::kFa:
        return "کمتر از یک دقیقه";
      case Language::kAr:
        return "أقل من دقيقة";
    }
  }
  const int64_t total = (seconds + 30) / 60;
  const int64_t hours = total / 60;
  const int64_t minutes = total % 60;
  std::string out;
  switch (language) {
    case Language::kEn: {
      out = "about ";
      if (hours != 0) out += en_words(magnitude(hours)) + (hours == 1 ? " hour" : " hours");
      if (hours != 0 && minutes != 0) out += " and ";
      if (minutes != 0) {
        out += en_words(magnitude(minutes)) + (minutes == 1 ? " minute" : " minutes");
      }
      return out;
    }
    case Language::kFa: {
      // Persian counted nouns stay singular: سه دقیقه.
      out = "حدود ";
      if (hours != 0) out += fa_words(magnitude(hours)) + " ساعت";
      if (hours != 0 && minutes != 0) out += kFaAnd;
      if (minutes != 0) out += fa_words(magnitude(minutes)) + " دقیقه";
      return out;
    }
    case Language::kAr: {
      // "N minutes approximately": the nominative forms stand alone, no case government.
      static constexpr ArNoun kHour{"ساعة", "ساعتان", "ساعات", "ساعة"};
      static constexpr ArNoun kMinute{"دقيقة", "دقيقتان", "دقائق", "دقيقة"};
      if (hours != 0) out += ar_feminine_count(magnitude(hours), kHour);
      if (hours != 0 && minutes != 0) out += kArAnd;
      if (minutes != 0) out += ar_feminine_count(magnitude(minutes), kMinute);
      return out + " تقريبًا";
    }
  }
  return out;
}

}  // namespace tamas::prompts
