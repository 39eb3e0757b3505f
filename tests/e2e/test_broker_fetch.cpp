// The broker's fetch endpoint, step by step (issue 3, "The endpoint"): who may ask, which
// connection answers, what it returns, and every refusal's status and shape.
#include <doctest/doctest.h>

#include "tests/support/broker.hpp"

using namespace hydra::test;

namespace {

// Every JSON type, nesting and non-ASCII text: the runtime must get back exactly this.
const std::string kCredentials =
    R"({"access_token":"ya29.FETCH-CANARY","refresh_token":"1//r","expires_in":3599,)"
    R"("nested":{"scopes":["a","b"],"ok":true,"none":null},"unicode":"h\u00e9llo \u2713"})";
// What the runtime gets: all of it but the refresh token, never released whatever the auth_type.
const std::string kReleased =
    R"({"access_token":"ya29.FETCH-CANARY","expires_in":3599,)"
    R"("nested":{"scopes":["a","b"],"ok":true,"none":null},"unicode":"h\u00e9llo \u2713"})";

/// A tenant with a gmail connection "inbox" (kCredentials) granted to one runtime with
/// send_mail and read_mail. It is an api_key connection: those come back as stored, but for a
/// refresh token or client secret (oauth2 ones are also refreshed first: test_oauth_*.cpp).
struct Granted {
  BrokerStack s;
  Tenant t = s.newTenant();
  std::string connection =
      s.createConnection(t, R"({"auth_type":"api_key",)" + connectionBody("gmail", "inbox", kCredentials).substr(1));
  Runtime runtime = s.grantedRuntime(t, connection, R"(["send_mail","read_mail"])");
};

/// A 200 that released `credentials` with `capabilities`, not to be cached.
void checkReleased(const Response& r, const std::string& credentials, const std::string& capabilities) {
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(keys(r.json) == std::set<std::string>{"capabilities", "credentials"});
  CHECK(sameJson(member(r.json, "credentials"), credentials));
  CHECK(sameJson(member(r.json, "capabilities"), capabilities));
  CHECK(r.header("Cache-Control") == "no-store");
  CHECK(r.header("Content-Type").value_or("").find("application/json") == 0);
}

}  // namespace

TEST_CASE("broker: a granted fetch returns exactly the stored credentials and the grant's capabilities") {
  Granted g;
  const auto capabilities = R"(["send_mail","read_mail"])";
  checkReleased(g.s.fetch(g.runtime, "provider=gmail"), kReleased, capabilities);
  checkReleased(g.s.fetch(g.runtime, "provider=gmail&name=inbox"), kReleased, capabilities);
  checkReleased(g.s.fetch(g.runtime, "provider=gmail&name=inbox&capability=send_mail"), kReleased, capabilities);
  checkReleased(g.s.fetch(g.runtime, "provider=gmail&capability=read_mail"), kReleased, capabilities);
  // Fetched again (the derived-key cache now holds it): still exactly the same.
  checkReleased(g.s.fetch(g.runtime, "provider=gmail"), kReleased, capabilities);
}

TEST_CASE("broker: a missing, unknown, revoked or expired proxy key, or one whose instance is gone, is 401") {
  Granted g;
  const auto revoked = g.s.newProxyKey(g.t, g.runtime.instance_id);
  const auto& instance = revoked.instance_id;
  const auto& key_id = revoked.key_id;
  const auto& proxy_key = revoked.proxy_key;
  const auto expiring = g.s.newProxyKey(g.t, g.runtime.instance_id, R"({"expires_in_seconds":60})");
  REQUIRE(g.s.fetch(expiring, "provider=gmail").status == 200);  // live until it expires
  REQUIRE(g.s.fetch(instance, proxy_key, "provider=gmail").status == 200);
  REQUIRE(g.s.as(g.t, "DELETE", g.t.path() + "/instances/" + instance + "/proxy-keys/" + key_id).status == 204);
  g.s.db.exec("UPDATE proxy_keys SET expires_at = now() - interval '1 second' WHERE id = $1", expiring.key_id);
  waitOutStaleness();
  const auto doomed = g.s.grantedRuntime(g.t, g.connection);
  REQUIRE(g.s.fetch(doomed, "provider=gmail").status == 200);
  REQUIRE(g.s.as(g.t, "DELETE", g.t.path() + "/instances/" + doomed.instance_id).status == 204);

  const auto path = "/internal/v1/instances/" + instance + "/connections?provider=gmail";
  const auto unauthorized = [](const std::string& what, const Response& r) {
    CAPTURE(what);
    CHECK(refusal(r, 401) == "");
  };
  unauthorized("no Authorization", g.s.fetch(instance, "", "provider=gmail"));
  unauthorized("not a bearer",
               g.s.runtime.request("GET", path, "", {{"Authorization", "Basic " + g.runtime.proxy_key}}));
  unauthorized("empty bearer", g.s.runtime.request("GET", path, "", {{"Authorization", "Bearer "}}));
  unauthorized("unknown key", g.s.fetch(instance, "hcp_" + randomToken(43), "provider=gmail"));
  unauthorized("the customer's API key", g.s.fetch(instance, g.t.api_key, "provider=gmail"));
  unauthorized("revoked key", g.s.fetch(instance, proxy_key, "provider=gmail"));
  unauthorized("expired key", g.s.fetch(expiring, "provider=gmail"));
  unauthorized("key of a deleted instance", g.s.fetch(doomed, "provider=gmail"));
  CHECK(g.s.fetch(g.runtime, "provider=gmail").status == 200);  // the other live key of the instance
}

TEST_CASE("broker: a live proxy key of another instance of the same customer is 403") {
  Granted g;
  const auto other = g.s.grantedRuntime(g.t, g.connection);
  CHECK(refusal(g.s.fetch(other.instance_id, g.runtime.proxy_key, "provider=gmail"), 403) == "");
  CHECK(refusal(g.s.fetch(g.runtime.instance_id, other.proxy_key, "provider=gmail"), 403) == "");
  CHECK(refusal(g.s.fetch(randomUuid(), g.runtime.proxy_key, "provider=gmail"), 403) == "");
  CHECK(g.s.fetch(other, "provider=gmail").status == 200);
}

TEST_CASE("broker: 404 unless a grant of this instance matches the provider and name") {
  Granted g;
  g.s.createConnection(g.t, "xero", "books");    // not granted
  g.s.createConnection(g.t, "gmail", "archive");  // same provider, not granted
  for (const auto* query : {"provider=xero", "provider=xero&name=books", "provider=gmail&name=archive",
                            "provider=gmail&name=nope", "provider=slack", "provider=gmail&name=INBOX"}) {
    CAPTURE(query);
    const auto r = g.s.fetch(g.runtime, query);
    CHECK(refusal(r, 404) == "");
  }
  // The ungranted gmail connection is no candidate: no 409.
  checkReleased(g.s.fetch(g.runtime, "provider=gmail"), kReleased, R"(["send_mail","read_mail"])");
}

TEST_CASE("broker: several granted connections of a provider without name= is 409 naming them, and name= picks one") {
  BrokerStack s;
  const auto t = s.newTenant();
  const auto work = s.createConnection(t, connectionBody("gmail", "work", R"({"token":"work-token"})"));
  const auto personal = s.createConnection(t, connectionBody("gmail", "personal", R"({"token":"personal-token"})"));
  const auto runtime = s.grantedRuntime(t, work);
  s.createGrant(t, personal, runtime.instance_id, R"(["read_mail"])");

  const auto ambiguous = s.fetch(runtime, "provider=gmail");
  REQUIRE(refusal(ambiguous, 409) == "");
  const auto detail = errorDetail(ambiguous);
  CHECK(detail.find("work") != std::string::npos);
  CHECK(detail.find("personal") != std::string::npos);
  CHECK(ambiguous.body.find("-token") == std::string::npos);
  CHECK(refusal(s.fetch(runtime, "provider=gmail&capability=send_mail"), 409) == "");

  checkReleased(s.fetch(runtime, "provider=gmail&name=work"), R"({"token":"work-token"})", R"(["send_mail"])");
  checkReleased(s.fetch(runtime, "provider=gmail&name=personal"), R"({"token":"personal-token"})", R"(["read_mail"])");
}

TEST_CASE("broker: a capability the grant lacks is 403, one it has or none asked is 200") {
  Granted g;
  for (const auto* query : {"provider=gmail&capability=delete_mail", "provider=gmail&name=inbox&capability=SEND_MAIL",
                            "provider=gmail&capability=send"}) {
    CAPTURE(query);
    CHECK(refusal(g.s.fetch(g.runtime, query), 403) == "");
  }
  CHECK(g.s.fetch(g.runtime, "provider=gmail&capability=send_mail").status == 200);
  CHECK(g.s.fetch(g.runtime, "provider=gmail&capability=read_mail").status == 200);
  CHECK(g.s.fetch(g.runtime, "provider=gmail").status == 200);

  // A grant without capabilities releases only when none is asked.
  const auto bare = g.s.grantedRuntime(g.t, g.connection, "[]");
  CHECK(refusal(g.s.fetch(bare, "provider=gmail&capability=send_mail"), 403) == "");
  checkReleased(g.s.fetch(bare, "provider=gmail"), kReleased, "[]");
}

TEST_CASE("broker: a connection in error or expired is 409 and releases nothing") {
  Granted g;
  const std::string message = "refresh token revoked by the provider (invalid_grant)";
  g.s.db.exec("UPDATE connections SET status = 'error', error_message = $1 WHERE id = $2", message, g.connection);
  waitOutStaleness();
  const auto broken = g.s.fetch(g.runtime, "provider=gmail");
  CHECK(refusal(broken, 409) == "");
  CHECK(errorDetail(broken).find(message) != std::string::npos);
  CHECK(broken.body.find("CANARY") == std::string::npos);

  g.s.db.exec("UPDATE connections SET status = 'expired', error_message = NULL WHERE id = $1", g.connection);
  waitOutStaleness();
  const auto expired = g.s.fetch(g.runtime, "provider=gmail&name=inbox&capability=send_mail");
  CHECK(refusal(expired, 409) == "");
  CHECK(expired.body.find("CANARY") == std::string::npos);

  g.s.db.exec("UPDATE connections SET status = 'active' WHERE id = $1", g.connection);
  checkReleased(g.s.fetch(g.runtime, "provider=gmail"), kReleased, R"(["send_mail","read_mail"])");
}

TEST_CASE("broker: validation errors are 422 in FastAPI's shape") {
  Granted g;
  const auto locs = [](const Response& r) {
    std::vector<std::string> out;
    for (const auto& p : validationProblems(r)) out.push_back(p.loc);
    return out;
  };
  CHECK(locs(g.s.fetch(g.runtime, "")) == std::vector<std::string>{R"(["query","provider"])"});
  CHECK(locs(g.s.fetch(g.runtime, "name=inbox&capability=send_mail")) ==
        std::vector<std::string>{R"(["query","provider"])"});
  CHECK(locs(g.s.fetch("not-a-uuid", g.runtime.proxy_key, "provider=gmail")) ==
        std::vector<std::string>{R"(["path","instance_id"])"});
  CHECK(locs(g.s.fetch(g.runtime.instance_id + "0", g.runtime.proxy_key, "provider=gmail")) ==
        std::vector<std::string>{R"(["path","instance_id"])"});
  CHECK(locs(g.s.fetch("42", g.runtime.proxy_key, "")) ==
        std::vector<std::string>{R"(["path","instance_id"])", R"(["query","provider"])"});
}

TEST_CASE("broker: bytes PostgreSQL cannot store are 422, and never fail other runtimes' fetches") {
  Granted g;
  // Percent-decoded: invalid UTF-8, a lone surrogate, NUL. Without a key too (no audit record
  // may carry them into a shared commit).
  for (const auto* query : {"provider=%FF", "provider=gmail&name=%ED%B2%80", "provider=gm%00ail", "provider=gmail&capability=%C3"}) {
    CAPTURE(query);
    const auto r = g.s.fetch(g.runtime, query);
    REQUIRE(r.status == 422);
    CHECK(validationProblems(r)[0].loc.rfind(R"(["query",)", 0) == 0);
    CHECK(g.s.fetch(g.runtime.instance_id, "", query).status == 422);
  }
  checkReleased(g.s.fetch(g.runtime, "provider=gmail"), kReleased, R"(["send_mail","read_mail"])");
}

TEST_CASE("broker: a release sets the connection's last_used_at, a refusal does not") {
  Granted g;
  CHECK(textOrNull(g.s.connection(g.t, g.connection).json, "last_used_at") == "null");

  // last_used_at is set as the audit records are shipped to PostgreSQL.
  const auto refused = g.s.fetch(g.runtime, "provider=gmail&capability=delete_mail");
  REQUIRE(refused.status == 403);
  awaitShipped(g.s.db, {requestId(refused)});
  CHECK(textOrNull(g.s.connection(g.t, g.connection).json, "last_used_at") == "null");

  const auto released = g.s.fetch(g.runtime, "provider=gmail");
  REQUIRE(released.status == 200);
  awaitShipped(g.s.db, {requestId(released)});
  const auto first_use = textOrNull(g.s.connection(g.t, g.connection).json, "last_used_at");
  CHECK(isUtcTimestamp(first_use));
  // Kept to the minute, not to the fetch: a release right after rewrites no row (and fires no
  // trigger). When a later use moves it: integration test "audit shipment: last_used_at ...".
  const auto version = [&] { return g.s.db.exec("SELECT xmin::text FROM connections WHERE id = $1", g.connection)[0][0].as<std::string>(); };
  const auto before = version();
  const auto again = g.s.fetch(g.runtime, "provider=gmail&name=inbox");
  REQUIRE(again.status == 200);
  awaitShipped(g.s.db, {requestId(again)});
  CHECK(version() == before);
  CHECK(textOrNull(g.s.connection(g.t, g.connection).json, "last_used_at") == first_use);
  CHECK(g.s.db.exec("SELECT last_used_at > now() - interval '1 minute' FROM connections WHERE id = $1", g.connection)[0][0]
            .as<bool>());
}

TEST_CASE("broker: it serves /healthz and the fetch, nothing of the control plane") {
  Granted g;
  const auto health = g.s.runtime.request("GET", "/healthz");
  CHECK(health.status == 200);
  const auto customer_route = g.s.runtime.request("GET", g.t.path() + "/connections", "", g.t.auth());
  CHECK(customer_route.status == 404);
  CHECK(customer_route.body.find("inbox") == std::string::npos);
  CHECK(g.s.runtime.request("POST", "/v1/admin/customers", R"({"name":"x"})", bearer(g.s.server.adminToken())).status ==
        404);
}

TEST_CASE("broker: its log never contains a proxy key, a credential value or a ciphertext") {
  Granted g;
  const auto revoked = g.s.newProxyKey(g.t, g.runtime.instance_id);
  REQUIRE(g.s.as(g.t, "DELETE", g.t.path() + "/instances/" + revoked.instance_id + "/proxy-keys/" + revoked.key_id)
              .status == 204);
  const auto unknown = "hcp_" + randomToken(43);
  REQUIRE(g.s.fetch(g.runtime, "provider=gmail").status == 200);
  REQUIRE(g.s.fetch(g.runtime, "provider=gmail&name=inbox&capability=read_mail").status == 200);
  REQUIRE(g.s.fetch(g.runtime, "provider=gmail&capability=nope").status == 403);
  REQUIRE(g.s.fetch(revoked, "provider=gmail").status == 401);
  REQUIRE(g.s.fetch(g.runtime.instance_id, unknown, "provider=gmail").status == 401);
  REQUIRE(g.s.fetch(g.runtime.instance_id, g.t.api_key, "provider=gmail").status == 401);
  g.s.db.exec("UPDATE connections SET status = 'error', error_message = 'x' WHERE id = $1", g.connection);
  waitOutStaleness();
  REQUIRE(g.s.fetch(g.runtime, "provider=gmail").status == 409);

  const auto secret = storedSecret(g.s.db, g.connection);
  const auto base64 = g.s.db.exec("SELECT encode(ciphertext, 'base64') FROM connection_secrets")[0][0].as<std::string>();
  const auto log = g.s.broker.log();
  REQUIRE(log.find("GET /internal/v1/instances/:instance_id/connections 200") != std::string::npos);  // it logs
  for (const auto& secret_text :
       {g.runtime.proxy_key, g.runtime.proxy_key.substr(4), revoked.proxy_key, unknown, g.t.api_key,
        std::string("FETCH-CANARY"), std::string("1//r"), secret.ciphertext_hex.substr(0, 32),
        secret.ciphertext_hex.substr(secret.ciphertext_hex.size() - 32), base64.substr(0, 32)}) {
    CAPTURE(secret_text);
    CHECK(log.find(secret_text) == std::string::npos);
  }
}
