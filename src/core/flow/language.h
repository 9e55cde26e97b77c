// The languages Tamas speaks to callers: English, Persian and Arabic.
//
// Header-only so that adapters (prompts/, config/) can name a language without linking the core.
// It belongs in core/model/types.h beside the other shared value types; it lives here until that
// file's owner moves it. Pure values: usable from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace tamas::core {

enum class Language : uint8_t { kEn, kFa, kAr };
inline constexpr Language kAllLanguages[] = {Language::kEn, Language::kFa, Language::kAr};

// "en", "fa", "ar": the ISO 639-1 code, which is also the espeak-ng voice name.
constexpr std::string_view to_string(Language l) {
  switch (l) {
    case Language::kEn:
      return "en";
    case Language::kFa:
      return "fa";
    case Language::kAr:
      return "ar";
  }
  return "?";
}

constexpr std::optional<Language> language_from_string(std::string_view s) {
  for (Language l : kAllLanguages) {
    if (to_string(l) == s) return l;
  }
  return std::nullopt;
}

// Persian and Arabic are written right to left.
constexpr bool is_rtl(Language l) { return l != Language::kEn; }

}  // namespace tamas::core
