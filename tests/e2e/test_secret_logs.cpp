// No secret ever reaches a log line (issue 9): the secret-bearing flows (API keys, connections
// created and their credentials patched, fetches, an OAuth refresh through the mock token
// endpoint, a key rotation with rewrap, refusals of every kind) run against both binaries at
// debug level, in the text and the JSON log formats, and their complete logs are searched for
// every secret the run created or presented.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "tests/support/oauth_fixture.hpp"

using namespace hydra::test;

namespace {

std::string fileText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The base64 lines of a PEM file's body: the key material.
std::vector<std::string> pemLines(const std::string& path) {
  std::vector<std::string> out;
  std::istringstream lines(fileText(path));
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.rfind("-----", 0) != 0 && line.size() >= 16) out.push_back(line);
  }
  return out;
}

void runSecretFlows(const std::string& format) {
  controlPlaneDefaults() = {{"HYDRA_LOG_FORMAT", format}, {"HYDRA_LOG_LEVEL", "debug"}};
  auto settings = quietLoop();
  settings["HYDRA_LOG_FORMAT"] = format;
  settings["HYDRA_LOG_LEVEL"] = "debug";
  OAuthStack s(settings);
  std::vector<std::string> secrets{s.server.adminToken(), s.tenant.api_key};
  for (const auto& provider : s.providers) secrets.push_back(provider.client_secret);
  for (const auto& line : pemLines(s.keys.private_key)) secrets.push_back(line);
  for (const auto& line : pemLines(testAuditKey().signing_key)) secrets.push_back(line);
  const auto secret = [&](const std::string& prefix) {
    secrets.push_back(prefix + randomToken(24));
    return secrets.back();
  };

  // Connections of each kind, granted to a runtime.
  const auto api_key = secret("apikey-");
  const auto api_conn = s.createConnection(
      s.tenant, R"({"provider":"xero","name":"books","auth_type":"api_key","credentials":{"api_key":")" + api_key + R"("}})");
  const auto password = secret("password-");
  s.createConnection(s.tenant, R"({"provider":"deputy","name":"roster","auth_type":"basic","credentials":)"
                               R"({"username":"ops","password":")" + password + R"("}})");
  const auto runtime = s.grantedRuntime(s.tenant, api_conn);
  secrets.push_back(runtime.proxy_key);
  REQUIRE(s.fetch(runtime, "provider=xero").status == 200);
  const auto patched = secret("apikey-patched-");
  REQUIRE(s.as(s.tenant, "PATCH", s.tenant.path() + "/connections/" + api_conn,
               R"({"credentials":{"api_key":")" + patched + R"("}})")
              .status == 200);
  REQUIRE(s.fetch(runtime, "provider=xero").status == 200);

  // OAuth: an expired token refreshed through the mock (rotating its refresh token), a
  // customer's own OAuth client refused by the provider, credentials patched.
  const auto refresh_token = secret("rt-");
  s.mock.seed({refresh_token});
  const auto oauth = s.connect(oauthCredentials(secret("at-"), refresh_token, now() - 60));
  REQUIRE(s.fetch(oauth).status == 200);
  for (const auto& token : s.mock.list("issued_access_tokens")) secrets.push_back(token);
  for (const auto& token : s.mock.list("valid_refresh_tokens")) secrets.push_back(token);
  const auto own_client = s.connect(oauthCredentials(secret("at-"), secret("rt-"), now() - 60,
                                                     R"("client_id":"customer-client","client_secret":")" +
                                                         secret("cs-") + "\""),
                                    "own-client");
  s.fetch(own_client);  // refused by the provider: an error path
  REQUIRE(s.patchCredentials(oauth, oauthCredentials(secret("at-"), secret("rt-"), now() + 3600)).status == 200);

  // Refusals that carry a secret: unknown and revoked keys, a body that fails validation.
  const auto unknown_api_key = secret("hck_");
  CHECK(s.http.request("GET", s.tenant.path() + "/connections", "", bearer(unknown_api_key)).status == 401);
  CHECK(s.http.request("GET", s.tenant.path() + "/connections", "", {{"X-Api-Key", secret("hck_")}}).status == 401);
  CHECK(s.http.request("POST", "/v1/admin/customers", R"({"name":"x"})", bearer(secret("admin-"))).status == 401);
  CHECK(s.fetch(runtime.instance_id, secret("hcp_"), "provider=xero").status == 401);
  CHECK(s.as(s.tenant, "POST", s.tenant.path() + "/connections",
             R"({"provider":5,"name":"x","credentials":{"api_key":")" + secret("invalid-") + R"("}})")
            .status == 422);
  CHECK(s.as(s.tenant, "POST", s.tenant.path() + "/connections", "{\"credentials\":\"" + secret("broken-json-"))
            .status == 422);
  const auto revoked = s.newProxyKey(s.tenant, runtime.instance_id);
  secrets.push_back(revoked.proxy_key);
  REQUIRE(s.as(s.tenant, "DELETE", s.tenant.path() + "/instances/" + runtime.instance_id + "/proxy-keys/" + revoked.key_id)
              .status == 204);
  CHECK(s.fetch(revoked, "provider=xero").status == 401);
  const auto revoked_api_key = s.as(s.tenant, "POST", s.tenant.path() + "/api-keys", R"({"name":"old"})");
  secrets.push_back(text(revoked_api_key.json, "api_key"));
  s.as(s.tenant, "DELETE", s.tenant.path() + "/api-keys/" + text(revoked_api_key.json, "id"));
  CHECK(s.http.request("GET", s.tenant.path() + "/connections", "", bearer(secrets.back())).status == 401);

  // Key rotation: a new pair, and rewrap of everything to it.
  const auto rotated = newKeyFiles(s.key_dir, "rotated");
  for (const auto& line : pemLines(rotated.private_key)) secrets.push_back(line);
  auto rewrap_env = Broker::environment(s.db.urlAs("hydracore_broker"), {rotated.private_key, s.keys.private_key});
  rewrap_env["HYDRA_LOG_FORMAT"] = format;
  rewrap_env["HYDRA_LOG_LEVEL"] = "debug";
  const auto rewrap = runBroker({"rewrap"}, rewrap_env);
  CHECK(rewrap.exit_code == 0);

  // The refresh is counted, by outcome (the metrics hold no secret either).
  const auto metrics = s.runtime.request("GET", "/metrics").body;
  CHECK(metrics.find("broker_token_refreshes_total{outcome=\"refreshed\"} 1") != std::string::npos);
  for (const auto& value : secrets) CHECK(metrics.find(value) == std::string::npos);

  CHECK(s.server.stop() == 0);
  CHECK(s.broker.stop() == 0);
  const auto logs = s.server.log() + s.broker.log() + rewrap.out + rewrap.err;
  CHECK(logs.size() > 2000);  // the runs logged (an access line per request at least)
  MESSAGE(secrets.size() << " secrets searched in " << logs.size() << " bytes of " << format << " logs");
  for (const auto& value : secrets) {
    CAPTURE(value);
    CHECK(logs.find(value) == std::string::npos);
  }
  controlPlaneDefaults().clear();
}

}  // namespace

TEST_CASE("logs: no secret a run creates or presents appears in either binary's text log") { runSecretFlows("text"); }

TEST_CASE("logs: no secret a run creates or presents appears in either binary's JSON log") { runSecretFlows("json"); }
