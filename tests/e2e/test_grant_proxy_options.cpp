// Grant options for the egress proxy (issue 19): "proxy_only" (the fetch never releases the
// credentials) and "rate_limit" (requests per period, for the proxy), on create and PATCH, shown
// everywhere a grant is, validated like the other fields; a proxy-only grant refuses the fetch,
// audited, and making a grant proxy-only is a revocation like any other, memory or not.
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "tests/support/broker.hpp"

using namespace hydra::test;
using namespace std::chrono_literals;

namespace {

const std::string kCanary = "PROXY-ONLY-CANARY";

std::string grantBody(const std::string& instance_id, const std::string& extra = "") {
  return R"({"capabilities":["send_mail"],"instance_id":")" + instance_id + "\"" + extra + "}";
}

std::string grantsPath(const Tenant& t, const std::string& connection) {
  return t.path() + "/connections/" + connection + "/grants";
}

/// The connection as the connection.status_changed webhook writes it (schema/0014, 0019), as
/// superuser: the trigger's SQL encoding of a grant must stay the API's.
std::string connectionAsWebhookSees(const TestDatabase& db, const std::string& connection_id) {
  return db.exec("SELECT webhook_connection_json(c)::text FROM connections c WHERE id = $1", connection_id)[0][0]
      .c_str();
}

/// (proxy_only, rate_limit_requests, rate_limit_per_seconds) of a grant as stored, "null" for NULL.
std::string storedOptions(const TestDatabase& db, const std::string& grant_id) {
  const auto row = db.exec(
      "SELECT proxy_only::text, coalesce(rate_limit_requests::text, 'null'),"
      " coalesce(rate_limit_per_seconds::text, 'null') FROM grants WHERE id = $1",
      grant_id)[0];
  return std::string(row[0].c_str()) + " " + row[1].c_str() + " " + row[2].c_str();
}

}  // namespace

TEST_CASE("grants: proxy_only and rate_limit on create, in the answer, the list, the connection and its webhook form") {
  Stack s;
  const auto t = s.newTenant();
  const auto connection = s.createConnection(t, "gmail", "inbox");
  const auto grants = grantsPath(t, connection);

  const auto plain = s.as(t, "POST", grants, grantBody(s.createInstance(t, "plain")));
  REQUIRE(plain.status == 201);
  CHECK(jsonText(member(plain.json, "proxy_only")) == "false");
  CHECK(jsonText(member(plain.json, "rate_limit")) == "null");

  const auto full = s.as(
      t, "POST", grants,
      grantBody(s.createInstance(t, "full"), R"(,"proxy_only":true,"rate_limit":{"requests":600,"per_seconds":60})"));
  REQUIRE(full.status == 201);
  CHECK(keys(full.json) == std::set<std::string>{"capabilities", "connection_id", "expires_at", "granted_at", "id",
                                                 "instance_id", "proxy_only", "rate_limit"});
  CHECK(jsonText(member(full.json, "proxy_only")) == "true");
  CHECK(jsonText(member(full.json, "rate_limit")) == R"({"per_seconds":60,"requests":600})");
  CHECK(storedOptions(s.db, text(full.json, "id")) == "true 600 60");

  // null is absent on create: the defaults.
  const auto nulls =
      s.as(t, "POST", grants, grantBody(s.createInstance(t, "nulls"), R"(,"proxy_only":null,"rate_limit":null)"));
  REQUIRE(nulls.status == 201);
  CHECK(storedOptions(s.db, text(nulls.json, "id")) == "false null null");

  const auto list = s.as(t, "GET", grants);
  REQUIRE(list.status == 200);
  CHECK(jsonText(findById(member(list.json, "grants"), text(full.json, "id"))) == jsonText(full.json));
  CHECK(jsonText(findById(member(list.json, "grants"), text(plain.json, "id"))) == jsonText(plain.json));
  const auto c = s.as(t, "GET", t.path() + "/connections/" + connection);
  CHECK(jsonText(findById(member(c.json, "grants"), text(full.json, "id"))) == jsonText(full.json));
  CHECK(sameJson(c.json, connectionAsWebhookSees(s.db, connection)));
}

TEST_CASE("grants: PATCH proxy_only and rate_limit: absent or null proxy_only leaves it, null rate_limit removes it") {
  Stack s;
  const auto t = s.newTenant();
  const auto connection = s.createConnection(t, "gmail", "inbox");
  const auto grant = s.createGrant(t, connection, s.createInstance(t), R"(["send_mail","read_mail"])");
  const auto path = grantsPath(t, connection) + "/" + grant;
  const auto patch = [&](const std::string& body) {
    auto r = s.as(t, "PATCH", path, body);
    REQUIRE(r.status == 200);
    CHECK(jsonText(r.json) ==
          jsonText(findById(member(s.as(t, "GET", grantsPath(t, connection)).json, "grants"), grant)));
    return r;
  };

  const auto limited = patch(R"({"rate_limit":{"requests":10,"per_seconds":1}})");
  CHECK(jsonText(member(limited.json, "rate_limit")) == R"({"per_seconds":1,"requests":10})");
  CHECK(jsonText(member(limited.json, "proxy_only")) == "false");
  const auto proxied = patch(R"({"proxy_only":true})");
  CHECK(jsonText(member(proxied.json, "proxy_only")) == "true");
  CHECK(jsonText(member(proxied.json, "rate_limit")) == R"({"per_seconds":1,"requests":10})");  // untouched
  const auto narrowed = patch(R"({"capabilities":["send_mail"],"proxy_only":null})");
  CHECK(jsonText(member(narrowed.json, "capabilities")) == R"(["send_mail"])");
  CHECK(storedOptions(s.db, grant) == "true 10 1");
  patch(R"({"rate_limit":{"per_seconds":86400,"requests":1000000}})");
  CHECK(storedOptions(s.db, grant) == "true 1000000 86400");
  const auto unlimited = patch(R"({"rate_limit":null})");
  CHECK(jsonText(member(unlimited.json, "rate_limit")) == "null");
  CHECK(storedOptions(s.db, grant) == "true null null");
  const auto released = patch(R"({"proxy_only":false})");
  CHECK(storedOptions(s.db, grant) == "false null null");
  CHECK(jsonText(member(released.json, "capabilities")) == R"(["send_mail"])");
  CHECK(sameJson(s.as(t, "GET", t.path() + "/connections/" + connection).json,
                 connectionAsWebhookSees(s.db, connection)));
}

TEST_CASE("grants: proxy_only and rate_limit are validated on create and PATCH, FastAPI-shaped, and nothing changes") {
  Stack s;
  const auto t = s.newTenant();
  const auto connection = s.createConnection(t, "gmail", "inbox");
  const auto instance = s.createInstance(t);
  const auto grants = grantsPath(t, connection);
  const auto grant = s.createGrant(t, connection, s.createInstance(t, "granted"));
  REQUIRE(s.as(t, "PATCH", grants + "/" + grant, R"({"rate_limit":{"requests":5,"per_seconds":10}})").status == 200);

  struct Case {
    std::string fields;
    std::vector<std::string> problems;
  };
  const std::vector<Case> cases{
      {R"("proxy_only":"yes")", {R"(["body","proxy_only"] bool_type)"}},
      {R"("proxy_only":1)", {R"(["body","proxy_only"] bool_type)"}},
      {R"("rate_limit":600)", {R"(["body","rate_limit"] dict_type)"}},
      {R"("rate_limit":[600,60])", {R"(["body","rate_limit"] dict_type)"}},
      {R"("rate_limit":{"requests":600})", {R"(["body","rate_limit","per_seconds"] missing)"}},
      {R"("rate_limit":{"per_seconds":60})", {R"(["body","rate_limit","requests"] missing)"}},
      {R"("rate_limit":{})",
       {R"(["body","rate_limit","per_seconds"] missing)", R"(["body","rate_limit","requests"] missing)"}},
      {R"("rate_limit":{"requests":0,"per_seconds":60})", {R"(["body","rate_limit","requests"] greater_than_equal)"}},
      {R"("rate_limit":{"requests":1000001,"per_seconds":60})",
       {R"(["body","rate_limit","requests"] less_than_equal)"}},
      {R"("rate_limit":{"requests":600,"per_seconds":0})",
       {R"(["body","rate_limit","per_seconds"] greater_than_equal)"}},
      {R"("rate_limit":{"requests":600,"per_seconds":86401})",
       {R"(["body","rate_limit","per_seconds"] less_than_equal)"}},
      {R"("rate_limit":{"requests":-5,"per_seconds":60})", {R"(["body","rate_limit","requests"] greater_than_equal)"}},
      {R"("rate_limit":{"requests":"600","per_seconds":60})", {R"(["body","rate_limit","requests"] int_type)"}},
      {R"("rate_limit":{"requests":1.5,"per_seconds":60})", {R"(["body","rate_limit","requests"] int_type)"}},
      {R"("rate_limit":{"requests":600,"per_seconds":null})", {R"(["body","rate_limit","per_seconds"] int_type)"}},
      {R"("rate_limit":{"requests":600,"per_seconds":60,"burst":10})",
       {R"(["body","rate_limit","burst"] extra_forbidden)"}},
      {R"("proxy_only":"true","rate_limit":{"requests":600,"per_second":60})",
       {R"(["body","proxy_only"] bool_type)", R"(["body","rate_limit","per_second"] extra_forbidden)",
        R"(["body","rate_limit","per_seconds"] missing)"}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.fields);
    const auto created = s.as(t, "POST", grants, grantBody(instance, "," + c.fields));
    CHECK(created.status == 422);
    CHECK(problemLocTypes(created) == c.problems);
    const auto patched = s.as(t, "PATCH", grants + "/" + grant, "{" + c.fields + "}");
    CHECK(patched.status == 422);
    CHECK(problemLocTypes(patched) == c.problems);
  }
  // pydantic's wording.
  const auto extra =
      s.as(t, "POST", grants, grantBody(instance, R"(,"rate_limit":{"requests":1,"per_seconds":1,"x":1})"));
  REQUIRE(validationProblems(extra).size() == 1);
  CHECK(validationProblems(extra)[0].msg == "Extra inputs are not permitted");
  const auto missing = s.as(t, "POST", grants, grantBody(instance, R"(,"rate_limit":{"requests":1})"));
  REQUIRE(validationProblems(missing).size() == 1);
  CHECK(validationProblems(missing)[0].msg == "Field required");

  CHECK(s.db.exec("SELECT count(*) FROM grants")[0][0].as<int>() == 1);
  CHECK(storedOptions(s.db, grant) == "false 5 10");
}

TEST_CASE("grants: the database refuses a half or out-of-range rate limit whoever writes it") {
  Stack s;
  const auto t = s.newTenant();
  const auto grant = s.createGrant(t, s.createConnection(t, "gmail", "inbox"), s.createInstance(t));
  for (const auto* set :
       {"rate_limit_requests = 5", "rate_limit_per_seconds = 5", "rate_limit_requests = 0, rate_limit_per_seconds = 5",
        "rate_limit_requests = 1000001, rate_limit_per_seconds = 5",
        "rate_limit_requests = 5, rate_limit_per_seconds = 86401", "proxy_only = NULL"}) {
    CAPTURE(set);
    CHECK_THROWS(s.db.exec(std::string("UPDATE grants SET ") + set + " WHERE id = $1", grant));
  }
  s.db.exec("UPDATE grants SET rate_limit_requests = 1000000, rate_limit_per_seconds = 86400 WHERE id = $1", grant);
  CHECK(storedOptions(s.db, grant) == "false 1000000 86400");
}

TEST_CASE("broker: a proxy-only grant refuses the fetch with 403 saying so, audited, and releases nothing") {
  BrokerStack s;
  const auto t = s.newTenant();
  const auto connection =
      s.createConnection(t, connectionBody("gmail", "inbox", R"({"access_token":")" + kCanary + "\"}"));
  const auto proxied = s.newRuntime(t, "proxied");
  REQUIRE(s.as(t, "POST", grantsPath(t, connection), grantBody(proxied.instance_id, R"(,"proxy_only":true)")).status ==
          201);
  // The same connection granted without the option, rate limited: released as before.
  const auto direct = s.newRuntime(t, "direct");
  REQUIRE(s.as(t, "POST", grantsPath(t, connection),
               grantBody(direct.instance_id, R"(,"rate_limit":{"requests":1,"per_seconds":3600})"))
              .status == 201);

  for (const auto* query : {"provider=gmail&capability=send_mail", "provider=gmail&name=inbox", "provider=gmail"}) {
    CAPTURE(query);
    const auto r = s.fetch(proxied, query);
    CHECK(refusal(r, 403) == "");
    CHECK(r.body.find(kCanary) == std::string::npos);
    const auto detail = errorDetail(r);
    CHECK(detail.find("proxy-only") != std::string::npos);
    CHECK(detail.find("/internal/v1/instances/" + proxied.instance_id + "/proxy/gmail/") != std::string::npos);
    const auto events = s.auditEvents(t);
    const auto& e = eventFor(events, requestId(r));
    CHECK(text(e, "outcome") == "denied");
    CHECK(text(e, "reason") == detail);
    CHECK(text(e, "connection_id") == connection);
    CHECK(text(e, "proxy_key_id") == proxied.key_id);
  }
  // A capability the grant lacks is still refused as such: the more precise reason.
  CHECK(errorDetail(s.fetch(proxied, "provider=gmail&capability=delete_mail")).find("delete_mail") !=
        std::string::npos);
  // The rate limit is the proxy's: the fetch of the other grant is unaffected, however often.
  for (int i = 0; i < 3; ++i) {
    const auto r = s.fetch(direct, "provider=gmail&capability=send_mail");
    REQUIRE(r.status == 200);
    CHECK(text(member(r.json, "credentials"), "access_token") == kCanary);
  }
}

// Timed (the "authz: " group): it first shows that the broker answers this grant from memory,
// which needs memory to be current, i.e. the change listener's ticks to return within the bound.
TEST_CASE(
    "authz: PATCH proxy_only true refuses the very next fetch although the broker remembered the grant, false releases "
    "again") {
  // A bound of a second (control plane and broker alike) keeps memory current on a busy machine.
  const Environment bound{{"HYDRA_AUTHZ_STALENESS_MS", "1000"}};
  BrokerStack s(bound, bound);
  const auto t = s.newTenant();
  const auto connection = s.createConnection(t, connectionBody("gmail", "inbox", R"({"access_token":"database"})"));
  const auto stored = storedSecret(s.db, connection);
  const auto runtime = s.grantedRuntime(t, connection);
  const auto path = grantsPath(t, connection) + "/" +
                    text(*items(member(s.as(t, "GET", grantsPath(t, connection)).json, "grants")).at(0), "id");
  const std::string query = "provider=gmail&capability=send_mail";
  const auto token = [](const Response& r) { return text(member(r.json, "credentials"), "access_token"); };

  // Memory is shown to serve the grant: the credentials are replaced through the API (so the
  // broker hears of it) by {"access_token":"memory"}, fetched, then put back to the original
  // ciphertext behind the brokers' back (triggers off). A fetch released "memory" now can only
  // have come from memory. A load that raced its own notification is not kept: try again.
  bool remembered = false;
  for (int attempt = 0; attempt < 10 && !remembered; ++attempt) {
    REQUIRE(s.as(t, "PATCH", t.path() + "/connections/" + connection, R"({"credentials":{"access_token":"memory"}})")
                .status == 200);
    for (int i = 0; i < 3; ++i) REQUIRE(s.fetch(runtime, query).status == 200);
    {
      pqxx::connection superuser(s.db.url());
      pqxx::nontransaction tx(superuser);
      tx.exec("SET session_replication_role = replica");
      tx.exec_params(
          "UPDATE connection_secrets SET key_id = $2, ciphertext = decode($3, 'hex') WHERE connection_id = $1",
          connection, stored.key_id, stored.ciphertext_hex);
    }
    const auto r = s.fetch(runtime, query);
    REQUIRE(r.status == 200);
    remembered = token(r) == "memory";
  }
  REQUIRE_MESSAGE(remembered, "the broker never answered from memory");

  const auto narrowed = s.as(t, "PATCH", path, R"({"proxy_only":true})");
  REQUIRE(narrowed.status == 200);
  CHECK(jsonText(member(narrowed.json, "proxy_only")) == "true");
  const auto refused = s.fetch(runtime, query);
  CHECK(refusal(refused, 403) == "");
  CHECK(errorDetail(refused).find("proxy-only") != std::string::npos);
  CHECK(refused.body.find("memory") == std::string::npos);
  CHECK(refused.body.find("database") == std::string::npos);

  // Widening again releases at once, from the database (which holds "database").
  REQUIRE(s.as(t, "PATCH", path, R"({"proxy_only":false})").status == 200);
  const auto released = s.fetch(runtime, query);
  REQUIRE(released.status == 200);
  CHECK(token(released) == "database");
}
