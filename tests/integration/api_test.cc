// The web side's API on the real `tamas serve` (tests/data/serve/queues.yaml: tenants acme and
// beta): accounts made with `tamas user add`, sign-in, every route walked with every role and with
// a user of the other tenant, cookies with CSRF, the live view following an agent's phone, and the
// interaction records with their filters.
#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>
#include <nlohmann/json.hpp>

#include "api/webhook.h"
#include "support/agent_phone.h"
#include "support/caller.h"
#include "support/http_client.h"
#include "support/run_tamas.h"
#include "support/serve_process.h"
#include "support/ws_client.h"

namespace tamas {
namespace {

using namespace std::chrono_literals;
using test::http_request;
using test::HttpResponse;

const std::string kConfig = std::string(TAMAS_SOURCE_DIR) + "/tests/data/serve/queues.yaml";

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists("/usr/bin/espeak-ng")) GTEST_SKIP() << "espeak-ng is missing";
    ASSERT_TRUE(server_.ready()) << server_.log();
  }

  void add_user(const std::string& tenant, const std::string& username, const std::string& role) {
    std::vector<std::string> args = {"add",        "--config",   kConfig,  "--data-dir",
                                     server_.data_dir().string(), "--username", username,
                                     "--role",     role};
    if (!tenant.empty()) {
      args.push_back("--tenant");
      args.push_back(tenant);
    }
    auto o = test::run_tamas("user", args, username + "-password\n");
    ASSERT_EQ(o.status, 0) << o.err;
  }

  HttpResponse login(const std::string& tenant, const std::string& username,
                     const std::string& password) {
    const nlohmann::json body = {{"tenant", tenant}, {"username", username}, {"password", password}};
    return http_request(server_.http_port(), "POST", "/api/v1/auth/login", body.dump());
  }

  // The Bearer token of a fresh sign-in.
  std::string token(const std::string& tenant, const std::string& username) {
    HttpResponse r = login(tenant, username, username + "-password");
    EXPECT_EQ(r.status, 200) << r.body;
    return nlohmann::json::parse(r.body, nullptr, false).value("token", "");
  }

  // A request with a body, as the user of `bearer`.
  HttpResponse call_as(const std::string& method, const std::string& target,
                       const std::string& body, const std::string& bearer) {
    return http_request(server_.http_port(), method, target, body,
                        {{"Authorization", "Bearer " + bearer}});
  }

  HttpResponse get(const std::string& target, const std::string& bearer) {
    std::map<std::string, std::string> h;
    if (!bearer.empty()) h["Authorization"] = "Bearer " + bearer;
    return http_request(server_.http_port(), "GET", target, "", h);
  }

  test::ServeProcess server_{kConfig};
};

// Every route, every role of acme, beta's supervisor, a server admin and nobody: the status each
// gets is what the route declares (the table below restates the declarations).
TEST_F(ApiTest, EveryRouteWithEveryRoleAndTheOtherTenant) {
  add_user("", "root", "admin");
  for (const char* role : {"manager", "supervisor", "agent", "analyst"}) {
    add_user("acme", std::string("acme-") + role, role);
  }
  add_user("beta", "beta-supervisor", "supervisor");

  struct Caller {
    std::string name, tenant, role;
  };
  const std::vector<Caller> callers = {
      {"", "", ""},  // anonymous
      {"root", "", "admin"},
      {"acme-manager", "acme", "manager"},
      {"acme-supervisor", "acme", "supervisor"},
      {"acme-agent", "acme", "agent"},
      {"acme-analyst", "acme", "analyst"},
      {"beta-supervisor", "beta", "supervisor"},
  };
  struct RouteCase {
    std::string target;
    bool tenant_scoped;
    std::set<std::string> roles;  // empty: public
  };
  const std::set<std::string> all = {"admin", "manager", "supervisor", "agent", "analyst"};
  const std::vector<RouteCase> routes = {
      {"/api/v1/openapi.json", false, {}},
      {"/api/v1/me", false, all},
      {"/metrics", false, {"admin"}},
      {"/api/v1/tenants", false, {"admin"}},
      {"/api/v1/tenants/acme/live", true, all},
      {"/api/v1/tenants/acme/tokens", true, {"admin", "manager"}},
      {"/api/v1/tenants/acme/flows", true, {"admin", "manager", "supervisor", "analyst"}},
      {"/api/v1/tenants/acme/interactions", true, {"admin", "manager", "supervisor", "analyst"}},
      {"/api/v1/tenants/acme/users", true, {"admin", "manager"}},
      {"/api/v1/tenants/acme/queues", true, all},
      {"/api/v1/tenants/acme/agents", true, {"admin", "manager", "supervisor", "analyst"}},
  };
  for (const Caller& c : callers) {
    const std::string bearer = c.name.empty() ? "" : token(c.tenant, c.name);
    for (const RouteCase& r : routes) {
      int want = 200;
      if (!r.roles.empty()) {
        if (c.name.empty()) {
          want = 401;
        } else if (r.tenant_scoped && c.role != "admin" && c.tenant != "acme") {
          want = 404;  // another tenant's data does not exist for this user
        } else if (!r.roles.count(c.role)) {
          want = 403;
        }
      }
      HttpResponse got = get(r.target, bearer);
      EXPECT_EQ(got.status, want) << (c.name.empty() ? "anonymous" : c.name) << " GET "
                                  << r.target << ": " << got.body;
      if (got.status == 200 && r.target.find("/live") != std::string::npos) {
        EXPECT_EQ(nlohmann::json::parse(got.body)["tenant"], "acme");
      }
    }
  }
  // The OpenAPI document lists every route.
  auto doc = nlohmann::json::parse(get("/api/v1/openapi.json", "").body);
  for (const RouteCase& r : routes) {
    std::string path = r.target;
    if (auto at = path.find("/tenants/acme"); at != std::string::npos) {
      path.replace(at, 13, "/tenants/{tenant}");
    }
    EXPECT_TRUE(doc["paths"].contains(path)) << path;
  }
  EXPECT_TRUE(doc["paths"].contains("/api/v1/auth/login"));

  // An integration's token acts as its user, with that user's role and tenant.
  auto made = test::run_tamas("token", {"add", "--config", kConfig, "--data-dir",
                                        server_.data_dir().string(), "--tenant", "acme",
                                        "--username", "acme-analyst"});
  ASSERT_EQ(made.status, 0) << made.err;
  const std::string integration = made.out.substr(0, made.out.find('\n'));
  EXPECT_EQ(get("/api/v1/tenants/acme/interactions", integration).status, 200);
  EXPECT_EQ(get("/api/v1/tenants/acme/users", integration).status, 403) << "an analyst's token";
  EXPECT_EQ(get("/api/v1/tenants/beta/interactions", integration).status, 404);
  EXPECT_EQ(get("/api/v1/me", "tmt_" + std::string(64, 'f')).status, 401) << "an unknown token";
}

TEST_F(ApiTest, SignInCookiesCsrfAndSignOut) {
  add_user("acme", "sara", "supervisor");
  HttpResponse wrong = login("acme", "sara", "not-her-password");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(nlohmann::json::parse(wrong.body)["error"], "wrong tenant, username or password");
  HttpResponse other_tenant = login("beta", "sara", "sara-password");
  EXPECT_EQ(other_tenant.status, 401) << "sara is acme's";
  HttpResponse missing = http_request(server_.http_port(), "POST", "/api/v1/auth/login",
                                      R"({"tenant": "acme", "username": "sara"})");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(nlohmann::json::parse(missing.body)["field"], "password");
  EXPECT_EQ(http_request(server_.http_port(), "POST", "/api/v1/auth/login", "{not json").status,
            400);

  HttpResponse ok = login("acme", "sara", "sara-password");
  ASSERT_EQ(ok.status, 200) << ok.body;
  const std::string cookie = ok.headers["set-cookie"];
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos) << cookie;
  const std::string session = cookie.substr(0, cookie.find(';'));
  const auto body = nlohmann::json::parse(ok.body);
  EXPECT_EQ(body["role"], "supervisor");
  const std::string csrf = body["csrf"];

  // The cookie reads; a change without the CSRF token is not signed in, with it is.
  HttpResponse me = http_request(server_.http_port(), "GET", "/api/v1/me", "", {{"Cookie", session}});
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(nlohmann::json::parse(me.body)["username"], "sara");
  EXPECT_EQ(http_request(server_.http_port(), "POST", "/api/v1/auth/logout", "",
                         {{"Cookie", session}})
                .status,
            401)
      << "a cookie alone cannot change anything";
  EXPECT_EQ(http_request(server_.http_port(), "POST", "/api/v1/auth/logout", "",
                         {{"Cookie", session}, {"X-CSRF-Token", csrf}})
                .status,
            200);
  EXPECT_EQ(http_request(server_.http_port(), "GET", "/api/v1/me", "", {{"Cookie", session}}).status,
            401)
      << "signed out";
}

// The live view follows an agent's phone (*11) and a caller; the records come back filtered.
TEST_F(ApiTest, LiveViewAndInteractionsFollowTheCalls) {
  add_user("acme", "sara", "supervisor");
  const std::string bearer = token("acme", "sara");
  auto agent_state = [&](const std::string& ext) {
    auto live = nlohmann::json::parse(get("/api/v1/tenants/acme/live", bearer).body);
    for (const auto& a : live["agents"]) {
      if (a["extension"] == ext) return a["status"].get<std::string>() + "/" + a["state"].get<std::string>();
    }
    return std::string("none");
  };
  EXPECT_EQ(agent_state("1001"), "logged-out/idle");
  test::AgentPhone phone(server_.port(), "acme.test");
  ASSERT_EQ(phone.register_as("1001", "acme1001"), 200);
  ASSERT_EQ(phone.dial("*11"), 200);
  EXPECT_EQ(agent_state("1001"), "available/idle") << "the status change is seen at once";

  test::Caller caller;
  ASSERT_EQ(caller.call(server_.port(), "100", "api-1"), 200);
  auto offer = phone.await_invite(5s);
  ASSERT_TRUE(offer.has_value()) << server_.log();
  EXPECT_EQ(agent_state("1001"), "available/reserved");
  phone.answer(*offer);
  ASSERT_NE(server_.wait_log({"connected", "agent=1001"}), "");
  EXPECT_EQ(agent_state("1001"), "available/on-contact");
  auto live = nlohmann::json::parse(get("/api/v1/tenants/acme/live", bearer).body);
  EXPECT_EQ(live["calls"], 1);
  caller.rtp.send_tone(600ms);  // something to record
  EXPECT_EQ(caller.hang_up(server_.port(), "100"), 200);
  ASSERT_TRUE(phone.await_hangup(5s).has_value());
  ASSERT_EQ(server_.wait_records(1).size(), 1u);

  auto all = nlohmann::json::parse(get("/api/v1/tenants/acme/interactions", bearer).body);
  ASSERT_EQ(all["interactions"].size(), 1u) << all.dump(2);
  EXPECT_EQ(all["interactions"][0]["agent"], "1001");
  EXPECT_EQ(all["interactions"][0]["result"], "answered");
  auto none = nlohmann::json::parse(
      get("/api/v1/tenants/acme/interactions?agent=1002", bearer).body);
  EXPECT_TRUE(none["interactions"].empty());
  HttpResponse bad = get("/api/v1/tenants/acme/interactions?limit=0", bearer);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(nlohmann::json::parse(bad.body)["field"], "limit");
  HttpResponse bad_since = get("/api/v1/tenants/acme/interactions?since=yesterday", bearer);
  EXPECT_EQ(bad_since.status, 400);
  EXPECT_EQ(nlohmann::json::parse(bad_since.body)["field"], "since");

  // The conversation's recording: whole, or one byte range, for the roles that may hear it.
  const std::string target =
      "/api/v1/tenants/acme/interactions/" + all["interactions"][0]["id"].get<std::string>() +
      "/recording";
  // The recorder finishes the file on its own thread after the record is stored: poll (bounded)
  // until it holds the conversation.
  HttpResponse whole;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  do {
    whole = get(target, bearer);
  } while (whole.status == 200 && whole.body.size() <= 8000 &&
           std::chrono::steady_clock::now() < deadline);
  ASSERT_EQ(whole.status, 200) << whole.body;
  EXPECT_EQ(whole.headers["content-type"], "audio/wav");
  EXPECT_EQ(whole.body.substr(0, 4), "RIFF");
  EXPECT_GT(whole.body.size(), 8000u) << "some of the conversation";
  HttpResponse head = http_request(server_.http_port(), "GET", target, "",
                                   {{"Authorization", "Bearer " + bearer}, {"Range", "bytes=0-43"}});
  EXPECT_EQ(head.status, 206);
  EXPECT_EQ(head.body, whole.body.substr(0, 44));
  EXPECT_EQ(head.headers["content-range"], "bytes 0-43/" + std::to_string(whole.body.size()));
  HttpResponse tail = http_request(server_.http_port(), "GET", target, "",
                                   {{"Authorization", "Bearer " + bearer}, {"Range", "bytes=-10"}});
  EXPECT_EQ(tail.status, 206);
  EXPECT_EQ(tail.body, whole.body.substr(whole.body.size() - 10));
  HttpResponse beyond = http_request(
      server_.http_port(), "GET", target, "",
      {{"Authorization", "Bearer " + bearer},
       {"Range", "bytes=" + std::to_string(whole.body.size()) + "-"}});
  EXPECT_EQ(beyond.status, 416);
  EXPECT_EQ(get("/api/v1/tenants/acme/interactions/nope/recording", bearer).status, 404);
  add_user("acme", "1002", "agent");
  EXPECT_EQ(get(target, token("acme", "1002")).status, 403) << "agents do not hear recordings";
  add_user("beta", "lina", "supervisor");
  EXPECT_EQ(get(target, token("beta", "lina")).status, 404);

  // The caller's number: unknown at first, with the contact in its history; then named by the
  // supervisor, as the agent's screen will show it.
  const std::string customer = "/api/v1/tenants/acme/customers/5551234";
  auto before = nlohmann::json::parse(get(customer, bearer).body);
  EXPECT_EQ(before["known"], false);
  ASSERT_EQ(before["history"].size(), 1u) << before.dump(2);
  EXPECT_EQ(before["history"][0]["agent"], "1001");
  auto put = [&](const std::string& who, const std::string& body) {
    return http_request(server_.http_port(), "PUT", customer, body,
                        {{"Authorization", "Bearer " + who}});
  };
  EXPECT_EQ(put(bearer, R"({"name": "Maryam", "notes": "called about an order", "tags": ["vip"]})")
                .status,
            200);
  auto after = nlohmann::json::parse(get(customer, bearer).body);
  EXPECT_EQ(after["known"], true);
  EXPECT_EQ(after["name"], "Maryam");
  EXPECT_EQ(after["tags"], nlohmann::json::array({"vip"}));
  EXPECT_EQ(after["updated_by"], "sara");
  HttpResponse bad_tags = put(bearer, R"({"tags": ["two\nlines"]})");
  EXPECT_EQ(bad_tags.status, 400);
  EXPECT_EQ(nlohmann::json::parse(bad_tags.body)["field"], "tags");
  HttpResponse bad_number = get("/api/v1/tenants/acme/customers/abc", bearer);
  EXPECT_EQ(bad_number.status, 400);
  add_user("acme", "ana", "analyst");
  EXPECT_EQ(put(token("acme", "ana"), R"({"name": "x"})").status, 403) << "analysts only read";
  EXPECT_EQ(get(customer, token("acme", "ana")).status, 200);
  EXPECT_EQ(get("/api/v1/tenants/beta/customers/5551234", token("beta", "lina")).status, 200)
      << "beta's own (empty) view of the number";
  auto at_beta = nlohmann::json::parse(
      get("/api/v1/tenants/beta/customers/5551234", token("beta", "lina")).body);
  EXPECT_EQ(at_beta["known"], false) << "acme's customer is not beta's";
  EXPECT_TRUE(at_beta["history"].empty()) << "nor are acme's contacts";
}

// Managers make the tenant's users through the API; bad input names the field; the list never
// shows a password hash; the new user can sign in.
TEST_F(ApiTest, ManagersMakeUsers) {
  add_user("acme", "boss", "manager");
  add_user("", "root", "admin");
  const std::string boss = token("acme", "boss");
  auto post = [&](const std::string& bearer, const std::string& body) {
    return http_request(server_.http_port(), "POST", "/api/v1/tenants/acme/users", body,
                        {{"Authorization", "Bearer " + bearer}});
  };
  HttpResponse made = post(
      boss, R"({"username": "layla", "role": "agent", "password": "layla-password", "name": "L"})");
  ASSERT_EQ(made.status, 201) << made.body;
  EXPECT_EQ(post(boss, R"({"username": "layla", "role": "agent", "password": "pass-word"})").status,
            409);
  struct Bad {
    std::string body;
    int status;
    std::string field;
  };
  for (const Bad& b : std::vector<Bad>{
           {R"({"username": "x y", "role": "agent", "password": "long-enough"})", 400, "username"},
           {R"({"username": "xy", "role": "boss", "password": "long-enough"})", 400, "role"},
           {R"({"username": "xy", "role": "admin", "password": "long-enough"})", 400, "role"},
           {R"({"username": "xy", "role": "agent", "password": "short"})", 400, "password"},
           {R"({"username": "xy", "role": "agent"})", 400, "password"},
           {R"({"username": 5, "role": "agent", "password": "long-enough"})", 400, "username"},
       }) {
    HttpResponse r = post(boss, b.body);
    EXPECT_EQ(r.status, b.status) << b.body << " -> " << r.body;
    if (r.status == 400) {
      EXPECT_EQ(nlohmann::json::parse(r.body)["field"], b.field) << b.body;
    }
  }
  EXPECT_EQ(post(boss, R"({"username": "m2", "role": "manager", "password": "long-enough"})").status,
            403)
      << "only an admin makes managers";
  const std::string root = token("", "root");
  EXPECT_EQ(post(root, R"({"username": "m2", "role": "manager", "password": "long-enough"})").status,
            201);
  auto list = get("/api/v1/tenants/acme/users", boss);
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body.find("argon2"), std::string::npos) << "no hashes in a list";
  auto users = nlohmann::json::parse(list.body)["users"];
  std::vector<std::string> names;
  for (const auto& u : users) names.push_back(u["username"]);
  EXPECT_EQ(names, (std::vector<std::string>{"boss", "layla", "m2"}));
  EXPECT_EQ(login("acme", "layla", "layla-password").status, 200) << "the new user signs in";
}

// Agents set their own status (an agent user's name is the extension); supervisors set anyone's
// in their tenant, with a break reason of the tenant; the live view shows it at once.
TEST_F(ApiTest, AgentsSetTheirOwnStatusSupervisorsAnyones) {
  add_user("acme", "1001", "agent");
  add_user("acme", "sara", "supervisor");
  add_user("beta", "lina", "supervisor");
  const std::string agent = token("acme", "1001");
  const std::string sara = token("acme", "sara");
  const std::string lina = token("beta", "lina");
  auto put = [&](const std::string& bearer, const std::string& ext, const std::string& body) {
    return http_request(server_.http_port(), "PUT",
                        "/api/v1/tenants/acme/agents/" + ext + "/status", body,
                        {{"Authorization", "Bearer " + bearer}});
  };
  auto status_of = [&](const std::string& ext) {
    auto live = nlohmann::json::parse(get("/api/v1/tenants/acme/live", sara).body);
    for (const auto& a : live["agents"]) {
      if (a["extension"] == ext) {
        return a["status"].get<std::string>() + "/" + a["reason"].get<std::string>();
      }
    }
    return std::string("none");
  };
  EXPECT_EQ(put(agent, "1001", R"({"status": "available"})").status, 200);
  EXPECT_EQ(status_of("1001"), "available/");
  HttpResponse not_own = put(agent, "1002", R"({"status": "available"})");
  EXPECT_EQ(not_own.status, 403) << not_own.body;
  EXPECT_EQ(status_of("1002"), "logged-out/");

  EXPECT_EQ(put(sara, "1002", R"({"status": "break", "reason": "lunch"})").status, 200);
  EXPECT_EQ(status_of("1002"), "break/lunch");
  HttpResponse bad_reason = put(sara, "1002", R"({"status": "break", "reason": "nap"})");
  EXPECT_EQ(bad_reason.status, 400) << bad_reason.body;
  EXPECT_EQ(nlohmann::json::parse(bad_reason.body)["field"], "reason");
  HttpResponse bad_status = put(sara, "1002", R"({"status": "gone"})");
  EXPECT_EQ(bad_status.status, 400);
  EXPECT_EQ(nlohmann::json::parse(bad_status.body)["field"], "status");
  EXPECT_EQ(put(sara, "1002", "[1, 2]").status, 400);
  EXPECT_EQ(put(sara, "1099", R"({"status": "available"})").status, 404);
  EXPECT_EQ(put(lina, "1001", R"({"status": "logged-out"})").status, 404)
      << "beta's supervisor does not see acme";
  EXPECT_EQ(status_of("1001"), "available/");
  // The changes are in the agent event log with their reasons.
  auto events = server_.records("agent-events", "acme");
  bool lunch = false;
  for (const auto& e : events) lunch = lunch || (e["agent"] == "1002" && e["reason"] == "lunch");
  EXPECT_TRUE(lunch) << events.dump(2);
}

// The live stream and the agent's desktop over one contact: a supervisor's stream sees the queue,
// the offer, the conversation, hold, the end and the wrap-up; the agent's own stream its own
// contact; another agent's stream nothing of it; another tenant's nothing at all. The agent holds,
// resumes and hangs up from the API (on the server's legs: the phone is hung up), then wraps up
// with a disposition the record keeps.
TEST_F(ApiTest, StreamAndDesktopFollowAContact) {
  add_user("acme", "sara", "supervisor");
  add_user("acme", "1001", "agent");
  add_user("acme", "1002", "agent");
  add_user("beta", "lina", "supervisor");
  const std::string sup = token("acme", "sara"), agent = token("acme", "1001"),
                    other = token("acme", "1002"), beta = token("beta", "lina");
  auto bearer = [](const std::string& t) {
    return std::map<std::string, std::string>{{"Authorization", "Bearer " + t}};
  };
  const uint16_t port = server_.http_port();
  {  // the policy applies before the upgrade
    test::WsClient nobody, stranger, forged, plain;
    EXPECT_EQ(nobody.open(port, "/api/v1/tenants/acme/stream", {}), 401);
    EXPECT_EQ(stranger.open(port, "/api/v1/tenants/acme/stream", bearer(beta)), 404);
    auto evil = bearer(sup);
    evil["Origin"] = "http://evil.example";
    EXPECT_EQ(forged.open(port, "/api/v1/tenants/acme/stream", evil), 403);
    EXPECT_EQ(get("/api/v1/tenants/acme/stream", sup).status, 426) << "not an upgrade";
  }
  test::WsClient wall, desk, desk2, beta_wall;
  ASSERT_EQ(wall.open(port, "/api/v1/tenants/acme/stream", bearer(sup)), 101);
  ASSERT_EQ(desk.open(port, "/api/v1/stream", bearer(agent)), 101) << "the user's own tenant";
  ASSERT_EQ(desk2.open(port, "/api/v1/tenants/acme/stream", bearer(other)), 101);
  ASSERT_EQ(beta_wall.open(port, "/api/v1/tenants/beta/stream", bearer(beta)), 101);
  desk.send({{"subscribe", "agents"}});
  auto refused = desk.next("error");
  ASSERT_TRUE(refused.has_value());
  for (test::WsClient* ws : {&wall, &desk, &desk2, &beta_wall}) {
    ws->send({{"subscribe", {"agents", "queues", "contacts"}}});
    ASSERT_TRUE(ws->next("subscribed").has_value());
  }

  test::AgentPhone phone(server_.port(), "acme.test");
  ASSERT_EQ(phone.register_as("1001", "acme1001"), 200);
  ASSERT_EQ(phone.dial("*11"), 200);
  auto mine = [](const std::string& ext) {
    return [ext](const nlohmann::json& j) {
      return j.value("type", "") == "agent" && j["agent"]["extension"] == ext;
    };
  };
  auto seen = wall.next_matching(mine("1001"), 2s);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ((*seen)["agent"]["status"], "available");
  ASSERT_TRUE(desk.next_matching(mine("1001"), 2s).has_value()) << "the agent sees itself";
  auto queue = wall.next_matching(
      [](const nlohmann::json& j) {
        return j.value("type", "") == "queue" && j["queue"]["id"] == "linear" &&
               j["queue"]["agents_available"] == 1;
      },
      2s);
  ASSERT_TRUE(queue.has_value()) << "the queue's figures follow the agent";

  test::Caller caller;
  ASSERT_EQ(caller.call(server_.port(), "100", "stream-1"), 200);
  auto offer = phone.await_invite(5s);
  ASSERT_TRUE(offer.has_value()) << server_.log();
  auto offered = desk.next("contact", "offered");
  ASSERT_TRUE(offered.has_value());
  const nlohmann::json contact = (*offered)["contact"];
  EXPECT_EQ(contact["agent"], "1001");
  EXPECT_EQ(contact["queue"], "linear");
  EXPECT_FALSE(contact["caller"].get<std::string>().empty());
  ASSERT_TRUE(wall.next("contact", "queued").has_value());
  ASSERT_TRUE(wall.next("contact", "offered").has_value());
  const std::string base = "/api/v1/tenants/acme/agents/1001/contact";
  auto desk_view = nlohmann::json::parse(get(base, agent).body);
  EXPECT_EQ(desk_view["state"], "ringing");
  EXPECT_EQ(desk_view["id"], contact["id"]);
  EXPECT_EQ(desk_view["script"], "Greet the caller by name.");
  EXPECT_EQ(desk_view["dispositions"], nlohmann::json::array({"sale", "no sale"}));
  EXPECT_EQ(get(base, other).status, 403) << "another agent's contact";
  EXPECT_EQ(get(base, beta).status, 404);

  phone.answer(*offer);
  ASSERT_TRUE(desk.next("contact", "connected").has_value());
  ASSERT_TRUE(wall.next("contact", "connected").has_value());
  {  // the live view lists the contact; an agent's view has the queues, itself and its own
    auto all = nlohmann::json::parse(get("/api/v1/tenants/acme/live", sup).body);
    ASSERT_EQ(all["contacts"].size(), 1u) << all.dump(2);
    EXPECT_EQ(all["contacts"][0]["state"], "connected");
    EXPECT_EQ(all["contacts"][0]["agent"], "1001");
    EXPECT_GE(all["agents"].size(), 2u);
    auto own = nlohmann::json::parse(get("/api/v1/tenants/acme/live", agent).body);
    ASSERT_EQ(own["agents"].size(), 1u) << own.dump(2);
    EXPECT_EQ(own["agents"][0]["extension"], "1001");
    EXPECT_EQ(own["contacts"].size(), 1u);
    EXPECT_FALSE(own["queues"].empty());
    auto theirs = nlohmann::json::parse(get("/api/v1/tenants/acme/live", other).body);
    ASSERT_EQ(theirs["agents"].size(), 1u);
    EXPECT_EQ(theirs["agents"][0]["extension"], "1002");
    EXPECT_TRUE(theirs["contacts"].empty()) << "not 1001's contact";
  }
  auto post = [&](const std::string& action, const std::string& who, const std::string& body = "") {
    return http_request(port, "POST", base + "/" + action, body, bearer(who));
  };
  EXPECT_EQ(post("wrapup", agent, R"({"disposition": "sale"})").status, 409) << "still talking";
  ASSERT_EQ(post("hold", agent).status, 200);
  ASSERT_TRUE(wall.next("contact", "held").has_value());
  EXPECT_EQ(nlohmann::json::parse(get(base, agent).body)["state"], "held");
  EXPECT_EQ(post("hold", agent).status, 409) << "already on hold";
  ASSERT_EQ(post("resume", agent).status, 200);
  ASSERT_TRUE(desk.next("contact", "resumed").has_value());
  HttpResponse bad_to = post("transfer", agent, R"({"to": "nowhere-at-all"})");
  EXPECT_EQ(bad_to.status, 400);
  EXPECT_EQ(nlohmann::json::parse(bad_to.body)["field"], "to");
  EXPECT_EQ(post("hangup", other).status, 403);

  ASSERT_EQ(post("hangup", agent).status, 200) << server_.log();
  EXPECT_TRUE(phone.await_hangup(5s).has_value()) << "the server hangs up the agent's phone";
  auto ended = wall.next("contact", "ended");
  ASSERT_TRUE(ended.has_value());
  EXPECT_EQ((*ended)["contact"]["result"], "answered");
  EXPECT_EQ(nlohmann::json::parse(get(base, agent).body)["state"], "wrap-up");
  HttpResponse bad_code = post("wrapup", agent, R"({"disposition": "maybe"})");
  EXPECT_EQ(bad_code.status, 400);
  EXPECT_EQ(nlohmann::json::parse(bad_code.body)["field"], "disposition");
  ASSERT_EQ(post("wrapup", agent, R"({"disposition": "sale", "notes": "two boxes"})").status, 200);
  auto wrapped = wall.next("contact", "wrapped-up");
  ASSERT_TRUE(wrapped.has_value());
  EXPECT_EQ((*wrapped)["contact"]["disposition"], "sale");
  EXPECT_EQ(get(base, agent).status, 404) << "nothing left on the desk";

  // The record carries the wrap-up (written after the record, in order).
  nlohmann::json rec;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  do {
    rec = nlohmann::json::parse(get("/api/v1/tenants/acme/interactions", sup).body);
  } while ((rec["interactions"].empty() || rec["interactions"][0]["disposition"] == "") &&
           std::chrono::steady_clock::now() < deadline);
  ASSERT_EQ(rec["interactions"].size(), 1u);
  EXPECT_EQ(rec["interactions"][0]["disposition"], "sale");
  EXPECT_EQ(rec["interactions"][0]["wrapup_notes"], "two boxes");
  EXPECT_EQ(rec["interactions"][0]["wrapped_up_by"], "1001");
  EXPECT_EQ(rec["interactions"][0]["hold_count"], 1) << "held once, from the desktop";
  auto today = nlohmann::json::parse(get("/api/v1/tenants/acme/agents/1001/today", agent).body);
  EXPECT_EQ(today["answered"], 1);

  // 1002's stream: the queues, never 1001 or its contact; beta's: nothing of acme. A last change
  // of each one's own marks the end of what they received.
  ASSERT_EQ(http_request(port, "PUT", "/api/v1/tenants/acme/agents/1002/status",
                         R"({"status": "available"})", bearer(other))
                .status,
            200);
  ASSERT_TRUE(desk2.next_matching(mine("1002"), 2s).has_value());
  bool queues_seen = false;
  for (const nlohmann::json& j : desk2.received()) {
    EXPECT_NE(j.value("type", ""), "contact") << j.dump();
    if (j.value("type", "") == "agent") {
      EXPECT_EQ(j["agent"]["extension"], "1002") << j.dump();
    }
    queues_seen = queues_seen || j.value("type", "") == "queue";
  }
  EXPECT_TRUE(queues_seen);
  ASSERT_EQ(http_request(port, "PUT", "/api/v1/tenants/beta/agents/1001/status",
                         R"({"status": "available"})", bearer(beta))
                .status,
            200);
  ASSERT_TRUE(beta_wall.next_matching(mine("1001"), 2s).has_value());
  for (const nlohmann::json& j : beta_wall.received()) {
    EXPECT_NE(j.value("tenant", "beta"), "acme") << j.dump();
  }
}

// A transfer from the desktop: the caller goes to another agent's phone; the first agent wraps up.
TEST_F(ApiTest, DesktopTransfersToAnotherAgent) {
  add_user("acme", "1001", "agent");
  const std::string agent = token("acme", "1001");
  test::AgentPhone first(server_.port(), "acme.test"), second(server_.port(), "acme.test");
  ASSERT_EQ(first.register_as("1001", "acme1001"), 200);
  ASSERT_EQ(first.dial("*11"), 200);
  ASSERT_EQ(second.register_as("1002", "acme1002"), 200);
  test::Caller caller;
  ASSERT_EQ(caller.call(server_.port(), "100", "transfer-1"), 200);
  auto offer = first.await_invite(5s);
  ASSERT_TRUE(offer.has_value()) << server_.log();
  first.answer(*offer);
  ASSERT_NE(server_.wait_log({"connected", "agent=1001"}), "");
  const std::string base = "/api/v1/tenants/acme/agents/1001/contact";
  HttpResponse moved = http_request(server_.http_port(), "POST", base + "/transfer",
                                    R"({"to": "1002"})", {{"Authorization", "Bearer " + agent}});
  ASSERT_EQ(moved.status, 200) << moved.body;
  EXPECT_TRUE(first.await_hangup(5s).has_value()) << "the first agent is released";
  auto ring = second.await_invite(5s);
  ASSERT_TRUE(ring.has_value()) << server_.log();
  second.answer(*ring);
  EXPECT_EQ(nlohmann::json::parse(
                http_request(server_.http_port(), "GET", base, "",
                             {{"Authorization", "Bearer " + agent}})
                    .body)["state"],
            "wrap-up");
  EXPECT_EQ(caller.hang_up(server_.port(), "100"), 200);
  auto records = server_.wait_records(1);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0]["transfers"], 1) << records.dump(2);
  EXPECT_EQ(records[0]["agent"], "1002") << records.dump(2);
}


// Managers disable users and reset passwords (sessions end at once) and revoke integration tokens.
TEST_F(ApiTest, UsersAreDisabledAndTokensRevoked) {
  add_user("acme", "boss", "manager");
  add_user("acme", "sara", "supervisor");
  add_user("acme", "mina", "manager");
  const std::string boss = token("acme", "boss");
  const std::string sara = token("acme", "sara");
  auto call = [&](const std::string& method, const std::string& target, const std::string& who,
                  const std::string& body = "") {
    return http_request(server_.http_port(), method, target, body,
                        {{"Authorization", "Bearer " + who}});
  };
  ASSERT_EQ(get("/api/v1/me", sara).status, 200);
  HttpResponse bad = call("PUT", "/api/v1/tenants/acme/users/sara", boss, R"({"disabled": "yes"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(nlohmann::json::parse(bad.body)["field"], "disabled");
  EXPECT_EQ(call("PUT", "/api/v1/tenants/acme/users/nobody", boss, R"({"disabled": true})").status,
            404);
  EXPECT_EQ(call("PUT", "/api/v1/tenants/acme/users/mina", boss, R"({"disabled": true})").status,
            403)
      << "a manager does not change another manager";
  EXPECT_EQ(call("PUT", "/api/v1/tenants/acme/users/sara", sara, R"({"disabled": true})").status,
            403)
      << "supervisors do not manage accounts";
  ASSERT_EQ(call("PUT", "/api/v1/tenants/acme/users/sara", boss, R"({"disabled": true})").status,
            200);
  EXPECT_EQ(get("/api/v1/me", sara).status, 401) << "the session ended";
  HttpResponse refused = login("acme", "sara", "sara-password");
  EXPECT_EQ(refused.status, 401);
  EXPECT_EQ(nlohmann::json::parse(refused.body)["error"], "this account is disabled");
  ASSERT_EQ(call("PUT", "/api/v1/tenants/acme/users/sara", boss,
                 R"({"disabled": false, "password": "a-new-secret-9"})")
                .status,
            200);
  EXPECT_EQ(login("acme", "sara", "sara-password").status, 401) << "the old password";
  EXPECT_EQ(login("acme", "sara", "a-new-secret-9").status, 200);
  HttpResponse short_pw = call("PUT", "/api/v1/tenants/acme/users/sara", boss, R"({"password": "x"})");
  EXPECT_EQ(short_pw.status, 400);
  EXPECT_EQ(nlohmann::json::parse(short_pw.body)["field"], "password");

  // Tokens: listed without the secret, revoked by id; a revoked token signs in no one.
  auto made = test::run_tamas("token", {"add", "--config", kConfig, "--data-dir",
                                        server_.data_dir().string(), "--tenant", "acme",
                                        "--username", "sara", "--label", "crm"});
  ASSERT_EQ(made.status, 0) << made.err;
  const std::string crm = made.out.substr(0, made.out.find('\n'));
  ASSERT_EQ(get("/api/v1/me", crm).status, 200);
  auto list = nlohmann::json::parse(get("/api/v1/tenants/acme/tokens", boss).body);
  ASSERT_EQ(list["tokens"].size(), 1u) << list.dump(2);
  EXPECT_EQ(list["tokens"][0]["label"], "crm");
  EXPECT_EQ(list.dump().find(crm.substr(4)), std::string::npos) << "never the token itself";
  const std::string id = list["tokens"][0]["id"];
  add_user("beta", "lina", "manager");
  EXPECT_EQ(call("DELETE", "/api/v1/tenants/acme/tokens/" + id, token("beta", "lina")).status, 404);
  EXPECT_EQ(call("DELETE", "/api/v1/tenants/acme/tokens/xyz", boss).status, 400);
  ASSERT_EQ(call("DELETE", "/api/v1/tenants/acme/tokens/" + id, boss).status, 200);
  EXPECT_EQ(get("/api/v1/me", crm).status, 401) << "revoked";
  EXPECT_EQ(call("DELETE", "/api/v1/tenants/acme/tokens/" + id, boss).status, 404);
}

// A supervisor puts an agent in another queue: a caller already waiting there is offered to the
// agent at once; the change shows in the tenant's agents; bad changes name the field.
TEST_F(ApiTest, SupervisorsChangeAnAgentsQueuesLive) {
  add_user("acme", "sara", "supervisor");
  add_user("acme", "1002", "agent");
  const std::string sup = token("acme", "sara");
  auto put = [&](const std::string& who, const std::string& ext, const std::string& body) {
    return http_request(server_.http_port(), "PUT", "/api/v1/tenants/acme/agents/" + ext, body,
                        {{"Authorization", "Bearer " + who}});
  };
  test::AgentPhone phone(server_.port(), "acme.test");
  ASSERT_EQ(phone.register_as("1002", "acme1002"), 200);
  ASSERT_EQ(phone.dial("*11"), 200);
  test::Caller caller;  // 102's queue "strict" has only 1001, who is not logged in
  ASSERT_EQ(caller.call(server_.port(), "102", "live-queues-1"), 200);
  ASSERT_NE(server_.wait_log({"queued", "queue=strict"}), "") << server_.log();

  HttpResponse unknown = put(sup, "1002", R"({"queues": [{"queue": "nowhere"}]})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(nlohmann::json::parse(unknown.body)["field"], "queues");
  HttpResponse level = put(sup, "1002", R"({"skills": {"english": 11}})");
  EXPECT_EQ(level.status, 400);
  EXPECT_EQ(nlohmann::json::parse(level.body)["field"], "skills");
  EXPECT_EQ(put(sup, "9999", R"({"queues": []})").status, 404);
  EXPECT_EQ(put(token("acme", "1002"), "1002", R"({"queues": [{"queue": "strict"}]})").status, 403)
      << "agents do not choose their queues";

  HttpResponse moved = put(sup, "1002", R"({"queues": [{"queue": "linear"}, {"queue": "strict", "tier": 1}], "skills": {"farsi": 4}})");
  ASSERT_EQ(moved.status, 200) << moved.body;
  auto offer = phone.await_invite(5s);
  ASSERT_TRUE(offer.has_value()) << "the waiting caller is offered at once\n" << server_.log();
  EXPECT_NE(offer->find("X-Tamas-Queue: strict"), std::string::npos) << *offer;
  auto agents = nlohmann::json::parse(get("/api/v1/tenants/acme/agents", sup).body);
  nlohmann::json mine;
  for (const auto& a : agents["agents"]) {
    if (a["extension"] == "1002") mine = a;
  }
  EXPECT_EQ(mine["queues"], nlohmann::json::parse(R"([{"queue": "linear", "tier": 1}, {"queue": "strict", "tier": 1}])"));
  EXPECT_EQ(mine["skills"], nlohmann::json::parse(R"({"farsi": 4})"));
  phone.decline(*offer);
}

// A change to an agent's queues and capacity is kept: the same center restarted still has it.
TEST(ApiRestart, AnAgentsChangedQueuesAndCapacitySurviveARestart) {
  if (!std::filesystem::exists("/usr/bin/espeak-ng")) GTEST_SKIP() << "espeak-ng is missing";
  const auto dir = std::filesystem::temp_directory_path() /
                   ("tamas-restart-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto add = test::run_tamas("user", {"add", "--config", kConfig, "--data-dir", dir.string(),
                                      "--tenant", "acme", "--username", "sara", "--role",
                                      "supervisor"},
                             "sara-password\n");
  ASSERT_EQ(add.status, 0) << add.err;
  auto sign_in = [](uint16_t port) {
    auto r = http_request(port, "POST", "/api/v1/auth/login",
                          R"({"tenant": "acme", "username": "sara", "password": "sara-password"})");
    return nlohmann::json::parse(r.body, nullptr, false).value("token", "");
  };
  auto setup_of = [](uint16_t port, const std::string& token, const std::string& ext) {
    auto r = http_request(port, "GET", "/api/v1/tenants/acme/agents", "",
                          {{"Authorization", "Bearer " + token}});
    const auto all = nlohmann::json::parse(r.body, nullptr, false);
    nlohmann::json setup;
    for (const auto& a : all.value("agents", nlohmann::json::array())) {
      if (a["extension"] == ext) setup = a;
    }
    return setup;
  };
  {
    test::ServeProcess first(kConfig, dir);
    ASSERT_TRUE(first.ready()) << first.log();
    const std::string token = sign_in(first.http_port());
    HttpResponse put = http_request(first.http_port(), "PUT", "/api/v1/tenants/acme/agents/1002",
                                    R"({"queues": [{"queue": "strict", "tier": 2}], "capacity": {"chat": 3}})",
                                    {{"Authorization", "Bearer " + token}});
    ASSERT_EQ(put.status, 200) << put.body;
  }
  test::ServeProcess second(kConfig, dir);
  ASSERT_TRUE(second.ready()) << second.log();
  const auto kept = setup_of(second.http_port(), sign_in(second.http_port()), "1002");
  EXPECT_EQ(kept["queues"], nlohmann::json::parse(R"([{"queue": "strict", "tier": 2}])"))
      << second.log();
  EXPECT_EQ(kept["capacity"]["chat"], 3) << kept.dump(2);
  std::filesystem::remove_all(dir);
}

// A manager uploads a flow: checked with the whole configuration (errors name the line and the
// field of the upload), kept under the data folder and in use for the next call at once; removing
// it brings back the file's own flow of that name.
TEST_F(ApiTest, FlowsAreUploadedCheckedAndApplied) {
  add_user("acme", "boss", "manager");
  add_user("acme", "sara", "supervisor");
  const std::string boss = token("acme", "boss");
  auto put = [&](const std::string& target, const std::string& body, const std::string& who) {
    return http_request(server_.http_port(), "PUT", target, body, {{"Authorization", "Bearer " + who}});
  };
  const std::string flow = "/api/v1/tenants/acme/flows/linear";
  // Line 3 names a node that does not exist.
  HttpResponse bad = put(flow, "start: hello\nnodes:\n  hello: {play: hello, next: nowhere}\n", boss);
  ASSERT_EQ(bad.status, 400) << bad.body;
  auto why = nlohmann::json::parse(bad.body);
  EXPECT_EQ(why["line"], 3) << bad.body;
  EXPECT_EQ(why["field"], "nodes.hello.next") << bad.body;
  HttpResponse syntax = put(flow, "start: hello\nnodes: [\n", boss);
  ASSERT_EQ(syntax.status, 400);
  EXPECT_NE(nlohmann::json::parse(syntax.body)["error"].get<std::string>().find("YAML syntax"),
            std::string::npos)
      << syntax.body;
  EXPECT_EQ(put(flow, "start: x\n", token("acme", "sara")).status, 403) << "supervisors do not";
  EXPECT_EQ(put("/api/v1/tenants/acme/flows/Bad.Name", "start: x\n", boss).status, 400);

  const std::string to_strict = "start: hello\nnodes:\n  hello: {play: hello, next: wait}\n"
                                "  wait: {queue: strict}\n";
  HttpResponse checked = put(flow + "?check=true", to_strict, boss);
  ASSERT_EQ(checked.status, 200) << checked.body;
  EXPECT_EQ(nlohmann::json::parse(checked.body)["kept"], false);
  HttpResponse kept = put(flow, to_strict, boss);
  ASSERT_EQ(kept.status, 200) << kept.body << server_.log();
  EXPECT_TRUE(std::filesystem::exists(server_.data_dir() / "flows" / "acme" / "linear.yaml"));
  auto flows = nlohmann::json::parse(get("/api/v1/tenants/acme/flows", boss).body);
  bool uploaded = false;
  for (const auto& f : flows["flows"]) uploaded = uploaded || (f["name"] == "linear" && f["uploaded"] == true);
  EXPECT_TRUE(uploaded) << flows.dump(2);

  test::Caller first;  // 100 runs the uploaded flow: into the strict queue
  ASSERT_EQ(first.call(server_.port(), "100", "flow-upload-1"), 200);
  ASSERT_NE(server_.wait_log({"queued", "queue=strict"}), "") << server_.log();
  EXPECT_EQ(first.hang_up(server_.port(), "100"), 200);

  HttpResponse removed = http_request(server_.http_port(), "DELETE", flow, "",
                                      {{"Authorization", "Bearer " + boss}});
  ASSERT_EQ(removed.status, 200) << removed.body;
  EXPECT_EQ(http_request(server_.http_port(), "DELETE", flow, "", {{"Authorization", "Bearer " + boss}})
                .status,
            404);
  test::Caller second;  // the file's own flow again: the linear queue
  ASSERT_EQ(second.call(server_.port(), "100", "flow-upload-2"), 200);
  ASSERT_NE(server_.wait_log({"queued", "queue=linear"}), "") << server_.log();
  EXPECT_EQ(second.hang_up(server_.port(), "100"), 200);

  // Business hours the same way: a calendar, checked, kept, listed.
  const std::string office = "/api/v1/tenants/acme/calendars/office";
  HttpResponse bad_hours = put(office, "zone: Asia/Tehran\nhours:\n  sat-wed: \"08:00-25:00\"\n", boss);
  ASSERT_EQ(bad_hours.status, 400) << bad_hours.body;
  auto hours_why = nlohmann::json::parse(bad_hours.body);
  EXPECT_EQ(hours_why["line"], 3) << bad_hours.body;
  EXPECT_EQ(hours_why["field"], "hours.sat-wed") << bad_hours.body;
  ASSERT_EQ(put(office, "zone: Asia/Tehran\nhours:\n  sat-wed: \"08:00-16:00\"\n", boss).status, 200);
  auto calendars = nlohmann::json::parse(get("/api/v1/tenants/acme/calendars", boss).body);
  ASSERT_EQ(calendars["calendars"].size(), 1u) << calendars.dump(2);
  EXPECT_EQ(calendars["calendars"][0]["zone"], "Asia/Tehran");
  EXPECT_EQ(calendars["calendars"][0]["uploaded"], true);

  // And a number: 105 now reaches the "direct" flow (straight into the linear queue).
  HttpResponse nowhere = put("/api/v1/tenants/acme/numbers/105", "flow: nowhere\n", boss);
  ASSERT_EQ(nowhere.status, 400) << nowhere.body;
  EXPECT_EQ(nlohmann::json::parse(nowhere.body)["error"], "no flow 'nowhere' in tenant 'acme'");
  EXPECT_EQ(nlohmann::json::parse(nowhere.body)["line"], 1);
  ASSERT_EQ(put("/api/v1/tenants/acme/numbers/105", "flow: direct\n", boss).status, 200);
  auto numbers = nlohmann::json::parse(get("/api/v1/tenants/acme/numbers", boss).body);
  bool listed = false;
  for (const auto& n : numbers["numbers"]) listed = listed || (n["name"] == "105" && n["uploaded"] == true);
  EXPECT_TRUE(listed) << numbers.dump(2);
  test::Caller third;
  ASSERT_EQ(third.call(server_.port(), "105", "number-upload-1"), 200);
  ASSERT_NE(server_.wait_log({"queued", "queue=linear"}, std::chrono::seconds(10), 2), "")
      << server_.log();
  EXPECT_EQ(third.hang_up(server_.port(), "105"), 200);
}

// A manager changes a queue's settings through the API: checked (errors name the key and the line
// of the body), kept under the data folder, and in effect at once — a caller waiting for a skill
// no agent has is offered as soon as the queue no longer asks for it. A queue made through the API
// is removed only once no agent is in it.
TEST_F(ApiTest, QueuesAreChangedLiveKeptAndRemoved) {
  add_user("acme", "boss", "manager");
  add_user("acme", "sara", "supervisor");
  const std::string boss = token("acme", "boss");
  auto queue_of = [&](const std::string& id) {
    const auto all = nlohmann::json::parse(get("/api/v1/tenants/acme/queues", boss).body);
    for (const auto& q : all["queues"]) {
      if (q["id"] == id) return q;
    }
    return nlohmann::json();
  };
  const std::string linear = "/api/v1/tenants/acme/queues/linear";

  HttpResponse bad = call_as("PUT", linear, "{\"strategy\": \"linear\",\n \"sl_target\": 0}", boss);
  ASSERT_EQ(bad.status, 400) << bad.body;
  auto why = nlohmann::json::parse(bad.body);
  EXPECT_EQ(why["field"], "sl_target") << bad.body;
  EXPECT_EQ(why["line"], 2) << bad.body;
  HttpResponse strategy = call_as("PUT", linear, R"({"strategy": "fastest"})", boss);
  ASSERT_EQ(strategy.status, 400);
  EXPECT_EQ(nlohmann::json::parse(strategy.body)["field"], "strategy");
  EXPECT_EQ(call_as("PUT", linear, R"({"sl_target": 90})", token("acme", "sara")).status, 403)
      << "supervisors do not change queues";
  EXPECT_EQ(call_as("PUT", "/api/v1/tenants/acme/queues/Bad.Name", "{}", boss).status, 400);
  HttpResponse stray = call_as("PUT", linear, R"({"colour": "red"})", boss);
  ASSERT_EQ(stray.status, 400);
  EXPECT_EQ(nlohmann::json::parse(stray.body)["field"], "colour") << stray.body;
  EXPECT_EQ(queue_of("linear")["customized"], nlohmann::json::array()) << "nothing kept yet";

  // The linear queue asks for Farsi, which no agent has: a caller waits although 1002 is free.
  ASSERT_EQ(call_as("PUT", linear, R"({"skills": {"farsi": 5}, "sl_target": 95})", boss).status, 200);
  EXPECT_TRUE(std::filesystem::exists(server_.data_dir() / "queues" / "acme" / "linear.yaml"));
  const auto changed = queue_of("linear");
  EXPECT_EQ(changed["settings"]["sl_target"], 95) << changed.dump(2);
  EXPECT_EQ(changed["settings"]["skills"], nlohmann::json::parse(R"({"farsi": 5})"));
  EXPECT_EQ(changed["settings"]["strategy"], "linear") << "the file's keys stay";
  EXPECT_EQ(changed["customized"], nlohmann::json::parse(R"(["skills", "sl_target"])"));
  EXPECT_EQ(changed["added"], false);
  add_user("acme", "1002", "agent");
  test::AgentPhone phone(server_.port(), "acme.test");
  ASSERT_EQ(phone.register_as("1002", "acme1002"), 200);
  ASSERT_EQ(phone.dial("*11"), 200);
  test::Caller caller;
  ASSERT_EQ(caller.call(server_.port(), "103", "queue-settings-1"), 200);
  ASSERT_NE(server_.wait_log({"queued", "queue=linear"}), "") << server_.log();
  auto live = nlohmann::json::parse(get("/api/v1/tenants/acme/live", boss).body);
  for (const auto& q : live["queues"]) {
    if (q["id"] == "linear") {
      EXPECT_EQ(q["waiting"], 1) << "not offered: no agent speaks Farsi";
    }
  }

  // The skill is no longer asked for: the waiting caller is offered to 1002 at once.
  ASSERT_EQ(call_as("PUT", linear, R"({"sl_target": 95})", boss).status, 200);
  auto offer = phone.await_invite(5s);
  ASSERT_TRUE(offer.has_value()) << "offered at once\n" << server_.log();
  EXPECT_NE(offer->find("X-Tamas-Queue: linear"), std::string::npos) << *offer;
  EXPECT_EQ(queue_of("linear")["settings"]["skills"], nlohmann::json::object());
  phone.decline(*offer);
  EXPECT_EQ(caller.hang_up(server_.port(), "103"), 200);
  ASSERT_EQ(call_as("DELETE", linear, "", boss).status, 200);
  EXPECT_EQ(queue_of("linear")["settings"]["sl_target"], 80) << "the file's again";
  EXPECT_EQ(call_as("DELETE", linear, "", boss).status, 404);

  // A new queue; an agent put in it keeps it from being removed.
  const std::string vip = "/api/v1/tenants/acme/queues/vip";
  ASSERT_EQ(call_as("PUT", vip, "strategy: round-robin\nring_timeout: 4\n", boss).status, 200);
  EXPECT_EQ(queue_of("vip")["added"], true);
  EXPECT_EQ(queue_of("vip")["settings"]["ring_timeout"], 4);
  const std::string agent = "/api/v1/tenants/acme/agents/1002";
  ASSERT_EQ(call_as("PUT", agent, R"({"queues": [{"queue": "vip"}]})", boss).status, 200);
  HttpResponse busy = call_as("DELETE", vip, "", boss);
  EXPECT_EQ(busy.status, 409) << busy.body;
  EXPECT_NE(busy.body.find("1002"), std::string::npos) << busy.body;
  ASSERT_EQ(call_as("PUT", agent, R"({"queues": [{"queue": "linear"}]})", boss).status, 200);
  // A flow that sends callers to it keeps it too; the error names the flow, not a server path.
  const std::string to_vip = "/api/v1/tenants/acme/flows/to-vip";
  ASSERT_EQ(call_as("PUT", to_vip, "start: q\nnodes: {q: {queue: vip}}\n", boss).status, 200);
  HttpResponse needed = call_as("DELETE", vip, "", boss);
  EXPECT_EQ(needed.status, 400) << needed.body;
  EXPECT_NE(needed.body.find("flows/acme/to-vip.yaml"), std::string::npos) << needed.body;
  EXPECT_EQ(needed.body.find(server_.data_dir().string()), std::string::npos) << needed.body;
  ASSERT_EQ(call_as("DELETE", to_vip, "", boss).status, 200);
  ASSERT_EQ(call_as("DELETE", vip, "", boss).status, 200);
  EXPECT_TRUE(queue_of("vip").is_null());
  auto live_after = nlohmann::json::parse(get("/api/v1/tenants/acme/live", boss).body);
  for (const auto& q : live_after["queues"]) EXPECT_NE(q["id"], "vip") << "dropped from the router's view";

  // An agent's capacity per channel.
  HttpResponse fax = call_as("PUT", agent, R"({"capacity": {"fax": 1}})", boss);
  EXPECT_EQ(fax.status, 400);
  EXPECT_EQ(nlohmann::json::parse(fax.body)["field"], "capacity.fax");
  EXPECT_EQ(call_as("PUT", agent, R"({"capacity": {"chat": 101}})", boss).status, 400);
  ASSERT_EQ(call_as("PUT", agent, R"({"capacity": {"chat": 4}})", boss).status, 200);
  auto agents = nlohmann::json::parse(get("/api/v1/tenants/acme/agents", boss).body);
  for (const auto& a : agents["agents"]) {
    if (a["extension"] == "1002") {
      EXPECT_EQ(a["capacity"], nlohmann::json::parse(
                                   R"({"voice": 1, "chat": 4, "email": 1, "sms": 2, "callback": 1})"));
    }
  }
}

// A manager makes an agent through the API: its phone registers with the SIP password given,
// logs in and is offered the queue's callers; a new password takes effect; an agent of the file
// cannot be removed, the new one can, and then no longer registers or shows.
TEST_F(ApiTest, AgentsAreMadeChangedAndRemoved) {
  add_user("acme", "boss", "manager");
  add_user("acme", "sara", "supervisor");
  const std::string boss = token("acme", "boss");
  const std::string agents = "/api/v1/tenants/acme/agents";
  auto field_of = [](const HttpResponse& r) {
    return nlohmann::json::parse(r.body, nullptr, false).value("field", "");
  };
  HttpResponse letters = call_as("POST", agents, R"({"extension": "12ab", "password": "secret-1009"})", boss);
  EXPECT_EQ(letters.status, 400);
  EXPECT_EQ(field_of(letters), "extension") << letters.body;
  HttpResponse short_pw = call_as("POST", agents, R"({"extension": "1009", "password": "short"})", boss);
  EXPECT_EQ(short_pw.status, 400);
  EXPECT_EQ(field_of(short_pw), "password") << short_pw.body;
  HttpResponse nowhere = call_as("POST", agents,
      R"({"extension": "1009", "password": "secret-1009", "queues": [{"queue": "nowhere"}]})", boss);
  EXPECT_EQ(nowhere.status, 400) << nowhere.body;
  EXPECT_NE(field_of(nowhere).find("queues"), std::string::npos) << nowhere.body;
  EXPECT_EQ(call_as("POST", agents, R"({"extension": "1009", "password": "secret-1009"})",
                    token("acme", "sara")).status, 403) << "supervisors do not make agents";
  EXPECT_EQ(call_as("POST", agents, R"({"extension": "1001", "password": "secret-1001"})", boss).status,
            409) << "1001 is the file's";

  HttpResponse made = call_as("POST", agents,
      R"({"extension": "1009", "password": "secret-1009", "name": "Nima", "queues": [{"queue": "linear"}]})",
      boss);
  ASSERT_EQ(made.status, 201) << made.body << server_.log();
  auto agent = nlohmann::json::parse(made.body);
  EXPECT_EQ(agent["added"], true);
  EXPECT_EQ(agent["name"], "Nima");
  EXPECT_EQ(agent["queues"], nlohmann::json::parse(R"([{"queue": "linear", "tier": 1}])"));
  EXPECT_TRUE(std::filesystem::exists(server_.data_dir() / "agents" / "acme" / "1009.yaml"));

  // Its phone registers with that password, logs in, and is offered the queue's caller.
  test::AgentPhone phone(server_.port(), "acme.test");
  ASSERT_EQ(phone.register_as("1009", "secret-1009"), 200) << server_.log();
  ASSERT_EQ(phone.dial("*11"), 200);
  ASSERT_NE(server_.wait_log({"agent status", "agent=1009", "code=*11"}), "") << server_.log();
  test::Caller caller;
  ASSERT_EQ(caller.call(server_.port(), "103", "made-agent-1"), 200);
  auto offer = phone.await_invite(5s);
  ASSERT_TRUE(offer.has_value()) << server_.log();
  phone.decline(*offer);
  EXPECT_EQ(caller.hang_up(server_.port(), "103"), 200);

  // A new SIP password (and name); the supervisor may not.
  EXPECT_EQ(call_as("PUT", agents + "/1009", R"({"password": "another-pass"})", token("acme", "sara"))
                .status,
            403);
  HttpResponse changed = call_as("PUT", agents + "/1009", R"({"password": "another-pass", "name": "Nima K"})", boss);
  ASSERT_EQ(changed.status, 200) << changed.body;
  EXPECT_EQ(nlohmann::json::parse(changed.body)["name"], "Nima K");
  test::AgentPhone renewed(server_.port(), "acme.test");
  EXPECT_EQ(renewed.register_as("1009", "another-pass"), 200) << server_.log();

  EXPECT_EQ(call_as("DELETE", agents + "/1002", "", boss).status, 400) << "the file's agent";
  EXPECT_EQ(call_as("DELETE", agents + "/4444", "", boss).status, 404);
  HttpResponse removed = call_as("DELETE", agents + "/1009", "", boss);
  ASSERT_EQ(removed.status, 200) << removed.body;
  EXPECT_FALSE(std::filesystem::exists(server_.data_dir() / "agents" / "acme" / "1009.yaml"));
  auto listed = nlohmann::json::parse(call_as("GET", agents, "", boss).body);
  ASSERT_EQ(listed["agents"].size(), 2u) << listed.dump(2);  // the file's 1001 and 1002
  for (const auto& a : listed["agents"]) EXPECT_NE(a["extension"], "1009");
  auto live = nlohmann::json::parse(call_as("GET", "/api/v1/tenants/acme/live", "", boss).body);
  ASSERT_EQ(live["agents"].size(), 2u) << live.dump(2);
  for (const auto& a : live["agents"]) EXPECT_NE(a["extension"], "1009") << "gone from the live view";
  test::AgentPhone gone(server_.port(), "acme.test");
  EXPECT_NE(gone.register_as("1009", "another-pass"), 200) << "no longer an agent";
}

// A CRM's endpoint: accepts connections on 127.0.0.1, keeps each request (head and body) and
// answers 204.
class HookReceiver {
 public:
  HookReceiver() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(fd_, 16);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~HookReceiver() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  uint16_t port() const { return port_; }
  // Waits until a request's body contains `text`; returns that request ("" after `limit`).
  std::string await(const std::string& text, std::chrono::seconds limit) {
    std::unique_lock<std::mutex> lock(mu_);
    std::string found;
    cv_.wait_for(lock, limit, [&] {
      for (const std::string& r : requests_) {
        if (r.find(text, r.find("\r\n\r\n")) != std::string::npos) found = r;
      }
      return !found.empty();
    });
    return found;
  }

 private:
  void run() {
    for (;;) {
      const int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string req;
      char buf[4096];
      size_t want = std::string::npos;
      while (req.size() < want) {
        const ssize_t n = recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
        const auto end = req.find("\r\n\r\n");
        if (end != std::string::npos && want == std::string::npos) {
          auto cl = test::header_of(req.substr(0, end + 2), "Content-Length");
          want = end + 4 + (cl.empty() ? 0 : std::stoul(cl));
        }
      }
      const std::string ok = "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
      (void)!send(c, ok.data(), ok.size(), 0);
      ::close(c);
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(req);
      }
      cv_.notify_all();
    }
  }
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> requests_;
};

// A tenant's webhook hears its contacts' steps, signed with its secret; the other tenant's calls
// never reach it.
TEST(ApiWebhooks, ContactEventsArePostedSigned) {
  if (!std::filesystem::exists("/usr/bin/espeak-ng")) GTEST_SKIP() << "espeak-ng is missing";
  HookReceiver crm;
  const std::string secret = "a-webhook-secret-of-acme";
  std::ifstream in(kConfig);
  std::string yaml((std::istreambuf_iterator<char>(in)), {});
  const std::string hook = "    realm: acme.test\n    webhooks:\n      - {url: \"http://127.0.0.1:" +
                           std::to_string(crm.port()) + "/tamas\", secret: " + secret +
                           ", events: [offered, ended]}\n";
  yaml.replace(yaml.find("    realm: acme.test\n"), 21, hook);
  const auto file = std::filesystem::temp_directory_path() /
                    ("tamas-webhook-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(file) << yaml;
  test::ServeProcess server(file.string());
  ASSERT_TRUE(server.ready()) << server.log();

  test::AgentPhone phone(server.port(), "acme.test");
  ASSERT_EQ(phone.register_as("1001", "acme1001"), 200);
  ASSERT_EQ(phone.dial("*11"), 200);
  test::Caller caller;
  ASSERT_EQ(caller.call(server.port(), "100", "hook-1"), 200);
  auto offer = phone.await_invite(5s);
  ASSERT_TRUE(offer.has_value()) << server.log();
  const std::string offered = crm.await("\"event\":\"offered\"", 5s);
  ASSERT_FALSE(offered.empty()) << server.log();
  phone.answer(*offer);
  EXPECT_EQ(caller.hang_up(server.port(), "100"), 200);
  const std::string ended = crm.await("\"event\":\"ended\"", 5s);
  ASSERT_FALSE(ended.empty()) << server.log();
  std::filesystem::remove(file);

  EXPECT_EQ(ended.rfind("POST /tamas HTTP/1.1\r\n", 0), 0u) << ended;
  EXPECT_EQ(test::header_of(ended, "X-Tamas-Event"), "ended");
  const std::string body = ended.substr(ended.find("\r\n\r\n") + 4);
  const auto event = nlohmann::json::parse(body);
  EXPECT_EQ(event["tenant"], "acme");
  EXPECT_EQ(event["contact"]["result"], "answered");
  EXPECT_EQ(event["contact"]["agent"], "1001");
  const std::string stamp = test::header_of(ended, "X-Tamas-Timestamp");
  EXPECT_EQ(test::header_of(ended, "X-Tamas-Signature"),
            api::webhook_signature(secret, stamp, body));
  EXPECT_TRUE(crm.await("\"event\":\"connected\"", 0s).empty()) << "not one of its events";
}

}  // namespace
}  // namespace tamas
