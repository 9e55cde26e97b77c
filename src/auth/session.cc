#include "auth/session.h"

#include <sodium.h>

#include "auth/password.h"
#include "store/store.h"

namespace tamas::auth {

std::string random_hex(size_t bytes) {
  static const bool ready = sodium_init() >= 0;
  (void)ready;
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  std::string out(bytes * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()),
                 raw.size());
  out.pop_back();  // the terminating NUL
  return out;
}

std::string new_api_token() { return std::string(kApiTokenPrefix) + random_hex(32); }

std::string token_hash(std::string_view token) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(token.data()), token.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

std::optional<Identity> Sessions::find_api_token(store::Store& store, const std::string& token) {
  if (token.rfind(kApiTokenPrefix, 0) != 0) return std::nullopt;
  auto t = store.find_api_token(token_hash(token));
  if (!t || !t->has_value()) return std::nullopt;
  auto u = store.find_user((*t)->tenant, (*t)->username);
  if (!u || !u->has_value() || (*u)->disabled) return std::nullopt;
  return Identity{(*u)->tenant, (*u)->username, (*u)->role};
}

Sessions::Sessions(SessionConfig config) : config_(config) {}

bool Sessions::locked(const std::map<std::string, Failures>& m, const std::string& key,
                      uint32_t max, TimePoint now) const {
  auto it = m.find(key);
  return it != m.end() && it->second.count >= max && now - it->second.last < config_.window;
}

void Sessions::failed(std::map<std::string, Failures>& m, const std::string& key, TimePoint now) {
  Failures& f = m[key];
  if (now - f.last >= config_.window) f.count = 0;  // an old run of failures is forgotten
  f.count++;
  f.last = now;
}

Result<Session> Sessions::login(store::Store& store, const std::string& tenant,
                                const std::string& username, const std::string& password,
                                const std::string& address, TimePoint now, LoginError* why) {
  auto refuse = [&](LoginError e, const std::string& message) -> Result<Session> {
    if (why != nullptr) *why = e;
    return Status::error(message);
  };
  const std::string user_key = tenant + "/" + username;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (locked(user_failures_, user_key, config_.max_failures_per_user, now) ||
        locked(address_failures_, address, config_.max_failures_per_address, now)) {
      return refuse(LoginError::kLockedOut, "too many failed attempts; try again later");
    }
  }
  auto found = store.find_user(tenant, username);
  if (!found) return refuse(LoginError::kStoreError, found.message());
  // Hash even for an unknown user, so that the time taken does not tell who exists.
  static const std::string dummy = [] {
    auto h = hash_password("not a real password");
    return h.is_ok() ? *h : std::string();
  }();
  const bool ok = verify_password(found->has_value() ? (*found)->password_hash : dummy, password) &&
                  found->has_value();
  std::lock_guard<std::mutex> lock(mu_);
  if (!ok) {
    failed(user_failures_, user_key, now);
    failed(address_failures_, address, now);
    return refuse(LoginError::kWrongCredentials, "wrong tenant, username or password");
  }
  if ((*found)->disabled) return refuse(LoginError::kDisabled, "this account is disabled");
  user_failures_.erase(user_key);
  Session s;
  s.token = random_hex(32);
  s.csrf = random_hex(16);
  s.who = {(*found)->tenant, (*found)->username, (*found)->role};
  s.created = s.last_used = now;
  sessions_[s.token] = s;
  return s;
}

std::optional<Session> Sessions::find(const std::string& token, TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(token);
  if (it == sessions_.end()) return std::nullopt;
  Session& s = it->second;
  if (now - s.last_used > config_.idle_timeout || now - s.created > config_.max_age) {
    sessions_.erase(it);
    return std::nullopt;
  }
  s.last_used = now;
  return s;
}

void Sessions::logout(const std::string& token) {
  std::lock_guard<std::mutex> lock(mu_);
  sessions_.erase(token);
}

void Sessions::logout_user(const std::string& tenant, const std::string& username) {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(sessions_, [&](const auto& kv) {
    return kv.second.who.tenant == tenant && kv.second.who.username == username;
  });
}

size_t Sessions::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sessions_.size();
}

}  // namespace tamas::auth
