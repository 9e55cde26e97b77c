// `tamas user add` as a black box: accounts land in the data folder's database with an argon2id
// hash, an audit entry, and every bad input is refused with a reason.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "auth/password.h"
#include "auth/session.h"
#include "store/store.h"
#include "support/run_tamas.h"

namespace tamas {
namespace {

using test::run_tamas;

class CliUser : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tamas-cli-user-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    config_ = (dir_ / "tamas.yaml").string();
    std::ofstream(config_) << "data_dir: " << (dir_ / "data").string() << R"(
tenants:
  - id: acme
    numbers: {"100": {flow: main}}
    flows: {main: {start: bye, nodes: {bye: {hangup: normal}}}}
)";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  test::Outcome add(std::vector<std::string> args, const std::string& password) {
    args.insert(args.begin(), {"add", "--config", config_});
    return run_tamas("user", args, password + "\n");
  }

  std::filesystem::path dir_;
  std::string config_;
};

TEST_F(CliUser, AddsAUserWithAnArgon2idHashAndAnAuditEntry) {
  auto o = add({"--tenant", "acme", "--username", "sara", "--role", "supervisor"}, "s3cret-pass");
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.out, "added sara (supervisor) to tenant acme\n");
  auto admin = add({"--username", "root", "--role", "admin"}, "admin-pass-1");
  ASSERT_EQ(admin.status, 0) << admin.err;

  auto store = store::open_sqlite((dir_ / "data" / "tamas.db").string());
  ASSERT_TRUE(store.is_ok()) << store.message();
  auto sara = (*store)->find_user("acme", "sara");
  ASSERT_TRUE(sara.is_ok() && sara->has_value());
  EXPECT_EQ((*sara)->role, "supervisor");
  EXPECT_TRUE(auth::verify_password((*sara)->password_hash, "s3cret-pass"));
  EXPECT_FALSE(auth::verify_password((*sara)->password_hash, "s3cret-pasS"));
  auto root = (*store)->find_user("", "root");
  ASSERT_TRUE(root.is_ok() && root->has_value());
  EXPECT_EQ((*root)->role, "admin");
  auto audit = (*store)->audit_log({});
  ASSERT_TRUE(audit.is_ok());
  ASSERT_EQ(audit->size(), 2u);
  EXPECT_EQ((*audit)[0].action, "user.add");
  EXPECT_EQ((*audit)[0].detail, "sara (supervisor)");
}

TEST_F(CliUser, TokensActAsAnExistingUserAndOnlyTheirHashIsKept) {
  ASSERT_EQ(add({"--tenant", "acme", "--username", "crm", "--role", "analyst"}, "crm-password").status,
            0);
  auto o = run_tamas("token", {"add", "--config", config_, "--tenant", "acme", "--username", "crm",
                               "--label", "the CRM"});
  ASSERT_EQ(o.status, 0) << o.err;
  ASSERT_EQ(o.out.size(), 4u + 64u + 1u) << o.out;
  const std::string token = o.out.substr(0, o.out.size() - 1);
  EXPECT_EQ(token.rfind("tmt_", 0), 0u);
  auto store = store::open_sqlite((dir_ / "data" / "tamas.db").string());
  ASSERT_TRUE(store.is_ok());
  auto kept = (*store)->find_api_token(auth::token_hash(token));
  ASSERT_TRUE(kept.is_ok() && kept->has_value());
  EXPECT_EQ((*kept)->username, "crm");
  EXPECT_EQ((*kept)->label, "the CRM");
  EXPECT_FALSE((*store)->find_api_token(token).value().has_value()) << "the token itself is not kept";
  auto who = auth::Sessions::find_api_token(**store, token);
  ASSERT_TRUE(who.has_value());
  EXPECT_EQ(who->role, "analyst");
  EXPECT_FALSE(auth::Sessions::find_api_token(**store, "tmt_" + std::string(64, '0')).has_value());

  auto nobody = run_tamas("token", {"add", "--config", config_, "--tenant", "acme", "--username",
                                    "ghost"});
  EXPECT_EQ(nobody.status, 2);
  EXPECT_NE(nobody.err.find("no user 'ghost' in tenant 'acme'"), std::string::npos) << nobody.err;
}

TEST_F(CliUser, BadInputIsRefusedWithAReason) {
  struct Case {
    std::vector<std::string> args;
    std::string password;
    int status;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--tenant", "acme", "--username", "x", "--role", "boss"}, "password1", 2,
       "--role: 'boss' is not one of admin, manager, supervisor, agent, analyst"},
      {{"--tenant", "acme", "--username", "a b", "--role", "agent"}, "password1", 2,
       "--username: 'a b' must be 1 to 64 letters, digits or . _ - @"},
      {{"--tenant", "nope", "--username", "x", "--role", "agent"}, "password1", 2,
       "--tenant: no tenant 'nope' in "},
      {{"--username", "x", "--role", "agent"}, "password1", 2,
       "--tenant: required for the role agent"},
      {{"--tenant", "acme", "--username", "x", "--role", "admin"}, "password1", 2,
       "--tenant: an admin belongs to no tenant"},
      {{"--tenant", "acme", "--username", "x", "--role", "agent"}, "short", 2,
       "password: a password needs at least 8 characters"},
  };
  for (const Case& c : cases) {
    auto o = add(c.args, c.password);
    EXPECT_EQ(o.status, c.status) << o.err;
    EXPECT_NE(o.err.find("tamas user add: " + c.message), std::string::npos)
        << "got: " << o.err << "want: " << c.message;
  }
  ASSERT_EQ(add({"--tenant", "acme", "--username", "x", "--role", "agent"}, "password1").status, 0);
  auto again = add({"--tenant", "acme", "--username", "x", "--role", "agent"}, "password2");
  EXPECT_EQ(again.status, 1);
  EXPECT_NE(again.err.find("user 'x' already exists in tenant 'acme'"), std::string::npos)
      << again.err;
}

}  // namespace
}  // namespace tamas
