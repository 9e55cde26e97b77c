#include "auth/password.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tamas::auth {
namespace {

TEST(Password, HashIsArgon2idAndVerifies) {
  auto h = hash_password("correct horse battery");
  ASSERT_TRUE(h.is_ok()) << h.message();
  EXPECT_EQ(h->rfind("$argon2id$", 0), 0u) << *h;
  EXPECT_EQ(h->find("correct"), std::string::npos) << "the password itself is not in the hash";
  EXPECT_TRUE(verify_password(*h, "correct horse battery"));
  EXPECT_FALSE(verify_password(*h, "correct horse batterY"));
  EXPECT_FALSE(verify_password(*h, ""));
}

TEST(Password, EachHashHasItsOwnSalt) {
  auto a = hash_password("same password");
  auto b = hash_password("same password");
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(verify_password(*b, "same password"));
}

TEST(Password, TooShortOrTooLongIsRefusedWithAReason) {
  auto short_one = hash_password("1234567");
  ASSERT_FALSE(short_one.is_ok());
  EXPECT_EQ(short_one.message(), "a password needs at least 8 characters");
  EXPECT_FALSE(hash_password(std::string(kMaxPasswordLength + 1, 'x')).is_ok());
}

TEST(Password, MalformedHashesNeverVerify) {
  const std::vector<std::string> bads = {"", "plain", "$argon2id$v=19$m=65536,t=2,p=1$",
                                        "$2y$10$abc", std::string(200, '$')};
  for (const std::string& bad : bads) {
    EXPECT_FALSE(verify_password(bad, "whatever1")) << bad;
  }
}

}  // namespace
}  // namespace tamas::auth
