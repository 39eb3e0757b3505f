// The broker's side of the connect flow (issue 20): sessions the control plane would have put in
// `exchanging` are made here directly as the database owner, their code sealed to the test
// broker key as the callback seals it; the real broker exchanges them at hydra-mock-oauth.
#include <doctest/doctest.h>

#include <set>
#include <thread>

#include "shared/crypto/public_key_file.hpp"
#include "shared/crypto/seal.hpp"
#include "shared/db/bytea.hpp"
#include "tests/e2e/connect_support.hpp"  // s256: RFC 7636's S256, computed apart from the broker
#include "tests/support/oauth_fixture.hpp"
#include "tests/support/proxy_fixture.hpp"

using namespace hydra::test;
using namespace std::chrono_literals;

namespace {

const std::string kRedirect = "https://hydra.example/connect/callback";

std::string json(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

ProviderEntry connectProvider() {
  ProviderEntry entry{kMockProvider};
  entry.extra = R"("authorization_url":"http://127.0.0.1:9/authorize","pkce":true,)"
                R"("default_scopes":["mail.read","mail.send"],)"
                R"("scope_descriptions":{"mail.read":"Read your mail","mail.send":"Send mail as you"})";
  return entry;
}

hydra::crypto::SealedSecret seal(const std::string& plaintext, const std::string& aad) {
  const hydra::crypto::Sealer sealer(hydra::crypto::readPublicKeyPem(testDataPath("test-broker-public.pem")));
  return sealer.seal(plaintext, aad);
}

/// The connect flow's rows as the control plane's callback leaves them.
struct Flow {
  const OAuthStack& s;
  Runtime runtime;
  std::string name, connection_id;

  /// A connection the flow made (status pending, no secret), granted to a new runtime.
  Flow(const OAuthStack& stack, const std::string& connection_name) : s(stack), name(connection_name) {
    runtime = s.newRuntime(s.tenant, "agent-" + connection_name);
    connection_id = s.db.exec("INSERT INTO connections (customer_id, provider, name, auth_type, status)"
                              " VALUES ($1, $2, $3, 'oauth2', 'pending') RETURNING id",
                              s.tenant.id, kMockProvider, name)[0][0].c_str();
    grant();
  }
  /// An existing connection to re-authorise, granted to a new runtime.
  Flow(const OAuthStack& stack, std::string existing_id, const std::string& connection_name)
      : s(stack), name(connection_name), connection_id(std::move(existing_id)) {
    runtime = s.newRuntime(s.tenant, "agent-" + connection_name);
    grant();
  }
  void grant() const {
    s.db.exec("INSERT INTO grants (customer_id, connection_id, instance_id, capabilities) VALUES ($1, $2, $3, '[]')",
              s.tenant.id, connection_id, runtime.instance_id);
  }

  /// A session in `exchanging` whose sealed payload holds `code` (and `verifier`); returns its id.
  /// `sealed_for`: seal it for that session id instead (a ciphertext moved between rows).
  std::string session(const std::string& code, const std::string& verifier,
                      const std::optional<std::string>& oauth_client_id = std::nullopt,
                      const std::string& sealed_for = "") const {
    const std::string id = s.db.exec("SELECT gen_random_uuid()")[0][0].c_str();
    const auto payload = R"({"code":)" + json(code) + (verifier.empty() ? "" : R"(,"code_verifier":)" + json(verifier)) +
                         R"(,"redirect_uri":)" + json(kRedirect) + "}";
    const auto sealed = seal(payload, hydra::crypto::connectSessionAad(s.tenant.id, sealed_for.empty() ? id : sealed_for));
    s.db.exec("INSERT INTO connect_sessions (id, customer_id, token_hash, provider, connection_id, oauth_client_id,"
              " status, code_key_id, code_ciphertext, expires_at)"
              " VALUES ($1, $2, sha256(gen_random_uuid()::text::bytea), $3, $4, $5, 'exchanging', $6, $7::bytea,"
              " now() + interval '30 minutes')",
              id, s.tenant.id, kMockProvider, connection_id, oauth_client_id, sealed.key_id,
              hydra::db::byteaParam(sealed.ciphertext));
    return id;
  }

  std::string sessionField(const std::string& id, const std::string& column) const {
    const auto r = s.db.exec("SELECT " + column + " FROM connect_sessions WHERE id = $1", id);
    return r[0][0].is_null() ? "null" : r[0][0].c_str();
  }
  std::string connectionField(const std::string& column) const {
    const auto r = s.db.exec("SELECT " + column + " FROM connections WHERE id = $1", connection_id);
    return r[0][0].is_null() ? "null" : r[0][0].c_str();
  }
  bool ended(const std::string& id) const {
    return eventually([&] { return sessionField(id, "status") != "exchanging"; }, 20s);
  }
  Response fetch() const { return s.fetch(runtime, std::string("provider=") + kMockProvider + "&name=" + name); }
  std::string stored() const { return s.storedCredentials({connection_id, kMockProvider, name, runtime}); }
};

}  // namespace

TEST_CASE("connect exchange: the registry's connect providers are published at start-up") {
  OAuthStack s(quietLoop(), {connectProvider(), ProviderEntry{"plainprov"}});
  REQUIRE(eventually([&] { return !s.db.exec("SELECT 1 FROM connect_providers").empty(); }, 10s));
  const auto row = s.db.exec("SELECT authorization_url, pkce, shared_client_id, default_scopes::text,"
                             " scope_descriptions::text FROM connect_providers WHERE provider = $1", kMockProvider);
  REQUIRE(row.size() == 1);
  CHECK(std::string(row[0][0].c_str()) == "http://127.0.0.1:9/authorize");
  CHECK(row[0][1].as<bool>());
  CHECK(std::string(row[0][2].c_str()) == "hydra-registry-client");  // a secret file is configured
  CHECK(std::string(row[0][3].c_str()) == R"(["mail.read", "mail.send"])");
  CHECK(std::string(row[0][4].c_str()) == R"({"mail.read": "Read your mail", "mail.send": "Send mail as you"})");
  // No authorization_url: no connect flow. The built-ins with one are there too.
  CHECK(s.db.exec("SELECT 1 FROM connect_providers WHERE provider = 'plainprov'").empty());
  const auto builtin = s.db.exec("SELECT authorization_url, pkce, shared_client_id FROM connect_providers"
                                 " WHERE provider = 'gmail'");
  REQUIRE(builtin.size() == 1);
  CHECK(std::string(builtin[0][0].c_str()) == "https://accounts.google.com/o/oauth2/v2/auth");
  CHECK(builtin[0][1].as<bool>());
  CHECK(builtin[0][2].is_null());  // no shared client configured for it
}

TEST_CASE("connect exchange: a pending connection is refused with 409 and is never remembered as allowed") {
  OAuthStack s(quietLoop(), {connectProvider()});
  const Flow flow(s, "inbox");
  for (int i = 0; i < 3; ++i) {
    const auto r = flow.fetch();
    CHECK(refusal(r, 409) == "");
    CHECK(r.body.find("pending") != std::string::npos);
  }
  CHECK(s.auditCount("denied", flow.connection_id) == 3);
}

TEST_CASE("connect exchange: the code (with its PKCE verifier) becomes the connection's tokens, fetched by a granted runtime") {
  OAuthStack s(quietLoop(), {connectProvider()});
  const Flow flow(s, "inbox");
  const std::string verifier = "verifier-" + randomToken(43);
  s.mock.addCode("code-1", kRedirect, s256(verifier));
  const auto id = flow.session("code-1", verifier);
  REQUIRE(flow.ended(id));
  CHECK(flow.sessionField(id, "status") == "connected");
  CHECK(flow.sessionField(id, "error") == "null");
  CHECK(flow.sessionField(id, "code_ciphertext") == "null");
  CHECK(flow.sessionField(id, "code_key_id") == "null");
  CHECK(flow.connectionField("status") == "active");
  CHECK(flow.connectionField("expires_at") != "null");

  // What the provider was sent: the code, the verifier, the redirect URI, the shared client.
  const auto state = s.mock.state();
  const auto& form = member(state.json, "last_form");
  CHECK(text(form, "grant_type") == "authorization_code");
  CHECK(text(form, "code") == "code-1");
  CHECK(text(form, "code_verifier") == verifier);
  CHECK(text(form, "redirect_uri") == kRedirect);
  CHECK(text(form, "client_id") == "hydra-registry-client");
  CHECK(s.mock.counter("codes_exchanged") == 1);

  const auto issued = s.mock.list("issued_access_tokens");
  REQUIRE(issued.size() == 1);
  waitOutStaleness();
  const auto r = flow.fetch();
  CHECK(accessToken(r) == issued[0]);
  CHECK(keys(released(r)).count("refresh_token") == 0);
  // Stored as an API-made oauth2 connection's credentials: the refresher can use them.
  rapidjson::Document stored;
  stored.Parse(flow.stored().c_str());
  CHECK(text(stored, "refresh_token") == s.mock.list("issued_refresh_tokens").at(0));
  CHECK(text(stored, "token_type") == "Bearer");
  CHECK(stored.HasMember("expires_at"));
  CHECK_FALSE(stored.HasMember("client_secret"));  // the shared client stays in the registry

  // The exchange is in the audit trail, naming customer, connection and provider, no secret.
  REQUIRE(eventually([&] { return s.auditCount("connected", flow.connection_id) == 1; }, 15s));
  const auto events = s.auditEvents(s.tenant, "outcome=connected");
  const auto& event = eventFor(events, "connect-" + id);
  CHECK(text(event, "provider") == kMockProvider);
  CHECK(text(event, "connection_id") == flow.connection_id);
  CHECK(std::string(s.db.exec("SELECT customer_id FROM audit_events WHERE request_id = $1", "connect-" + id)[0][0].c_str()) ==
        s.tenant.id);
  CHECK(events.body.find(verifier) == std::string::npos);
  CHECK(events.body.find("code-1") == std::string::npos);
  CHECK(events.body.find(issued[0]) == std::string::npos);
}

TEST_CASE("connect exchange: the customer's own OAuth client is used, its secret opened and kept for refreshes") {
  OAuthStack s(quietLoop(), {connectProvider()});
  s.mock.configure(R"({"client_auth":"post","client_id":"customer-app","client_secret":"customer-app-secret"})");
  const Flow flow(s, "own");
  const std::string client_row = s.db.exec("SELECT gen_random_uuid()")[0][0].c_str();
  const auto secret = seal("customer-app-secret", hydra::crypto::oauthClientAad(s.tenant.id, client_row));
  s.db.exec("INSERT INTO oauth_clients (id, customer_id, provider, client_id, secret_key_id, secret_ciphertext)"
            " VALUES ($1, $2, $3, 'customer-app', $4, $5::bytea)",
            client_row, s.tenant.id, kMockProvider, secret.key_id, hydra::db::byteaParam(secret.ciphertext));
  s.mock.addCode("code-own", kRedirect);
  const auto id = flow.session("code-own", "", client_row);
  REQUIRE(flow.ended(id));
  CHECK(flow.sessionField(id, "status") == "connected");
  CHECK(s.mock.counter("client_auth_failures") == 0);
  rapidjson::Document stored;
  stored.Parse(flow.stored().c_str());
  CHECK(text(stored, "client_id") == "customer-app");
  CHECK(text(stored, "client_secret") == "customer-app-secret");
  waitOutStaleness();
  const auto r = flow.fetch();
  REQUIRE(r.status == 200);
  CHECK(keys(released(r)).count("client_secret") == 0);
  CHECK(r.body.find("customer-app-secret") == std::string::npos);
}

TEST_CASE("connect exchange: a refused code fails the session and the pending connection, with the provider's error") {
  OAuthStack s(quietLoop(), {connectProvider()});
  const Flow flow(s, "refused");
  const std::string verifier = "v-" + randomToken(43);
  s.mock.addCode("code-2", kRedirect, s256("another verifier"));
  const auto id = flow.session("code-2", verifier);
  REQUIRE(flow.ended(id));
  CHECK(flow.sessionField(id, "status") == "failed");
  const auto error = flow.sessionField(id, "error");
  CHECK(error.find("invalid_grant") != std::string::npos);
  CHECK(error.find("code_verifier does not match") != std::string::npos);
  CHECK(error.find(verifier) == std::string::npos);
  CHECK(flow.sessionField(id, "code_ciphertext") == "null");
  CHECK(flow.connectionField("status") == "error");
  CHECK(flow.connectionField("error_message") == error);
  CHECK(s.db.exec("SELECT 1 FROM connection_secrets WHERE connection_id = $1", flow.connection_id).empty());
  waitOutStaleness();
  CHECK(refusal(flow.fetch(), 409) == "");
  REQUIRE(eventually([&] { return s.auditCount("connect_failed", flow.connection_id) == 1; }, 15s));
}

TEST_CASE("connect exchange: the provider's error is escaped and bounded before it reaches the session and the connection") {
  OAuthStack s(quietLoop(), {connectProvider()});
  const Flow flow(s, "escaped");
  // A line break and a control character would forge log lines; a long text would flood them.
  s.mock.configure(R"({"mode":"invalid_grant","error_description":"forged\nline\u0001)" + std::string(3000, 'x') + "\"}");
  const auto id = flow.session("code-e", "");
  REQUIRE(flow.ended(id));
  const auto error = flow.sessionField(id, "error");
  CHECK(error.find("invalid_grant: forged\\x0aline\\x01x") != std::string::npos);
  CHECK(error.find('\n') == std::string::npos);
  CHECK(error.size() <= 1024);
  CHECK(error.substr(error.size() - 3) == "...");
  CHECK(flow.connectionField("error_message") == error);
}

TEST_CASE("connect exchange: a failed re-authorisation leaves the connection working, and a good one replaces its tokens") {
  OAuthStack s(quietLoop(), {connectProvider()});
  const auto existing = s.createConnection(
      s.tenant, R"({"provider":")" + std::string(kMockProvider) + R"(","name":"old","auth_type":"oauth2","credentials":)" +
                    oauthCredentials("old-access", "old-refresh", now() + 3600) + "}");
  const Flow flow(s, existing, "old");
  const auto bad = flow.session("never-issued", "");
  REQUIRE(flow.ended(bad));
  CHECK(flow.sessionField(bad, "status") == "failed");
  CHECK(flow.connectionField("status") == "active");
  CHECK(accessToken(flow.fetch()) == "old-access");

  s.mock.addCode("code-3", kRedirect);
  const auto good = flow.session("code-3", "");
  REQUIRE(flow.ended(good));
  CHECK(flow.sessionField(good, "status") == "connected");
  waitOutStaleness();
  CHECK(accessToken(flow.fetch()) == s.mock.list("issued_access_tokens").at(0));
}

TEST_CASE("connect exchange: a provider answering 500 is asked again, and the code is exchanged") {
  OAuthStack s(quietLoop(), {connectProvider()});
  const Flow flow(s, "retried");
  s.mock.addCode("code-4", kRedirect);
  s.mock.configure(R"({"mode":"500","mode_calls":2})");
  const auto id = flow.session("code-4", "");
  REQUIRE(flow.ended(id));
  CHECK(flow.sessionField(id, "status") == "connected");
  CHECK(s.mock.calls() == 3);
  CHECK(s.mock.counter("codes_exchanged") == 1);
}

TEST_CASE("connect exchange: a provider down past the retries fails the session") {
  OAuthStack s(quietLoop(), {connectProvider()});
  const Flow flow(s, "down");
  s.mock.configure(R"({"mode":"500"})");
  const auto id = flow.session("code-5", "");
  REQUIRE(flow.ended(id));
  CHECK(flow.sessionField(id, "status") == "failed");
  CHECK(flow.sessionField(id, "error").find("unavailable") != std::string::npos);
  CHECK(s.mock.calls() == 4);
  CHECK(flow.connectionField("status") == "error");
}

TEST_CASE("connect exchange: a code sealed for another session does not open: the session fails, the provider is not asked") {
  OAuthStack s(quietLoop(), {connectProvider()});
  const Flow flow(s, "moved");
  s.mock.addCode("code-6", kRedirect);
  const auto id = flow.session("code-6", "", std::nullopt, randomUuid());
  REQUIRE(flow.ended(id));
  CHECK(flow.sessionField(id, "status") == "failed");
  CHECK(flow.sessionField(id, "error").find("cannot be opened") != std::string::npos);
  CHECK(flow.connectionField("status") == "error");
  CHECK(s.mock.calls() == 0);
}

TEST_CASE("connect exchange: with two brokers every session is exchanged exactly once") {
  OAuthStack s(quietLoop(), {connectProvider()});
  const auto second = s.anotherBroker();
  constexpr int kSessions = 8;
  std::vector<std::unique_ptr<Flow>> flows;
  std::vector<std::string> sessions;
  for (int i = 0; i < kSessions; ++i) {
    flows.push_back(std::make_unique<Flow>(s, "c" + std::to_string(i)));
    s.mock.addCode("code-c" + std::to_string(i), kRedirect);
  }
  for (int i = 0; i < kSessions; ++i) sessions.push_back(flows[i]->session("code-c" + std::to_string(i), ""));
  for (int i = 0; i < kSessions; ++i) {
    REQUIRE(flows[i]->ended(sessions[i]));
    CHECK(flows[i]->sessionField(sessions[i], "status") == "connected");
  }
  CHECK(s.mock.counter("code_calls") == kSessions);
  CHECK(s.mock.counter("codes_exchanged") == kSessions);
}

TEST_CASE("connect exchange: a broker started while PostgreSQL is unreachable serves, then publishes and exchanges once it is back") {
  OAuthStack s(quietLoop(), {connectProvider()});
  const Flow flow(s, "late");
  s.broker.stop();  // nobody exchanges the session below until the second broker
  s.db.exec("DELETE FROM connect_providers");
  s.mock.addCode("code-late", kRedirect);
  const auto id = flow.session("code-late", "");
  execAdmin("ALTER DATABASE " + s.db.name() + " ALLOW_CONNECTIONS false");
  execAdmin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + s.db.name() + "'");
  Broker late(s.brokerEnvironment());
  CHECK(HttpClient(late.port()).request("GET", "/healthz").status == 200);  // serving did not wait
  std::this_thread::sleep_for(2s);
  execAdmin("ALTER DATABASE " + s.db.name() + " ALLOW_CONNECTIONS true");
  CHECK(eventually([&] { return !s.db.exec("SELECT 1 FROM connect_providers WHERE provider = $1", kMockProvider).empty(); },
                   20s));
  REQUIRE(flow.ended(id));
  CHECK(flow.sessionField(id, "status") == "connected");
  CHECK(s.mock.counter("codes_exchanged") == 1);
}

TEST_CASE("connect exchange: a pending connection is never used for a proxied call, and works once connected") {
  MockProviderOptions plain;
  plain.tls = false;
  const MockProvider api(plain);
  auto entry = connectProvider();
  entry.extra += R"(,"proxy":{"base_url":")" + api.baseUrl("127.0.0.1") +
                 R"("},"capabilities":{"read":{"allow":["GET /items"]}})";
  OAuthStack s(withSettings(quietLoop(), {{"HYDRA_PROXY_ALLOWED_CIDRS", "127.0.0.0/8"}}), {entry});
  const Flow flow(s, "proxied");
  s.db.exec("UPDATE grants SET capabilities = '[\"read\"]' WHERE connection_id = $1", flow.connection_id);
  const auto call = [&] {
    return s.runtime.request("GET", "/internal/v1/instances/" + flow.runtime.instance_id + "/proxy/" + kMockProvider + "/items",
                             "", {{"Authorization", "Bearer " + flow.runtime.proxy_key}});
  };
  const auto pending = call();
  CHECK(refusal(pending, 409) == "");
  CHECK(pending.body.find("pending") != std::string::npos);
  CHECK(api.requests().empty());  // the provider was never called

  s.mock.addCode("code-p", kRedirect);
  const auto id = flow.session("code-p", "");
  REQUIRE(flow.ended(id));
  waitOutStaleness();
  CHECK(call().status == 200);
  const auto received = api.await(1);
  REQUIRE(received.size() == 1);
  CHECK(received[0].header("Authorization") == "Bearer " + s.mock.list("issued_access_tokens").at(0));
}
