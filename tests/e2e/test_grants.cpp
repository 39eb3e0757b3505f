// /v1/customers/{customer_id}/connections/{connection_id}/grants: one grant per
// (connection, instance), only to the customer's own instances.
#include <doctest/doctest.h>

#include <cctype>

#include "tests/support/api.hpp"

using namespace hydra::test;

namespace {

const std::set<std::string> kGrantFields{"capabilities", "connection_id", "expires_at", "granted_at",
                                         "id",           "instance_id",   "proxy_only", "rate_limit"};

std::string grantBody(const std::string& instance_id, const std::string& capabilities = R"(["send_mail"])") {
  return R"({"capabilities":)" + capabilities + R"(,"instance_id":")" + instance_id + R"("})";
}

}  // namespace

TEST_CASE("create a grant and see it on the connection and in the grant list") {
  Stack s;
  const auto t = s.newTenant();
  const auto connection = s.createConnection(t, "gmail", "inbox");
  const auto instance = s.createInstance(t);
  const auto grants = t.path() + "/connections/" + connection + "/grants";

  const auto r = s.as(t, "POST", grants, grantBody(instance, R"(["send_mail","read_mail"])"));
  REQUIRE(r.status == 201);
  CHECK(keys(r.json) == kGrantFields);
  CHECK(isUuid(text(r.json, "id")));
  CHECK(text(r.json, "connection_id") == connection);
  CHECK(text(r.json, "instance_id") == instance);
  CHECK(jsonText(member(r.json, "capabilities")) == R"(["send_mail","read_mail"])");
  CHECK(isUtcTimestamp(text(r.json, "granted_at")));

  const auto list = s.as(t, "GET", grants);
  REQUIRE(list.status == 200);
  CHECK(keys(list.json) == std::set<std::string>{"grants"});
  const auto entries = items(member(list.json, "grants"));
  REQUIRE(entries.size() == 1);
  CHECK(jsonText(*entries[0]) == jsonText(r.json));

  const auto c = s.as(t, "GET", t.path() + "/connections/" + connection);
  CHECK(jsonText(member(c.json, "grants")) == "[" + jsonText(r.json) + "]");
  const auto listed = s.as(t, "GET", t.path() + "/connections");
  CHECK(jsonText(member(*items(member(listed.json, "connections")).at(0), "grants")) == "[" + jsonText(r.json) + "]");

  // Empty capabilities are allowed; an upper-case instance id names the same instance.
  const auto second_instance = s.createInstance(t, "second");
  std::string upper = second_instance;
  for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  const auto empty = s.as(t, "POST", grants, grantBody(upper, "[]"));
  REQUIRE(empty.status == 201);
  CHECK(text(empty.json, "instance_id") == second_instance);
  CHECK(jsonText(member(empty.json, "capabilities")) == "[]");
  CHECK(items(member(s.as(t, "GET", grants).json, "grants")).size() == 2);
}

TEST_CASE("a second grant of the same connection to the same instance is 409") {
  Stack s;
  const auto t = s.newTenant();
  const auto connection = s.createConnection(t, "gmail", "inbox");
  const auto instance = s.createInstance(t);
  const auto grants = t.path() + "/connections/" + connection + "/grants";
  REQUIRE(s.as(t, "POST", grants, grantBody(instance)).status == 201);

  const auto r = s.as(t, "POST", grants, grantBody(instance, R"(["other"])"));
  CHECK(r.status == 409);
  CHECK_FALSE(errorDetail(r).empty());
  CHECK(s.db.exec("SELECT count(*) FROM grants")[0][0].as<int>() == 1);

  // The same instance on another connection is fine.
  const auto other = s.createConnection(t, "xero", "books");
  CHECK(s.as(t, "POST", t.path() + "/connections/" + other + "/grants", grantBody(instance)).status == 201);
}

TEST_CASE("a grant to an unknown instance or another customer's instance is 404 and creates nothing") {
  Stack s;
  const auto t = s.newTenant();
  const auto other = s.newTenant("other");
  const auto connection = s.createConnection(t, "gmail", "inbox");
  const auto foreign_instance = s.createInstance(other);
  const auto grants = t.path() + "/connections/" + connection + "/grants";

  const auto unknown = s.as(t, "POST", grants, grantBody(randomUuid()));
  CHECK(unknown.status == 404);
  CHECK(errorDetail(unknown) == "Instance not found");
  const auto foreign = s.as(t, "POST", grants, grantBody(foreign_instance));
  CHECK(foreign.status == 404);
  CHECK(foreign.body == unknown.body);
  CHECK(s.db.exec("SELECT count(*) FROM grants")[0][0].as<int>() == 0);
}

TEST_CASE("grants of an unknown connection are 404") {
  Stack s;
  const auto t = s.newTenant();
  const auto instance = s.createInstance(t);
  const auto grants = t.path() + "/connections/" + randomUuid() + "/grants";
  for (const auto& r : {s.as(t, "POST", grants, grantBody(instance)), s.as(t, "GET", grants),
                        s.as(t, "DELETE", grants + "/" + randomUuid())}) {
    CHECK(r.status == 404);
    CHECK_FALSE(errorDetail(r).empty());
  }
  CHECK(errorDetail(s.as(t, "GET", grants)) == "Connection not found");
  CHECK(errorDetail(s.as(t, "POST", grants, grantBody(instance))) == "Connection not found");
}

TEST_CASE("grant create validates the body") {
  Stack s;
  const auto t = s.newTenant();
  const auto connection = s.createConnection(t, "gmail", "inbox");
  const auto instance = s.createInstance(t);
  const auto create = [&](const std::string& body) {
    return s.as(t, "POST", t.path() + "/connections/" + connection + "/grants", body);
  };
  CHECK(problemLocTypes(create("{}")) ==
        std::vector<std::string>{R"(["body","capabilities"] missing)", R"(["body","instance_id"] missing)"});
  CHECK(problemLocTypes(create(R"({"capabilities":["a"],"instance_id":"not-a-uuid"})")) ==
        std::vector<std::string>{R"(["body","instance_id"] uuid_parsing)"});
  CHECK(problemLocTypes(create(R"({"capabilities":["a"],"instance_id":7})")) ==
        std::vector<std::string>{R"(["body","instance_id"] uuid_type)"});
  CHECK(problemLocTypes(create(R"({"capabilities":"send_mail","instance_id":")" + instance + R"("})")) ==
        std::vector<std::string>{R"(["body","capabilities"] list_type)"});
  CHECK(problemLocTypes(create(R"({"capabilities":["a",{}],"instance_id":")" + instance + R"("})")) ==
        std::vector<std::string>{R"(["body","capabilities",1] string_type)"});
  CHECK(problemLocTypes(create(R"("grant")")) == std::vector<std::string>{R"(["body"] model_attributes_type)"});
  CHECK(s.db.exec("SELECT count(*) FROM grants")[0][0].as<int>() == 0);
}

TEST_CASE("DELETE a grant is 204 then 404") {
  Stack s;
  const auto t = s.newTenant();
  const auto connection = s.createConnection(t, "gmail", "inbox");
  const auto instance = s.createInstance(t);
  const auto grant = s.createGrant(t, connection, instance);
  const auto path = t.path() + "/connections/" + connection + "/grants/" + grant;

  const auto r = s.as(t, "DELETE", path);
  CHECK(r.status == 204);
  CHECK(r.body.empty());
  CHECK(jsonText(member(s.as(t, "GET", t.path() + "/connections/" + connection).json, "grants")) == "[]");
  CHECK(s.as(t, "GET", t.path() + "/connections/" + connection + "/grants").body == R"({"grants":[]})");

  const auto again = s.as(t, "DELETE", path);
  CHECK(again.status == 404);
  CHECK(errorDetail(again) == "Grant not found");
  // The instance and connection stay, and the grant can be made again.
  CHECK(s.as(t, "POST", t.path() + "/connections/" + connection + "/grants", grantBody(instance)).status == 201);
}

TEST_CASE("a grant is deleted only under its own connection") {
  Stack s;
  const auto t = s.newTenant();
  const auto connection = s.createConnection(t, "gmail", "inbox");
  const auto other_connection = s.createConnection(t, "xero", "books");
  const auto grant = s.createGrant(t, connection, s.createInstance(t));

  const auto r = s.as(t, "DELETE", t.path() + "/connections/" + other_connection + "/grants/" + grant);
  CHECK(r.status == 404);
  CHECK(errorDetail(r) == "Grant not found");
  CHECK(s.db.exec("SELECT count(*) FROM grants WHERE id = $1", grant)[0][0].as<int>() == 1);
}

TEST_CASE("malformed ids in grant paths are 422 with one entry per id") {
  Stack s;
  const auto t = s.newTenant();
  const auto connection = s.createConnection(t, "gmail", "inbox");
  CHECK(problemLocTypes(s.as(t, "DELETE", t.path() + "/connections/" + connection + "/grants/abc")) ==
        std::vector<std::string>{R"(["path","grant_id"] uuid_parsing)"});
  CHECK(problemLocTypes(s.as(t, "GET", t.path() + "/connections/abc/grants")) ==
        std::vector<std::string>{R"(["path","connection_id"] uuid_parsing)"});
  CHECK(problemLocTypes(s.as(t, "DELETE", "/v1/customers/x/connections/y/grants/z")) ==
        std::vector<std::string>{R"(["path","connection_id"] uuid_parsing)", R"(["path","customer_id"] uuid_parsing)",
                                 R"(["path","grant_id"] uuid_parsing)"});
}
