// Sessions against a real SQLite store: login, the same refusal for unknown users and wrong
// passwords, lock-outs per user and per address, idle and absolute expiry.
#include "auth/session.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "auth/password.h"
#include "store/store.h"

namespace tamas::auth {
namespace {

using namespace std::chrono_literals;

class SessionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tamas-sessions-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    auto s = store::open_sqlite((dir_ / "tamas.db").string());
    ASSERT_TRUE(s.is_ok()) << s.message();
    store_ = std::move(*s);
    add("acme", "sara", "supervisor", "sara-password");
    add("beta", "sara", "agent", "beta-password");
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void add(const std::string& tenant, const std::string& user, const std::string& role,
           const std::string& password, bool disabled = false) {
    store::UserRecord u;
    u.tenant = tenant;
    u.username = user;
    u.role = role;
    u.password_hash = hash_password(password).value();
    u.disabled = disabled;
    ASSERT_TRUE(store_->add_user(u).is_ok());
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  const TimePoint t0_ = kEpoch + 24h * 20000;
};

TEST_F(SessionsTest, LoginGivesATokenThatFindsTheIdentity) {
  Sessions sessions;
  auto s = sessions.login(*store_, "acme", "sara", "sara-password", "10.0.0.1", t0_);
  ASSERT_TRUE(s.is_ok()) << s.message();
  EXPECT_EQ(s->token.size(), 64u);
  EXPECT_EQ(s->csrf.size(), 32u);
  EXPECT_EQ(s->who.tenant, "acme");
  EXPECT_EQ(s->who.role, "supervisor");
  auto found = sessions.find(s->token, t0_ + 1min);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->who.username, "sara");
  EXPECT_FALSE(sessions.find(s->token + "0", t0_).has_value());
  // The same name in another tenant is another person, with another password and role.
  auto beta = sessions.login(*store_, "beta", "sara", "beta-password", "10.0.0.1", t0_);
  ASSERT_TRUE(beta.is_ok());
  EXPECT_EQ(beta->who.role, "agent");
  EXPECT_NE(beta->token, s->token);
  EXPECT_FALSE(sessions.login(*store_, "beta", "sara", "sara-password", "10.0.0.1", t0_).is_ok());
  sessions.logout(s->token);
  EXPECT_FALSE(sessions.find(s->token, t0_ + 2min).has_value());
}

TEST_F(SessionsTest, UnknownUserAndWrongPasswordLookTheSame) {
  Sessions sessions;
  LoginError why1{}, why2{};
  auto unknown = sessions.login(*store_, "acme", "nobody", "x-password", "10.0.0.1", t0_, &why1);
  auto wrong = sessions.login(*store_, "acme", "sara", "x-password", "10.0.0.2", t0_, &why2);
  ASSERT_FALSE(unknown.is_ok());
  ASSERT_FALSE(wrong.is_ok());
  EXPECT_EQ(unknown.message(), wrong.message());
  EXPECT_EQ(why1, LoginError::kWrongCredentials);
  EXPECT_EQ(why2, LoginError::kWrongCredentials);
}

TEST_F(SessionsTest, TooManyFailuresLockTheUserThenTheWindowPasses) {
  SessionConfig cfg;
  cfg.max_failures_per_user = 3;
  cfg.window = 10min;
  Sessions sessions(cfg);
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(
        sessions.login(*store_, "acme", "sara", "guess", "10.0.0." + std::to_string(i), t0_).is_ok());
  }
  LoginError why{};
  auto right = sessions.login(*store_, "acme", "sara", "sara-password", "10.0.0.9", t0_ + 1min, &why);
  ASSERT_FALSE(right.is_ok()) << "locked even with the right password";
  EXPECT_EQ(why, LoginError::kLockedOut);
  EXPECT_TRUE(sessions.login(*store_, "beta", "sara", "beta-password", "10.0.0.9", t0_ + 1min)
                  .is_ok())
      << "another tenant's sara is not locked";
  EXPECT_TRUE(
      sessions.login(*store_, "acme", "sara", "sara-password", "10.0.0.9", t0_ + 11min).is_ok());
}

TEST_F(SessionsTest, TooManyFailuresFromOneAddressLockIt) {
  SessionConfig cfg;
  cfg.max_failures_per_address = 4;
  Sessions sessions(cfg);
  for (int i = 0; i < 4; ++i) {
    (void)sessions.login(*store_, "acme", "user" + std::to_string(i), "guess-pw", "6.6.6.6", t0_);
  }
  LoginError why{};
  EXPECT_FALSE(sessions.login(*store_, "acme", "sara", "sara-password", "6.6.6.6", t0_, &why).is_ok());
  EXPECT_EQ(why, LoginError::kLockedOut);
  EXPECT_TRUE(sessions.login(*store_, "acme", "sara", "sara-password", "7.7.7.7", t0_).is_ok());
}

TEST_F(SessionsTest, SessionsExpireWhenIdleOrTooOld) {
  SessionConfig cfg;
  cfg.idle_timeout = 30min;
  cfg.max_age = 2h;
  Sessions sessions(cfg);
  auto s = sessions.login(*store_, "acme", "sara", "sara-password", "10.0.0.1", t0_);
  ASSERT_TRUE(s.is_ok());
  EXPECT_TRUE(sessions.find(s->token, t0_ + 29min).has_value());
  EXPECT_TRUE(sessions.find(s->token, t0_ + 58min).has_value()) << "use restarts the idle time";
  EXPECT_TRUE(sessions.find(s->token, t0_ + 87min).has_value());
  EXPECT_FALSE(sessions.find(s->token, t0_ + 121min).has_value()) << "older than max_age";
  auto idle = sessions.login(*store_, "acme", "sara", "sara-password", "10.0.0.1", t0_);
  ASSERT_TRUE(idle.is_ok());
  EXPECT_FALSE(sessions.find(idle->token, t0_ + 31min).has_value());
  EXPECT_EQ(sessions.size(), 0u);
}

TEST_F(SessionsTest, ADisabledAccountCannotSignIn) {
  add("acme", "gone", "agent", "gone-password", /*disabled=*/true);
  Sessions sessions;
  LoginError why{};
  EXPECT_FALSE(sessions.login(*store_, "acme", "gone", "gone-password", "10.0.0.1", t0_, &why).is_ok());
  EXPECT_EQ(why, LoginError::kDisabled);
}

}  // namespace
}  // namespace tamas::auth
