// Revocation through the control plane denies the broker's very next request: no cache of a
// key, a grant, a connection or its credentials outlives a change. Every check follows its
// change at once, with the broker warm (the same request answered just before).
#include <doctest/doctest.h>

#include "tests/support/broker.hpp"

using namespace hydra::test;

namespace {

/// A tenant with gmail/inbox granted (send_mail) to a runtime that has just fetched it twice.
/// The credentials hold an access token: an oauth2 connection without one is due for a refresh,
/// and those are never answered from the broker's memory, so the warm-up would not warm it.
struct Warm {
  BrokerStack s;
  Tenant t = s.newTenant();
  std::string connection = s.createConnection(t, connectionBody("gmail", "inbox", R"({"access_token":"v1"})"));
  Runtime runtime = s.newRuntime(t);
  std::string grant = s.createGrant(t, connection, runtime.instance_id);
  std::string query = "provider=gmail&name=inbox&capability=send_mail";

  Warm() {
    for (int i = 0; i < 2; ++i) expectStatus(s.fetch(runtime, query), 200, "warm-up fetch");
  }
  Response del(const std::string& path) const { return s.as(t, "DELETE", t.path() + path); }
};

}  // namespace

TEST_CASE("broker: a deleted grant is 404 on the next request") {
  Warm w;
  REQUIRE(w.del("/connections/" + w.connection + "/grants/" + w.grant).status == 204);
  CHECK(refusal(w.s.fetch(w.runtime, w.query), 404) == "");
  CHECK(refusal(w.s.fetch(w.runtime, "provider=gmail"), 404) == "");
}

TEST_CASE("broker: a grant re-made with fewer capabilities refuses the dropped one on the next request") {
  Warm w;
  REQUIRE(w.del("/connections/" + w.connection + "/grants/" + w.grant).status == 204);
  w.s.createGrant(w.t, w.connection, w.runtime.instance_id, R"(["read_mail"])");
  CHECK(refusal(w.s.fetch(w.runtime, w.query), 403) == "");
  const auto r = w.s.fetch(w.runtime, "provider=gmail&capability=read_mail");
  REQUIRE(r.status == 200);
  CHECK(sameJson(member(r.json, "capabilities"), R"(["read_mail"])"));
}

TEST_CASE("broker: a revoked proxy key is 401 on the next request, the instance's other key keeps working") {
  Warm w;
  const auto second = w.s.newProxyKey(w.t, w.runtime.instance_id);
  REQUIRE(w.s.fetch(second, w.query).status == 200);
  REQUIRE(w.del("/instances/" + w.runtime.instance_id + "/proxy-keys/" + w.runtime.key_id).status == 204);
  CHECK(refusal(w.s.fetch(w.runtime, w.query), 401) == "");
  CHECK(w.s.fetch(second, w.query).status == 200);  // rotation without downtime
  REQUIRE(w.del("/instances/" + w.runtime.instance_id + "/proxy-keys/" + second.key_id).status == 204);
  CHECK(refusal(w.s.fetch(second, w.query), 401) == "");
}

TEST_CASE("broker: a deleted instance's key is 401 on the next request") {
  Warm w;
  REQUIRE(w.del("/instances/" + w.runtime.instance_id).status == 204);
  CHECK(refusal(w.s.fetch(w.runtime, w.query), 401) == "");
}

TEST_CASE("broker: a deleted connection is 404 on the next request") {
  Warm w;
  REQUIRE(w.del("/connections/" + w.connection).status == 204);
  CHECK(refusal(w.s.fetch(w.runtime, w.query), 404) == "");
  // A new connection of the same name is not granted: still 404, never the old credentials.
  w.s.createConnection(w.t, connectionBody("gmail", "inbox", R"({"token":"v2"})"));
  CHECK(refusal(w.s.fetch(w.runtime, w.query), 404) == "");
}

TEST_CASE("broker: replaced credentials and a renamed connection show on the next request") {
  Warm w;
  const auto path = w.t.path() + "/connections/" + w.connection;
  REQUIRE(w.s.as(w.t, "PATCH", path, R"({"credentials":{"access_token":"v2"}})").status == 200);
  const auto replaced = w.s.fetch(w.runtime, w.query);
  REQUIRE(replaced.status == 200);
  CHECK(sameJson(member(replaced.json, "credentials"), R"({"access_token":"v2"})"));

  REQUIRE(w.s.as(w.t, "PATCH", path, R"({"name":"renamed"})").status == 200);
  CHECK(refusal(w.s.fetch(w.runtime, w.query), 404) == "");
  CHECK(w.s.fetch(w.runtime, "provider=gmail&name=renamed").status == 200);
}
