// /v1/customers/{customer_id}/api-keys: created by the admin or the customer's own key,
// shown once, listed without secrets, revoked at once.
#include <doctest/doctest.h>

#include <regex>

#include "tests/support/api.hpp"

using namespace hydra::test;

namespace {

/// hck_ + base64url (no padding) of 32 random bytes.
bool looksLikeApiKey(const std::string& key) {
  static const std::regex format("hck_[A-Za-z0-9_-]{43}");
  return std::regex_match(key, format);
}

}  // namespace

TEST_CASE("the admin creates an API key that is shown once and works at once") {
  Stack s;
  const auto customer = s.admin("POST", "/v1/admin/customers", R"({"name":"acme"})");
  const auto customer_id = text(customer.json, "id");

  const auto r = s.admin("POST", "/v1/customers/" + customer_id + "/api-keys", R"({"name":"deploy"})");
  REQUIRE(r.status == 201);
  // The issue's shape is {id, name, created_at, api_key}; revoked_at (null) is tolerated.
  auto fields = keys(r.json);
  fields.erase("revoked_at");
  CHECK(fields == std::set<std::string>{"api_key", "created_at", "id", "name"});
  if (r.json.HasMember("revoked_at")) CHECK(member(r.json, "revoked_at").IsNull());
  CHECK(isUuid(text(r.json, "id")));
  CHECK(text(r.json, "name") == "deploy");
  CHECK(isUtcTimestamp(text(r.json, "created_at")));
  const auto key = text(r.json, "api_key");
  CHECK(looksLikeApiKey(key));

  // Both ways of presenting it work.
  const auto path = "/v1/customers/" + customer_id + "/connections";
  CHECK(s.http.request("GET", path, "", bearer(key)).status == 200);
  CHECK(s.http.request("GET", path, "", {{"X-Api-Key", key}}).status == 200);
  CHECK(s.http.request("GET", path, "", {{"Authorization", "bearer " + key}}).status == 200);
}

TEST_CASE("a customer's own key creates more keys and the name is optional") {
  Stack s;
  const auto t = s.newTenant();
  const auto unnamed = s.as(t, "POST", t.path() + "/api-keys");
  REQUIRE(unnamed.status == 201);
  CHECK(text(unnamed.json, "name") == "");
  CHECK(looksLikeApiKey(text(unnamed.json, "api_key")));

  const auto named = s.as(t, "POST", t.path() + "/api-keys", R"({"name":"ci"})");
  REQUIRE(named.status == 201);
  CHECK(text(named.json, "name") == "ci");
  CHECK(text(named.json, "api_key") != text(unnamed.json, "api_key"));
  CHECK(s.http.request("GET", t.path() + "/instances", "", bearer(text(named.json, "api_key"))).status == 200);

  CHECK(problemLocTypes(s.as(t, "POST", t.path() + "/api-keys", R"({"name":5})")) ==
        std::vector<std::string>{R"(["body","name"] string_type)"});
  CHECK(problemLocTypes(s.as(t, "POST", t.path() + "/api-keys", R"([])")) ==
        std::vector<std::string>{R"(["body"] model_attributes_type)"});
}

TEST_CASE("listing API keys never shows a secret") {
  Stack s;
  const auto t = s.newTenant();
  const auto created = s.as(t, "POST", t.path() + "/api-keys", R"({"name":"second"})");
  const auto second_key = text(created.json, "api_key");

  const auto r = s.as(t, "GET", t.path() + "/api-keys");
  REQUIRE(r.status == 200);
  CHECK(keys(r.json) == std::set<std::string>{"api_keys"});
  const auto list = items(member(r.json, "api_keys"));
  REQUIRE(list.size() == 2);
  CHECK(text(findById(member(r.json, "api_keys"), text(created.json, "id")), "name") == "second");
  for (const auto* key : list) {
    CHECK(keys(*key) == std::set<std::string>{"created_at", "id", "name", "revoked_at"});
    CHECK(member(*key, "revoked_at").IsNull());
  }
  CHECK(r.body.find(t.api_key) == std::string::npos);
  CHECK(r.body.find(second_key) == std::string::npos);
  CHECK(r.body.find("hck_") == std::string::npos);
}

TEST_CASE("revoking an API key takes effect on the next request") {
  Stack s;
  const auto t = s.newTenant();
  const auto created = s.as(t, "POST", t.path() + "/api-keys", R"({"name":"doomed"})");
  const auto doomed_id = text(created.json, "id");
  const auto doomed_key = text(created.json, "api_key");
  REQUIRE(s.http.request("GET", t.path() + "/connections", "", bearer(doomed_key)).status == 200);

  const auto revoked = s.as(t, "DELETE", t.path() + "/api-keys/" + doomed_id);
  CHECK(revoked.status == 204);
  CHECK(revoked.body.empty());

  for (const auto& headers : {bearer(doomed_key), Headers{{"X-Api-Key", doomed_key}}}) {
    const auto r = s.http.request("GET", t.path() + "/connections", "", headers);
    CHECK(r.status == 401);
    CHECK(r.header("WWW-Authenticate") == "Bearer");
    CHECK_FALSE(errorDetail(r).empty());
  }
  // The other key is untouched; the revoked one is listed with its revocation time.
  const auto list = s.as(t, "GET", t.path() + "/api-keys");
  REQUIRE(list.status == 200);
  REQUIRE(items(member(list.json, "api_keys")).size() == 2);
  for (const auto* entry : items(member(list.json, "api_keys"))) {
    if (text(*entry, "id") == doomed_id) {
      CHECK(isUtcTimestamp(text(*entry, "revoked_at")));
    } else {
      CHECK(member(*entry, "revoked_at").IsNull());
    }
  }

  const auto again = s.as(t, "DELETE", t.path() + "/api-keys/" + doomed_id);
  CHECK(again.status == 404);
  CHECK(errorDetail(again) == "API key not found");
}

TEST_CASE("a customer may revoke the key it is calling with") {
  Stack s;
  const auto t = s.newTenant();
  const auto list = s.as(t, "GET", t.path() + "/api-keys");
  const auto own_id = text(*items(member(list.json, "api_keys")).at(0), "id");
  CHECK(s.as(t, "DELETE", t.path() + "/api-keys/" + own_id).status == 204);
  CHECK(s.as(t, "GET", t.path() + "/api-keys").status == 401);
}

TEST_CASE("API key endpoints: admin token for any customer, 404 for unknown ones, 422 for bad ids") {
  Stack s;
  const auto t = s.newTenant();
  CHECK(s.admin("GET", t.path() + "/api-keys").status == 200);

  const auto nobody = "/v1/customers/" + randomUuid();
  const auto create = s.admin("POST", nobody + "/api-keys", R"({"name":"x"})");
  CHECK(create.status == 404);
  CHECK(errorDetail(create) == "Customer not found");
  const auto list = s.admin("GET", nobody + "/api-keys");
  CHECK(list.status == 404);
  CHECK(errorDetail(list) == "Customer not found");

  const auto unknown_key = s.as(t, "DELETE", t.path() + "/api-keys/" + randomUuid());
  CHECK(unknown_key.status == 404);
  CHECK(errorDetail(unknown_key) == "API key not found");

  CHECK(problemLocTypes(s.as(t, "DELETE", t.path() + "/api-keys/not-a-uuid")) ==
        std::vector<std::string>{R"(["path","key_id"] uuid_parsing)"});
  CHECK(problemLocTypes(s.admin("POST", "/v1/customers/42/api-keys", "{}")) ==
        std::vector<std::string>{R"(["path","customer_id"] uuid_parsing)"});

  const auto anonymous = s.http.request("POST", t.path() + "/api-keys", R"({"name":"x"})");
  CHECK(anonymous.status == 401);
  CHECK(anonymous.header("WWW-Authenticate") == "Bearer");
}
