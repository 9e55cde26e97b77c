// Numbers and durations in words, for prompts synthesized in English, Persian and Arabic.
//
// Pure functions of their arguments: callable from any thread.
//
// Coverage:
//  - English and Persian: every int64_t (negative numbers with "minus"/"منفی"), short scale
//    (thousand, million, billion, ...; Persian هزار، میلیون، میلیارد، تریلیون، ...).
//  - Arabic: every int64_t in the independent counting form (nominative; the form used with a
//    masculine counted noun: ثلاثة, أحد عشر, ثلاثة وعشرون), or agreeing with a feminine counted
//    noun (ثلاث, إحدى عشرة, ثلاث وعشرون). Thousands, millions and billions take their counted
//    forms (ألف، ألفان، ثلاثة آلاف، أحد عشر ألفًا). 0–999,999 follow the grammar books; above
//    that, a group count whose last two digits are 1 or 2 (e.g. 101,000) uses the plain
//    "count + singular" form rather than the rarer literary constructions. Spelling is the
//    common unvowelled print form (مائة, ثلاثمائة), no tashkeel except the tanwin of ألفًا.
#pragma once

#include <cstdint>
#include <string>

#include "common/time.h"
#include "core/flow/language.h"

namespace tamas::prompts {

using core::Language;

// The gender of the noun being counted; Arabic numbers 1-2 and 3-10 agree with it (polarity).
enum class Gender : uint8_t { kMasculine, kFeminine };

// `n` in words in `language`: "twenty-three", "بیست و سه", "ثلاثة وعشرون".
std::string number_words(int64_t n, Language language, Gender counted = Gender::kMasculine);

// An expected wait said approximately, for queue announcements: under a minute "less than a
// minute"; otherwise rounded to whole minutes, "about three minutes", "about one hour and ten
// minutes" / "حدود سه دقیقه" / "ثلاث دقائق تقريبًا".
std::string duration_phrase(Duration d, Language language);

}  // namespace tamas::prompts
