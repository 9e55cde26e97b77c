// The SQLite store: round trips, filters, migrations, bad files.
#include "store/store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>

namespace tamas::store {
namespace {

using namespace std::chrono_literals;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tamas-store-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string db_path() const { return (dir_ / "sub" / "tamas.db").string(); }
  std::filesystem::path dir_;
};

InteractionRecord sample(const std::string& id, const std::string& tenant, TimePoint at) {
  InteractionRecord r;
  r.id = id;
  r.tenant = tenant;
  r.caller = "09121234567";
  r.called = "100";
  r.started_at = at;
  r.answered_at = at + 1s;
  r.ended_at = at + 95s;
  r.flow = "main-en";
  r.ivr_path = "1>3";
  r.result = "voicemail";
  r.ended_by = "caller";
  r.recording = "/data/vm/" + id + ".wav";
  r.variables = {{"account", "4711"}, {"language", "fa"}};
  r.transfer_target = "sip:600@gw.example.com";
  r.wait = 12500ms;
  r.ring = 3s;
  r.talk = 80s;
  r.hold_count = 1;
  r.hold = 5s;
  r.timeline = {{at + 2s, "queued", "support"}, {at + 10s, "offered", "1001"},
                {at + 14500ms, "connected", "1001"}};
  return r;
}

// A page is read with its variables and timelines in chunks of records: each record gets its own,
// across chunk boundaries, in the page's order, and a record without any gets none.
TEST_F(StoreTest, EveryRecordOfALargePageKeepsItsOwnVariablesAndTimeline) {
  auto s = open_sqlite(db_path());
  ASSERT_TRUE(s.is_ok()) << s.message();
  const TimePoint t0 = kEpoch + 24h * 20000;
  constexpr int kRecords = 1203;  // three chunks, the last a short one
  for (int i = 0; i < kRecords; ++i) {
    InteractionRecord r = sample("r" + std::to_string(i), "demo", t0 + std::chrono::seconds(i));
    r.variables = {{"n", std::to_string(i)}};
    r.timeline = {{r.started_at, "queued", std::to_string(i)}, {r.started_at + 1s, "ended", ""}};
    if (i % 100 == 7) {
      r.variables.clear();
      r.timeline.clear();
    }
    (*s)->save_interaction(r);
  }
  ASSERT_TRUE((*s)->flush().is_ok());
  Query q;
  q.tenant = "demo";
  q.limit = 2000;
  q.newest_first = true;
  auto all = (*s)->interactions(q);
  ASSERT_TRUE(all.is_ok()) << all.message();
  ASSERT_EQ(all->size(), static_cast<size_t>(kRecords));
  for (int k = 0; k < kRecords; ++k) {
    const InteractionRecord& r = (*all)[static_cast<size_t>(k)];
    const int i = kRecords - 1 - k;
    ASSERT_EQ(r.id, "r" + std::to_string(i));
    if (i % 100 == 7) {
      EXPECT_TRUE(r.variables.empty()) << r.id;
      EXPECT_TRUE(r.timeline.empty()) << r.id;
      continue;
    }
    ASSERT_EQ(r.variables.size(), 1u) << r.id;
    EXPECT_EQ(r.variables.at("n"), std::to_string(i));
    ASSERT_EQ(r.timeline.size(), 2u) << r.id;
    EXPECT_EQ(r.timeline[0].event, "queued");
    EXPECT_EQ(r.timeline[0].detail, std::to_string(i));
    EXPECT_EQ(r.timeline[1].event, "ended");
  }
}

TEST_F(StoreTest, InteractionsRoundTripWithFilters) {
  auto s = open_sqlite(db_path());
  ASSERT_TRUE(s.is_ok()) << s.message();
  const TimePoint t0 = kEpoch + 24h * 20000;
  (*s)->save_interaction(sample("a", "demo", t0));
  (*s)->save_interaction(sample("b", "other", t0 + 10s));
  InteractionRecord c = sample("c", "demo", t0 + 20s);
  c.answered_at.reset();
  c.result = "abandoned-in-ivr";
  c.variables.clear();
  (*s)->save_interaction(c);
  ASSERT_TRUE((*s)->flush().is_ok());

  auto all = (*s)->interactions({});
  ASSERT_TRUE(all.is_ok()) << all.message();
  ASSERT_EQ(all->size(), 3u);
  const InteractionRecord& a = (*all)[0];
  EXPECT_EQ(a.id, "a");
  EXPECT_EQ(a.started_at, t0);
  ASSERT_TRUE(a.answered_at.has_value());
  EXPECT_EQ(*a.answered_at, t0 + 1s);
  EXPECT_EQ(a.ended_at, t0 + 95s);
  EXPECT_EQ(a.ivr_path, "1>3");
  EXPECT_EQ(a.variables.at("account"), "4711");
  EXPECT_EQ(a.transfer_target, "sip:600@gw.example.com");
  EXPECT_EQ(a.wait, 12500ms);
  EXPECT_EQ(a.ring, 3s);
  EXPECT_EQ(a.talk, 80s);
  EXPECT_EQ(a.hold, 5s);
  EXPECT_EQ(a.hold_count, 1u);
  ASSERT_EQ(a.timeline.size(), 3u);
  EXPECT_EQ(a.timeline[1].event, "offered");
  EXPECT_EQ(a.timeline[1].detail, "1001");
  EXPECT_EQ(a.timeline[2].at, t0 + 14500ms);
  EXPECT_FALSE((*all)[2].answered_at.has_value());
  EXPECT_TRUE((*all)[2].variables.empty());

  Query q;
  q.tenant = "demo";
  auto demo = (*s)->interactions(q);
  ASSERT_EQ(demo->size(), 2u) << "another tenant's record must not show";
  for (const auto& r : *demo) EXPECT_EQ(r.tenant, "demo");
  auto one = (*s)->find_interaction("demo", "c");
  ASSERT_TRUE(one.is_ok() && one->has_value());
  EXPECT_EQ((*one)->result, "abandoned-in-ivr");
  EXPECT_EQ((*one)->recording, "/data/vm/c.wav");
  auto elsewhere = (*s)->find_interaction("other", "c");
  ASSERT_TRUE(elsewhere.is_ok());
  EXPECT_FALSE(elsewhere->has_value()) << "another tenant's id finds nothing";
  Query by_caller;
  by_caller.tenant = "demo";
  by_caller.result = "abandoned-in-ivr";
  auto abandoned = (*s)->interactions(by_caller);
  ASSERT_EQ(abandoned->size(), 1u);
  EXPECT_EQ((*abandoned)[0].id, "c");
  Query newest;
  newest.tenant = "demo";
  newest.newest_first = true;
  newest.limit = 1;
  EXPECT_EQ((*s)->interactions(newest)->at(0).id, "c");
  newest.offset = 1;
  EXPECT_EQ((*s)->interactions(newest)->at(0).id, "a");
  newest.caller = "nobody";
  EXPECT_TRUE((*s)->interactions(newest)->empty());
  q.since = t0 + 15s;
  auto recent = (*s)->interactions(q);
  ASSERT_EQ(recent->size(), 1u);
  EXPECT_EQ((*recent)[0].id, "c");
}

TEST_F(StoreTest, VoicemailsAndReopen) {
  const TimePoint t0 = kEpoch + 24h * 20000;
  {
    auto s = open_sqlite(db_path());
    ASSERT_TRUE(s.is_ok()) << s.message();
    VoicemailRecord v;
    v.id = "vm1";
    v.interaction_id = "a";
    v.tenant = "demo";
    v.caller = "555";
    v.called = "100";
    v.at = t0;
    v.duration = 4200ms;
    v.path = "/data/vm1.wav";
    (*s)->save_voicemail(v);
  }  // the destructor flushes
  auto s = open_sqlite(db_path());
  ASSERT_TRUE(s.is_ok()) << s.message();
  auto vms = (*s)->voicemails({});
  ASSERT_TRUE(vms.is_ok()) << vms.message();
  ASSERT_EQ(vms->size(), 1u);
  EXPECT_EQ((*vms)[0].duration, 4200ms);
  EXPECT_EQ((*vms)[0].at, t0);
  EXPECT_EQ((*vms)[0].path, "/data/vm1.wav");
}

TEST_F(StoreTest, AgentEventsRoundTripWithFilters) {
  const TimePoint t0 = kEpoch + 24h * 20000;
  auto s = open_sqlite(db_path());
  ASSERT_TRUE(s.is_ok()) << s.message();
  auto event = [&](const std::string& tenant, const std::string& agent, Duration at,
                   const std::string& status, const std::string& reason, Duration previous) {
    AgentEventRecord e;
    e.tenant = tenant;
    e.agent = agent;
    e.at = t0 + at;
    e.status = status;
    e.state = "idle";
    e.reason = reason;
    e.previous_status = previous.count() ? "available" : "";
    e.previous_state = previous.count() ? "idle" : "";
    e.previous = previous;
    (*s)->save_agent_event(e);
  };
  event("demo", "1001", 0s, "available", "", 0s);
  event("other", "1001", 1s, "available", "", 0s);
  event("demo", "1002", 2s, "available", "", 0s);
  event("demo", "1001", 3600s, "break", "lunch", 3600s);
  ASSERT_TRUE((*s)->flush().is_ok());

  Query q;
  q.tenant = "demo";
  auto demo = (*s)->agent_events(q);
  ASSERT_TRUE(demo.is_ok()) << demo.message();
  ASSERT_EQ(demo->size(), 3u) << "the other tenant's 1001 must not show";
  q.agent = "1001";
  auto sara = (*s)->agent_events(q);
  ASSERT_EQ(sara->size(), 2u);
  EXPECT_EQ((*sara)[1].status, "break");
  EXPECT_EQ((*sara)[1].reason, "lunch");
  EXPECT_EQ((*sara)[1].previous_status, "available");
  EXPECT_EQ((*sara)[1].previous, 3600s);
  EXPECT_EQ((*sara)[1].at, t0 + 3600s);
  q.since = t0 + 10s;
  EXPECT_EQ((*s)->agent_events(q)->size(), 1u);
}

TEST_F(StoreTest, UsersAreUniquePerTenantAndAuditIsKept) {
  const TimePoint t0 = kEpoch + 24h * 20000;
  auto s = open_sqlite(db_path());
  ASSERT_TRUE(s.is_ok()) << s.message();
  UserRecord u;
  u.tenant = "acme";
  u.username = "sara";
  u.role = "agent";
  u.password_hash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA";
  u.created_at = t0;
  ASSERT_TRUE((*s)->add_user(u).is_ok());
  Status again = (*s)->add_user(u);
  EXPECT_FALSE(again.is_ok());
  EXPECT_EQ(again.message(), "user 'sara' already exists in tenant 'acme'");
  u.tenant = "other";
  EXPECT_TRUE((*s)->add_user(u).is_ok()) << "the same name in another tenant is another person";

  auto found = (*s)->find_user("acme", "sara");
  ASSERT_TRUE(found.is_ok()) << found.message();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->role, "agent");
  EXPECT_EQ((*found)->password_hash, u.password_hash);
  EXPECT_EQ((*found)->created_at, t0);
  auto missing = (*s)->find_user("acme", "nobody");
  ASSERT_TRUE(missing.is_ok());
  EXPECT_FALSE(missing->has_value());
  auto wrong_tenant = (*s)->find_user("beta", "sara");
  ASSERT_TRUE(wrong_tenant.is_ok());
  EXPECT_FALSE(wrong_tenant->has_value());

  (*s)->save_audit({t0, "acme", "cli", "local", "user.add", "sara (agent)"});
  (*s)->save_audit({t0 + 1s, "other", "cli", "local", "user.add", "sara (agent)"});
  ASSERT_TRUE((*s)->flush().is_ok());
  Query q;
  q.tenant = "acme";
  auto audit = (*s)->audit_log(q);
  ASSERT_TRUE(audit.is_ok()) << audit.message();
  ASSERT_EQ(audit->size(), 1u);
  EXPECT_EQ((*audit)[0].action, "user.add");
  EXPECT_EQ((*audit)[0].actor, "cli");
}

TEST_F(StoreTest, CustomersByTenantAndNumber) {
  auto s = open_sqlite(db_path());
  ASSERT_TRUE(s.is_ok()) << s.message();
  CustomerRecord c{"acme", "09121234567", "Maryam", "prefers Persian", {"vip", "retail"},
                   kEpoch + 24h * 20000, "sara"};
  ASSERT_TRUE((*s)->save_customer(c).is_ok());
  auto found = (*s)->find_customer("acme", "09121234567");
  ASSERT_TRUE(found.is_ok() && found->has_value());
  EXPECT_EQ((*found)->name, "Maryam");
  EXPECT_EQ((*found)->tags, (std::vector<std::string>{"vip", "retail"}));
  EXPECT_EQ((*found)->updated_by, "sara");
  EXPECT_FALSE((*s)->find_customer("beta", "09121234567").value().has_value());
  c.tags.clear();
  c.name = "Maryam K.";
  ASSERT_TRUE((*s)->save_customer(c).is_ok());
  found = (*s)->find_customer("acme", "09121234567");
  EXPECT_EQ((*found)->name, "Maryam K.");
  EXPECT_TRUE((*found)->tags.empty());
}

TEST_F(StoreTest, NotADatabaseIsAClearError) {
  std::filesystem::create_directories(dir_);
  const std::string path = (dir_ / "junk.db").string();
  std::ofstream(path) << "this is not a database, just text that is long enough to look like a "
                         "header and then some more text to fill the page";
  auto s = open_sqlite(path);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find(path), std::string::npos) << s.message();
}

TEST_F(StoreTest, NewerSchemaIsRefused) {
  {
    auto s = open_sqlite(db_path());
    ASSERT_TRUE(s.is_ok());
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto s = open_sqlite(db_path());
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("schema version 99"), std::string::npos) << s.message();
}

TEST(Time, FormatsAndParsesIso8601) {
  const TimePoint t = kEpoch + 1795356309123ms;
  EXPECT_EQ(format_time(t), "2026-11-22T14:05:09.123Z");
  EXPECT_EQ(*parse_time("2026-11-22T14:05:09.123Z"), t);
  EXPECT_EQ(*parse_time("2026-11-22T14:05:09Z"), t - 123ms);
  EXPECT_EQ(*parse_time("2026-11-22T14:05:09"), t - 123ms);
  EXPECT_EQ(*parse_time("2026-11-22T14:05"), t - 9123ms);
  EXPECT_EQ(*parse_time("2026-11-22"), kEpoch + 1795305600000ms);
  for (const char* bad : {"", "yesterday", "2026-13-01", "2026-11-22T25:00", "2026-11-22T10:00+03:30"}) {
    EXPECT_FALSE(parse_time(bad).is_ok()) << bad;
  }
}

}  // namespace
// Agents' set-ups changed through the API: replaced whole, read back in order, per tenant.
TEST_F(StoreTest, AgentSetupsAreReplacedWhole) {
  auto opened = open_sqlite(db_path());
  ASSERT_TRUE(opened.is_ok()) << opened.message();
  auto& store_ = *opened;
  AgentSetupRecord a{"acme",          "1001", {{"english", 5}, {"sales", 2}},
                     {{"support", 1}, {"vip", 2}}, {{"voice", 1}, {"chat", 3}},
                     "sara",          kEpoch + 1000s};
  ASSERT_TRUE(store_->save_agent_setup(a).is_ok());
  a.skills = {};
  a.queues = {{"sales", 3}};
  a.capacity = {{"voice", 0}, {"chat", 2}};
  ASSERT_TRUE(store_->save_agent_setup(a).is_ok());
  ASSERT_TRUE(store_->save_agent_setup({"beta", "1001", {}, {}, {}, "lina", TimePoint{}}).is_ok());
  auto got = store_->agent_setups("acme");
  ASSERT_TRUE(got.is_ok()) << got.message();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_TRUE((*got)[0].skills.empty());
  EXPECT_EQ((*got)[0].queues, (std::vector<std::pair<std::string, uint8_t>>{{"sales", 3}}));
  EXPECT_EQ((*got)[0].capacity,
            (std::vector<std::pair<std::string, uint8_t>>{{"voice", 0}, {"chat", 2}}));
  EXPECT_EQ((*got)[0].updated_by, "sara");
  auto beta = store_->agent_setups("beta");
  ASSERT_TRUE(beta.is_ok());
  ASSERT_EQ(beta->size(), 1u);
  EXPECT_TRUE((*beta)[0].queues.empty()) << "an agent taken out of every queue stays so";
  EXPECT_TRUE((*beta)[0].capacity.empty()) << "no capacity kept: the configuration's stays";
  ASSERT_TRUE(store_->delete_agent_setup("acme", "1001").is_ok());
  EXPECT_TRUE(store_->agent_setups("acme")->empty()) << "forgotten";
  EXPECT_EQ(store_->agent_setups("beta")->size(), 1u) << "another tenant's 1001 stays";
  EXPECT_TRUE(store_->delete_agent_setup("acme", "1001").is_ok()) << "nothing to forget";
}

}  // namespace tamas::store
