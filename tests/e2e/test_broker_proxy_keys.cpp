// Proxy keys as the control plane issues them (issue 3, "Proxy keys"): shown once, prefixed,
// 256-bit, stored only as a hash, listed without secrets, revoked at once, scoped to their
// customer.
#include <doctest/doctest.h>

#include "tests/support/broker.hpp"

using namespace hydra::test;

TEST_CASE("broker: a proxy key is shown once, prefixed hcp_, 256-bit, and stored only as its hash") {
  BrokerStack s;
  const auto t = s.newTenant();
  const auto instance = s.createInstance(t);
  const auto keys_path = t.path() + "/instances/" + instance + "/proxy-keys";
  const auto created = s.as(t, "POST", keys_path, "");
  REQUIRE(created.status == 201);
  CHECK(keys(created.json) ==
        std::set<std::string>{"allowed_cidrs", "created_at", "expires_at", "id", "instance_id", "proxy_key", "revoked_at"});
  CHECK(jsonText(member(created.json, "allowed_cidrs")) == "null");
  const auto key = text(created.json, "proxy_key");
  CHECK(key.rfind("hcp_", 0) == 0);
  CHECK(key.size() >= 4 + 43);  // 32 random bytes, base64url or longer
  CHECK(isUuid(text(created.json, "id")));
  CHECK(text(created.json, "instance_id") == instance);
  CHECK(isUtcTimestamp(text(created.json, "created_at")));
  CHECK(jsonText(member(created.json, "expires_at")) == "null");
  CHECK(jsonText(member(created.json, "revoked_at")) == "null");
  CHECK(s.as(t, "POST", keys_path, "{}").status == 201);
  const auto other = s.newProxyKey(t, instance);
  CHECK(other.proxy_key != key);

  const auto dump = s.db.dump();
  CHECK(dump.find(key) == std::string::npos);
  CHECK(dump.find(key.substr(4)) == std::string::npos);
  CHECK(s.db.exec("SELECT count(*) FROM proxy_keys WHERE key_hash = sha256(convert_to($1, 'UTF8'))", key)[0][0]
            .as<int>() == 1);

  const auto list = s.as(t, "GET", keys_path);
  REQUIRE(list.status == 200);
  CHECK(list.body.find(key) == std::string::npos);
  CHECK(list.body.find("hcp_") == std::string::npos);
  CHECK(items(member(list.json, "proxy_keys")).size() == 3);
  const auto& listed = findById(member(list.json, "proxy_keys"), text(created.json, "id"));
  CHECK(keys(listed).count("proxy_key") == 0);
  CHECK(text(listed, "created_at") == text(created.json, "created_at"));
}

TEST_CASE("broker: expires_in_seconds sets expires_at, and bad values are 422") {
  BrokerStack s;
  const auto t = s.newTenant();
  const auto instance = s.createInstance(t);
  const auto keys_path = t.path() + "/instances/" + instance + "/proxy-keys";
  const auto expiring = s.as(t, "POST", keys_path, R"({"expires_in_seconds":3600})");
  REQUIRE(expiring.status == 201);
  CHECK(isUtcTimestamp(text(expiring.json, "expires_at")));
  CHECK(s.db.exec("SELECT expires_at - created_at = interval '3600 seconds' FROM proxy_keys WHERE id = $1",
                  text(expiring.json, "id"))[0][0]
            .as<bool>());
  for (const auto* body : {R"({"expires_in_seconds":"soon"})", R"({"expires_in_seconds":0})",
                           R"({"expires_in_seconds":-60})", R"({"expires_in_seconds":1.5})"}) {
    CAPTURE(body);
    const auto r = s.as(t, "POST", keys_path, body);
    REQUIRE(r.status == 422);
    CHECK(validationProblems(r).front().loc == R"(["body","expires_in_seconds"])");
  }
  CHECK(s.as(t, "POST", keys_path, "{").status == 422);
  CHECK(items(member(s.as(t, "GET", keys_path).json, "proxy_keys")).size() == 1);
}

TEST_CASE("broker: proxy keys belong to their customer and instance") {
  BrokerStack s;
  const auto a = s.newTenant("a");
  const auto b = s.newTenant("b");
  const auto a_runtime = s.newRuntime(a);
  const auto b_instance = s.createInstance(b);
  const auto a_keys = a.path() + "/instances/" + a_runtime.instance_id + "/proxy-keys";

  CHECK(refusal(s.http.request("POST", a_keys, ""), 401) == "");
  CHECK(refusal(s.http.request("GET", a_keys, "", bearer(a_runtime.proxy_key)), 401) == "");  // not an API key
  CHECK(refusal(s.as(b, "POST", a_keys), 403) == "");
  CHECK(refusal(s.as(b, "GET", a_keys), 403) == "");
  CHECK(refusal(s.as(b, "DELETE", a_keys + "/" + a_runtime.key_id), 403) == "");
  // Another customer's instance or key on one's own path: 404, as if it did not exist.
  CHECK(refusal(s.as(a, "POST", a.path() + "/instances/" + b_instance + "/proxy-keys"), 404) == "");
  CHECK(refusal(s.as(a, "GET", a.path() + "/instances/" + b_instance + "/proxy-keys"), 404) == "");
  CHECK(refusal(s.as(b, "DELETE", b.path() + "/instances/" + b_instance + "/proxy-keys/" + a_runtime.key_id), 404) ==
        "");
  CHECK(refusal(s.as(a, "POST", a.path() + "/instances/" + randomUuid() + "/proxy-keys"), 404) == "");
  CHECK(refusal(s.as(a, "DELETE", a_keys + "/" + randomUuid()), 404) == "");
  CHECK(validationProblems(s.as(a, "POST", a.path() + "/instances/nope/proxy-keys")).front().loc ==
        R"(["path","instance_id"])");

  // Nothing above touched A's key.
  const auto list = s.as(a, "GET", a_keys);
  REQUIRE(list.status == 200);
  CHECK(textOrNull(findById(member(list.json, "proxy_keys"), a_runtime.key_id), "revoked_at") == "null");
  REQUIRE(s.as(a, "DELETE", a_keys + "/" + a_runtime.key_id).status == 204);
  const auto revoked = s.as(a, "GET", a_keys);
  CHECK(isUtcTimestamp(textOrNull(findById(member(revoked.json, "proxy_keys"), a_runtime.key_id), "revoked_at")));
}
