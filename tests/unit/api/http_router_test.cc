// The route table and its access policy, without a network: targets, patterns, 404/405/401/403,
// tenant scope, and a walk of every route with every role and tenant.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

#include "api/http.h"

namespace tamas::api {
namespace {

// ---- roles and the error format ----

TEST(HttpRoles, NamesRoundTrip) {
  std::set<std::string_view> names;
  for (Role r : kAllRoles) {
    ASSERT_EQ(role_from(to_string(r)), r) << to_string(r);
    names.insert(to_string(r));
  }
  EXPECT_EQ(names.size(), std::size(kAllRoles)) << "every role has its own name";
  EXPECT_EQ(to_string(Role::kAdmin), "admin");
  EXPECT_EQ(role_from("Admin"), std::nullopt) << "names are exact";
  EXPECT_EQ(role_from(""), std::nullopt);
  EXPECT_EQ(role_from("root"), std::nullopt);
}

TEST(HttpJsonError, CarriesMessageAndField) {
  Response r = json_error(422, "must be a number", "max_wait");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(nlohmann::json::parse(r.body),
            (nlohmann::json{{"error", "must be a number"}, {"field", "max_wait"}}));
  EXPECT_EQ(nlohmann::json::parse(json_error(404, "not found").body),
            (nlohmann::json{{"error", "not found"}}))
      << "no field key when no field is named";
  // A message quoting a client's bad bytes must not throw (nlohmann's default dump would).
  Response bad = json_error(400, std::string("bad \xff\xfe name"));
  EXPECT_TRUE(nlohmann::json::accept(bad.body)) << bad.body;
}

// ---- request targets ----

TEST(HttpTarget, SplitsAndDecodes) {
  struct Case {
    std::string target;
    std::string path;
    std::map<std::string, std::string> query;
  };
  const Case cases[] = {
      {"/", "/", {}},
      {"/api/v1/ping", "/api/v1/ping", {}},
      {"/a%20b/c", "/a b/c", {}},
      {"/a+b", "/a+b", {}},  // '+' is only a space in the query
      {"/q?x=1&y=two", "/q", {{"x", "1"}, {"y", "two"}}},
      {"/q?name=a+b%2Bc%26d", "/q", {{"name", "a b+c&d"}}},
      {"/q?flag&empty=", "/q", {{"flag", ""}, {"empty", ""}}},
      {"/q?", "/q", {}},
      {"/q?a=1&&b=2&", "/q", {{"a", "1"}, {"b", "2"}}},
      {"/q?x=a=b", "/q", {{"x", "a=b"}}},
      {"/%D8%B3%D9%84%D8%A7%D9%85", "/\xd8\xb3\xd9\x84\xd8\xa7\xd9\x85", {}},  // UTF-8 (Persian)
      {"/a//b", "/a//b", {}},  // kept: no route matches an empty segment
  };
  for (const Case& c : cases) {
    auto t = parse_target(c.target);
    ASSERT_TRUE(t.is_ok()) << c.target << ": " << t.message();
    EXPECT_EQ(t->path, c.path) << c.target;
    EXPECT_EQ(t->query, c.query) << c.target;
  }
}

TEST(HttpTarget, RefusesBadTargets) {
  struct Case {
    std::string target;
    std::string why;  // part of the message
  };
  const Case cases[] = {
      {"", "starting with '/'"},
      {"api/v1", "starting with '/'"},
      {"http://example.com/api", "starting with '/'"},
      {"*", "starting with '/'"},
      {"/a#frag", "fragment"},
      {"/a%zz", "percent-encoding in the path"},
      {"/a%4", "percent-encoding in the path"},
      {"/a%", "percent-encoding in the path"},
      {"/a%00b", "percent-encoding in the path"},
      {"/tenants/a%2Fb/queues", "encoded '/'"},
      {"/tenants/a%2fb", "encoded '/'"},
      {"/a/../b", "'..' segments"},
      {"/a/%2E%2E/b", "'..' segments"},
      {"/a/./b", "'..' segments"},
      {"/q?x=%zz", "percent-encoding in the query"},
      {"/q?x=%00", "percent-encoding in the query"},
      {"/q?=1", "without a name"},
      {"/q?x=1&x=2", "'x' is given more than once"},
  };
  for (const Case& c : cases) {
    auto t = parse_target(c.target);
    ASSERT_FALSE(t.is_ok()) << c.target << " was accepted";
    EXPECT_NE(t.message().find(c.why), std::string::npos) << c.target << ": " << t.message();
  }
}

// ---- the route table ----

std::function<Response(const Request&)> reply(std::string text) {
  return [text](const Request&) {
    Response r;
    r.content_type = "text/plain";
    r.body = text;
    return r;
  };
}

Principal who(Role role, std::string tenant) { return {std::move(tenant), "someone", role}; }

Request request(std::string method, std::string path, std::optional<Principal> p = std::nullopt) {
  Request r;
  r.method = std::move(method);
  r.target = path;
  r.path = std::move(path);
  r.principal = std::move(p);
  return r;
}

TEST(HttpRouter, RefusesBadRoutes) {
  struct Case {
    Route route;
    std::string why;
  };
  auto route = [](std::string method, std::string pattern, Scope scope, std::vector<Role> roles) {
    return Route{std::move(method), std::move(pattern), scope, std::move(roles), reply("x"), ""};
  };
  const std::vector<Role> m = {Role::kManager};
  Route no_handler = route("GET", "/b", Scope::kServer, m);
  no_handler.handler = nullptr;
  const Case cases[] = {
      {route("get", "/a", Scope::kServer, m), "method must be one of"},
      {route("", "/a", Scope::kServer, m), "method must be one of"},
      {route("TRACE", "/a", Scope::kServer, m), "method must be one of"},
      {route("GET", "", Scope::kServer, m), "must start with '/'"},
      {route("GET", "a/b", Scope::kServer, m), "must start with '/'"},
      {route("GET", "/a//b", Scope::kServer, m), "empty segment"},
      {route("GET", "/a/", Scope::kServer, m), "empty segment"},
      {route("GET", "/a/{", Scope::kServer, m), "whole segment"},
      {route("GET", "/a/}", Scope::kServer, m), "whole segment"},
      {route("GET", "/a/{}", Scope::kServer, m), "whole segment"},
      {route("GET", "/a/{Tenant}", Scope::kServer, m), "whole segment"},
      {route("GET", "/a/{x}{y}", Scope::kServer, m), "whole segment"},
      {route("GET", "/a/x{y}", Scope::kServer, m), "whole segment"},
      {route("GET", "/a/{y}x", Scope::kServer, m), "whole segment"},
      {route("GET", "/a/{x}/{x}", Scope::kServer, m), "appears twice"},
      {route("GET", "/a?b", Scope::kServer, m), "character a literal"},
      {route("GET", "/a%20b", Scope::kServer, m), "character a literal"},
      {route("GET", "/a/../b", Scope::kServer, m), "character a literal"},
      {route("GET", "/queues/{queue}", Scope::kTenant, m), "needs a {tenant}"},
      {route("GET", "/login", Scope::kPublic, m), "lists no roles"},
      {route("GET", "/me", Scope::kServer, {}), "at least one role"},
      {route("GET", "/t/{tenant}", Scope::kTenant, {}), "at least one role"},
      {no_handler, "no handler"},
      // Already in the table below: the same method and shape, whatever the parameters' names.
      {route("GET", "/t/{tenant}/q/{queue}", Scope::kTenant, m), "the same route as"},
      {route("GET", "/t/{tenant}/q/{id}", Scope::kTenant, m), "the same route as"},
  };
  Router router;
  ASSERT_TRUE(router.add(route("GET", "/t/{tenant}/q/{queue}", Scope::kTenant, m)).is_ok());
  for (const Case& c : cases) {
    Status s = router.add(c.route);
    ASSERT_FALSE(s.is_ok()) << c.route.method << " " << c.route.pattern << " was accepted";
    EXPECT_NE(s.message().find(c.why), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(c.route.pattern), std::string::npos)
        << "the message names the route: " << s.message();
  }
  EXPECT_EQ(router.routes().size(), 1u) << "a refused route is not added";
  // Other methods, or a literal where the other has a parameter, are different routes.
  EXPECT_TRUE(router.add(route("POST", "/t/{tenant}/q/{queue}", Scope::kTenant, m)).is_ok());
  EXPECT_TRUE(router.add(route("GET", "/t/{tenant}/q/all", Scope::kTenant, m)).is_ok());
  EXPECT_TRUE(router.add(route("GET", "/", Scope::kPublic, {})).is_ok());
}

TEST(HttpRouter, MatchesParametersAndPrefersLiterals) {
  Router router;
  auto echo = [](std::string name) {
    return [name](const Request& req) {
      nlohmann::json params = req.params;
      Response r;
      r.body = nlohmann::json{{"route", name}, {"params", params}}.dump();
      return r;
    };
  };
  const std::vector<Role> any(std::begin(kAllRoles), std::end(kAllRoles));
  ASSERT_TRUE(router.add({"GET", "/", Scope::kPublic, {}, echo("root"), ""}).is_ok());
  ASSERT_TRUE(
      router.add({"GET", "/t/{tenant}/q/{queue}", Scope::kTenant, any, echo("queue"), ""}).is_ok());
  ASSERT_TRUE(
      router.add({"GET", "/t/{tenant}/q/all", Scope::kTenant, any, echo("all"), ""}).is_ok());
  ASSERT_TRUE(router.add({"GET", "/t/{x}/{y}/z", Scope::kServer, any, echo("xyz"), ""}).is_ok());

  auto call = [&](const std::string& path) {
    Request req = request("GET", path, who(Role::kAdmin, ""));
    Response r = router.dispatch(req);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    return nlohmann::json::parse(r.body);
  };
  EXPECT_EQ(call("/")["route"], "root");
  nlohmann::json q = call("/t/acme/q/sales");
  EXPECT_EQ(q["route"], "queue");
  EXPECT_EQ(q["params"], (nlohmann::json{{"tenant", "acme"}, {"queue", "sales"}}));
  EXPECT_EQ(call("/t/acme/q/all")["route"], "all") << "a literal beats a parameter";
  EXPECT_EQ(call("/t/acme/q/z")["route"], "queue") << "the leftmost difference decides";
  EXPECT_EQ(call("/t/acme/x/z")["route"], "xyz");
  EXPECT_EQ(call("/t/a b/q/\xd8\xb3")["params"]["queue"], "\xd8\xb3") << "values are decoded";

  for (const std::string path : {"/t/acme/q", "/t/acme/q/sales/x", "/t//q/sales", "/t/acme/q/",
                                 "/T/acme/q/sales", "", "t/acme/q/sales"}) {
    Request req = request("GET", path, who(Role::kAdmin, ""));
    EXPECT_EQ(router.dispatch(req).status, 404) << "'" << path << "'";
  }
}

TEST(HttpRouter, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  Router router;
  int calls = 0;
  auto count = [&calls](const Request&) {
    ++calls;
    return Response{};
  };
  ASSERT_TRUE(router.add({"GET", "/api/v1/things", Scope::kPublic, {}, count, ""}).is_ok());
  ASSERT_TRUE(router.add({"POST", "/api/v1/things", Scope::kPublic, {}, count, ""}).is_ok());
  ASSERT_TRUE(router.add({"DELETE", "/api/v1/{x}", Scope::kPublic, {}, count, ""}).is_ok());

  Request unknown = request("GET", "/api/v1/things/1");
  Response r = router.dispatch(unknown);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"], "not found");

  Request put = request("PUT", "/api/v1/things");
  r = router.dispatch(put);
  EXPECT_EQ(r.status, 405);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>{"Allow", "DELETE, GET, POST"}))
      << "every method of every pattern that matches the path, sorted";
  EXPECT_EQ(calls, 0) << "no handler ran";

  Request del = request("DELETE", "/api/v1/things");
  EXPECT_EQ(router.dispatch(del).status, 200) << "the parameter route takes the other method";
  EXPECT_EQ(calls, 1);
}

// A small table of the shape the REST API will have.
struct Sample {
  Router router;
  std::vector<int> calls;  // per route
};

std::unique_ptr<Sample> sample_table() {
  auto s = std::make_unique<Sample>();
  const std::vector<Role> all(std::begin(kAllRoles), std::end(kAllRoles));
  // clang-format off: one route per line reads as the table it is.
  const std::vector<Route> routes = {
      {"GET", "/api/health", Scope::kPublic, {}, nullptr, "liveness"},
      {"POST", "/api/v1/login", Scope::kPublic, {}, nullptr, "log in"},
      {"GET", "/api/v1/me", Scope::kServer, all, nullptr, "who am I"},
      {"GET", "/api/v1/tenants", Scope::kServer, {Role::kAdmin}, nullptr, "all tenants"},
      {"POST", "/api/v1/tenants", Scope::kServer, {Role::kAdmin}, nullptr, "create a tenant"},
      {"GET",
       "/api/v1/tenants/{tenant}",
       Scope::kTenant,
       {Role::kAdmin, Role::kManager},
       nullptr,
       "a tenant"},
      {"GET",
       "/api/v1/tenants/{tenant}/queues",
       Scope::kTenant,
       {Role::kAdmin, Role::kManager, Role::kSupervisor},
       nullptr,
       "queues"},
      {"PUT",
       "/api/v1/tenants/{tenant}/queues/{queue}",
       Scope::kTenant,
       {Role::kAdmin, Role::kManager},
       nullptr,
       "change a queue"},
      {"GET",
       "/api/v1/tenants/{tenant}/queues/{queue}/live",
       Scope::kTenant,
       {Role::kManager, Role::kSupervisor},
       nullptr,
       "a queue, live"},
      {"POST",
       "/api/v1/tenants/{tenant}/agents/{agent}/status",
       Scope::kTenant,
       {Role::kSupervisor, Role::kAgent},
       nullptr,
       "set an agent's status"},
      {"GET",
       "/api/v1/tenants/{tenant}/recordings/{id}",
       Scope::kTenant,
       {Role::kAnalyst},
       nullptr,
       "a recording"},
      {"DELETE",
       "/api/v1/tenants/{tenant}/users/{user}",
       Scope::kTenant,
       {Role::kAdmin},
       nullptr,
       "remove a user"},
  };
  // clang-format on
  s->calls.assign(routes.size(), 0);
  for (size_t i = 0; i < routes.size(); ++i) {
    Route r = routes[i];
    Sample* raw = s.get();
    r.handler = [raw, i](const Request& req) {
      ++raw->calls[i];
      Response res;
      res.body = req.method + " " + raw->router.routes()[i].pattern;
      return res;
    };
    EXPECT_TRUE(s->router.add(std::move(r)).is_ok()) << routes[i].pattern;
  }
  return s;
}

// The pattern with its parameters filled in: {tenant} -> tenant, others -> "x1".
std::string concrete(const std::string& pattern, const std::string& tenant) {
  std::string out;
  size_t i = 0;
  while (i < pattern.size()) {
    if (pattern[i] == '{') {
      const size_t end = pattern.find('}', i);
      out += pattern.substr(i + 1, end - i - 1) == "tenant" ? tenant : "x1";
      i = end + 1;
    } else {
      out += pattern[i++];
    }
  }
  return out;
}

TEST(HttpRouter, UnauthenticatedIs401AndWrongRoleIs403) {
  auto s = sample_table();
  Request anon = request("GET", "/api/v1/tenants/acme/queues");
  Response r = s->router.dispatch(anon);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"], "authentication required");

  Request agent = request("GET", "/api/v1/tenants/acme/queues", who(Role::kAgent, "acme"));
  r = s->router.dispatch(agent);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"],
            "this needs one of the roles: admin, manager, supervisor");

  Request anon_server = request("GET", "/api/v1/me");
  EXPECT_EQ(s->router.dispatch(anon_server).status, 401);
  Request manager_server = request("GET", "/api/v1/tenants", who(Role::kManager, "acme"));
  EXPECT_EQ(s->router.dispatch(manager_server).status, 403);
  Request health = request("GET", "/api/health");
  EXPECT_EQ(s->router.dispatch(health).status, 200) << "public needs no principal";
  std::vector<int> expected(s->calls.size(), 0);
  expected[0] = 1;
  EXPECT_EQ(s->calls, expected) << "only the public route's handler ran";
}

TEST(HttpRouter, TenantScope) {
  auto s = sample_table();
  const std::string path = "/api/v1/tenants/acme/queues";
  Request same = request("GET", path, who(Role::kSupervisor, "acme"));
  Response r = s->router.dispatch(same);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(same.params.at("tenant"), "acme");

  Request other = request("GET", path, who(Role::kSupervisor, "globex"));
  Response refused = s->router.dispatch(other);
  EXPECT_EQ(refused.status, 404);
  Request unknown = request("GET", "/api/v1/no/such/path", who(Role::kSupervisor, "globex"));
  Response missing = s->router.dispatch(unknown);
  EXPECT_EQ(refused.body, missing.body)
      << "another tenant looks exactly like a path that is not there";
  EXPECT_EQ(refused.headers, missing.headers);

  Request other_manager =
      request("PUT", "/api/v1/tenants/acme/queues/q1", who(Role::kManager, "globex"));
  EXPECT_EQ(s->router.dispatch(other_manager).status, 404)
      << "the tenant is checked before the role: no 403 that would tell the route applies";
  Request other_agent =
      request("PUT", "/api/v1/tenants/acme/queues/q1", who(Role::kAgent, "globex"));
  EXPECT_EQ(s->router.dispatch(other_agent).status, 404);

  Request admin = request("GET", path, who(Role::kAdmin, ""));
  EXPECT_EQ(s->router.dispatch(admin).status, 200) << "admin is server-wide";
  Request admin_elsewhere = request("GET", path, who(Role::kAdmin, "globex"));
  EXPECT_EQ(s->router.dispatch(admin_elsewhere).status, 200);
  Request admin_not_listed =
      request("GET", "/api/v1/tenants/acme/queues/q1/live", who(Role::kAdmin, ""));
  EXPECT_EQ(s->router.dispatch(admin_not_listed).status, 403)
      << "admin passes the tenant check but its role must still be listed";

  Request no_tenant = request("GET", path, who(Role::kManager, ""));
  EXPECT_EQ(s->router.dispatch(no_tenant).status, 404) << "a non-admin without a tenant has none";
}

// The central property: for every route, role and tenant, the verdict is what the route declares,
// and the handler runs exactly when the verdict is 200. The expected verdict is computed here
// from the declaration alone, independently of dispatch().
TEST(HttpRouter, EveryRouteEveryRoleEveryTenantGetsTheDeclaredVerdict) {
  auto s = sample_table();
  const std::vector<Route>& routes = s->router.routes();
  ASSERT_EQ(routes.size(), 12u);
  struct Caller {
    std::optional<Principal> principal;
    std::string label;
  };
  std::vector<Caller> callers = {{std::nullopt, "anonymous"}};
  for (Role r : kAllRoles) {
    callers.push_back({who(r, "acme"), std::string(to_string(r)) + "@acme"});
    callers.push_back({who(r, "globex"), std::string(to_string(r)) + "@globex"});
  }
  callers.push_back({who(Role::kAdmin, ""), "admin@(server)"});

  int checked = 0;
  for (size_t i = 0; i < routes.size(); ++i) {
    const Route& route = routes[i];
    for (const Caller& c : callers) {
      int expected = 200;
      if (route.scope != Scope::kPublic) {
        const bool listed = c.principal && std::count(route.roles.begin(), route.roles.end(),
                                                      c.principal->role) > 0;
        if (!c.principal) {
          expected = 401;
        } else if (route.scope == Scope::kTenant && c.principal->role != Role::kAdmin &&
                   c.principal->tenant != "acme") {
          expected = 404;
        } else if (!listed) {
          expected = 403;
        }
      }
      const std::vector<int> before = s->calls;
      Request req = request(route.method, concrete(route.pattern, "acme"), c.principal);
      Response r = s->router.dispatch(req);
      const std::string what = route.method + " " + route.pattern + " as " + c.label;
      EXPECT_EQ(r.status, expected) << what << ": " << r.body;
      std::vector<int> after = before;
      if (expected == 200) {
        ++after[i];
        EXPECT_EQ(r.body, route.method + " " + route.pattern)
            << what << ": the route's own handler";
      } else {
        EXPECT_TRUE(nlohmann::json::parse(r.body).contains("error")) << what;
      }
      EXPECT_EQ(s->calls, after) << what << ": the handler runs exactly when allowed";
      ++checked;
    }
  }
  EXPECT_EQ(checked, 12 * 12);
}

TEST(HttpRouter, ThrowingHandlerIs500WithoutDetails) {
  Router router;
  ASSERT_TRUE(router
                  .add({"GET",
                        "/boom",
                        Scope::kPublic,
                        {},
                        [](const Request&) -> Response {
                          throw std::runtime_error("secret at /home/x/db.cc:42");
                        },
                        ""})
                  .is_ok());
  Request req = request("GET", "/boom");
  Response r = router.dispatch(req);
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(nlohmann::json::parse(r.body), (nlohmann::json{{"error", "internal error"}}));
  EXPECT_EQ(r.body.find("secret"), std::string::npos);
}

TEST(HttpRouter, OpenApiListsEveryRoute) {
  auto s = sample_table();
  const nlohmann::json doc = s->router.openapi();
  EXPECT_EQ(doc["openapi"].get<std::string>().substr(0, 2), "3.");
  EXPECT_TRUE(doc["info"].contains("title"));
  size_t operations = 0;
  for (const auto& [path, ops] : doc["paths"].items()) operations += ops.size();
  EXPECT_EQ(operations, s->router.routes().size()) << "nothing more, nothing less";
  for (const Route& r : s->router.routes()) {
    std::string method = r.method;
    for (char& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    ASSERT_TRUE(doc["paths"].contains(r.pattern)) << r.pattern;
    ASSERT_TRUE(doc["paths"][r.pattern].contains(method)) << r.method << " " << r.pattern;
    const nlohmann::json& op = doc["paths"][r.pattern][method];
    EXPECT_EQ(op["summary"], r.summary);
    EXPECT_EQ(op["x-tamas-scope"], to_string(r.scope));
    std::vector<std::string> roles;
    for (Role role : r.roles) roles.emplace_back(to_string(role));
    EXPECT_EQ(op["x-tamas-roles"], nlohmann::json(roles)) << r.pattern;
    EXPECT_TRUE(op.contains("responses")) << "required by OpenAPI";
    const size_t params = static_cast<size_t>(std::count(r.pattern.begin(), r.pattern.end(), '{'));
    EXPECT_EQ(op.contains("parameters") ? op["parameters"].size() : 0u, params) << r.pattern;
  }
  const auto& p = doc["paths"]["/api/v1/tenants/{tenant}/queues/{queue}"]["put"]["parameters"];
  EXPECT_EQ(p[0]["name"], "tenant");
  EXPECT_EQ(p[1]["name"], "queue");
  EXPECT_EQ(p[1]["in"], "path");
  EXPECT_EQ(p[1]["required"], true);
}

}  // namespace
}  // namespace tamas::api
