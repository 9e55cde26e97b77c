#include "auth/password.h"

#include <sodium.h>

namespace tamas::auth {
namespace {

bool sodium_ready() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

}  // namespace

Result<std::string> hash_password(std::string_view password) {
  if (password.size() < kMinPasswordLength) {
    return Status::error("a password needs at least " + std::to_string(kMinPasswordLength) +
                         " characters");
  }
  if (password.size() > kMaxPasswordLength) {
    return Status::error("a password may have at most " + std::to_string(kMaxPasswordLength) +
                         " characters");
  }
  if (!sodium_ready()) return Status::error("libsodium could not start");
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(),
                            crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::error("hashing the password ran out of memory");
  }
  return std::string(out);
}

bool verify_password(const std::string& hash, std::string_view password) {
  if (!sodium_ready() || hash.empty() || hash.size() >= crypto_pwhash_STRBYTES ||
      password.size() > kMaxPasswordLength) {
    return false;
  }
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

}  // namespace tamas::auth
