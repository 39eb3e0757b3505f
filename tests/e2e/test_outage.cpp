// PostgreSQL going away while the service runs: 503 with Retry-After and a JSON detail,
// quickly, without a crash; and recovery on its own when the database is back.
#include <doctest/doctest.h>

#include <chrono>
#include <functional>

#include "tests/support/api.hpp"

using namespace hydra::test;
using namespace std::chrono_literals;

namespace {

/// Makes the test database refuse connections and drops every session it has.
void takeDown(const TestDatabase& db) {
  execAdmin("ALTER DATABASE " + db.name() + " ALLOW_CONNECTIONS false");
  execAdmin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + db.name() + "'");
}

void bringBack(const TestDatabase& db) { execAdmin("ALTER DATABASE " + db.name() + " ALLOW_CONNECTIONS true"); }

/// The request, which must answer within `bound`.
Response timed(const std::function<Response()>& request, std::chrono::milliseconds bound = 3s) {
  const auto started = std::chrono::steady_clock::now();
  auto r = request();
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK(took < bound);
  return r;
}

void checkUnavailable(const Response& r) {
  CHECK(r.status == 503);
  const auto retry_after = r.header("Retry-After");
  REQUIRE(retry_after.has_value());
  CHECK(std::stoi(*retry_after) >= 1);
  CHECK_FALSE(errorDetail(r).empty());
}

}  // namespace

TEST_CASE("a database outage gives 503 with Retry-After and the service recovers without a restart") {
  Stack s;
  const auto t = s.newTenant();
  const auto id = s.createConnection(t, "gmail", "before");
  REQUIRE(s.as(t, "GET", t.path() + "/connections").status == 200);  // the pool holds live connections now

  takeDown(s.db);
  // Several rounds: the first requests find the pool's connections dead, later ones cannot connect.
  for (int round = 0; round < 3; ++round) {
    CAPTURE(round);
    checkUnavailable(timed([&] { return s.as(t, "GET", t.path() + "/connections"); }));
    checkUnavailable(timed([&] { return s.as(t, "GET", t.path() + "/connections/" + id); }));
    checkUnavailable(timed([&] { return s.as(t, "POST", t.path() + "/connections", connectionBody("gmail", "during")); }));
    checkUnavailable(timed([&] { return s.admin("POST", "/v1/admin/customers", R"({"name":"during"})"); }));
  }
  CHECK(s.server.running());
  CHECK(s.http.request("GET", "/healthz").status == 200);

  bringBack(s.db);
  const auto after = timed([&] { return s.as(t, "GET", t.path() + "/connections/" + id); });
  CHECK(after.status == 200);
  CHECK(s.as(t, "POST", t.path() + "/connections", connectionBody("gmail", "after")).status == 201);
  const auto list = s.as(t, "GET", t.path() + "/connections");
  REQUIRE(list.status == 200);
  CHECK(jsonText(member(list.json, "total")) == "2");  // nothing was written during the outage
  CHECK(s.server.running());
  const auto log = s.server.log();
  CHECK(log.find("SELECT") == std::string::npos);  // what is logged is about the outage, not SQL
}

TEST_CASE("the service starts while PostgreSQL is unreachable and answers 503") {
  // Port 1 on loopback refuses at once; the password must not end up in the log.
  auto env = ControlPlane::environment("postgresql://hydra:PASSWORD-CANARY@127.0.0.1:1/hydra");
  ControlPlane server(env);
  const HttpClient http(server.port());
  checkUnavailable(timed([&] {
    return http.request("GET", "/v1/customers/" + randomUuid() + "/connections", "", bearer("hck_x"));
  }));
  checkUnavailable(timed([&] { return http.request("POST", "/v1/admin/customers", R"({"name":"x"})",
                                                   bearer(server.adminToken())); }));
  CHECK(http.request("GET", "/healthz").status == 200);
  CHECK(server.running());
  CHECK(server.log().find("PASSWORD-CANARY") == std::string::npos);
}
