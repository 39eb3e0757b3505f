// OAuth2 refresh must not let one customer or one provider hurt others (issue 12, item 3):
// fetches wait on refreshes only briefly and without holding a thread, the background loop is fair
// across customers and providers, the refresh transaction survives a server-wide idle
// timeout, a customer's own refused OAuth client breaks only their connection, and absurd
// expiries are refused at the door.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/oauth_fixture.hpp"

using namespace hydra::test;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

std::chrono::milliseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

}  // namespace

TEST_CASE("oauth: a fetch waits for a stalled refresh only briefly, then fetches of that connection answer at once") {
  OAuthStack s(quietLoop());
  s.mock.configure(R"({"rotate":false})");
  s.mock.seed({"rt-stalled"});
  const auto c = s.connect(oauthCredentials("at-stalled", "rt-stalled", now() - 60));
  s.mock.configure(R"({"mode":"slow","delay_ms":8000})");

  auto start = Clock::now();
  const auto first = s.fetch(c);
  const auto first_took = since(start);
  CHECK(refusal(first, 503) == "");
  CAPTURE(first_took.count());
  CHECK(first_took < 4s);  // the fetch wait (2 s), not the 10 s refresh budget

  // The attempt is still at the provider: the next fetches do not wait on it, nor start another.
  for (int i = 0; i < 3; ++i) {
    start = Clock::now();
    const auto again = s.fetch(c);
    CHECK(refusal(again, 503) == "");
    CHECK(since(start) < 1s);
  }
  CHECK(s.mock.calls() == 1);
}

TEST_CASE("oauth: fetches waiting on a stalled provider hold no thread: everyone else is served at once") {
  auto settings = quietLoop();
  settings["HYDRA_THREADS"] = "1";       // a single server thread
  settings["HYDRA_DB_POOL_SIZE"] = "2";  // and two database workers
  OAuthStack s(settings);
  s.mock.configure(R"({"rotate":false})");
  constexpr std::size_t kStalled = 12;
  std::vector<OAuthConnection> connections;
  for (std::size_t i = 0; i < kStalled; ++i) {
    const auto token = "rt-many-" + std::to_string(i);
    s.mock.seed({token});
    connections.push_back(s.connect(oauthCredentials("at-many-" + std::to_string(i), token, now() - 60),
                                    "inbox-" + std::to_string(i)));
  }
  // Another runtime of the same broker, whose token is fresh.
  const auto fresh = s.connect(oauthCredentials("at-fresh", "rt-fresh", now() + 3600), "fresh");
  s.mock.configure(R"({"mode":"slow","delay_ms":8000})");

  std::vector<std::chrono::milliseconds> took(kStalled + 2);
  std::vector<int> statuses(kStalled + 2);
  concurrently(kStalled + 2, [&](std::size_t i) {
    if (i >= kStalled) std::this_thread::sleep_for(500ms);  // while every stalled fetch waits
    const auto start = Clock::now();
    const auto r = i == kStalled ? s.runtime.request("GET", "/healthz") : s.fetch(i < kStalled ? connections[i] : fresh);
    took[i] = since(start);
    statuses[i] = r.status;
  });
  // More fetches wait than there are threads of any kind, yet /healthz and the fresh
  // connection's fetch (from the database: its first) answer at once.
  CAPTURE(took[kStalled].count());
  CAPTURE(took[kStalled + 1].count());
  CHECK(statuses[kStalled] == 200);
  CHECK(took[kStalled] < 1s);
  CHECK(statuses[kStalled + 1] == 200);
  CHECK(took[kStalled + 1] < 1s);
  for (std::size_t i = 0; i < kStalled; ++i) {
    CAPTURE(i);
    CHECK(statuses[i] == 503);  // expired tokens, a provider that does not answer in time
    CHECK(took[i] < 4s);        // the fetch wait (2 s), never the provider's 8 s
  }
}

TEST_CASE("oauth: the refresh loop is fair: a customer's many due connections on a stalled provider do not delay another's") {
  // The flooder's provider answers after 5 s (and refuses their tokens); the other customer's
  // connection is due later than all of theirs. Taken one at a time in order of expiry, it
  // would wait 40 x 5 s.
  MockOAuth stalled;
  stalled.configure(R"({"mode":"slow","delay_ms":5000})");
  ProviderEntry flood{"stalledprov"};
  flood.token_url = stalled.tokenUrl();
  OAuthStack s(Environment{{"HYDRA_REFRESH_INTERVAL_SECONDS", "1"}}, {ProviderEntry{kMockProvider}, flood});
  for (int i = 0; i < 40; ++i) {
    const auto body = R"({"provider":"stalledprov","name":"flood-)" + std::to_string(i) +
                      R"(","auth_type":"oauth2","credentials":)" +
                      oauthCredentials("at-flood", "rt-flood-" + std::to_string(i), now() - 60) + "}";
    s.createConnection(s.tenant, body);
  }
  s.mock.seed({"rt-bob"});
  const auto bob = s.newTenant("bob");
  const auto bob_connection = s.createConnection(
      bob, R"({"provider":")" + std::string(kMockProvider) + R"(","name":"bob-inbox","auth_type":"oauth2","credentials":)" +
               oauthCredentials("at-bob", "rt-bob", now() + 200) + "}");
  const auto start = Clock::now();
  CHECK(eventually([&] { return s.mock.counter("refreshed") >= 1; }, 20s));
  CAPTURE(since(start).count());
  // The flood is worked on too, not skipped: bob's turn may come before the first of its
  // calls has reached the stalled provider, so this waits for one (not for its answer).
  CHECK(eventually([&] { return stalled.calls() >= 1; }, 5s));
  CHECK(text(s.connection(bob, bob_connection).json, "status") == "active");
}

TEST_CASE("oauth: the refresh transaction survives a server-wide idle_in_transaction_session_timeout and keeps the rotated token") {
  OAuthStack s(quietLoop());
  s.mock.seed({"rt-idle"});
  const auto c = s.connect(oauthCredentials("at-idle", "rt-idle", now() - 60));
  // Sessions opened from now on end when idle in a transaction for 1 s, unless they say
  // otherwise: a broker started now has its refresh wait 2.5 s on the provider inside one.
  s.db.exec("ALTER DATABASE \"" + s.db.name() + "\" SET idle_in_transaction_session_timeout = '1s'");
  const auto other = s.anotherBroker();
  s.mock.configure(R"({"mode":"slow","delay_ms":2500,"mode_calls":1})");
  const HttpClient via(other->port());
  const auto r = fetchFrom(via, c.runtime.instance_id, c.runtime.proxy_key, c.query());
  CHECK((r.status == 200 || r.status == 503));

  CHECK(eventually([&] { return s.auditCount("refreshed", c.id) + s.auditCount("refresh_failed", c.id) >= 1; }, 20s));
  CHECK(s.auditCount("refreshed", c.id) == 1);
  const auto valid = s.mock.list("valid_refresh_tokens");
  REQUIRE(valid.size() == 1);
  CHECK(valid[0] != "rt-idle");
  rapidjson::Document stored;
  stored.Parse(s.storedCredentials(c).c_str());
  CHECK(text(stored, "refresh_token") == valid[0]);
  CHECK(other->log().find("ALARM") == std::string::npos);
}

TEST_CASE("oauth: a connection whose own OAuth client is refused (invalid_client) is marked error with the provider's message") {
  OAuthStack s(quietLoop());
  s.mock.configure(R"({"client_auth":"post","client_id":"customer-app","client_secret":"the-right-secret"})");
  s.mock.seed({"rt-own-client"});
  const auto c = s.connect(oauthCredentials("at-own-client", "rt-own-client", now() - 60,
                                            R"("client_id":"customer-app","client_secret":"a-wrong-secret")"));
  const auto r = s.fetch(c);
  CHECK(refusal(r, 409) == "");
  const auto shown = s.connection(c);
  CHECK(text(shown.json, "status") == "error");
  const auto message = textOrNull(shown.json, "error_message");
  CHECK(message.find("invalid_client") != std::string::npos);
  CHECK(message.size() < 600);
  CHECK(s.mock.calls() == 1);
  CHECK(refusal(s.fetch(c), 409) == "");
  CHECK(s.mock.calls() == 1);  // not asked again until the customer replaces the credentials
}

TEST_CASE("oauth: an access token expiry before 2000 is refused at the credentials field") {
  OAuthStack s(quietLoop());
  for (const std::string expiry : {"0", R"("1970-01-01T00:00:00Z")", R"("1999-12-31T23:59:59Z")"}) {
    CAPTURE(expiry);
    const auto r = s.http.request(
        "POST", s.tenant.path() + "/connections",
        R"({"provider":"gmail","name":"old","auth_type":"oauth2","credentials":{"access_token":"a","refresh_token":"r","expires_at":)" +
            expiry + "}}",
        s.tenant.auth());
    REQUIRE(r.status == 422);
    CHECK(problemLocTypes(r) == std::vector<std::string>{R"(["body","credentials","expires_at"] greater_than_equal)"});
  }
}
