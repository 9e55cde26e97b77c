// The SQLite Store: see store.h. SQLite is included only in this folder.
#include <sqlite3.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <variant>

#include "store/store.h"

namespace tamas::store {
namespace {

// Migrations, applied in order; PRAGMA user_version is the number applied. Append, never edit.
const char* const kMigrations[] = {
    // 1: interactions and voicemails.
    R"sql(
CREATE TABLE interactions (
  id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  channel TEXT NOT NULL,
  direction TEXT NOT NULL,
  caller TEXT NOT NULL,
  called TEXT NOT NULL,
  started_at TEXT NOT NULL,
  answered_at TEXT,
  ended_at TEXT NOT NULL,
  flow TEXT NOT NULL,
  ivr_path TEXT NOT NULL,
  result TEXT NOT NULL,
  ended_by TEXT NOT NULL,
  queue TEXT NOT NULL,
  agent TEXT NOT NULL,
  recording TEXT NOT NULL,
  reason TEXT NOT NULL
);
CREATE INDEX interactions_tenant_started ON interactions (tenant, started_at);
CREATE TABLE interaction_variables (
  interaction_id TEXT NOT NULL REFERENCES interactions (id),
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (interaction_id, name)
);
CREATE TABLE voicemails (
  id TEXT PRIMARY KEY,
  interaction_id TEXT NOT NULL,
  tenant TEXT NOT NULL,
  caller TEXT NOT NULL,
  called TEXT NOT NULL,
  at TEXT NOT NULL,
  duration_ms INTEGER NOT NULL,
  path TEXT NOT NULL
);
CREATE INDEX voicemails_tenant_at ON voicemails (tenant, at);
)sql",
    // 2: where a call was transferred to.
    R"sql(
ALTER TABLE interactions ADD COLUMN transfer_target TEXT NOT NULL DEFAULT '';
)sql",
    // 3: the queue's figures and the timeline of events of a contact.
    R"sql(
ALTER TABLE interactions ADD COLUMN wait_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE interactions ADD COLUMN ring_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE interactions ADD COLUMN talk_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE interactions ADD COLUMN hold_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE interactions ADD COLUMN hold_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE interactions ADD COLUMN transfers INTEGER NOT NULL DEFAULT 0;
CREATE TABLE interaction_events (
  interaction_id TEXT NOT NULL REFERENCES interactions (id),
  seq INTEGER NOT NULL,
  at TEXT NOT NULL,
  event TEXT NOT NULL,
  detail TEXT NOT NULL,
  PRIMARY KEY (interaction_id, seq)
);
)sql",
    // 4: agents' status and state changes.
    R"sql(
CREATE TABLE agent_events (
  tenant TEXT NOT NULL,
  agent TEXT NOT NULL,
  at TEXT NOT NULL,
  status TEXT NOT NULL,
  state TEXT NOT NULL,
  reason TEXT NOT NULL,
  previous_status TEXT NOT NULL,
  previous_state TEXT NOT NULL,
  previous_ms INTEGER NOT NULL
);
CREATE INDEX agent_events_tenant_at ON agent_events (tenant, at);
)sql",
    // 5: accounts of the web side and the audit log.
    R"sql(
CREATE TABLE users (
  tenant TEXT NOT NULL,
  username TEXT NOT NULL,
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  display_name TEXT NOT NULL,
  created_at TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant, username)
);
CREATE TABLE audit_log (
  at TEXT NOT NULL,
  tenant TEXT NOT NULL,
  actor TEXT NOT NULL,
  source TEXT NOT NULL,
  action TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX audit_log_tenant_at ON audit_log (tenant, at);
)sql",
    // 6: tokens of integrations.
    R"sql(
CREATE TABLE api_tokens (
  token_hash TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  username TEXT NOT NULL,
  label TEXT NOT NULL,
  created_at TEXT NOT NULL
);
)sql",
    // 7: customers by number.
    R"sql(
CREATE TABLE customers (
  tenant TEXT NOT NULL,
  number TEXT NOT NULL,
  name TEXT NOT NULL,
  notes TEXT NOT NULL,
  tags TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  updated_by TEXT NOT NULL,
  PRIMARY KEY (tenant, number)
);
)sql",
    // 8: the agent's wrap-up of a contact.
    R"sql(
ALTER TABLE interactions ADD COLUMN disposition TEXT NOT NULL DEFAULT '';
ALTER TABLE interactions ADD COLUMN wrapup_notes TEXT NOT NULL DEFAULT '';
ALTER TABLE interactions ADD COLUMN wrapped_up_by TEXT NOT NULL DEFAULT '';
)sql",
    // 9: an agent's and a caller's records (the agent's day, the screen pop's history).
    R"sql(
CREATE INDEX interactions_tenant_agent_started ON interactions (tenant, agent, started_at);
CREATE INDEX interactions_tenant_caller_started ON interactions (tenant, caller, started_at);
)sql",
    // 10: agents' skills and queues changed through the API, over the configuration's.
    R"sql(
CREATE TABLE agent_setups (
  tenant TEXT NOT NULL,
  extension TEXT NOT NULL,
  updated_by TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (tenant, extension)
);
CREATE TABLE agent_setup_items (
  tenant TEXT NOT NULL,
  extension TEXT NOT NULL,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  value INTEGER NOT NULL,
  seq INTEGER NOT NULL
);
CREATE INDEX agent_setup_items_agent ON agent_setup_items (tenant, extension, seq);
)sql",
};
constexpr int kSchemaVersion = sizeof(kMigrations) / sizeof(kMigrations[0]);

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;

struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

Status exec(sqlite3* db, const char* sql, const std::string& what) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = what + ": " + (err ? err : sqlite3_errmsg(db));
    sqlite3_free(err);
    return Status::error(msg);
  }
  return Status::ok();
}

Result<Stmt> prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) {
    return Status::error(std::string("preparing a statement: ") + sqlite3_errmsg(db));
  }
  return Stmt(s);
}

void bind(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

std::string column(sqlite3_stmt* s, int i) {
  const auto* t = sqlite3_column_text(s, i);
  return t ? reinterpret_cast<const char*>(t) : "";
}

Result<Db> open_db(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) {
    return Status::error(path + ": cannot open the database: " +
                         (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_busy_timeout(db.get(), 5000);
  return db;
}

class SqliteStore final : public Store {
 public:
  SqliteStore(std::string path, Db writer, Db reader, Db accounts)
      : path_(std::move(path)),
        writer_(std::move(writer)),
        accounts_(std::move(accounts)),
        reader_(std::move(reader)) {
    thread_ = std::thread([this] { write_loop(); });
  }

  ~SqliteStore() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  void save_interaction(InteractionRecord r) override { enqueue(std::move(r)); }
  void save_voicemail(VoicemailRecord v) override { enqueue(std::move(v)); }
  void save_agent_event(AgentEventRecord e) override { enqueue(std::move(e)); }
  void save_wrapup(WrapUpRecord w) override { enqueue(std::move(w)); }
  void save_audit(AuditRecord a) override { enqueue(std::move(a)); }

  Result<std::vector<AuditRecord>> audit_log(const Query& q) override {
    std::lock_guard<std::mutex> lock(read_mu_);
    auto st = prepare(reader_.get(),
                      "SELECT at, tenant, actor, source, action, detail FROM audit_log WHERE (?1 IS "
                      "NULL OR tenant = ?1) AND (?2 IS NULL OR at >= ?2) ORDER BY at, rowid LIMIT ?3");
    if (!st) return st.status();
    sqlite3_stmt* s = st->get();
    if (q.tenant) bind(s, 1, *q.tenant);
    if (q.since) bind(s, 2, format_time(*q.since));
    sqlite3_bind_int64(s, 3, static_cast<int64_t>(q.limit));
    std::vector<AuditRecord> out;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      AuditRecord a;
      if (auto t = parse_time(column(s, 0))) a.at = *t;
      a.tenant = column(s, 1);
      a.actor = column(s, 2);
      a.source = column(s, 3);
      a.action = column(s, 4);
      a.detail = column(s, 5);
      out.push_back(std::move(a));
    }
    if (rc != SQLITE_DONE) return Status::error(path_ + ": " + sqlite3_errmsg(reader_.get()));
    return out;
  }

  Status add_user(const UserRecord& u) override {
    std::lock_guard<std::mutex> lock(accounts_mu_);
    sqlite3* db = accounts_.get();
    auto st = prepare(db, "INSERT INTO users VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!st) return st.status();
    sqlite3_stmt* s = st->get();
    const std::string fields[] = {u.tenant,       u.username,       u.role,
                                  u.password_hash, u.display_name, format_time(u.created_at)};
    for (int i = 0; i < 6; ++i) bind(s, i + 1, fields[i]);
    sqlite3_bind_int(s, 7, u.disabled ? 1 : 0);
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_CONSTRAINT) {
      return Status::error("user '" + u.username + "' already exists" +
                           (u.tenant.empty() ? std::string(" (server-wide)")
                                             : " in tenant '" + u.tenant + "'"));
    }
    if (rc != SQLITE_DONE) {
      return Status::error(path_ + ": saving user " + u.username + ": " + sqlite3_errmsg(db));
    }
    return Status::ok();
  }

  Result<std::vector<UserRecord>> list_users(const std::string& tenant) override {
    std::lock_guard<std::mutex> lock(accounts_mu_);
    sqlite3* db = accounts_.get();
    auto st = prepare(db,
                      "SELECT tenant, username, role, display_name, created_at, disabled FROM users "
                      "WHERE tenant = ?1 ORDER BY username");
    if (!st) return st.status();
    sqlite3_stmt* s = st->get();
    bind(s, 1, tenant);
    std::vector<UserRecord> out;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      UserRecord u;  // without the hash: a list is for showing
      u.tenant = column(s, 0);
      u.username = column(s, 1);
      u.role = column(s, 2);
      u.display_name = column(s, 3);
      if (auto t = parse_time(column(s, 4))) u.created_at = *t;
      u.disabled = sqlite3_column_int(s, 5) != 0;
      out.push_back(std::move(u));
    }
    if (rc != SQLITE_DONE) return Status::error(path_ + ": " + sqlite3_errmsg(db));
    return out;
  }

  Status save_customer(const CustomerRecord& c) override {
    std::lock_guard<std::mutex> lock(accounts_mu_);
    sqlite3* db = accounts_.get();
    auto st = prepare(db, "INSERT OR REPLACE INTO customers VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!st) return st.status();
    std::string tags;  // one per line: tags hold no line breaks (the API refuses them)
    for (const std::string& t : c.tags) tags += t + "\n";
    const std::string fields[] = {c.tenant, c.number, c.name, c.notes, tags,
                                  format_time(c.updated_at), c.updated_by};
    for (int i = 0; i < 7; ++i) bind(st->get(), i + 1, fields[i]);
    if (sqlite3_step(st->get()) != SQLITE_DONE) {
      return Status::error(path_ + ": saving customer " + c.number + ": " + sqlite3_errmsg(db));
    }
    return Status::ok();
  }

  Result<std::optional<CustomerRecord>> find_customer(const std::string& tenant,
                                                      const std::string& number) override {
    std::lock_guard<std::mutex> lock(accounts_mu_);
    sqlite3* db = accounts_.get();
    auto st = prepare(db,
                      "SELECT tenant, number, name, notes, tags, updated_at, updated_by FROM "
                      "customers WHERE tenant = ?1 AND number = ?2");
    if (!st) return st.status();
    sqlite3_stmt* s = st->get();
    bind(s, 1, tenant);
    bind(s, 2, number);
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return std::optional<CustomerRecord>();
    if (rc != SQLITE_ROW) return Status::error(path_ + ": " + sqlite3_errmsg(db));
    CustomerRecord c;
    c.tenant = column(s, 0);
    c.number = column(s, 1);
    c.name = column(s, 2);
    c.notes = column(s, 3);
    const std::string tags = column(s, 4);
    for (size_t at = 0, nl; (nl = tags.find('\n', at)) != std::string::npos; at = nl + 1) {
      c.tags.push_back(tags.substr(at, nl - at));
    }
    if (auto t = parse_time(column(s, 5))) c.updated_at = *t;
    c.updated_by = column(s, 6);
    return std::optional<CustomerRecord>(std::move(c));
  }

  Status add_api_token(const ApiTokenRecord& t) override {
    std::lock_guard<std::mutex> lock(accounts_mu_);
    sqlite3* db = accounts_.get();
    auto st = prepare(db, "INSERT INTO api_tokens VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!st) return st.status();
    const std::string fields[] = {t.token_hash, t.tenant, t.username, t.label,
                                  format_time(t.created_at)};
    for (int i = 0; i < 5; ++i) bind(st->get(), i + 1, fields[i]);
    if (sqlite3_step(st->get()) != SQLITE_DONE) {
      return Status::error(path_ + ": saving a token: " + sqlite3_errmsg(db));
    }
    return Status::ok();
  }

  // A row of "SELECT token_hash, tenant, username, label, created_at FROM api_tokens".
  static ApiTokenRecord token_row(sqlite3_stmt* s) {
    ApiTokenRecord t;
    t.token_hash = column(s, 0);
    t.tenant = column(s, 1);
    t.username = column(s, 2);
    t.label = column(s, 3);
    if (auto at = parse_time(column(s, 4))) t.created_at = *at;
    return t;
  }

  Result<std::vector<ApiTokenRecord>> list_api_tokens(const std::string& tenant) override {
    std::lock_guard<std::mutex> lock(accounts_mu_);
    sqlite3* db = accounts_.get();
    auto st = prepare(db,
                      "SELECT token_hash, tenant, username, label, created_at FROM api_tokens "
                      "WHERE tenant = ?1 ORDER BY created_at DESC, token_hash");
    if (!st) return st.status();
    sqlite3_stmt* s = st->get();
    bind(s, 1, tenant);
    std::vector<ApiTokenRecord> out;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) out.push_back(token_row(s));
    if (rc != SQLITE_DONE) return Status::error(path_ + ": " + sqlite3_errmsg(db));
    return out;
  }

  Status save_agent_setup(const AgentSetupRecord& a) override {
    std::lock_guard<std::mutex> lock(accounts_mu_);
    sqlite3* db = accounts_.get();
    if (Status s = exec(db, "BEGIN", path_); !s) return s;
    auto fail = [&](const std::string& what) {
      const std::string why = path_ + ": saving agent " + a.extension + ": " + what + ": " +
                              sqlite3_errmsg(db);
      (void)exec(db, "ROLLBACK", path_);
      return Status::error(why);
    };
    auto del = prepare(db, "DELETE FROM agent_setup_items WHERE tenant = ?1 AND extension = ?2");
    if (!del) return fail("prepare");
    bind(del->get(), 1, a.tenant);
    bind(del->get(), 2, a.extension);
    if (sqlite3_step(del->get()) != SQLITE_DONE) return fail("delete");
    auto head = prepare(db, "INSERT OR REPLACE INTO agent_setups VALUES (?1, ?2, ?3, ?4)");
    if (!head) return fail("prepare");
    const std::string fields[] = {a.tenant, a.extension, a.updated_by, format_time(a.updated_at)};
    for (int i = 0; i < 4; ++i) bind(head->get(), i + 1, fields[i]);
    if (sqlite3_step(head->get()) != SQLITE_DONE) return fail("insert");
    auto item = prepare(db, "INSERT INTO agent_setup_items VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!item) return fail("prepare");
    int seq = 0;
    for (const auto& [kind, list] : {std::pair{"skill", &a.skills}, std::pair{"queue", &a.queues},
                                      std::pair{"capacity", &a.capacity}}) {
      for (const auto& [name, value] : *list) {
        sqlite3_reset(item->get());
        bind(item->get(), 1, a.tenant);
        bind(item->get(), 2, a.extension);
        bind(item->get(), 3, kind);
        bind(item->get(), 4, name);
        sqlite3_bind_int(item->get(), 5, value);
        sqlite3_bind_int(item->get(), 6, seq++);
        if (sqlite3_step(item->get()) != SQLITE_DONE) return fail("insert");
      }
    }
    return exec(db, "COMMIT", path_);
  }

  Status delete_agent_setup(const std::string& tenant, const std::string& extension) override {
    std::lock_guard<std::mutex> lock(accounts_mu_);
    sqlite3* db = accounts_.get();
    for (const char* sql : {"DELETE FROM agent_setup_items WHERE tenant = ?1 AND extension = ?2",
                            "DELETE FROM agent_setups WHERE tenant = ?1 AND extension = ?2"}) {
      auto st = prepare(db, sql);
      if (!st) return st.status();
      bind(st->get(), 1, tenant);
      bind(st->get(), 2, extension);
      if (sqlite3_step(st->get()) != SQLITE_DONE) {
        return Status::error(path_ + ": forgetting agent " + extension + ": " + sqlite3_errmsg(db));
      }
    }
    return Status::ok();
  }

  Result<std::vector<AgentSetupRecord>> agent_setups(const std::string& tenant) override {
    std::lock_guard<std::mutex> lock(accounts_mu_);
    sqlite3* db = accounts_.get();
    auto st = prepare(db,
                      "SELECT s.extension, s.updated_by, s.updated_at, i.kind, i.name, i.value "
                      "FROM agent_setups s LEFT JOIN agent_setup_items i ON i.tenant = s.tenant "
                      "AND i.extension = s.extension WHERE s.tenant = ?1 "
                      "ORDER BY s.extension, i.seq");
    if (!st) return st.status();
    sqlite3_stmt* s = st->get();
    bind(s, 1, tenant);
    std::vector<AgentSetupRecord> out;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      if (out.empty() || out.back().extension != column(s, 0)) {
        AgentSetupRecord a;
        a.tenant = tenant;
        a.extension = column(s, 0);
        a.updated_by = column(s, 1);
        if (auto at = parse_time(column(s, 2))) a.updated_at = *at;
        out.push_back(std::move(a));
      }
      if (sqlite3_column_type(s, 3) == SQLITE_NULL) continue;  // no skills and no queues
      const std::string kind = column(s, 3);
      auto& list = kind == "skill"      ? out.back().skills
                   : kind == "capacity" ? out.back().capacity
                                        : out.back().queues;
      list.emplace_back(column(s, 4), static_cast<uint8_t>(sqlite3_column_int(s, 5)));
    }
    if (rc != SQLITE_DONE) return Status::error(path_ + ": " + sqlite3_errmsg(db));
    return out;
  }

  Result<bool> delete_api_token(const std::string& tenant, const std::string& prefix) override {
    if (prefix.size() < 16 || prefix.size() > 64 ||
        prefix.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return Status::error("a token id is 16 to 64 lower-case hex digits");
    }
    std::lock_guard<std::mutex> lock(accounts_mu_);
    sqlite3* db = accounts_.get();
    auto count = prepare(db, "SELECT count(*) FROM api_tokens WHERE tenant = ?1 AND "
                             "substr(token_hash, 1, length(?2)) = ?2");
    if (!count) return count.status();
    bind(count->get(), 1, tenant);
    bind(count->get(), 2, prefix);
    if (sqlite3_step(count->get()) != SQLITE_ROW) return Status::error(path_ + ": " + sqlite3_errmsg(db));
    const int n = sqlite3_column_int(count->get(), 0);
    if (n == 0) return false;
    if (n > 1) return Status::error("the token id matches more than one token: give more digits");
    auto st = prepare(db, "DELETE FROM api_tokens WHERE tenant = ?1 AND "
                          "substr(token_hash, 1, length(?2)) = ?2");
    if (!st) return st.status();
    bind(st->get(), 1, tenant);
    bind(st->get(), 2, prefix);
    if (sqlite3_step(st->get()) != SQLITE_DONE) return Status::error(path_ + ": " + sqlite3_errmsg(db));
    return true;
  }

  Result<bool> update_user(const std::string& tenant, const std::string& username, bool disabled,
                           const std::string& password_hash) override {
    std::lock_guard<std::mutex> lock(accounts_mu_);
    sqlite3* db = accounts_.get();
    auto st = prepare(db,
                      "UPDATE users SET disabled = ?3, password_hash = CASE WHEN ?4 = '' THEN "
                      "password_hash ELSE ?4 END WHERE tenant = ?1 AND username = ?2");
    if (!st) return st.status();
    bind(st->get(), 1, tenant);
    bind(st->get(), 2, username);
    sqlite3_bind_int(st->get(), 3, disabled ? 1 : 0);
    bind(st->get(), 4, password_hash);
    if (sqlite3_step(st->get()) != SQLITE_DONE) {
      return Status::error(path_ + ": updating user " + username + ": " + sqlite3_errmsg(db));
    }
    return sqlite3_changes(db) > 0;
  }

  Result<std::optional<ApiTokenRecord>> find_api_token(const std::string& token_hash) override {
    std::lock_guard<std::mutex> lock(accounts_mu_);
    sqlite3* db = accounts_.get();
    auto st = prepare(db,
                      "SELECT token_hash, tenant, username, label, created_at FROM api_tokens "
                      "WHERE token_hash = ?1");
    if (!st) return st.status();
    sqlite3_stmt* s = st->get();
    bind(s, 1, token_hash);
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return std::optional<ApiTokenRecord>();
    if (rc != SQLITE_ROW) return Status::error(path_ + ": " + sqlite3_errmsg(db));
    return std::optional<ApiTokenRecord>(token_row(s));
  }

  Result<std::optional<UserRecord>> find_user(const std::string& tenant,
                                              const std::string& username) override {
    std::lock_guard<std::mutex> lock(accounts_mu_);
    sqlite3* db = accounts_.get();
    auto st = prepare(db,
                      "SELECT tenant, username, role, password_hash, display_name, created_at, "
                      "disabled FROM users WHERE tenant = ?1 AND username = ?2");
    if (!st) return st.status();
    sqlite3_stmt* s = st->get();
    bind(s, 1, tenant);
    bind(s, 2, username);
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return std::optional<UserRecord>();
    if (rc != SQLITE_ROW) return Status::error(path_ + ": " + sqlite3_errmsg(db));
    UserRecord u;
    u.tenant = column(s, 0);
    u.username = column(s, 1);
    u.role = column(s, 2);
    u.password_hash = column(s, 3);
    u.display_name = column(s, 4);
    if (auto t = parse_time(column(s, 5))) u.created_at = *t;
    u.disabled = sqlite3_column_int(s, 6) != 0;
    return std::optional<UserRecord>(std::move(u));
  }

  Status flush() override {
    std::unique_lock<std::mutex> lock(mu_);
    const uint64_t target = queued_;
    done_cv_.wait(lock, [&] { return written_ >= target; });
    return error_;
  }

  Result<std::vector<InteractionRecord>> interactions(const Query& q) override {
    // Only the filters given, written plainly, so that SQLite can use the indexes (a generic
    // "(?1 IS NULL OR tenant = ?1)" form makes it scan and sort the whole table).
    std::string sql =
        "SELECT id, tenant, channel, direction, caller, called, started_at, answered_at, "
        "ended_at, flow, ivr_path, result, ended_by, queue, agent, recording, reason, "
        "transfer_target, wait_ms, ring_ms, talk_ms, hold_ms, hold_count, transfers, disposition, "
        "wrapup_notes, wrapped_up_by FROM interactions WHERE 1";
    std::vector<std::string> values;
    auto filter = [&](const char* column_name, const char* op, const std::string& value) {
      sql += std::string(" AND ") + column_name + " " + op + " ?" +
             std::to_string(values.size() + 1);
      values.push_back(value);
    };
    if (q.tenant) filter("tenant", "=", *q.tenant);
    if (q.since) filter("started_at", ">=", format_time(*q.since));
    if (q.caller) filter("caller", "=", *q.caller);
    if (q.queue) filter("queue", "=", *q.queue);
    if (q.agent) filter("agent", "=", *q.agent);
    if (q.result) filter("result", "=", *q.result);
    sql += q.newest_first ? " ORDER BY started_at DESC, id DESC" : " ORDER BY started_at, id";
    sql += " LIMIT " + std::to_string(q.limit) + " OFFSET " + std::to_string(q.offset);
    std::lock_guard<std::mutex> lock(read_mu_);
    auto st = prepare(reader_.get(), sql.c_str());
    if (!st) return st.status();
    sqlite3_stmt* s = st->get();
    for (size_t i = 0; i < values.size(); ++i) bind(s, static_cast<int>(i + 1), values[i]);
    std::vector<InteractionRecord> out;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      InteractionRecord r;
      r.id = column(s, 0);
      r.tenant = column(s, 1);
      r.channel = column(s, 2);
      r.direction = column(s, 3);
      r.caller = column(s, 4);
      r.called = column(s, 5);
      if (auto t = parse_time(column(s, 6))) r.started_at = *t;
      if (sqlite3_column_type(s, 7) != SQLITE_NULL) {
        if (auto t = parse_time(column(s, 7))) r.answered_at = *t;
      }
      if (auto t = parse_time(column(s, 8))) r.ended_at = *t;
      r.flow = column(s, 9);
      r.ivr_path = column(s, 10);
      r.result = column(s, 11);
      r.ended_by = column(s, 12);
      r.queue = column(s, 13);
      r.agent = column(s, 14);
      r.recording = column(s, 15);
      r.reason = column(s, 16);
      r.transfer_target = column(s, 17);
      r.wait = Duration(sqlite3_column_int64(s, 18));
      r.ring = Duration(sqlite3_column_int64(s, 19));
      r.talk = Duration(sqlite3_column_int64(s, 20));
      r.hold = Duration(sqlite3_column_int64(s, 21));
      r.hold_count = static_cast<uint32_t>(sqlite3_column_int64(s, 22));
      r.transfers = static_cast<uint32_t>(sqlite3_column_int64(s, 23));
      r.disposition = column(s, 24);
      r.wrapup_notes = column(s, 25);
      r.wrapped_up_by = column(s, 26);
      out.push_back(std::move(r));
    }
    if (rc != SQLITE_DONE) return Status::error(path_ + ": " + sqlite3_errmsg(reader_.get()));
    // The page's variables and timelines: one query each per chunk of records (an IN list the
    // primary keys answer), not two per record.
    std::unordered_map<std::string_view, InteractionRecord*> by_id;
    for (InteractionRecord& r : out) by_id.emplace(r.id, &r);
    constexpr size_t kChunk = 500;  // well under SQLite's limit on bound parameters
    for (size_t from = 0; from < out.size(); from += kChunk) {
      const size_t n = std::min(kChunk, out.size() - from);
      std::string in = "(";
      for (size_t i = 0; i < n; ++i) in += (i == 0 ? "?" : ",?") + std::to_string(i + 1);
      in += ")";
      auto vars = prepare(reader_.get(), ("SELECT interaction_id, name, value FROM "
                                          "interaction_variables WHERE interaction_id IN " + in)
                                             .c_str());
      if (!vars) return vars.status();
      auto events = prepare(reader_.get(),
                            ("SELECT interaction_id, at, event, detail FROM interaction_events "
                             "WHERE interaction_id IN " + in + " ORDER BY interaction_id, seq")
                                .c_str());
      if (!events) return events.status();
      for (size_t i = 0; i < n; ++i) {
        bind(vars->get(), static_cast<int>(i + 1), out[from + i].id);
        bind(events->get(), static_cast<int>(i + 1), out[from + i].id);
      }
      while ((rc = sqlite3_step(vars->get())) == SQLITE_ROW) {
        auto r = by_id.find(column(vars->get(), 0));
        if (r != by_id.end()) r->second->variables[column(vars->get(), 1)] = column(vars->get(), 2);
      }
      if (rc != SQLITE_DONE) return Status::error(path_ + ": " + sqlite3_errmsg(reader_.get()));
      while ((rc = sqlite3_step(events->get())) == SQLITE_ROW) {
        auto r = by_id.find(column(events->get(), 0));
        if (r == by_id.end()) continue;
        InteractionRecord::TimelineEvent e;
        if (auto t = parse_time(column(events->get(), 1))) e.at = *t;
        e.event = column(events->get(), 2);
        e.detail = column(events->get(), 3);
        r->second->timeline.push_back(std::move(e));
      }
      if (rc != SQLITE_DONE) return Status::error(path_ + ": " + sqlite3_errmsg(reader_.get()));
    }
    return out;
  }

  Result<std::optional<InteractionRecord>> find_interaction(const std::string& tenant,
                                                            const std::string& id) override {
    std::lock_guard<std::mutex> lock(read_mu_);
    auto st = prepare(reader_.get(),
                      "SELECT id, tenant, caller, called, queue, agent, recording, result FROM "
                      "interactions WHERE tenant = ?1 AND id = ?2");
    if (!st) return st.status();
    sqlite3_stmt* s = st->get();
    bind(s, 1, tenant);
    bind(s, 2, id);
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return std::optional<InteractionRecord>();
    if (rc != SQLITE_ROW) return Status::error(path_ + ": " + sqlite3_errmsg(reader_.get()));
    InteractionRecord r;
    r.id = column(s, 0);
    r.tenant = column(s, 1);
    r.caller = column(s, 2);
    r.called = column(s, 3);
    r.queue = column(s, 4);
    r.agent = column(s, 5);
    r.recording = column(s, 6);
    r.result = column(s, 7);
    return std::optional<InteractionRecord>(std::move(r));
  }

  Result<std::vector<VoicemailRecord>> voicemails(const Query& q) override {
    std::lock_guard<std::mutex> lock(read_mu_);
    auto st = prepare(reader_.get(),
                      "SELECT id, interaction_id, tenant, caller, called, at, duration_ms, path "
                      "FROM voicemails WHERE (?1 IS NULL OR tenant = ?1) AND (?2 IS NULL OR at "
                      ">= ?2) ORDER BY at, id LIMIT ?3");
    if (!st) return st.status();
    sqlite3_stmt* s = st->get();
    if (q.tenant) bind(s, 1, *q.tenant);
    if (q.since) bind(s, 2, format_time(*q.since));
    sqlite3_bind_int64(s, 3, static_cast<int64_t>(q.limit));
    std::vector<VoicemailRecord> out;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      VoicemailRecord v;
      v.id = column(s, 0);
      v.interaction_id = column(s, 1);
      v.tenant = column(s, 2);
      v.caller = column(s, 3);
      v.called = column(s, 4);
      if (auto t = parse_time(column(s, 5))) v.at = *t;
      v.duration = Duration(sqlite3_column_int64(s, 6));
      v.path = column(s, 7);
      out.push_back(std::move(v));
    }
    if (rc != SQLITE_DONE) return Status::error(path_ + ": " + sqlite3_errmsg(reader_.get()));
    return out;
  }

  Result<std::vector<AgentEventRecord>> agent_events(const Query& q) override {
    std::lock_guard<std::mutex> lock(read_mu_);
    auto st = prepare(reader_.get(),
                      "SELECT tenant, agent, at, status, state, reason, previous_status, "
                      "previous_state, previous_ms FROM agent_events WHERE (?1 IS NULL OR tenant = "
                      "?1) AND (?2 IS NULL OR at >= ?2) AND (?4 IS NULL OR agent = ?4) ORDER BY "
                      "at, rowid LIMIT ?3");
    if (!st) return st.status();
    sqlite3_stmt* s = st->get();
    if (q.tenant) bind(s, 1, *q.tenant);
    if (q.since) bind(s, 2, format_time(*q.since));
    sqlite3_bind_int64(s, 3, static_cast<int64_t>(q.limit));
    if (q.agent) bind(s, 4, *q.agent);
    std::vector<AgentEventRecord> out;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      AgentEventRecord e;
      e.tenant = column(s, 0);
      e.agent = column(s, 1);
      if (auto t = parse_time(column(s, 2))) e.at = *t;
      e.status = column(s, 3);
      e.state = column(s, 4);
      e.reason = column(s, 5);
      e.previous_status = column(s, 6);
      e.previous_state = column(s, 7);
      e.previous = Duration(sqlite3_column_int64(s, 8));
      out.push_back(std::move(e));
    }
    if (rc != SQLITE_DONE) return Status::error(path_ + ": " + sqlite3_errmsg(reader_.get()));
    return out;
  }

 private:
  using Item = std::variant<InteractionRecord, VoicemailRecord, AgentEventRecord, AuditRecord,
                            WrapUpRecord>;

  void enqueue(Item item) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(std::move(item));
      queued_++;
    }
    cv_.notify_one();
  }

  void write_loop() {
    for (;;) {
      std::deque<Item> batch;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty() && stopping_) return;
        batch.swap(queue_);
      }
      Status s = write(batch);
      {
        std::lock_guard<std::mutex> lock(mu_);
        written_ += batch.size();
        if (!s.is_ok() && error_.is_ok()) error_ = s;
      }
      done_cv_.notify_all();
    }
  }

  // One transaction for the whole batch.
  Status write(const std::deque<Item>& batch) {
    sqlite3* db = writer_.get();
    if (Status s = exec(db, "BEGIN", path_); !s) return s;
    for (const Item& item : batch) {
      Status s = std::visit([&](const auto& r) { return insert(db, r); }, item);
      if (!s.is_ok()) {
        (void)exec(db, "ROLLBACK", path_);
        return s;
      }
    }
    return exec(db, "COMMIT", path_);
  }

  // A statement prepared once on the writer connection and reset for each use.
  Result<sqlite3_stmt*> cached(Stmt& slot, sqlite3* db, const char* sql) {
    if (!slot) {
      auto st = prepare(db, sql);
      if (!st) return st.status();
      slot = std::move(*st);
    }
    sqlite3_reset(slot.get());
    sqlite3_clear_bindings(slot.get());
    return slot.get();
  }

  Status insert(sqlite3* db, const InteractionRecord& r) {
    auto st = cached(insert_interaction_, db,
                     "INSERT OR REPLACE INTO interactions (id, tenant, channel, direction, caller, "
                     "called, started_at, answered_at, ended_at, flow, ivr_path, result, ended_by, "
                     "queue, agent, recording, reason, transfer_target, wait_ms, ring_ms, talk_ms, "
                     "hold_ms, hold_count, transfers, disposition, wrapup_notes, wrapped_up_by) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
                     "?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27)");
    if (!st) return st.status();
    sqlite3_stmt* s = *st;
    const std::string fields[] = {r.id, r.tenant, r.channel, r.direction, r.caller, r.called,
                                  format_time(r.started_at)};
    for (int i = 0; i < 7; ++i) bind(s, i + 1, fields[i]);
    if (r.answered_at) bind(s, 8, format_time(*r.answered_at));
    const std::string rest[] = {format_time(r.ended_at), r.flow,  r.ivr_path,  r.result, r.ended_by,
                                r.queue,                 r.agent, r.recording, r.reason};
    for (int i = 0; i < 9; ++i) bind(s, i + 9, rest[i]);
    bind(s, 18, r.transfer_target);
    const int64_t figures[] = {r.wait.count(), r.ring.count(), r.talk.count(), r.hold.count(),
                               r.hold_count, r.transfers};
    for (int i = 0; i < 6; ++i) sqlite3_bind_int64(s, 19 + i, figures[i]);
    bind(s, 25, r.disposition);
    bind(s, 26, r.wrapup_notes);
    bind(s, 27, r.wrapped_up_by);
    if (sqlite3_step(s) != SQLITE_DONE) {
      return Status::error(path_ + ": saving interaction " + r.id + ": " + sqlite3_errmsg(db));
    }
    for (const auto& [name, value] : r.variables) {
      auto vars = cached(insert_variable_, db,
                         "INSERT OR REPLACE INTO interaction_variables VALUES (?1, ?2, ?3)");
      if (!vars) return vars.status();
      bind(*vars, 1, r.id);
      bind(*vars, 2, name);
      bind(*vars, 3, value);
      if (sqlite3_step(*vars) != SQLITE_DONE) {
        return Status::error(path_ + ": saving variables of " + r.id + ": " + sqlite3_errmsg(db));
      }
    }
    for (size_t i = 0; i < r.timeline.size(); ++i) {
      auto ev = cached(insert_event_, db,
                       "INSERT OR REPLACE INTO interaction_events VALUES (?1, ?2, ?3, ?4, ?5)");
      if (!ev) return ev.status();
      bind(*ev, 1, r.id);
      sqlite3_bind_int64(*ev, 2, static_cast<int64_t>(i));
      bind(*ev, 3, format_time(r.timeline[i].at));
      bind(*ev, 4, r.timeline[i].event);
      bind(*ev, 5, r.timeline[i].detail);
      if (sqlite3_step(*ev) != SQLITE_DONE) {
        return Status::error(path_ + ": saving the timeline of " + r.id + ": " + sqlite3_errmsg(db));
      }
    }
    return Status::ok();
  }

  Status insert(sqlite3* db, const VoicemailRecord& v) {
    auto st = cached(insert_voicemail_, db,
                     "INSERT OR REPLACE INTO voicemails VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!st) return st.status();
    sqlite3_stmt* s = *st;
    bind(s, 1, v.id);
    bind(s, 2, v.interaction_id);
    bind(s, 3, v.tenant);
    bind(s, 4, v.caller);
    bind(s, 5, v.called);
    bind(s, 6, format_time(v.at));
    sqlite3_bind_int64(s, 7, v.duration.count());
    bind(s, 8, v.path);
    if (sqlite3_step(s) != SQLITE_DONE) {
      return Status::error(path_ + ": saving voicemail " + v.id + ": " + sqlite3_errmsg(db));
    }
    return Status::ok();
  }

  Status insert(sqlite3* db, const AgentEventRecord& e) {
    auto st = cached(insert_agent_event_, db,
                     "INSERT INTO agent_events VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    if (!st) return st.status();
    sqlite3_stmt* s = *st;
    const std::string fields[] = {e.tenant, e.agent,  format_time(e.at),   e.status,
                                  e.state,  e.reason, e.previous_status, e.previous_state};
    for (int i = 0; i < 8; ++i) bind(s, i + 1, fields[i]);
    sqlite3_bind_int64(s, 9, e.previous.count());
    if (sqlite3_step(s) != SQLITE_DONE) {
      return Status::error(path_ + ": saving an event of agent " + e.agent + ": " +
                           sqlite3_errmsg(db));
    }
    return Status::ok();
  }

  Status insert(sqlite3* db, const AuditRecord& a) {
    auto st = cached(insert_audit_, db, "INSERT INTO audit_log VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!st) return st.status();
    sqlite3_stmt* s = *st;
    const std::string fields[] = {format_time(a.at), a.tenant, a.actor, a.source, a.action, a.detail};
    for (int i = 0; i < 6; ++i) bind(s, i + 1, fields[i]);
    if (sqlite3_step(s) != SQLITE_DONE) {
      return Status::error(path_ + ": saving an audit entry: " + sqlite3_errmsg(db));
    }
    return Status::ok();
  }

  Status insert(sqlite3* db, const WrapUpRecord& w) {
    auto st = cached(update_wrapup_, db,
                     "UPDATE interactions SET disposition = ?3, wrapup_notes = ?4, "
                     "wrapped_up_by = ?5 WHERE tenant = ?1 AND id = ?2");
    if (!st) return st.status();
    const std::string fields[] = {w.tenant, w.interaction_id, w.disposition, w.notes, w.agent};
    for (int i = 0; i < 5; ++i) bind(*st, i + 1, fields[i]);
    if (sqlite3_step(*st) != SQLITE_DONE) {
      return Status::error(path_ + ": saving the wrap-up of " + w.interaction_id + ": " +
                           sqlite3_errmsg(db));
    }
    return Status::ok();
  }

  const std::string path_;
  Db writer_;  // writer thread only, with its statements:
  Stmt insert_interaction_, insert_variable_, insert_voicemail_, insert_event_, insert_agent_event_,
      insert_audit_, update_wrapup_;
  Db accounts_;  // under accounts_mu_: users, read and written at once
  std::mutex accounts_mu_;
  Db reader_;  // under read_mu_
  std::mutex read_mu_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable done_cv_;
  std::deque<Item> queue_;  // guarded by mu_
  uint64_t queued_ = 0;     // guarded by mu_
  uint64_t written_ = 0;    // guarded by mu_
  Status error_;            // guarded by mu_
  bool stopping_ = false;   // guarded by mu_
};

}  // namespace

Result<std::unique_ptr<Store>> open_sqlite(const std::string& path) {
  std::error_code ec;
  const auto dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  if (ec) return Status::error(dir.string() + ": cannot create the folder: " + ec.message());
  auto writer = open_db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX);
  if (!writer) return writer.status();
  sqlite3* db = writer->get();
  if (Status s = exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", path); !s) {
    return Status::error(s.message() + " (is it a SQLite database?)");
  }
  int version = 0;
  {
    auto st = prepare(db, "PRAGMA user_version");
    if (!st) return Status::error(path + ": " + st.message());
    if (sqlite3_step(st->get()) == SQLITE_ROW) version = sqlite3_column_int(st->get(), 0);
  }
  if (version > kSchemaVersion) {
    return Status::error(path + ": the database has schema version " + std::to_string(version) +
                         ", newer than this build of Tamas knows (" +
                         std::to_string(kSchemaVersion) + "); use a newer tamas");
  }
  for (int v = version; v < kSchemaVersion; ++v) {
    const std::string sql = std::string("BEGIN;") + kMigrations[v] + "PRAGMA user_version = " +
                            std::to_string(v + 1) + "; COMMIT;";
    if (Status s = exec(db, sql.c_str(), path + ": migration " + std::to_string(v + 1)); !s) {
      (void)exec(db, "ROLLBACK", path);
      return s;
    }
  }
  auto reader = open_db(path, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX);
  if (!reader) return reader.status();
  auto accounts = open_db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX);
  if (!accounts) return accounts.status();
  return std::unique_ptr<Store>(
      new SqliteStore(path, std::move(*writer), std::move(*reader), std::move(*accounts)));
}

std::string format_time(TimePoint t) {
  const auto ms = t.time_since_epoch().count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000 - (ms % 1000 < 0 ? 1 : 0));
  const int frac = static_cast<int>(((ms % 1000) + 1000) % 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  return buf;
}

Result<TimePoint> parse_time(const std::string& iso) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, ms = 0;
  char tail[16] = {0};
  const int n = std::sscanf(iso.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3d%15s", &y, &mo, &d, &h, &mi,
                            &s, &ms, tail);
  int fields = n;
  if (n < 7) {  // no milliseconds: "…:ss", "…:ssZ", "…T hh:mm", or a date
    tail[0] = 0;
    fields = std::sscanf(iso.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%15s", &y, &mo, &d, &h, &mi, &s, tail);
    if (fields < 6) {
      s = 0;
      fields = std::sscanf(iso.c_str(), "%4d-%2d-%2dT%2d:%2d%15s", &y, &mo, &d, &h, &mi, tail);
      if (fields < 5) {
        h = mi = 0;
        fields = std::sscanf(iso.c_str(), "%4d-%2d-%2d%15s", &y, &mo, &d, tail);
        if (fields != 3) {
          return Status::error("'" + iso +
                               "' is not a time (expected ISO 8601 UTC, e.g. 2026-11-22 or "
                               "2026-11-22T14:05:09Z)");
        }
      }
    }
  }
  const std::string t = tail;
  if (!(t.empty() || t == "Z") || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
      s > 60) {
    return Status::error("'" + iso + "' is not a UTC time (expected e.g. 2026-11-22T14:05:09Z)");
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  const std::time_t secs = timegm(&tm);
  return TimePoint(Duration(static_cast<int64_t>(secs) * 1000 + ms));
}

}  // namespace tamas::store
