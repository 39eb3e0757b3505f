// OAuth2 token refresh (issue 4) when it cannot succeed: a dead grant (invalid_grant) breaks
// the connection until its credentials are replaced; a slow, failing or rate-limiting provider
// costs a bounded wait and never breaks it; a token without refresh token expires; an
// unknown provider is never called.
#include <doctest/doctest.h>

#include <algorithm>

#include <functional>
#include <regex>
#include <thread>

#include "tests/support/oauth_fixture.hpp"

using namespace hydra::test;
using namespace std::chrono_literals;

namespace {

std::string status(const OAuthStack& s, const OAuthConnection& c) { return text(s.connection(c).json, "status"); }

/// A fetch and how long it took; a fetch the client gave up on (15 s) is status 0 with the
/// exception's text as body.
struct Timed {
  Response response;
  std::chrono::steady_clock::duration took{};
};
Timed timed(const std::function<Response()>& fetch) {
  Timed out;
  const auto start = std::chrono::steady_clock::now();
  try {
    out.response = fetch();
  } catch (const std::exception& e) {
    out.response.body = std::string("no answer: ") + e.what();
  }
  out.took = std::chrono::steady_clock::now() - start;
  return out;
}

/// The access token of the first 200 among fetches of `c` repeated for up to 20 s ("" if
/// none), for a broker that may keep a backoff after failures.
std::string accessTokenOnceServed(const OAuthStack& s, const OAuthConnection& c) {
  std::string token;
  eventually(
      [&] {
        const auto r = s.fetch(c);
        if (r.status == 200) token = accessToken(r);
        return r.status == 200;
      },
      20s);
  return token;
}

/// While the provider behaves as `mock_settings` say (a transient failure): a connection whose
/// token is due but still valid gets its old token, one whose token has expired gets 503 with
/// Retry-After, both within a bounded time, both stay active; once the provider recovers, the
/// expired one is refreshed.
void checkTransientFailure(const std::string& mock_settings) {
  OAuthStack s(quietLoop());
  s.mock.configure(R"({"rotate":false})");  // a slow answer that lands late invalidates nothing
  s.mock.seed({"rt-valid", "rt-expired"});
  const auto valid = s.connect(oauthCredentials("at-still-valid", "rt-valid", now() + 60), "valid");
  const auto expired = s.connect(oauthCredentials("at-expired", "rt-expired", now() - 60), "expired");
  s.mock.configure(mock_settings);

  std::vector<Timed> fetched(2);
  concurrently(2, [&](std::size_t i) { fetched[i] = timed([&] { return s.fetch(i == 0 ? valid : expired); }); });
  // Named references rather than structured bindings: C++17 lambdas (REQUIRE_MESSAGE's) cannot
  // capture those.
  const auto& still_valid = fetched[0].response;
  const auto& valid_took = fetched[0].took;
  const auto& too_late = fetched[1].response;
  const auto& expired_took = fetched[1].took;
  CHECK(s.mock.calls() >= 1);  // the provider was asked
  CHECK(valid_took < 15s);
  CHECK(expired_took < 15s);

  REQUIRE_MESSAGE(still_valid.status == 200, still_valid.body);
  CHECK(accessToken(still_valid) == "at-still-valid");
  CHECK(refusal(too_late, 503) == "");
  const auto retry_after = too_late.header("Retry-After").value_or("");
  CAPTURE(retry_after);
  CHECK(std::regex_match(retry_after, std::regex(R"([1-9]\d*|\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT)")));
  CHECK(too_late.body.find("at-expired") == std::string::npos);
  CHECK(status(s, valid) == "active");
  CHECK(status(s, expired) == "active");
  // Every attempt is audited when it ends. A slow provider's request is heard out after the
  // fetch has stopped waiting (abandoning it could lose a rotated refresh token), so its record
  // may come later, and may say it succeeded.
  CHECK(eventually(
      [&] { return s.auditCount("refresh_failed", expired.id) + s.auditCount("refreshed", expired.id) >= 1; }, 40s));

  // The provider is back: the expired one is refreshed.
  s.mock.configure(R"({"mode":"normal","delay_ms":0,"mode_calls":0})");
  const auto fresh = accessTokenOnceServed(s, expired);
  REQUIRE_FALSE(fresh.empty());
  // Issued by the provider (both connections may have been refreshed meanwhile, in any order).
  const auto issued = s.mock.list("issued_access_tokens");
  CHECK(std::find(issued.begin(), issued.end(), fresh) != issued.end());
  CHECK(status(s, expired) == "active");
  CHECK(s.mock.counter("invalid_refresh_tokens") == 0);
}

}  // namespace

TEST_CASE("oauth: invalid_grant marks the connection error with a message and 409 without further calls until a PATCH") {
  OAuthStack s(Environment{{"HYDRA_REFRESH_INTERVAL_SECONDS", "1"}});  // the loop must not call either
  // A refresh token the provider never issued (or revoked): invalid_grant.
  const auto c = s.connect(oauthCredentials("at-dead", "rt-revoked-" + randomToken(8), now() - 60));
  const auto first = s.fetch(c);
  REQUIRE(refusal(first, 409) == "");
  CHECK(s.mock.calls() == 1);
  CHECK(first.body.find("at-dead") == std::string::npos);
  const auto shown = s.connection(c);
  CHECK(text(shown.json, "status") == "error");
  const auto message = textOrNull(shown.json, "error_message");
  CHECK(message != "null");
  CHECK_FALSE(message.empty());
  CHECK(errorDetail(first).find(message) != std::string::npos);

  for (int i = 0; i < 3; ++i) {
    const auto again = s.fetch(c);
    CHECK(refusal(again, 409) == "");
    CHECK(errorDetail(again).find(message) != std::string::npos);
  }
  std::this_thread::sleep_for(2500ms);  // a few rounds of the background loop
  CHECK(s.mock.calls() == 1);
  CHECK(text(s.connection(c).json, "status") == "error");

  // The customer reconnects: new credentials, active again, refreshed on the next fetch.
  s.mock.seed({"rt-reconnected"});
  const auto patched = s.patchCredentials(c, oauthCredentials("at-reconnected-old", "rt-reconnected", now() - 60));
  REQUIRE_MESSAGE(patched.status == 200, patched.body);
  CHECK(text(patched.json, "status") == "active");
  CHECK(text(s.connection(c).json, "status") == "active");
  CHECK(textOrNull(s.connection(c).json, "error_message") == "null");
  const auto fetched = s.fetch(c);
  REQUIRE_MESSAGE(fetched.status == 200, fetched.body);
  CHECK(accessToken(fetched) == s.mock.list("issued_access_tokens").at(0));
  CHECK(s.mock.calls() == 2);
}

TEST_CASE("oauth: a provider answering 500 costs a bounded wait, the old token while valid, then 503") {
  checkTransientFailure(R"({"mode":"500"})");
}

TEST_CASE("oauth: a provider answering 429 costs a bounded wait, the old token while valid, then 503") {
  checkTransientFailure(R"({"mode":"429"})");
}

TEST_CASE("oauth: a provider that does not answer in time costs a bounded wait, the old token while valid, then 503") {
  checkTransientFailure(R"({"mode":"slow","delay_ms":25000})");
}

TEST_CASE("oauth: a provider failing once then answering is retried within the same fetch") {
  OAuthStack s(quietLoop());
  s.mock.seed({"rt-flaky"});
  const auto c = s.connect(oauthCredentials("at-flaky-old", "rt-flaky", now() - 60));
  s.mock.configure(R"({"mode":"500","mode_calls":1})");
  const auto start = std::chrono::steady_clock::now();
  const auto r = s.fetch(c);
  CHECK(std::chrono::steady_clock::now() - start < 15s);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(s.mock.calls() == 2);
  CHECK(accessToken(r) == s.mock.list("issued_access_tokens").at(0));
  CHECK(status(s, c) == "active");
}

TEST_CASE("oauth: an expired token without a refresh token makes the connection expired and the fetch 409") {
  OAuthStack s(quietLoop());
  const auto c = s.connect(oauthCredentials("at-no-refresh", "", now() - 60));
  const auto r = s.fetch(c);
  CHECK(refusal(r, 409) == "");
  CHECK(r.body.find("at-no-refresh") == std::string::npos);
  CHECK(status(s, c) == "expired");
  CHECK(refusal(s.fetch(c), 409) == "");
  CHECK(s.mock.calls() == 0);

  // New credentials make it active again.
  s.mock.seed({"rt-now-with-refresh"});
  REQUIRE(s.patchCredentials(c, oauthCredentials("at-patched", "rt-now-with-refresh", now() - 60)).status == 200);
  CHECK(status(s, c) == "active");
  const auto refreshed = s.fetch(c);
  CHECK(accessToken(refreshed) == s.mock.list("issued_access_tokens").at(0));
}

TEST_CASE("oauth: an unknown provider with a refresh due returns the credentials as they are and calls nobody") {
  OAuthStack s(Environment{{"HYDRA_REFRESH_INTERVAL_SECONDS", "1"}});
  const auto c = s.connect(oauthCredentials("at-unknown-provider", "rt-unknown-provider", now() - 60), "crm", "acme_crm");
  const auto r = s.fetch(c);
  CHECK(accessToken(r) == "at-unknown-provider");
  CHECK(r.body.find("rt-unknown-provider") == std::string::npos);
  std::this_thread::sleep_for(1500ms);  // the background loop does not call anyone either
  CHECK(accessToken(s.fetch(c)) == "at-unknown-provider");
  CHECK(s.mock.calls() == 0);
  // The log says why it was not refreshed.
  const auto log = s.broker.log();
  CHECK((log.find("acme_crm") != std::string::npos || log.find(c.id) != std::string::npos));
}

TEST_CASE("oauth: a provider refusing the OAuth client (invalid_client) does not mark the connection broken") {
  // Only invalid_grant for the stored refresh token breaks a connection: a wrong client secret
  // in the operator's registry is not the customer's grant dying.
  OAuthStack s(quietLoop());
  const auto& registry = s.provider(kMockProvider);
  s.mock.configure(R"({"client_auth":"post","client_id":")" + registry.client_id +
                   R"(","client_secret":"not-the-registry-secret"})");
  s.mock.seed({"rt-good-grant"});
  const auto c = s.connect(oauthCredentials("at-client-refused", "rt-good-grant", now() - 60));
  const auto refused = s.fetch(c);
  CHECK(refused.status != 200);
  CHECK(s.mock.counter("client_auth_failures") >= 1);
  CHECK(textOrNull(s.connection(c).json, "error_message") == "null");
  REQUIRE(status(s, c) == "active");

  // The operator fixes the client: the same grant refreshes.
  s.mock.configure(R"({"client_secret":")" + registry.client_secret + R"("})");
  const auto fresh = accessTokenOnceServed(s, c);
  REQUIRE_FALSE(fresh.empty());
  CHECK(fresh == s.mock.list("issued_access_tokens").at(0));
}

TEST_CASE("oauth: with three brokers and a failing provider a fetch through any still answers within a bounded time") {
  OAuthStack s(quietLoop());
  const auto second = s.anotherBroker(), third = s.anotherBroker();
  const std::vector<HttpClient> brokers{s.runtime, HttpClient(second->port()), HttpClient(third->port())};
  s.mock.seed({"rt-outage"});
  const auto c = s.connect(oauthCredentials("at-outage", "rt-outage", now() - 60));
  s.mock.configure(R"({"mode":"500"})");

  std::vector<Timed> fetched(brokers.size());
  concurrently(brokers.size(), [&](std::size_t i) {
    fetched[i] = timed([&] { return fetchFrom(brokers[i], c.runtime.instance_id, c.runtime.proxy_key, c.query()); });
  });
  for (std::size_t i = 0; i < fetched.size(); ++i) {
    CAPTURE(i);
    CAPTURE(std::chrono::duration_cast<std::chrono::milliseconds>(fetched[i].took).count());
    CHECK(refusal(fetched[i].response, 503) == "");
    CHECK(fetched[i].took < 15s);
  }
  CHECK(status(s, c) == "active");
  CHECK(s.mock.counter("max_concurrent_calls") == 1);
}

TEST_CASE("oauth: credentials replaced while a refresh is at the provider are stored, active, and used next") {
  // The broker holds the connection while it waits for the provider; the customer's PATCH
  // waits for it and then wins, whether the refresh succeeded or met a dead grant.
  for (const bool grant_alive : {true, false}) {
    CAPTURE(grant_alive);
    OAuthStack s(quietLoop());
    const auto old_refresh = "rt-old-" + randomToken(8);
    if (grant_alive) s.mock.seed({old_refresh});
    const auto c = s.connect(oauthCredentials("at-old", old_refresh, now() - 60));
    s.mock.configure(R"({"mode":"slow","delay_ms":1500,"mode_calls":1})");

    Response fetched;
    std::thread fetcher([&] { fetched = s.fetch(c); });
    const bool at_provider = eventually([&] { return s.mock.calls() == 1; }, 5s);
    s.mock.seed({"rt-replacement"});
    const auto patched = s.patchCredentials(c, oauthCredentials("at-replacement", "rt-replacement", now() - 60));
    fetcher.join();
    REQUIRE(at_provider);
    CHECK_MESSAGE(patched.status == 200, patched.body);
    // Refreshed before the PATCH, refused by a dead grant, or unavailable for now: never an
    // internal error (e.g. a deadlock between the two).
    CHECK_MESSAGE((fetched.status == 200 || fetched.status == 409 || fetched.status == 503), fetched.body);
    CHECK(status(s, c) == "active");

    // The next fetch refreshes with the customer's new grant.
    const auto next = s.fetch(c);
    REQUIRE_MESSAGE(next.status == 200, next.body);
    CHECK(s.mock.list("presented_refresh_tokens").back() == "rt-replacement");
    CHECK(accessToken(next) == s.mock.list("issued_access_tokens").back());
    CHECK(s.mock.counter("reused_refresh_tokens") == 0);
  }
}

TEST_CASE("oauth: a token endpoint dripping its answer is cut off at the exchange deadline and the broker keeps serving") {
  // The deadline ends the exchange from the watchdog's thread while the exchange thread is
  // blocked reading: only the socket is shut down there; the exchange thread tears the
  // session down itself.
  OAuthStack s(quietLoop());
  s.mock.configure(R"({"mode":"drip","delay_ms":500})");  // 4096 bytes: half an hour
  const auto c = s.connect(oauthCredentials("at-drip", "rt-drip", now() - 60));

  const auto started = std::chrono::steady_clock::now();
  CHECK(refusal(s.fetch(c), 503) == "");
  CHECK(std::chrono::steady_clock::now() - started < 15s);
  CHECK(eventually([&] { return s.auditCount("refresh_failed", c.id) >= 1; }, 50s));
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK(took > 25s);  // the exchange deadline (30 s) ended it, not an error of its own
  CHECK(took < 50s);
  CHECK(s.mock.calls() == 1);
  CHECK(s.auditEvents(s.tenant).body.find("did not answer in time") != std::string::npos);

  // The broker survived and serves.
  REQUIRE(s.broker.running());
  CHECK(s.runtime.request("GET", "/healthz").status == 200);
  CHECK(s.fetch(c).status == 503);
}
