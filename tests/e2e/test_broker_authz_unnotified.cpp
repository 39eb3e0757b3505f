// Changes that send no row notification (issue 18, point 11): a TRUNCATE of a table a fetch reads
// clears every memory (schema/0017's statement triggers), and a change made with triggers off
// (session_replication_role = replica, as a restore does) is seen once an entry reaches
// HYDRA_AUTHZ_MAX_AGE_SECONDS. Both start from a fetch that only memory can have answered: its
// proxy key revoked without a notification, so the database would say 401.
#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <thread>

#include "tests/support/broker.hpp"

using namespace hydra::test;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

/// Runs SQL as superuser with every ordinary trigger off: the change reaches the database but no
/// broker hears of it.
void writeUnnotified(const TestDatabase& db, const std::string& sql, const std::string& param) {
  pqxx::connection connection(db.url());
  pqxx::nontransaction tx(connection);
  tx.exec("SET session_replication_role = replica");
  tx.exec_params(sql, param);
}

/// A runtime granted gmail/inbox whose proxy key the broker still serves from memory although
/// the database has it revoked (a load that raced the key's own notification is not kept, so it
/// takes a new key and tries again), and when the load that memory answers from began at the
/// latest. Fails the test if memory never answered.
struct StaleKey {
  Runtime key;
  Clock::time_point loaded_by;
};

StaleKey staleKey(const BrokerStack& s, const Tenant& t, const std::string& instance) {
  const auto deadline = Clock::now() + 10s;
  while (Clock::now() < deadline) {
    const auto key = s.newProxyKey(t, instance);
    const auto before = Clock::now();
    for (int i = 0; i < 3; ++i) expectStatus(s.fetch(key, "provider=gmail"), 200, "warm-up fetch");
    writeUnnotified(s.db, "UPDATE proxy_keys SET revoked_at = now() WHERE id = $1", key.key_id);
    if (s.fetch(key, "provider=gmail").status == 200) return {key, before};
    std::this_thread::sleep_for(250ms);  // that 401 counts against this address: let the throttle refill
  }
  FAIL("memory never answered a fetch");
  return {};
}

struct Granted {
  explicit Granted(const Environment& settings = {}) : s(settings) {
    s.createGrant(t, s.createConnection(t, connectionBody("gmail", "inbox", R"({"access_token":"v1"})")), instance);
  }
  BrokerStack s;
  Tenant t = s.newTenant();
  std::string instance = s.createInstance(t);
};

}  // namespace

TEST_CASE("authz: a TRUNCATE of grants clears the broker's memory: the next fetch is refused") {
  Granted g;
  const auto stale = staleKey(g.s, g.t, g.instance);
  g.s.db.exec("TRUNCATE grants CASCADE");  // as superuser, triggers on: the statement trigger fires
  waitOutStaleness();                      // a TRUNCATE answered by no control plane: wait B ourselves
  CHECK(g.s.fetch(stale.key, "provider=gmail").status != 200);
}

TEST_CASE("authz: a change made with triggers off is seen once memory's entry reaches its maximum age") {
  Granted g(Environment{{"HYDRA_AUTHZ_MAX_AGE_SECONDS", "2"}});
  const auto stale = staleKey(g.s, g.t, g.instance);
  // Memory answers until the entry is 2 s old (counted from its load), then the database refuses.
  std::optional<Clock::duration> refused_after;
  while (Clock::now() - stale.loaded_by < 15s) {
    const auto r = g.s.fetch(stale.key, "provider=gmail");
    if (r.status != 200) {
      CHECK(refusal(r, 401) == "");
      refused_after = Clock::now() - stale.loaded_by;
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  REQUIRE(refused_after.has_value());
  CHECK(*refused_after >= 2s);  // not before: memory was in use until then
}

TEST_CASE("authz: a maximum age that is not a whole number of seconds from 1 stops the broker at start-up") {
  BrokerStack s;
  for (const char* bad : {"0", "-1", "soon", "86401"}) {
    CAPTURE(bad);
    auto env = s.brokerEnvironment();
    env["HYDRA_AUTHZ_MAX_AGE_SECONDS"] = bad;
    const auto started = runBroker({"serve"}, env, 10s);
    CHECK(started.exit_code == 2);
    CHECK(started.err.find("HYDRA_AUTHZ_MAX_AGE_SECONDS") != std::string::npos);
  }
}
