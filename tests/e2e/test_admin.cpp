// POST /v1/admin/customers: the operator's bootstrap endpoint, behind HYDRA_ADMIN_TOKEN.
#include <doctest/doctest.h>

#include "tests/support/api.hpp"

using namespace hydra::test;

TEST_CASE("admin creates a customer with the admin token") {
  Stack s;
  const auto r = s.admin("POST", "/v1/admin/customers", R"({"name":"Acme Pty Ltd"})");
  REQUIRE(r.status == 201);
  CHECK(r.header("Content-Type") == "application/json");
  CHECK(keys(r.json) == std::set<std::string>{"created_at", "id", "name"});
  CHECK(isUuid(text(r.json, "id")));
  CHECK(text(r.json, "name") == "Acme Pty Ltd");
  CHECK(isUtcTimestamp(text(r.json, "created_at")));

  const auto rows = s.db.exec("SELECT name FROM customers WHERE id = $1", text(r.json, "id"));
  REQUIRE(rows.size() == 1);
  CHECK(std::string(rows[0][0].c_str()) == "Acme Pty Ltd");
}

TEST_CASE("admin customers refuses a missing or wrong token with 401 and WWW-Authenticate") {
  Stack s;
  const auto tenant = s.newTenant();
  const std::string body = R"({"name":"x"})";
  auto near_miss = s.server.adminToken();
  near_miss.back() = near_miss.back() == 'a' ? 'b' : 'a';  // same length, last character differs

  const std::vector<std::pair<std::string, Headers>> attempts{
      {"no Authorization", {}},
      {"wrong token", bearer("not-the-admin-token-at-all-00000")},
      {"same length, one character off", bearer(near_miss)},
      {"a customer's API key", bearer(tenant.api_key)},
      {"admin token without the Bearer scheme", {{"Authorization", s.server.adminToken()}}},
  };
  for (const auto& entry : attempts) {
    const auto& what = std::get<0>(entry);
    const auto& headers = std::get<1>(entry);
    CAPTURE(what);
    const auto r = s.http.request("POST", "/v1/admin/customers", body, headers);
    CHECK(r.status == 401);
    CHECK(r.header("WWW-Authenticate") == "Bearer");
    CHECK_FALSE(errorDetail(r).empty());
  }
  CHECK(s.db.exec("SELECT count(*) FROM customers")[0][0].as<int>() == 1);  // only newTenant's
}

TEST_CASE("admin customers validates the name like pydantic") {
  Stack s;
  const auto create = [&](const std::string& body) { return s.admin("POST", "/v1/admin/customers", body); };

  CHECK(problemLocTypes(create("{}")) == std::vector<std::string>{R"(["body","name"] missing)"});
  CHECK(problemLocTypes(create(R"({"name":""})")) == std::vector<std::string>{R"(["body","name"] string_too_short)"});
  CHECK(problemLocTypes(create(R"({"name":7})")) == std::vector<std::string>{R"(["body","name"] string_type)"});
  const auto too_long = create(R"({"name":")" + std::string(256, 'n') + R"("})");
  REQUIRE(validationProblems(too_long).size() == 1);
  CHECK(validationProblems(too_long)[0].msg == "String should have at most 255 characters");
  CHECK(validationProblems(too_long)[0].type == "string_too_long");

  CHECK(create(R"({"name":")" + std::string(255, 'n') + R"("})").status == 201);
  // Length is counted in characters, not bytes: 255 two-byte characters are allowed.
  std::string accented;
  for (int i = 0; i < 255; ++i) accented += "\xC3\xA9";  // é
  const auto r = create(R"({"name":")" + accented + R"("})");
  REQUIRE(r.status == 201);
  CHECK(text(r.json, "name") == accented);
}

TEST_CASE("other methods on /v1/admin/customers are 405 with Allow: POST") {
  Stack s;
  for (const char* method : {"GET", "PUT", "PATCH", "DELETE"}) {
    CAPTURE(method);
    const auto r = s.admin(method, "/v1/admin/customers");
    CHECK(r.status == 405);
    CHECK(r.header("Allow") == "POST");
    CHECK(errorDetail(r) == "Method Not Allowed");
  }
}
