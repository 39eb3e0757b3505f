// Tenant isolation, both ways: a key of customer A on customer B's path is 403; B's object
// ids on A's own path are 404, indistinguishable from ids that do not exist.
#include <doctest/doctest.h>

#include <algorithm>
#include <tuple>
#include <utility>

#include "tests/support/api.hpp"

using namespace hydra::test;

namespace {

/// A customer with one of everything: a connection, an instance, a grant, a second key and a
/// webhook endpoint.
struct Populated {
  Tenant tenant;
  PathIds ids;
};

Populated populate(const Stack& s, const std::string& name) {
  Populated p{s.newTenant(name), {}};
  // The same provider and name for both customers: uniqueness is per customer.
  p.ids.connection = s.createConnection(p.tenant, "gmail", "shared-name");
  p.ids.instance = s.createInstance(p.tenant);
  p.ids.grant = s.createGrant(p.tenant, p.ids.connection, p.ids.instance);
  const auto key = s.as(p.tenant, "POST", p.tenant.path() + "/api-keys", R"({"name":"second"})");
  p.ids.api_key = text(expectStatus(key, 201, "second key").json, "id");
  const auto endpoint =
      s.as(p.tenant, "POST", p.tenant.path() + "/webhook-endpoints", R"({"url":"https://example.com/hooks"})");
  p.ids.webhook_endpoint = text(expectStatus(endpoint, 201, "webhook endpoint").json, "id");
  return p;
}

std::vector<std::string> idsIn(const Response& r, const char* list) {
  std::vector<std::string> out;
  for (const auto* item : items(member(r.json, list))) out.push_back(text(*item, "id"));
  return out;
}

}  // namespace

TEST_CASE("a key of one customer on another customer's paths is 403 and changes nothing") {
  Stack s;
  const auto a = populate(s, "a");
  const auto b = populate(s, "b");
  const auto before = s.db.dump();

  for (const auto& entry : {std::make_pair(a, b), std::make_pair(b, a)}) {
    const auto& caller = std::get<0>(entry);
    const auto& owner = std::get<1>(entry);
    for (const auto& endpoint : customerEndpoints(owner.tenant.id, owner.ids)) {
      CAPTURE(caller.tenant.id);
      CAPTURE(endpoint.method);
      CAPTURE(endpoint.path);
      const auto r = s.as(caller.tenant, endpoint.method, endpoint.path, endpoint.body);
      CHECK(r.status == 403);
      CHECK_FALSE(errorDetail(r).empty());
      // The X-Api-Key header is held to the same rule.
      const auto via_header =
          s.http.request(endpoint.method, endpoint.path, endpoint.body, {{"X-Api-Key", caller.tenant.api_key}});
      CHECK(via_header.status == 403);
    }
  }
  CHECK(s.db.dump() == before);
}

TEST_CASE("another customer's ids on one's own path are 404 exactly like unknown ids") {
  Stack s;
  const auto a = populate(s, "a");
  const auto b = populate(s, "b");
  const auto before = s.db.dump();

  for (const auto& [caller, other] : {std::make_pair(a, b), std::make_pair(b, a)}) {
    const auto& own = caller.ids;
    const auto base = caller.tenant.path();
    const auto grant_body = [](const std::string& instance) {
      return R"({"capabilities":["send_mail"],"instance_id":")" + instance + R"("})";
    };
    // {method, path with the other customer's id, the same path with a random id, body, body for the random case}
    const auto random = randomUuid();
    const std::vector<std::tuple<std::string, std::string, std::string, std::string, std::string>> probes{
        {"GET", base + "/connections/" + other.ids.connection, base + "/connections/" + random, "", ""},
        {"PATCH", base + "/connections/" + other.ids.connection, base + "/connections/" + random,
         R"({"name":"x"})", R"({"name":"x"})"},
        {"DELETE", base + "/connections/" + other.ids.connection, base + "/connections/" + random, "", ""},
        {"GET", base + "/connections/" + other.ids.connection + "/grants", base + "/connections/" + random + "/grants",
         "", ""},
        {"POST", base + "/connections/" + other.ids.connection + "/grants",
         base + "/connections/" + random + "/grants", grant_body(own.instance), grant_body(own.instance)},
        {"POST", base + "/connections/" + own.connection + "/grants", base + "/connections/" + own.connection + "/grants",
         grant_body(other.ids.instance), grant_body(random)},
        {"DELETE", base + "/connections/" + own.connection + "/grants/" + other.ids.grant,
         base + "/connections/" + own.connection + "/grants/" + random, "", ""},
        {"DELETE", base + "/connections/" + other.ids.connection + "/grants/" + other.ids.grant,
         base + "/connections/" + random + "/grants/" + random, "", ""},
        {"DELETE", base + "/instances/" + other.ids.instance, base + "/instances/" + random, "", ""},
        {"DELETE", base + "/api-keys/" + other.ids.api_key, base + "/api-keys/" + random, "", ""},
        {"GET", base + "/webhook-endpoints/" + other.ids.webhook_endpoint, base + "/webhook-endpoints/" + random, "", ""},
        {"PATCH", base + "/webhook-endpoints/" + other.ids.webhook_endpoint, base + "/webhook-endpoints/" + random,
         R"({"enabled":false})", R"({"enabled":false})"},
        {"DELETE", base + "/webhook-endpoints/" + other.ids.webhook_endpoint, base + "/webhook-endpoints/" + random, "",
         ""},
        {"POST", base + "/webhook-endpoints/" + other.ids.webhook_endpoint + "/rotate-secret",
         base + "/webhook-endpoints/" + random + "/rotate-secret", "", ""},
        {"GET", base + "/webhook-endpoints/" + other.ids.webhook_endpoint + "/deliveries",
         base + "/webhook-endpoints/" + random + "/deliveries", "", ""},
    };
    for (const auto& entry : probes) {
      const auto& method = std::get<0>(entry);
      const auto& foreign_path = std::get<1>(entry);
      const auto& random_path = std::get<2>(entry);
      const auto& foreign_body = std::get<3>(entry);
      const auto& random_body = std::get<4>(entry);
      CAPTURE(method);
      CAPTURE(foreign_path);
      CAPTURE(foreign_body);
      const auto foreign = s.as(caller.tenant, method, foreign_path, foreign_body);
      const auto unknown = s.as(caller.tenant, method, random_path, random_body);
      CHECK(foreign.status == 404);
      CHECK(foreign.status == unknown.status);
      CHECK(foreign.body == unknown.body);
    }
  }
  CHECK(s.db.dump() == before);
}

TEST_CASE("lists show only the caller's own objects") {
  Stack s;
  const auto a = populate(s, "a");
  const auto b = populate(s, "b");
  for (const auto& p : {a, b}) {
    CAPTURE(p.tenant.id);
    const auto connections = s.as(p.tenant, "GET", p.tenant.path() + "/connections?provider=gmail");
    CHECK(idsIn(connections, "connections") == std::vector<std::string>{p.ids.connection});
    CHECK(jsonText(member(connections.json, "total")) == "1");
    CHECK(text(*items(member(connections.json, "connections"))[0], "customer_id") == p.tenant.id);
    CHECK(idsIn(s.as(p.tenant, "GET", p.tenant.path() + "/instances"), "instances") ==
          std::vector<std::string>{p.ids.instance});
    CHECK(idsIn(s.as(p.tenant, "GET", p.tenant.path() + "/connections/" + p.ids.connection + "/grants"), "grants") ==
          std::vector<std::string>{p.ids.grant});
    const auto keys_list = idsIn(s.as(p.tenant, "GET", p.tenant.path() + "/api-keys"), "api_keys");
    CHECK(keys_list.size() == 2);
    CHECK(std::count(keys_list.begin(), keys_list.end(), p.ids.api_key) == 1);
    CHECK(idsIn(s.as(p.tenant, "GET", p.tenant.path() + "/webhook-endpoints"), "webhook_endpoints") ==
          std::vector<std::string>{p.ids.webhook_endpoint});
  }
}
