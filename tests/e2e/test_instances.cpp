// /v1/customers/{customer_id}/instances: create, list, delete (with its grants).
#include <doctest/doctest.h>

#include "tests/support/api.hpp"

using namespace hydra::test;

TEST_CASE("create and list instances") {
  Stack s;
  const auto t = s.newTenant();
  const auto r = s.as(t, "POST", t.path() + "/instances", R"({"name":"runtime-1"})");
  REQUIRE(r.status == 201);
  CHECK(keys(r.json) == std::set<std::string>{"created_at", "disabled", "id", "name"});
  CHECK(member(r.json, "disabled").IsFalse());
  CHECK(isUuid(text(r.json, "id")));
  CHECK(text(r.json, "name") == "runtime-1");
  CHECK(isUtcTimestamp(text(r.json, "created_at")));
  const auto second = s.createInstance(t, "runtime-2");

  const auto list = s.as(t, "GET", t.path() + "/instances");
  REQUIRE(list.status == 200);
  CHECK(keys(list.json) == std::set<std::string>{"instances"});
  const auto entries = items(member(list.json, "instances"));
  REQUIRE(entries.size() == 2);
  CHECK(jsonText(findById(member(list.json, "instances"), text(r.json, "id"))) == jsonText(r.json));
  CHECK(text(findById(member(list.json, "instances"), second), "name") == "runtime-2");
}

TEST_CASE("an empty instance list is an empty array") {
  Stack s;
  const auto t = s.newTenant();
  const auto list = s.as(t, "GET", t.path() + "/instances");
  REQUIRE(list.status == 200);
  CHECK(list.body == R"({"instances":[]})");
}

TEST_CASE("instance create validates the body") {
  Stack s;
  const auto t = s.newTenant();
  const auto create = [&](const std::string& body) { return s.as(t, "POST", t.path() + "/instances", body); };
  CHECK(problemLocTypes(create("{}")) == std::vector<std::string>{R"(["body","name"] missing)"});
  CHECK(problemLocTypes(create(R"({"name":""})")) == std::vector<std::string>{R"(["body","name"] string_too_short)"});
  CHECK(problemLocTypes(create(R"({"name":["x"]})")) == std::vector<std::string>{R"(["body","name"] string_type)"});
  CHECK(problemLocTypes(create(R"({"name":")" + std::string(256, 'x') + R"("})")) ==
        std::vector<std::string>{R"(["body","name"] string_too_long)"});
  CHECK(problemLocTypes(create("")) == std::vector<std::string>{R"(["body"] missing)"});
  CHECK(s.db.exec("SELECT count(*) FROM instances")[0][0].as<int>() == 0);
}

TEST_CASE("deleting an instance removes it and its grants") {
  Stack s;
  const auto t = s.newTenant();
  const auto connection = s.createConnection(t, "gmail", "inbox");
  const auto doomed = s.createInstance(t, "doomed");
  const auto kept = s.createInstance(t, "kept");
  s.createGrant(t, connection, doomed);
  const auto kept_grant = s.createGrant(t, connection, kept);

  const auto r = s.as(t, "DELETE", t.path() + "/instances/" + doomed);
  CHECK(r.status == 204);
  CHECK(r.body.empty());

  const auto list = s.as(t, "GET", t.path() + "/instances");
  const auto entries = items(member(list.json, "instances"));
  REQUIRE(entries.size() == 1);
  CHECK(text(*entries[0], "id") == kept);

  const auto grants = s.as(t, "GET", t.path() + "/connections/" + connection + "/grants");
  REQUIRE(grants.status == 200);
  const auto remaining = items(member(grants.json, "grants"));
  REQUIRE(remaining.size() == 1);
  CHECK(text(*remaining[0], "id") == kept_grant);
  CHECK(s.db.exec("SELECT count(*) FROM grants WHERE instance_id = $1", doomed)[0][0].as<int>() == 0);

  const auto again = s.as(t, "DELETE", t.path() + "/instances/" + doomed);
  CHECK(again.status == 404);
  CHECK(errorDetail(again) == "Instance not found");
}

TEST_CASE("instance endpoints: 404 for an unknown id and 422 for a malformed one") {
  Stack s;
  const auto t = s.newTenant();
  const auto unknown = s.as(t, "DELETE", t.path() + "/instances/" + randomUuid());
  CHECK(unknown.status == 404);
  CHECK(errorDetail(unknown) == "Instance not found");
  CHECK(problemLocTypes(s.as(t, "DELETE", t.path() + "/instances/12345")) ==
        std::vector<std::string>{R"(["path","instance_id"] uuid_parsing)"});
  CHECK(problemLocTypes(s.as(t, "GET", "/v1/customers/acme/instances")) ==
        std::vector<std::string>{R"(["path","customer_id"] uuid_parsing)"});
}
