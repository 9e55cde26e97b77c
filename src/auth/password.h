// Passwords of the web side's users: argon2id hashes in libsodium's self-describing string form
// ("$argon2id$v=19$m=...,t=...,p=1$salt$hash"), so the cost can rise later without breaking
// older hashes.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace tamas::auth {

inline constexpr size_t kMinPasswordLength = 8;
inline constexpr size_t kMaxPasswordLength = 1024;

// Fails when the password is shorter than kMinPasswordLength or longer than kMaxPasswordLength,
// or when libsodium cannot start or runs out of memory.
Result<std::string> hash_password(std::string_view password);

// True when `password` matches `hash` (in constant time); false for a malformed hash.
bool verify_password(const std::string& hash, std::string_view password);

}  // namespace tamas::auth
