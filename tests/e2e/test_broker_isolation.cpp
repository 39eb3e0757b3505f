// Tenant isolation at the broker: an instance of customer A never obtains customer B's
// credentials, whatever instance ids, providers and names its proxy key is presented with.
#include <doctest/doctest.h>

#include "tests/support/broker.hpp"

using namespace hydra::test;

namespace {

/// Two customers with a connection of the same provider and name (different credentials)
/// and one only B has, each granted to an instance of its own.
struct TwoTenants {
  BrokerStack s;
  Tenant a = s.newTenant("a");
  Tenant b = s.newTenant("b");
  std::string a_inbox = s.createConnection(a, connectionBody("gmail", "inbox", R"({"token":"A-SECRET"})"));
  std::string b_inbox = s.createConnection(b, connectionBody("gmail", "inbox", R"({"token":"B-SECRET"})"));
  std::string b_books = s.createConnection(b, connectionBody("xero", "books", R"({"token":"B-BOOKS-SECRET"})"));
  Runtime a_runtime = s.grantedRuntime(a, a_inbox);
  Runtime b_runtime = s.grantedRuntime(b, b_inbox);
  TwoTenants() { s.createGrant(b, b_books, b_runtime.instance_id); }
};

}  // namespace

TEST_CASE("broker: each customer's runtime gets its own credentials for the same provider and name") {
  TwoTenants w;
  const auto a = w.s.fetch(w.a_runtime, "provider=gmail&name=inbox");
  REQUIRE(a.status == 200);
  CHECK(sameJson(member(a.json, "credentials"), R"({"token":"A-SECRET"})"));
  const auto b = w.s.fetch(w.b_runtime, "provider=gmail&name=inbox");
  REQUIRE(b.status == 200);
  CHECK(sameJson(member(b.json, "credentials"), R"({"token":"B-SECRET"})"));
  CHECK(w.s.fetch(w.b_runtime, "provider=xero").status == 200);
}

TEST_CASE("broker: A's proxy key never yields B's credentials, whatever it asks") {
  TwoTenants w;
  const auto& a_key = w.a_runtime.proxy_key;
  struct Attempt {
    std::string what, instance, query;
    int status;
  };
  const std::vector<Attempt> attempts{
      {"B's instance in the path", w.b_runtime.instance_id, "provider=gmail", 403},
      {"B's instance, B's provider", w.b_runtime.instance_id, "provider=xero&name=books", 403},
      {"B's instance, B's connection id as name", w.b_runtime.instance_id, "provider=gmail&name=" + w.b_inbox, 403},
      {"a random instance", randomUuid(), "provider=gmail", 403},
      {"B's customer id as instance", w.b.id, "provider=gmail", 403},
      {"B's connection id as instance", w.b_inbox, "provider=gmail", 403},
      {"own instance, B's provider", w.a_runtime.instance_id, "provider=xero", 404},
      {"own instance, B's provider and name", w.a_runtime.instance_id, "provider=xero&name=books", 404},
      {"own instance, B's connection id as name", w.a_runtime.instance_id, "provider=gmail&name=" + w.b_inbox, 404},
      {"own instance, B's name for another provider", w.a_runtime.instance_id, "provider=gmail&name=books", 404},
  };
  for (const auto& attempt : attempts) {
    CAPTURE(attempt.what);
    const auto r = w.s.fetch(attempt.instance, a_key, attempt.query);
    CHECK(refusal(r, attempt.status) == "");
    CHECK(r.body.find("B-") == std::string::npos);
  }
  // Without a name, only A's own gmail connection is a candidate: B's is neither listed nor ambiguous.
  const auto own = w.s.fetch(w.a_runtime, "provider=gmail");
  REQUIRE(own.status == 200);
  CHECK(sameJson(member(own.json, "credentials"), R"({"token":"A-SECRET"})"));
}

TEST_CASE("broker: B's proxy key on A's instance is 403, and A's grant does not extend to B's instance") {
  TwoTenants w;
  CHECK(refusal(w.s.fetch(w.a_runtime.instance_id, w.b_runtime.proxy_key, "provider=gmail"), 403) == "");
  // Even a grant row that names B's instance with A's connection cannot be made (composite keys),
  // so the database itself rules out a cross-customer release.
  CHECK_THROWS_AS(w.s.db.exec("INSERT INTO grants (customer_id, connection_id, instance_id) VALUES ($1, $2, $3)",
                              w.a.id, w.a_inbox, w.b_runtime.instance_id),
                  pqxx::foreign_key_violation);
  CHECK_THROWS_AS(w.s.db.exec("INSERT INTO grants (customer_id, connection_id, instance_id) VALUES ($1, $2, $3)",
                              w.b.id, w.a_inbox, w.b_runtime.instance_id),
                  pqxx::foreign_key_violation);
  const auto b = w.s.fetch(w.b_runtime, "provider=gmail&name=inbox");
  REQUIRE(b.status == 200);
  CHECK(sameJson(member(b.json, "credentials"), R"({"token":"B-SECRET"})"));
}

TEST_CASE("broker: each customer's audit trail shows only its own runtimes' requests") {
  TwoTenants w;
  const auto a_own = w.s.fetch(w.a_runtime, "provider=gmail");
  const auto a_probe = w.s.fetch(w.b_runtime.instance_id, w.a_runtime.proxy_key, "provider=gmail");
  const auto b_own = w.s.fetch(w.b_runtime, "provider=xero");
  REQUIRE(a_own.status == 200);
  REQUIRE(a_probe.status == 403);
  REQUIRE(b_own.status == 200);

  const auto a_events = w.s.auditEvents(w.a);
  const auto b_events = w.s.auditEvents(w.b);
  CHECK(items(member(a_events.json, "events")).size() == 2);
  CHECK(items(member(b_events.json, "events")).size() == 1);
  CHECK(text(eventFor(a_events, requestId(a_own)), "outcome") == "allowed");
  // A's probe of B's instance is A's key's doing: it is in A's trail, not in B's.
  CHECK(text(eventFor(a_events, requestId(a_probe)), "proxy_key_id") == w.a_runtime.key_id);
  CHECK_THROWS(eventFor(b_events, requestId(a_probe)));
  CHECK_THROWS(eventFor(a_events, requestId(b_own)));
  CHECK(text(eventFor(b_events, requestId(b_own)), "connection_id") == w.b_books);
  // And A cannot read B's trail.
  CHECK(w.s.as(w.a, "GET", w.b.path() + "/audit-events").status == 403);
}
