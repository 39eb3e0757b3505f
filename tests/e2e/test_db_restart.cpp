// After PostgreSQL restarts (issue 18, point 4), every pooled connection is dead although the
// database is back and /readyz, which checks on a connection of its own, answers 200: no request
// may fail because of that (503), on either binary. The test cluster is shared by the tests
// running at once, so instead of restarting it the test terminates every session of its own
// database, which leaves the pools exactly as a restart does.
#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <thread>
#include <vector>

#include "tests/support/broker.hpp"

using namespace hydra::test;
using namespace std::chrono_literals;

namespace {

/// Runs `request` `times` times on each of `threads` threads at once; returns every status.
std::vector<int> concurrently(int threads, int times, const std::function<Response()>& request) {
  std::vector<std::vector<int>> seen(static_cast<std::size_t>(threads));
  std::vector<std::thread> workers;
  for (std::size_t t = 0; t < seen.size(); ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < times; ++i) seen[t].push_back(request().status);
    });
  }
  for (auto& worker : workers) worker.join();
  std::vector<int> all;
  for (const auto& statuses : seen) all.insert(all.end(), statuses.begin(), statuses.end());
  return all;
}

/// Terminates every session of `db` (the pools', the broker's listener and shipper) and waits
/// until they are all gone.
void terminateSessions(const TestDatabase& db) {
  const auto pids = execAdmin("SELECT coalesce(array_agg(pid)::text, '{}') FROM pg_stat_activity WHERE datname = '" +
                              db.name() + "' AND pid <> pg_backend_pid()")[0][0].as<std::string>();
  REQUIRE(pids != "{}");  // the pools held connections
  execAdmin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = ANY('" + pids + "'::int[])");
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  const auto remaining = [&] {
    return execAdmin("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY('" + pids + "'::int[])")[0][0].as<int>();
  };
  while (remaining() > 0) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(20ms);
  }
}

void awaitReady(const HttpClient& http) {
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (http.request("GET", "/readyz").status != 200) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(50ms);
  }
}

}  // namespace

TEST_CASE("db restart: once /readyz is 200 again, every request on both binaries succeeds the first time") {
  // Every fetch asks the database (no memory), so each one leases a pooled connection.
  BrokerStack s(Environment{{"HYDRA_AUTHZ_MEMORY_ENTRIES", "0"}});
  const auto t = s.newTenant();
  const auto connection = s.createConnection(t, connectionBody("gmail", "inbox", R"({"access_token":"v1"})"));
  const auto runtime = s.grantedRuntime(t, connection);
  const auto list = [&] { return s.as(t, "GET", t.path() + "/connections"); };
  const auto fetch = [&] { return s.fetch(runtime, "provider=gmail"); };
  // Requests at once, so that each pool holds several connections.
  for (const auto status : concurrently(4, 5, list)) REQUIRE(status == 200);
  for (const auto status : concurrently(4, 5, fetch)) REQUIRE(status == 200);

  terminateSessions(s.db);
  awaitReady(s.http);
  awaitReady(s.runtime);

  for (const auto status : concurrently(4, 5, list)) CHECK(status == 200);
  for (const auto status : concurrently(4, 5, fetch)) CHECK(status == 200);
  CHECK(s.as(t, "POST", t.path() + "/connections", connectionBody("gmail", "after")).status == 201);  // a write too
  CHECK(s.fetch(runtime, "provider=gmail").status == 200);
}
