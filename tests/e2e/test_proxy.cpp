// The proxy route (issue 19): a runtime calls the provider through the broker, which checks the
// grant's capability rules against the normalised path, adds the connection's credential, and
// journals the call. The provider is hydra-mock-provider over HTTPS (its own throwaway CA,
// trusted through HYDRA_PROXY_CA_FILE), standing in for gmail: the built-in gmail entry with
// its base URL pointed at the mock, so the built-in capability rules are the ones enforced.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <fstream>
#include <thread>

#include "tests/support/broker.hpp"
#include "tests/support/oauth_fixture.hpp"
#include "tests/support/proxy_fixture.hpp"

using namespace hydra::test;
using namespace std::chrono_literals;

namespace {

const std::string kProviderToken = "ya29.PROXY-TOKEN-CANARY";

/// gmail's registry entry with its calls going to the mock; the rest built in.
std::string gmailToMock(const TempDir& dir, const MockProvider& provider) {
  const auto path = dir.path("providers.json");
  std::ofstream(path) << R"({"providers": {"gmail": {"proxy": {"base_url": ")" + provider.baseUrl() + R"("}}}})";
  return path;
}

Environment proxySettings(const TempDir& dir, const MockProvider& provider, const Environment& extra = {}) {
  return withSettings({{"HYDRA_PROVIDERS_FILE", gmailToMock(dir, provider)},
                       {"HYDRA_PROXY_CA_FILE", provider.caFile()},
                       {"HYDRA_PROXY_ALLOWED_CIDRS", "127.0.0.0/8,::1/128"}},
                      extra);
}

std::string oauthConnection(const std::string& name, const std::string& token = kProviderToken) {
  return R"({"provider":"gmail","name":")" + name + R"(","auth_type":"oauth2","credentials":{"access_token":")" +
         token + R"(","token_type":"Bearer","expires_at":4102444800}})";
}

/// A mock provider, a broker calling it as gmail, and a runtime granted one gmail connection.
struct ProxyStack {
  explicit ProxyStack(const std::string& capabilities = R"(["send_mail","read_mail"])",
                      const std::string& grant_options = "", const Environment& extra = {})
      : s(proxySettings(dir, provider, extra)), tenant(s.newTenant()) {
    connection = s.createConnection(tenant, oauthConnection("inbox"));
    runtime = s.newRuntime(tenant);
    const auto r = s.as(tenant, "POST", tenant.path() + "/connections/" + connection + "/grants",
                        R"({"instance_id":")" + runtime.instance_id + R"(","capabilities":)" + capabilities +
                            grant_options + "}");
    REQUIRE(r.status == 201);
    grant_id = text(r.json, "id");
  }

  std::string path(const std::string& below) const {
    return "/internal/v1/instances/" + runtime.instance_id + "/proxy/gmail" + below;
  }
  Response call(const std::string& method, const std::string& below, const std::string& body = "",
                Headers headers = {}) const {
    headers.emplace_back("Authorization", "Bearer " + runtime.proxy_key);
    return s.runtime.request(method, path(below), body, headers);
  }

  MockProvider provider;
  TempDir dir;
  BrokerStack s;
  Tenant tenant;
  std::string connection, grant_id;
  Runtime runtime;
};

}  // namespace

TEST_CASE("proxy: an allowed call reaches the provider with the connection's token, and the provider's answer comes back") {
  ProxyStack p;
  p.provider.configure(
      R"({"default":{"status":200,"headers":[["Content-Type","application/json; charset=UTF-8"],["Set-Cookie","sid=1"],)"
      R"(["ETag","\"v1\""],["X-Internal","no"]],"body":"{\"id\":\"18c0\",\"labelIds\":[\"SENT\"]}"}})");
  const auto r = p.call("POST", "/gmail/v1/users/me/messages/send?alt=json&labelIds=B&labelIds=A", R"({"raw":"UmF3"})",
                        {{"Content-Type", "application/json"}, {"Cookie", "session=runtime"}, {"X-Custom", "x"},
                         {"Accept", "application/json"}});
  CHECK(r.status == 200);
  CHECK(r.body == R"({"id":"18c0","labelIds":["SENT"]})");
  CHECK(r.header("Content-Type").value_or("") == "application/json; charset=UTF-8");
  CHECK(r.header("ETag").value_or("") == "\"v1\"");
  CHECK_FALSE(r.header("Set-Cookie"));
  CHECK_FALSE(r.header("X-Internal"));
  CHECK(r.header("Hydra-Capability").value_or("") == "send_mail");
  CHECK(r.body.find(kProviderToken) == std::string::npos);

  const auto seen = p.provider.requests();
  REQUIRE(seen.size() == 1);
  const auto& request = seen[0];
  CHECK(request.method == "POST");
  // The query exactly as the runtime wrote it: order and repeated names kept.
  CHECK(request.target == "/gmail/v1/users/me/messages/send?alt=json&labelIds=B&labelIds=A");
  CHECK(request.body == R"({"raw":"UmF3"})");
  CHECK(request.header("Authorization") == "Bearer " + kProviderToken);  // never the proxy key
  CHECK(request.header("Content-Type") == "application/json");
  CHECK(request.header("Accept") == "application/json");
  CHECK(request.count("Cookie") == 0);
  CHECK(request.count("X-Custom") == 0);
  CHECK(request.header("Host") == "localhost:" + std::to_string(p.provider.port()));
}

TEST_CASE("proxy: what no capability of the grant allows is refused 403 and the provider is never called") {
  ProxyStack p(R"(["send_mail"])");
  const auto del = p.call("DELETE", "/gmail/v1/users/me/messages/18c0");
  CHECK(del.status == 403);
  CHECK(errorDetail(del) == "The grant's capabilities (send_mail) do not allow DELETE /gmail/v1/users/me/messages/18c0");
  const auto read = p.call("GET", "/gmail/v1/users/me/messages");
  CHECK(read.status == 403);
  // Gmail's settings (forwarding) are allowed by no built-in capability.
  const auto forward = p.call("POST", "/gmail/v1/users/me/settings/forwardingAddresses", "{}");
  CHECK(forward.status == 403);
  CHECK(p.provider.requests().empty());
}

TEST_CASE("proxy: no spelling of a path escapes its rule") {
  ProxyStack p(R"(["send_mail"])");
  for (const std::string below : {"/gmail/v1/users/me/messages/send/../../settings/filters",
                                  "/gmail/v1/users/me/messages/send/%2e%2e/x", "/gmail/v1/users/me//messages/send",
                                  "/gmail/v1/users/me/messages%2Fsend", "/gmail/v1/users/me/./messages/send"}) {
    CAPTURE(below);
    const auto r = p.call("POST", below, "{}");
    CHECK(r.status == 400);
    CHECK(errorDetail(r).rfind("Path refused: ", 0) == 0);
  }
  // An unreserved character written as an escape means the same path, and is allowed as it.
  p.provider.configure(R"({"default":{"status":200,"body":"{}"}})");
  CHECK(p.call("POST", "/gmail/v1/users/me/messages/%73end", "{}").status == 200);
  const auto seen = p.provider.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].target == "/gmail/v1/users/me/messages/send");
}

TEST_CASE("proxy: a proxy-only grant's credentials are never released, but its capabilities work through the proxy") {
  ProxyStack p(R"(["send_mail"])", R"(,"proxy_only":true)");
  const auto fetch = p.s.fetch(p.runtime, "provider=gmail");
  CHECK(fetch.status == 403);
  CHECK(fetch.body.find(kProviderToken) == std::string::npos);
  p.provider.configure(R"({"default":{"status":200,"body":"{}"}})");
  CHECK(p.call("POST", "/gmail/v1/users/me/messages/send", "{}").status == 200);
}

TEST_CASE("proxy: the proxy key is checked as for the fetch, and a refusal calls nobody") {
  ProxyStack p;
  CHECK(p.s.runtime.request("GET", p.path("/gmail/v1/users/me/messages")).status == 401);
  CHECK(p.s.runtime
            .request("GET", p.path("/gmail/v1/users/me/messages"), "", {{"Authorization", "Bearer hcp_not-a-key"}})
            .status == 401);
  // Another instance's key.
  const auto other = p.s.newRuntime(p.tenant, "other");
  CHECK(p.s.runtime
            .request("GET", p.path("/gmail/v1/users/me/messages"), "",
                     {{"Authorization", "Bearer " + other.proxy_key}})
            .status == 403);
  // A provider not granted, and one the registry cannot proxy.
  const auto calendar = p.s.runtime.request(
      "GET", "/internal/v1/instances/" + p.runtime.instance_id + "/proxy/google_calendar/calendar/v3/users/me/calendarList",
      "", {{"Authorization", "Bearer " + p.runtime.proxy_key}});
  CHECK(calendar.status == 404);
  CHECK(p.provider.requests().empty());
}

TEST_CASE("proxy: Hydra-Connection-Name picks one of several granted connections, and without it 409 lists them") {
  ProxyStack p;
  const auto second = p.s.createConnection(p.tenant, oauthConnection("archive", "ya29.SECOND"));
  p.s.createGrant(p.tenant, second, p.runtime.instance_id, R"(["read_mail"])");
  const auto ambiguous = p.call("GET", "/gmail/v1/users/me/messages");
  CHECK(ambiguous.status == 409);
  CHECK(errorDetail(ambiguous).find("'archive', 'inbox'") != std::string::npos);
  p.provider.configure(R"({"default":{"status":200,"body":"{}"}})");
  CHECK(p.call("GET", "/gmail/v1/users/me/messages", "", {{"Hydra-Connection-Name", "archive"}}).status == 200);
  const auto seen = p.provider.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].header("Authorization") == "Bearer ya29.SECOND");
}

TEST_CASE("proxy: a grant's rate limit answers 429 with RateLimit headers and Retry-After, before the provider") {
  ProxyStack p(R"(["read_mail"])", R"(,"rate_limit":{"requests":2,"per_seconds":60})");
  p.provider.configure(R"({"default":{"status":200,"body":"{}"}})");
  const auto first = p.call("GET", "/gmail/v1/users/me/labels");
  CHECK(first.status == 200);
  CHECK(first.header("RateLimit-Policy").value_or("") == "\"grant\";q=2;w=60");
  CHECK(first.header("RateLimit").value_or("").rfind("\"grant\";r=1;t=", 0) == 0);
  CHECK(p.call("GET", "/gmail/v1/users/me/labels").status == 200);
  const auto third = p.call("GET", "/gmail/v1/users/me/labels");
  CHECK(third.status == 429);
  CHECK(third.header("RateLimit").value_or("").rfind("\"grant\";r=0;t=", 0) == 0);
  const auto retry = std::stoi(third.header("Retry-After").value_or("0"));
  CHECK(retry >= 1);
  CHECK(retry <= 30);
  CHECK(p.provider.requests().size() == 2);
}

TEST_CASE("proxy: each call is audited with its method, normalised path, status and sizes, and so are refusals") {
  ProxyStack p(R"(["send_mail"])");
  p.provider.configure(R"({"default":{"status":202,"body":"accepted"}})");
  CHECK(p.call("POST", "/gmail/v1/users/me/messages/%73end?x=1", "12345").status == 202);
  CHECK(p.call("DELETE", "/gmail/v1/users/me/messages/1").status == 403);
  const auto events = p.s.auditEvents(p.tenant);
  const auto list = items(member(events.json, "events"));
  REQUIRE(list.size() == 2);
  const auto& refused = *list[0];  // newest first
  CHECK(text(refused, "outcome") == "denied");
  CHECK(text(refused, "method") == "DELETE");
  CHECK(text(refused, "path") == "/gmail/v1/users/me/messages/1");
  CHECK(member(refused, "upstream_status").IsNull());
  const auto& sent = *list[1];
  CHECK(text(sent, "outcome") == "allowed");
  CHECK(text(sent, "capability") == "send_mail");
  CHECK(text(sent, "connection_id") == p.connection);
  CHECK(text(sent, "method") == "POST");
  CHECK(text(sent, "path") == "/gmail/v1/users/me/messages/send");
  CHECK(member(sent, "upstream_status").GetInt() == 202);
  CHECK(member(sent, "request_bytes").GetInt64() == 5);
  CHECK(member(sent, "response_bytes").GetInt64() == 8);
  CHECK(member(sent, "duration_us").GetInt64() > 0);

  const auto metrics = p.s.runtime.request("GET", "/metrics").body;
  CHECK(metrics.find(R"(broker_proxy_requests_total{capability="send_mail",outcome="allowed",provider="gmail"} 1)") !=
        std::string::npos);
  CHECK(metrics.find(R"(broker_proxy_requests_total{capability="none",outcome="denied",provider="gmail"} 1)") !=
        std::string::npos);
  CHECK(metrics.find(R"(broker_proxy_upstream_seconds_count{provider="gmail"} 1)") != std::string::npos);
}

TEST_CASE("proxy: redirects come back as they are, and a provider's Retry-After is clamped") {
  ProxyStack p;
  p.provider.configure(R"({"default":{"status":302,"headers":[["Location","https://evil.example/"]],"body":""}})");
  const auto redirect = p.call("GET", "/gmail/v1/users/me/labels");
  CHECK(redirect.status == 302);
  CHECK(p.provider.requests().size() == 1);
  p.provider.configure(R"({"default":{"status":429,"headers":[["Retry-After","86400"]],"body":"slow down"}})");
  const auto limited = p.call("GET", "/gmail/v1/users/me/labels");
  CHECK(limited.status == 429);
  CHECK(limited.header("Retry-After").value_or("") == "60");
}

TEST_CASE("proxy: a provider that cannot be reached is a 502 naming the provider and the cause") {
  ProxyStack p;
  p.provider.stop();
  const auto r = p.call("GET", "/gmail/v1/users/me/labels");
  CHECK(r.status == 502);
  CHECK(errorDetail(r).rfind("gmail: ", 0) == 0);
  CHECK(r.body.find(kProviderToken) == std::string::npos);
}

TEST_CASE("proxy: without the operator's range, a provider on loopback is refused before connecting") {
  MockProvider provider;
  TempDir dir;
  Environment settings = proxySettings(dir, provider);
  settings.erase("HYDRA_PROXY_ALLOWED_CIDRS");
  BrokerStack s(settings);
  const auto tenant = s.newTenant();
  const auto connection = s.createConnection(tenant, oauthConnection("inbox"));
  const auto runtime = s.grantedRuntime(tenant, connection, R"(["read_mail"])");
  const auto r = s.runtime.request("GET", "/internal/v1/instances/" + runtime.instance_id + "/proxy/gmail/gmail/v1/users/me/labels",
                                   "", {{"Authorization", "Bearer " + runtime.proxy_key}});
  CHECK(r.status == 502);
  CHECK(errorDetail(r).find("loopback") != std::string::npos);
  CHECK(provider.requests().empty());
}

TEST_CASE("proxy: a provider that refuses the access token gets one refresh and the call replayed with the new token") {
  MockOAuth oauth;
  oauth.seed({"rt-proxy"});
  MockProvider provider;
  TempDir dir;
  const auto secret = dir.path("gmail-secret");
  std::ofstream(secret) << "registry-secret";
  REQUIRE(::chmod(secret.c_str(), 0600) == 0);
  const auto providers = dir.path("providers.json");
  std::ofstream(providers) << R"({"providers": {"gmail": {"token_url": ")" + oauth.tokenUrl() +
                                  R"(", "client_id": "hydra-client", "client_secret_file": ")" + secret +
                                  R"(", "proxy": {"base_url": ")" + provider.baseUrl() + R"("}}}})";
  BrokerStack s(Environment{{"HYDRA_PROVIDERS_FILE", providers},
                            {"HYDRA_PROXY_CA_FILE", provider.caFile()},
                            {"HYDRA_PROXY_ALLOWED_CIDRS", "127.0.0.0/8,::1/128"},
                            {"HYDRA_REFRESH_INTERVAL_SECONDS", "600"}});
  const auto tenant = s.newTenant();
  // Valid for hours by its expiry, but revoked at the provider.
  const auto connection = s.createConnection(
      tenant, R"({"provider":"gmail","name":"inbox","auth_type":"oauth2","credentials":{"access_token":"at-revoked",)"
              R"("refresh_token":"rt-proxy","token_type":"Bearer","expires_at":4102444800}})");
  const auto runtime = s.grantedRuntime(tenant, connection, R"(["read_mail"])");
  provider.configure(R"({"answers":[{"status":401,"body":"{\"error\":\"invalid_token\"}"}],)"
                     R"("default":{"status":200,"body":"{\"labels\":[]}"}})");
  const auto path = "/internal/v1/instances/" + runtime.instance_id + "/proxy/gmail/gmail/v1/users/me/labels";
  const Headers key{{"Authorization", "Bearer " + runtime.proxy_key}};
  const auto r = s.runtime.request("GET", path, "", key);
  CHECK(r.status == 200);
  CHECK(r.body == R"({"labels":[]})");
  CHECK(oauth.calls() == 1);
  const auto seen = provider.requests();
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].header("Authorization") == "Bearer at-revoked");
  CHECK(seen[1].header("Authorization").rfind("Bearer ", 0) == 0);
  CHECK(seen[1].header("Authorization") != "Bearer at-revoked");
  // Every token refused: one refresh and one replay per call, then the provider's answer.
  provider.configure(R"({"default":{"status":401,"body":"{}"}})");
  CHECK(s.runtime.request("GET", path, "", key).status == 401);
  // Refreshed once more and replayed once: the second 401 is the answer.
  CHECK(oauth.calls() == 2);
  CHECK(provider.requests().size() == 4);
}

TEST_CASE("proxy: a slow provider is waited for up to the timeout, then 504, and no server thread waits") {
  ProxyStack p(R"(["read_mail"])", "", {{"HYDRA_PROXY_TIMEOUT_SECONDS", "8"}});
  // Longer than the server's 5 s request timeout, within the proxy's.
  p.provider.configure(R"({"answers":[{"status":200,"body":"{}","delay_ms":6000}],)"
                       R"("default":{"status":200,"body":"{}","delay_ms":20000}})");
  CHECK(p.call("GET", "/gmail/v1/users/me/labels").status == 200);
  const auto start = std::chrono::steady_clock::now();
  std::thread slow([&] {
    const auto r = p.call("GET", "/gmail/v1/users/me/labels");
    CHECK(r.status == 504);
    CHECK(errorDetail(r) == "gmail: no answer within 8 s");
  });
  std::this_thread::sleep_for(500ms);
  // Meanwhile the broker answers everyone else at once.
  CHECK(p.s.runtime.request("GET", "/healthz").status == 200);
  CHECK(p.s.fetch(p.runtime, "provider=gmail").status == 200);
  CHECK(std::chrono::steady_clock::now() - start < 3s);
  slow.join();
}
