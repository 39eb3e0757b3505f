// The provider registry (issue 4, "Providers"): token URLs only from the operator's file, plain
// http only to loopback, the OAuth client authenticating as the registry says (or with the
// connection's own client), and what a fetch releases of oauth2 credentials: never the
// refresh token or a client secret.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <sstream>

#include <Poco/Base64Encoder.h>

#include "tests/support/oauth_fixture.hpp"

using namespace hydra::test;
using namespace std::chrono_literals;

namespace {

std::string basicAuthorization(const std::string& id, const std::string& secret) {
  std::ostringstream out;
  Poco::Base64Encoder encoder(out);
  encoder.rdbuf()->setLineLength(0);
  encoder << id << ':' << secret;
  encoder.close();
  return "Basic " + out.str();
}

/// `hydracore-broker serve` with a registry of `entries` (secret files of `secret_mode`) on a
/// database of its own; returns the run if it exits within 10 s, nullopt if it serves.
std::optional<RunResult> serveWithRegistry(std::vector<ProviderEntry> entries, unsigned secret_mode = 0600) {
  TempDir dir;
  TestDatabase db;
  auto env = Broker::environment(db.urlAs("hydracore_broker"), {testKeyFiles(dir).private_key});
  env["HYDRA_PROVIDERS_FILE"] = writeProvidersFile(dir, entries, "http://127.0.0.1:9/token", secret_mode);
  ChildProcess broker(brokerBinary(), {"serve"}, env);
  if (broker.waitForErr([](const std::string& err) { return err.find("broker listening on") != std::string::npos; },
                        10s)) {
    return std::nullopt;
  }
  const auto code = broker.wait(10s);
  if (!code) throw std::runtime_error("the broker neither served nor exited: " + broker.err());
  return RunResult{*code, broker.out(), broker.err()};
}

/// Refused at start-up: non-zero exit, one stderr line naming HYDRA_PROVIDERS_FILE.
void checkRefused(const std::optional<RunResult>& run) {
  REQUIRE_MESSAGE(run.has_value(), "the broker started");
  CAPTURE(run->err);
  CHECK(run->exit_code != 0);
  CHECK(std::count(run->err.begin(), run->err.end(), '\n') == 1);
  CHECK(run->err.find("HYDRA_PROVIDERS_FILE") != std::string::npos);
}

/// What /token last received, from the mock.
struct TokenRequest {
  std::map<std::string, std::string> form;
  std::string authorization;  // "null" if none
  std::string content_type;
};
TokenRequest lastTokenRequest(const MockOAuth& mock) {
  const auto state = mock.state();
  TokenRequest out;
  for (const auto& name : keys(member(state.json, "last_form"))) out.form[name] = text(member(state.json, "last_form"), name.c_str());
  out.authorization = textOrNull(state.json, "last_authorization");
  out.content_type = textOrNull(state.json, "last_content_type");
  return out;
}

}  // namespace

TEST_CASE("oauth: a registry with a plain http token URL to a non-loopback host is refused at start-up") {
  for (const auto* url : {"http://example.com/token", "http://10.1.2.3/token", "http://10.1.2.3:8080/oauth/token"}) {
    for (const auto* provider : {"mockprov", "xero"}) {  // a new provider, and a built-in overridden
      CAPTURE(url);
      CAPTURE(provider);
      ProviderEntry entry{provider};
      entry.token_url = url;
      checkRefused(serveWithRegistry({entry}));
    }
  }
  // Loopback over http (tests) and https anywhere start.
  ProviderEntry loopback{"mockprov"}, https{"xero"};
  https.token_url = "https://identity.example.com/connect/token";
  CHECK_FALSE(serveWithRegistry({loopback, https}).has_value());
}

TEST_CASE("oauth: a client secret file that group or others may read is refused at start-up") {
  const auto run = serveWithRegistry({ProviderEntry{"mockprov"}}, 0644);
  REQUIRE_MESSAGE(run.has_value(), "the broker started with a client secret file of mode 0644");
  CAPTURE(run->err);
  CHECK(run->exit_code != 0);
  CHECK(run->err.find("registry-secret-") == std::string::npos);  // the secret is not printed
}

TEST_CASE("oauth: client_auth post sends the client in the form, basic in an Authorization header, and a connection's own client wins") {
  ProviderEntry post{"postprov"}, basic{"basicprov"};
  post.client_auth = "post";
  basic.client_auth = "basic";
  basic.client_id = "hydra-basic-client";
  OAuthStack s(quietLoop(), {post, basic});
  const auto& post_registry = s.provider("postprov");
  const auto& basic_registry = s.provider("basicprov");

  /// An expired connection of `provider` refreshed while the mock demands `auth` with id/secret.
  const auto refreshWith = [&](const std::string& provider, const std::string& auth, const std::string& id,
                               const std::string& secret, const std::string& extra) {
    CAPTURE(provider);
    CAPTURE(extra);
    s.mock.configure(R"({"client_auth":")" + auth + R"(","client_id":")" + id + R"(","client_secret":")" + secret +
                     R"("})");
    const auto refresh_token = "rt-" + provider + "-" + randomToken(8);
    s.mock.seed({refresh_token});
    const auto c = s.connect(oauthCredentials("at-old", refresh_token, now() - 60, extra),
                             provider + "-" + randomToken(6), provider);
    const auto r = s.fetch(c);
    CHECK_MESSAGE(r.status == 200, r.body);
    const auto request = lastTokenRequest(s.mock);
    CHECK(request.form.at("grant_type") == "refresh_token");
    CHECK(request.form.at("refresh_token") == refresh_token);
    CHECK(request.content_type.rfind("application/x-www-form-urlencoded", 0) == 0);
    CHECK(s.mock.counter("client_auth_failures") == 0);
    if (auth == "post") {
      CHECK(request.form.at("client_id") == id);
      CHECK(request.form.at("client_secret") == secret);
      CHECK(request.authorization == "null");
    } else {
      CHECK(request.authorization == basicAuthorization(id, secret));
      CHECK(request.form.count("client_secret") == 0);
    }
  };

  refreshWith("postprov", "post", post_registry.client_id, post_registry.client_secret, "");
  refreshWith("basicprov", "basic", basic_registry.client_id, basic_registry.client_secret, "");
  // The customer's own OAuth app, in the connection's credentials.
  const std::string own = R"("client_id":"own-client-id","client_secret":"own-client-secret")";
  refreshWith("postprov", "post", "own-client-id", "own-client-secret", own);
  refreshWith("basicprov", "basic", "own-client-id", "own-client-secret", own);
  CHECK(s.mock.calls() == 4);
}

TEST_CASE("oauth: a fetch response never contains the refresh token or a client secret") {
  OAuthStack s(quietLoop());
  const auto& registry_secret = s.provider(kMockProvider).client_secret;
  const std::string own_secret = "own-secret-" + randomToken(16);
  const std::string extra = R"("client_id":"own-id","client_secret":")" + own_secret + R"(","scope":"mail.read")";

  // Not due (no refresh), and expired (refreshed with rotation).
  const std::string fresh_refresh = "rt-fresh-" + randomToken(16), due_refresh = "rt-due-" + randomToken(16);
  s.mock.seed({due_refresh});
  const auto fresh = s.connect(oauthCredentials("at-fresh", fresh_refresh, now() + 3600, extra), "fresh");
  const auto due = s.connect(oauthCredentials("at-due", due_refresh, now() - 60, extra), "due");
  const auto fresh_response = s.fetch(fresh);
  const auto due_response = s.fetch(due);
  REQUIRE(s.mock.calls() == 1);
  const auto rotated = s.mock.list("valid_refresh_tokens");
  REQUIRE(rotated.size() == 1);

  for (const auto* r : {&fresh_response, &due_response}) {
    CAPTURE(r->body);
    const auto& credentials = released(*r);
    for (const auto& secret : {fresh_refresh, due_refresh, rotated[0], own_secret, registry_secret}) {
      CHECK(r->body.find(secret) == std::string::npos);
    }
    CHECK(credentials.HasMember("refresh_token") == false);
    CHECK(credentials.HasMember("client_secret") == false);
    CHECK_FALSE(text(credentials, "access_token").empty());
    CHECK(text(credentials, "token_type") == "Bearer");
    CHECK(isUtcTimestamp(text(credentials, "expires_at")));
    CHECK(text(credentials, "scope") == "mail.read");  // non-secret fields stay
  }
  CHECK(accessToken(fresh_response) == "at-fresh");
  CHECK(accessToken(due_response) == s.mock.list("issued_access_tokens").at(0));
  // Nor does the broker's log or the audit trail.
  const auto log = s.broker.log();
  const auto events = s.auditEvents(s.tenant).body;
  for (const auto& secret : {fresh_refresh, due_refresh, rotated[0], own_secret, registry_secret}) {
    CAPTURE(secret);
    CHECK(log.find(secret) == std::string::npos);
    CHECK(events.find(secret) == std::string::npos);
  }
}

TEST_CASE("oauth: an https token endpoint whose certificate the broker does not trust is never sent a refresh token") {
  TempDir tls;
  const auto files = selfSignedCertificate(tls);
  const MockOAuth untrusted({"--tls-cert", files.certificate, "--tls-key", files.key});
  ProviderEntry entry{kMockProvider};
  entry.token_url = untrusted.tokenUrl();
  REQUIRE(entry.token_url.rfind("https://127.0.0.1:", 0) == 0);
  OAuthStack s(quietLoop(), {entry});
  const auto c = s.connect(oauthCredentials("at-tls", "rt-tls-canary", now() - 60));
  const auto r = s.fetch(c);
  CHECK(r.status != 200);
  CHECK(r.body.find("rt-tls-canary") == std::string::npos);

  // The mock's counter, read (and then moved) by a client that skips verification: the broker
  // never got as far as a request.
  const auto base = "https://127.0.0.1:" + std::to_string(untrusted.port());
  const auto tokenCalls = [&] {
    const auto got = run("/usr/bin/curl", {"-sk", base + "/admin/state"}, {});
    rapidjson::Document state;
    state.Parse(got.out.c_str());
    if (state.HasParseError() || !state.IsObject()) throw std::runtime_error("mock state: " + got.out + got.err);
    return member(state, "token_calls").GetInt64();
  };
  CHECK(tokenCalls() == 0);
  REQUIRE(run("/usr/bin/curl", {"-sk", "-d", "grant_type=refresh_token&refresh_token=x", base + "/token"}, {}).exit_code ==
          0);
  CHECK(tokenCalls() == 1);
}
