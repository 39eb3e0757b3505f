// Audit integrity (issue 18, point 6): whatever a client sends, every record of the journal is
// valid UTF-8 JSON that PostgreSQL stores; a record PostgreSQL refuses anyway is an ALARM and a
// metric, and the records after it are shipped; start-up reads such a journal.
#include <doctest/doctest.h>

#include <optional>

#include "tests/support/audit.hpp"
#include "tests/support/broker.hpp"

using namespace hydra::test;
using namespace std::chrono_literals;

namespace {

/// A tenant with gmail/inbox granted to a runtime, behind a trusted proxy (127.0.0.1), and a
/// broker of the test's own (to restart it on the same journal).
struct Proxied {
  BrokerStack s{Environment{{"HYDRA_TRUSTED_PROXIES", "127.0.0.1/32"}}};
  Tenant t = s.newTenant();
  std::string connection = s.createConnection(t, connectionBody("gmail", "inbox", R"({"token":"INTEGRITY-CANARY"})"));
  Runtime runtime = s.grantedRuntime(t, connection);
  Environment env = [this] {
    auto e = s.brokerEnvironment();
    e["HYDRA_AUDIT_CHECKPOINT_SECONDS"] = "3600";  // the records stay after the last checkpoint
    return e;
  }();
  std::optional<Broker> broker{std::in_place, env};

  Response fetch(const Headers& extra = {}) const {
    auto headers = bearer(runtime.proxy_key);
    headers.insert(headers.end(), extra.begin(), extra.end());
    return HttpClient(broker->port())
        .request("GET", "/internal/v1/instances/" + runtime.instance_id + "/connections?provider=gmail", "", headers);
  }
  std::vector<std::string> fetchSome(int n) const {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      const auto r = fetch();
      REQUIRE(r.status == 200);
      ids.push_back(requestId(r));
    }
    return ids;
  }
};

/// A sample's value in Prometheus text (-1 if absent).
double sample(const std::string& metrics, const std::string& series) {
  const auto at = metrics.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(metrics.substr(at + series.size() + 2));
}

}  // namespace

TEST_CASE("audit integrity: an X-Forwarded-For entry that is not an address is marked, shipping and restarts go on") {
  Proxied p;
  const auto garbage = p.fetch({{"X-Forwarded-For", "\xff\xfe garbage"}});
  REQUIRE(garbage.status == 200);  // no network binding on this key: released, and audited
  const auto later = p.fetchSome(3);
  // On today's code PostgreSQL refused the batch holding the invalid UTF-8 for good.
  awaitShipped(p.s.db, later);
  awaitShipped(p.s.db, {requestId(garbage)});
  const auto peer = p.s.db.exec("SELECT peer FROM audit_events WHERE request_id = $1", requestId(garbage));
  REQUIRE(peer.size() == 1);
  CHECK(peer[0][0].as<std::string>() == "invalid:\\xff\\xfe garbage");

  // Killed (no last checkpoint): the record lies after the last checkpoint, start-up reads it.
  p.broker->kill();
  p.broker.reset();
  p.broker.emplace(p.env);
  const auto after_restart = p.fetchSome(2);
  awaitShipped(p.s.db, after_restart);
  p.broker.reset();
  const auto verified =
      runAudit({"verify", "--journal", p.env.at("HYDRA_AUDIT_DIR"), "--verifier-key", testAuditKey().verifier_key});
  CAPTURE(verified.out);
  CHECK(verified.exit_code == 0);
}

TEST_CASE("audit integrity: a record PostgreSQL refuses is an ALARM and a metric, the records after it are shipped") {
  BrokerStack s;
  const auto t = s.newTenant();
  const auto runtime = s.grantedRuntime(t, s.createConnection(t, "gmail", "inbox"));
  // A constraint that this one record violates: PostgreSQL refuses it whatever the broker does.
  s.db.exec(
      "ALTER TABLE audit_events ADD CONSTRAINT refuse_one CHECK (request_id <> 'refused-by-postgresql') NOT VALID");
  auto headers = bearer(runtime.proxy_key);
  headers.emplace_back("X-Request-Id", "refused-by-postgresql");
  const auto path = "/internal/v1/instances/" + runtime.instance_id + "/connections?provider=gmail";
  REQUIRE(s.runtime.request("GET", path, "", headers).status == 200);
  std::vector<std::string> later;
  for (int i = 0; i < 3; ++i) {
    const auto r = s.fetch(runtime, "provider=gmail");
    REQUIRE(r.status == 200);
    later.push_back(requestId(r));
  }
  awaitShipped(s.db, later);
  CHECK(s.db.exec("SELECT count(*) FROM audit_events WHERE request_id = 'refused-by-postgresql'")[0][0].as<int>() == 0);
  const auto log = s.broker.log();
  CHECK(log.find("ALARM: audit shipper: PostgreSQL refused record 0 of journal") != std::string::npos);
  CHECK(log.find("SQLSTATE 23514") != std::string::npos);
  CHECK(sample(s.runtime.request("GET", "/metrics").body, "audit_ship_refused_total") == 1);
  // The records after it keep coming.
  const auto next = s.fetch(runtime, "provider=gmail");
  REQUIRE(next.status == 200);
  awaitShipped(s.db, {requestId(next)});
}
