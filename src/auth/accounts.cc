#include "auth/accounts.h"

#include <cctype>

#include "auth/password.h"

namespace tamas::auth {

Result<store::UserRecord> make_user(const std::string& tenant, const std::string& username,
                                    const std::string& role, const std::string& password,
                                    const std::string& display_name, TimePoint now) {
  bool known = false;
  for (const char* r : {"admin", "manager", "supervisor", "agent", "analyst"}) known |= role == r;
  if (!known) {
    return Status::error("role: '" + role +
                         "' is not one of admin, manager, supervisor, agent, analyst");
  }
  bool good = !username.empty() && username.size() <= 64;
  for (char ch : username) {
    good = good && (std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' ||
                    ch == '-' || ch == '@');
  }
  if (!good) {
    return Status::error("username: '" + username + "' must be 1 to 64 letters, digits or . _ - @");
  }
  if (role == "admin" && !tenant.empty()) {
    return Status::error("tenant: an admin belongs to no tenant; leave it out");
  }
  if (role != "admin" && tenant.empty()) return Status::error("tenant: required for the role " + role);
  auto hash = hash_password(password);
  if (!hash) return Status::error("password: " + hash.message());
  store::UserRecord u;
  u.tenant = tenant;
  u.username = username;
  u.role = role;
  u.password_hash = *hash;
  u.display_name = display_name.empty() ? username : display_name;
  u.created_at = now;
  return u;
}

}  // namespace tamas::auth
