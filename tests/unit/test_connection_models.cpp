#include <doctest/doctest.h>

#include "control-plane/model/resources.hpp"
#include "shared/json/reader.hpp"

using hydra::cp::model::ConnectionCreate;
using hydra::cp::model::ConnectionUpdate;
using hydra::cp::model::GrantCreate;
using hydra::http::ValidationError;

namespace {

std::vector<std::string> problemTypes(void (*decode)(const rapidjson::Document&), const std::string& body) {
  try {
    decode(*hydra::json::parseObject(body));
  } catch (const ValidationError& e) {
    std::vector<std::string> types;
    for (const auto& p : e.problems()) types.push_back(std::get<std::string>(p.loc.back()) + ":" + p.type);
    return types;
  }
  return {};
}

}  // namespace

TEST_CASE("ConnectionCreate: defaults, and credentials kept only as serialised JSON") {
  const auto doc = hydra::json::parseObject(
      R"({"provider": "gmail", "name": "admin@example.com", "credentials": {"access_token": "t"}})");
  const auto c = ConnectionCreate::fromJson(*doc);
  CHECK(c.auth_type == "oauth2");
  CHECK(c.scopes_json == "[]");
  CHECK_FALSE(c.metadata_json.has_value());
  CHECK(c.credentials_json == R"({"access_token":"t"})");
}

TEST_CASE("ConnectionCreate: every bad field is reported at once") {
  const auto types = problemTypes([](const rapidjson::Document& d) { ConnectionCreate::fromJson(d); },
                                  R"({"auth_type": "magic", "credentials": "x", "name": "", "scopes": "s"})");
  CHECK(types == std::vector<std::string>{"auth_type:literal_error", "credentials:dict_type", "name:string_too_short",
                                          "provider:missing", "scopes:list_type"});
}

TEST_CASE("ConnectionCreate: scopes is an untyped list, stored as given") {
  const auto c = ConnectionCreate::fromJson(*hydra::json::parseObject(
      R"({"provider": "p", "name": "n", "credentials": {}, "scopes": ["read", 1, {"a": true}]})"));
  CHECK(c.scopes_json == R"(["read",1,{"a":true}])");
}

TEST_CASE("ConnectionUpdate: absent fields stay unchanged, null metadata clears it") {
  auto u = ConnectionUpdate::fromJson(*hydra::json::parseObject("{}"));
  CHECK_FALSE(u.name.has_value());
  CHECK_FALSE(u.replace_metadata);
  CHECK_FALSE(u.credentials_json.has_value());

  u = ConnectionUpdate::fromJson(*hydra::json::parseObject(R"({"metadata_json": null, "scopes": ["a"]})"));
  CHECK(u.replace_metadata);
  CHECK_FALSE(u.metadata_json.has_value());
  CHECK(u.scopes_json == R"(["a"])");
}

TEST_CASE("GrantCreate: instance_id must be a UUID and capabilities a list of strings") {
  const auto g = GrantCreate::fromJson(*hydra::json::parseObject(
      R"({"capabilities": ["send_mail"], "instance_id": "06587974-2DBE-4e10-8bf9-38cce0f5a366"})"));
  CHECK(g.instance_id == "06587974-2dbe-4e10-8bf9-38cce0f5a366");
  CHECK(g.capabilities_json == R"(["send_mail"])");

  const auto types = problemTypes([](const rapidjson::Document& d) { GrantCreate::fromJson(d); },
                                  R"({"instance_id": "nope"})");
  CHECK(types == std::vector<std::string>{"capabilities:missing", "instance_id:uuid_parsing"});
}

// Found while writing tests/fuzz/fuzz_rfc3339.cpp (RFC 3339 allows offsets to 23:59, PostgreSQL
// only to 15:59), then by hand: POST .../grants with "expires_at":"2030-01-01T00:00:00+16:00" was
// a 500, since the text went to PostgreSQL as given.
TEST_CASE("GrantCreate and GrantUpdate: expires_at goes on as UTC whole seconds, whatever its offset") {
  const auto g = GrantCreate::fromJson(*hydra::json::parseObject(
      R"({"instance_id":"0f8fad5b-d9cb-469f-a165-70867728950e","capabilities":[],)"
      R"("expires_at":"2030-01-01T00:00:00+16:00"})"));
  CHECK(g.expiry.at == "2029-12-31T08:00:00Z");
  const auto u = hydra::cp::model::GrantUpdate::fromJson(
      *hydra::json::parseObject(R"({"expires_at":"2030-01-01T00:00:00.999-23:59"})"));
  CHECK(u.expiry.at == "2030-01-01T23:59:00Z");  // a fraction is dropped: a grant ends earlier, never later
  CHECK(u.change_expiry);
}

TEST_CASE("GrantCreate and GrantUpdate: proxy_only and rate_limit, null and absent") {
  using hydra::cp::model::GrantUpdate;
  const std::string instance = R"("instance_id":"0f8fad5b-d9cb-469f-a165-70867728950e","capabilities":[])";
  const auto plain = GrantCreate::fromJson(*hydra::json::parseObject("{" + instance + "}"));
  CHECK_FALSE(plain.proxy_only);
  CHECK_FALSE(plain.rate_limit.has_value());
  const auto full = GrantCreate::fromJson(*hydra::json::parseObject(
      "{" + instance + R"(,"proxy_only":true,"rate_limit":{"requests":600,"per_seconds":60}})"));
  CHECK(full.proxy_only);
  REQUIRE(full.rate_limit.has_value());
  CHECK(full.rate_limit->requests == 600);
  CHECK(full.rate_limit->per_seconds == 60);
  const auto nulls =
      GrantCreate::fromJson(*hydra::json::parseObject("{" + instance + R"(,"proxy_only":null,"rate_limit":null})"));
  CHECK_FALSE(nulls.proxy_only);
  CHECK_FALSE(nulls.rate_limit.has_value());

  // PATCH: absent leaves both alone; null leaves proxy_only alone and removes the rate limit.
  const auto untouched = GrantUpdate::fromJson(*hydra::json::parseObject(R"({"capabilities":["a"]})"));
  CHECK_FALSE(untouched.proxy_only.has_value());
  CHECK_FALSE(untouched.change_rate_limit);
  const auto removed = GrantUpdate::fromJson(*hydra::json::parseObject(R"({"proxy_only":null,"rate_limit":null})"));
  CHECK_FALSE(removed.proxy_only.has_value());
  CHECK(removed.change_rate_limit);
  CHECK_FALSE(removed.rate_limit.has_value());
  const auto set = GrantUpdate::fromJson(
      *hydra::json::parseObject(R"({"proxy_only":false,"rate_limit":{"requests":1,"per_seconds":86400}})"));
  CHECK(set.proxy_only == false);
  CHECK(set.change_rate_limit);
  REQUIRE(set.rate_limit.has_value());
  CHECK(set.rate_limit->per_seconds == 86400);

  const auto decodeUpdate = [](const rapidjson::Document& d) { GrantUpdate::fromJson(d); };
  CHECK(problemTypes(decodeUpdate, R"({"proxy_only":"yes","rate_limit":[600,60]})") ==
        std::vector<std::string>{"proxy_only:bool_type", "rate_limit:dict_type"});
  CHECK(problemTypes(decodeUpdate, R"({"rate_limit":{"requests":600}})") ==
        std::vector<std::string>{"per_seconds:missing"});
  CHECK(
      problemTypes(decodeUpdate, R"({"rate_limit":{"requests":1000001,"per_seconds":0,"burst":5}})") ==
      std::vector<std::string>{"per_seconds:greater_than_equal", "requests:less_than_equal", "burst:extra_forbidden"});
  CHECK(problemTypes(decodeUpdate, R"({"rate_limit":{"requests":1.5,"per_seconds":86401}})") ==
        std::vector<std::string>{"per_seconds:less_than_equal", "requests:int_type"});
}
