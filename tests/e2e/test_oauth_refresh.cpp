// OAuth2 token refresh (issue 4) that succeeds: on a fetch of an expiring token, exactly once
// per connection across threads and broker processes, rotating refresh tokens stored before
// anything is returned and never presented twice, ahead of time by the background loop, and
// each attempt in the audit trail. The provider is hydra-mock-oauth on loopback.
#include <doctest/doctest.h>

#include <set>
#include <thread>

#include "tests/support/oauth_fixture.hpp"

using namespace hydra::test;
using namespace std::chrono_literals;

namespace {

/// A stack whose mock holds one valid refresh token, and an oauth2 connection with it whose
/// access token expired a minute ago.
struct Expired {
  explicit Expired(const Environment& settings = quietLoop()) : s(settings) { s.mock.seed({refresh_token}); }

  OAuthStack s;
  std::string refresh_token = "rt-seed-" + randomToken(16);
  std::string old_access = "at-old-" + randomToken(16);
  OAuthConnection c = s.connect(oauthCredentials(old_access, refresh_token, now() - 60));
};

/// A JSON document of text (throws if it is not JSON).
rapidjson::Document parsed(const std::string& json) {
  rapidjson::Document doc;
  if (doc.Parse(json.c_str()).HasParseError()) throw std::runtime_error("not JSON: " + json);
  return doc;
}

/// The outcomes of the audit events with this request id.
std::multiset<std::string> outcomesOf(const Response& events, const std::string& request_id) {
  std::multiset<std::string> out;
  for (const auto* e : items(member(events.json, "events"))) {
    if (text(*e, "request_id") == request_id) out.insert(text(*e, "outcome"));
  }
  return out;
}

/// `t` is within `slack` seconds of `expected`.
bool near(std::time_t t, std::time_t expected, std::time_t slack = 30) { return t > expected - slack && t < expected + slack; }

}  // namespace

TEST_CASE("oauth: a fetch of an expired token refreshes it once, stores the new tokens and returns the fresh ones") {
  Expired e;
  const auto r = e.s.fetch(e.c);
  const auto& credentials = released(r);
  const auto issued = e.s.mock.list("issued_access_tokens");
  REQUIRE(issued.size() == 1);
  CHECK(text(credentials, "access_token") == issued[0]);
  CHECK(text(credentials, "token_type") == "Bearer");
  CHECK(near(parseUtc(text(credentials, "expires_at")), now() + 3600));
  CHECK(e.s.mock.list("presented_refresh_tokens") == std::vector<std::string>{e.refresh_token});

  // Stored: the new access token and the rotated refresh token, the only valid one now.
  const auto valid = e.s.mock.list("valid_refresh_tokens");
  REQUIRE(valid.size() == 1);
  CHECK(valid[0] != e.refresh_token);
  const auto stored = parsed(e.s.storedCredentials(e.c));
  CHECK(text(stored, "refresh_token") == valid[0]);
  CHECK(text(stored, "access_token") == issued[0]);
  // The connection mirrors the new expiry.
  const auto expires_at = parseUtc(text(e.s.connection(e.c).json, "expires_at"));
  CHECK(near(expires_at, now() + 3600));
  CHECK(text(e.s.connection(e.c).json, "status") == "active");

  // Fresh now: fetched again without another call.
  CHECK(accessToken(e.s.fetch(e.c)) == issued[0]);
  CHECK(e.s.mock.calls() == 1);
}

TEST_CASE("oauth: a token response without refresh_token keeps the stored refresh token") {
  Expired e;
  e.s.mock.configure(R"({"rotate":false,"expires_in":60})");  // within the skew: every fetch refreshes
  std::set<std::string> tokens;
  for (int i = 0; i < 3; ++i) tokens.insert(accessToken(e.s.fetch(e.c)));
  CHECK(tokens.size() == 3);
  CHECK(e.s.mock.list("presented_refresh_tokens") ==
        std::vector<std::string>{e.refresh_token, e.refresh_token, e.refresh_token});
  CHECK(text(parsed(e.s.storedCredentials(e.c)), "refresh_token") == e.refresh_token);
}

TEST_CASE("oauth: expires_in or a Unix time at creation becomes the expires_at the connection shows") {
  OAuthStack s(quietLoop());
  const auto in = s.connect(R"({"access_token":"at-in","refresh_token":"rt-in","token_type":"Bearer","expires_in":3600})",
                            "by-expires-in");
  CHECK(near(parseUtc(text(s.connection(in).json, "expires_at")), now() + 3600));
  CHECK(near(parseUtc(text(parsed(s.storedCredentials(in)), "expires_at")), now() + 3600));
  const auto fetched = s.fetch(in);
  CHECK(accessToken(fetched) == "at-in");  // not due: no refresh
  CHECK(near(parseUtc(text(released(fetched), "expires_at")), now() + 3600));

  const auto unix_time = now() + 7200;
  const auto number = s.connect(R"({"access_token":"at-n","refresh_token":"rt-n","token_type":"Bearer","expires_at":)" +
                                    std::to_string(unix_time) + "}",
                                "by-number");
  CHECK(parseUtc(text(s.connection(number).json, "expires_at")) == unix_time);
  CHECK(s.mock.calls() == 0);
}

TEST_CASE("oauth: 50 concurrent fetches of one expired connection make exactly one call to the token endpoint") {
  Expired e;
  e.s.mock.configure(R"({"mode":"slow","delay_ms":500,"mode_calls":1})");  // all 50 arrive during it
  std::vector<Response> responses(50);
  concurrently(responses.size(), [&](std::size_t i) { responses[i] = e.s.fetch(e.c); });

  CHECK(e.s.mock.calls() == 1);
  const auto issued = e.s.mock.list("issued_access_tokens");
  REQUIRE(issued.size() == 1);
  std::set<std::string> tokens;
  for (const auto& r : responses) {
    CAPTURE(r.body);
    REQUIRE(r.status == 200);
    tokens.insert(accessToken(r));
  }
  CHECK(tokens == std::set<std::string>{issued[0]});
  CHECK(e.s.mock.counter("max_concurrent_calls") == 1);
  CHECK(e.s.mock.counter("invalid_refresh_tokens") == 0);
  CHECK(e.s.auditCount("refreshed", e.c.id) == 1);
  CHECK(e.s.auditCount("allowed", e.c.id) == 50);
}

TEST_CASE("oauth: two broker processes on one database refresh an expired connection exactly once") {
  OAuthStack s(quietLoop());
  const auto second = s.anotherBroker();
  const HttpClient other(second->port());
  for (int round = 1; round <= 3; ++round) {
    CAPTURE(round);
    const auto refresh_token = "rt-round-" + randomToken(16);
    s.mock.seed({refresh_token});
    const auto c = s.connect(oauthCredentials("at-old", refresh_token, now() - 60), "inbox" + std::to_string(round));
    s.mock.configure(R"({"mode":"slow","delay_ms":400,"mode_calls":1})");
    std::vector<Response> responses(40);
    concurrently(responses.size(), [&](std::size_t i) {
      responses[i] = i % 2 == 0 ? s.fetch(c) : fetchFrom(other, c.runtime.instance_id, c.runtime.proxy_key, c.query());
    });

    CHECK(s.mock.calls() == round);
    const auto issued = s.mock.list("issued_access_tokens");
    REQUIRE(issued.size() == static_cast<std::size_t>(round));
    for (const auto& r : responses) {
      CAPTURE(r.body);
      REQUIRE(r.status == 200);
      CHECK(accessToken(r) == issued.back());
    }
  }
  CHECK(s.mock.counter("max_concurrent_calls") == 1);
  CHECK(s.mock.counter("invalid_refresh_tokens") == 0);
}

TEST_CASE("oauth: 100 sequential refreshes with rotation never present a used refresh token and store the latest") {
  Expired e;
  e.s.mock.configure(R"({"expires_in":60,"rotate":true})");  // within the 120 s skew: every fetch refreshes
  std::string previous = e.old_access;
  for (int i = 1; i <= 100; ++i) {
    CAPTURE(i);
    const auto r = e.s.fetch(e.c);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    const auto state = e.s.mock.state();
    const auto issued = items(member(state.json, "issued_access_tokens"));
    const auto valid = items(member(state.json, "valid_refresh_tokens"));
    REQUIRE(issued.size() == static_cast<std::size_t>(i));
    REQUIRE(accessToken(r) == issued.back()->GetString());
    REQUIRE(accessToken(r) != previous);
    previous = accessToken(r);
    REQUIRE(member(state.json, "invalid_refresh_tokens").GetInt64() == 0);
    // Durably stored before the fetch answered: the one valid refresh token.
    REQUIRE(valid.size() == 1);
    REQUIRE(text(parsed(e.s.storedCredentials(e.c)), "refresh_token") == valid[0]->GetString());
  }
  const auto presented = e.s.mock.list("presented_refresh_tokens");
  CHECK(presented.size() == 100);
  CHECK(std::set<std::string>(presented.begin(), presented.end()).size() == presented.size());
  CHECK(e.s.mock.counter("reused_refresh_tokens") == 0);
  CHECK(text(e.s.connection(e.c).json, "status") == "active");
}

TEST_CASE("oauth: the background loop refreshes a connection nobody fetches before it expires") {
  OAuthStack s(Environment{{"HYDRA_REFRESH_INTERVAL_SECONDS", "1"}, {"HYDRA_REFRESH_AHEAD_SECONDS", "600"}});
  const auto refresh_token = "rt-idle-" + randomToken(16);
  s.mock.seed({refresh_token});
  // Outside the fetch skew (120 s), inside the loop's window (600 s).
  const auto c = s.connect(oauthCredentials("at-idle", refresh_token, now() + 300));
  const auto original = parseUtc(text(s.connection(c).json, "expires_at"));
  CHECK(near(original, now() + 300));

  const bool refreshed = eventually(
      [&] { return s.mock.calls() >= 1 && parseUtc(text(s.connection(c).json, "expires_at")) > original; }, 15s);
  REQUIRE_MESSAGE(refreshed, "no refresh within 15 s; broker log:\n" << s.broker.log());
  CHECK(near(parseUtc(text(s.connection(c).json, "expires_at")), now() + 3600));
  CHECK(s.auditCount("refreshed", c.id) >= 1);

  // The runtime gets the token the loop obtained, without another call; the new token is
  // outside the window, so the loop leaves it alone.
  const auto issued = s.mock.list("issued_access_tokens");
  REQUIRE(issued.size() == 1);
  std::this_thread::sleep_for(2500ms);
  CHECK(accessToken(s.fetch(c)) == issued[0]);
  CHECK(s.mock.calls() == 1);
  CHECK(s.mock.counter("invalid_refresh_tokens") == 0);
}

TEST_CASE("oauth: refresh attempts are recorded in the audit trail as refreshed and refresh_failed") {
  Expired e;
  const auto ok = e.s.fetch(e.c);
  REQUIRE(ok.status == 200);
  CHECK(e.s.auditCount("refreshed", e.c.id) == 1);
  CHECK(e.s.auditCount("refresh_failed", e.c.id) == 0);
  // The refresh a fetch made carries the fetch's request id, beside the fetch's own record.
  CHECK(outcomesOf(e.s.auditEvents(e.s.tenant), requestId(ok)) == std::multiset<std::string>{"allowed", "refreshed"});

  // A refresh token the provider does not know: invalid_grant.
  const auto dead = e.s.connect(oauthCredentials("at-dead", "rt-unknown-" + randomToken(8), now() - 60), "dead");
  const auto refused = e.s.fetch(dead);
  REQUIRE(refused.status == 409);
  CHECK(e.s.auditCount("refresh_failed", dead.id) == 1);
  CHECK(e.s.auditCount("refreshed", dead.id) == 0);
  const auto events = e.s.auditEvents(e.s.tenant);
  const auto outcomes = outcomesOf(events, requestId(refused));
  CAPTURE(events.body);
  CHECK(outcomes.size() == 2);
  CHECK(outcomes.count("refresh_failed") == 1);
  CHECK(outcomes.count("denied") + outcomes.count("error") == 1);
  for (const auto& token : e.s.mock.list("presented_refresh_tokens")) CHECK(events.body.find(token) == std::string::npos);
  CHECK(events.body.find(e.s.mock.list("valid_refresh_tokens").at(0)) == std::string::npos);
}

TEST_CASE("oauth: refreshed credentials are stored under the broker's current key") {
  Expired e;
  // The control plane sealed to the test key; this broker's current key is a new one, the
  // test key an older one it still opens.
  const auto next = newKeyFiles(e.s.key_dir, "next");
  auto env = e.s.brokerEnvironment();
  env["HYDRA_BROKER_PRIVATE_KEYS"] = next.private_key + "," + e.s.keys.private_key;
  const Broker rotated(env);
  REQUIRE(storedSecret(e.s.db, e.c.id).key_id == sealingKeyId(e.s.server));
  REQUIRE(rotated.currentKeyId() != sealingKeyId(e.s.server));

  const auto r = fetchFrom(HttpClient(rotated.port()), e.c.runtime.instance_id, e.c.runtime.proxy_key, e.c.query());
  CHECK(accessToken(r) == e.s.mock.list("issued_access_tokens").at(0));
  CHECK(storedSecret(e.s.db, e.c.id).key_id == rotated.currentKeyId());
}

TEST_CASE("oauth: the background loop backs off from a provider that keeps failing") {
  OAuthStack s(Environment{{"HYDRA_REFRESH_INTERVAL_SECONDS", "1"}, {"HYDRA_REFRESH_AHEAD_SECONDS", "600"}});
  s.mock.configure(R"({"mode":"500"})");
  s.mock.seed({"rt-backoff"});
  const auto c = s.connect(oauthCredentials("at-backoff", "rt-backoff", now() + 300));
  // The loop's first attempt (with its own bounded retries) ends recorded as failed.
  REQUIRE(eventually([&] { return s.auditCount("refresh_failed", c.id) >= 1; }, 15s));
  const auto after_first = s.mock.calls();
  CHECK(after_first >= 1);
  // Looking every second, it does not try again at once.
  std::this_thread::sleep_for(4s);
  CHECK(s.mock.calls() == after_first);
  CHECK(s.auditCount("refresh_failed", c.id) == 1);
  CHECK(text(s.connection(c).json, "status") == "active");
}
