// Making an account of the web side, the same way from the command line and from the API: the
// username and role checked, the password hashed.
#pragma once

#include <string>

#include "common/status.h"
#include "store/store.h"

namespace tamas::auth {

// Fails naming the field ("username: ...", "role: ...", "password: ...") when one is wrong: the
// username must be 1 to 64 letters, digits or . _ - @; the role admin, manager, supervisor, agent
// or analyst; an admin has no tenant and everyone else has one.
Result<store::UserRecord> make_user(const std::string& tenant, const std::string& username,
                                    const std::string& role, const std::string& password,
                                    const std::string& display_name, TimePoint now);

}  // namespace tamas::auth
