// Signing in to the web side: sessions (a random token, sent as an HttpOnly cookie or as a Bearer
// token), their CSRF tokens, and the brakes on guessing passwords (failures per user and per
// address). Time is passed in; nothing here reads a clock. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"
#include "common/time.h"

namespace tamas::store {
class Store;
}

namespace tamas::auth {

struct Identity {
  std::string tenant;  // "" for an admin of the whole server
  std::string username;
  std::string role;
};

struct Session {
  std::string token;  // 64 hex characters (256 random bits): the cookie's and the Bearer value
  std::string csrf;   // sent back in X-CSRF-Token by the UI on every change
  Identity who;
  TimePoint created, last_used;
};

struct SessionConfig {
  Duration idle_timeout = std::chrono::hours(8);
  Duration max_age = std::chrono::hours(24);
  // Guessing: this many failures within `window` lock the user (and, separately, the address)
  // out until the window has passed since the last failure.
  uint32_t max_failures_per_user = 5;
  uint32_t max_failures_per_address = 20;
  Duration window = std::chrono::minutes(15);
};

enum class LoginError : uint8_t { kWrongCredentials, kLockedOut, kDisabled, kStoreError };

class Sessions {
 public:
  explicit Sessions(SessionConfig config = {});

  // Checks the password against `store`'s account. The same answer (kWrongCredentials) for an
  // unknown user and a wrong password; kLockedOut once too many failures came for the user or
  // from the address (even with the right password, until the window passes).
  Result<Session> login(store::Store& store, const std::string& tenant,
                        const std::string& username, const std::string& password,
                        const std::string& address, TimePoint now, LoginError* why = nullptr);

  // The session of `token`, touched (idle time restarts); nullopt when unknown, idle too long
  // or too old.
  std::optional<Session> find(const std::string& token, TimePoint now);
  // An integration's token (`tamas token add`): the user it acts as, while that user exists and
  // is not disabled; nullopt otherwise.
  static std::optional<Identity> find_api_token(store::Store& store, const std::string& token);
  void logout(const std::string& token);
  // Ends every session of a user (disabled, or a new password).
  void logout_user(const std::string& tenant, const std::string& username);
  size_t size() const;

 private:
  struct Failures {
    uint32_t count = 0;
    TimePoint last;
  };
  bool locked(const std::map<std::string, Failures>& m, const std::string& key, uint32_t max,
              TimePoint now) const;
  void failed(std::map<std::string, Failures>& m, const std::string& key, TimePoint now);

  const SessionConfig config_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Session> sessions_;          // by token
  std::map<std::string, Failures> user_failures_, address_failures_;  // tenant/user, address
};

// 2 * `bytes` random hex characters (libsodium's randombytes).
std::string random_hex(size_t bytes);

// An integration's token: "tmt_" and 64 random hex characters; and the hex SHA-256 kept of it.
inline constexpr std::string_view kApiTokenPrefix = "tmt_";
std::string new_api_token();
std::string token_hash(std::string_view token);

}  // namespace tamas::auth
