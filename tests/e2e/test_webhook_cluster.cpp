// Several control planes share webhook delivery (issue 10): every message is delivered and none
// twice in the normal case; a control plane killed mid-delivery leaves a lease that expires, and
// another one delivers the message, with the same webhook-id (at least once); the outbox is in
// PostgreSQL, so nothing is lost across restarts.
#include <doctest/doctest.h>

#include <map>
#include <regex>
#include <thread>

#include "tests/support/oauth_fixture.hpp"
#include "tests/support/webhook_fixture.hpp"

using namespace hydra::test;
using namespace std::chrono_literals;

namespace {

std::size_t count(const std::string& text, const std::regex& pattern) {
  return static_cast<std::size_t>(
      std::distance(std::sregex_iterator(text.begin(), text.end(), pattern), std::sregex_iterator()));
}

}  // namespace

TEST_CASE("webhook cluster: two control planes deliver every message, none twice") {
  // One customer: its cap (across both control planes) must let all four workers take part.
  const auto settings = webhookSettings(
      {{"HYDRA_WEBHOOK_WORKERS", "2"}, {"HYDRA_WEBHOOK_MAX_PER_CUSTOMER", "4"}, {"HYDRA_LOG_LEVEL", "debug"}});
  WebhookStack s(settings);
  const ControlPlane second(withSettings(ControlPlane::environment(s.db.urlAs("hydracore_control_plane")), settings));
  // Each receiver takes 150 ms per request, so one control plane cannot keep up alone (one
  // delivery per endpoint in flight at a time): the work has to be shared.
  std::vector<WebhookEndpoint> endpoints;
  for (int i = 0; i < 4; ++i) {
    endpoints.push_back(s.addEndpoint("/hooks/" + std::to_string(i), R"("events":["connection.created"])",
                                      R"("mode":"hang","hang_ms":150)"));
  }
  constexpr int kEvents = 30;
  for (int i = 0; i < kEvents; ++i) s.createConnection(s.tenant, "gmail", "c" + std::to_string(i));

  std::size_t total = 0;
  for (const auto& e : endpoints) {
    const auto got = s.receiver.await(e.path, kEvents, 60s);
    CHECK(got.size() == kEvents);
    std::map<std::string, int> seen;
    for (const auto& r : got) {
      CHECK(r.verified);
      ++seen[r.webhook_id];
    }
    CHECK(seen.size() == kEvents);
    for (const auto& [id, n] : seen) CHECK_MESSAGE(n == 1, id);
    total += got.size();
  }
  std::this_thread::sleep_for(1s);
  CHECK(s.receiver.received().size() == total);  // nothing arrived twice later
  CHECK(
      s.db.exec("SELECT count(*) FROM webhook_deliveries WHERE state = 'delivered' AND attempts = 1")[0][0].as<int>() ==
      4 * kEvents);
  // Both shared the work.
  static const std::regex delivered(R"(webhook delivery \d+ to endpoint \S+ delivered)");
  const auto by_first = count(s.server.log(), delivered), by_second = count(second.log(), delivered);
  CHECK(by_first + by_second == 4 * kEvents);
  CHECK(by_first > 0);
  CHECK(by_second > 0);
}

TEST_CASE("webhook cluster: a control plane killed mid-delivery: another one delivers the message") {
  const auto settings = webhookSettings({{"HYDRA_WEBHOOK_TIMEOUT_SECONDS", "3"}});
  WebhookStack s(settings);
  // The first request is held until the control plane sending it is gone.
  const auto endpoint = s.addEndpoint("/hooks/crash", "", R"("mode":"hang","times":1,"hang_ms":60000)");
  s.createConnection(s.tenant, "gmail", "inbox");
  const auto first = s.receiver.await("/hooks/crash", 1);
  REQUIRE(first.size() == 1);
  CHECK(s.server.kill() == 128 + 9);

  // Its lease (the attempt's 3 s and a margin of 15 s) runs out, and the next control plane
  // takes the delivery over.
  const auto started = std::chrono::steady_clock::now();
  const ControlPlane next(withSettings(ControlPlane::environment(s.db.urlAs("hydracore_control_plane")), settings));
  const auto got = s.receiver.await("/hooks/crash", 2, 40s);
  REQUIRE(got.size() == 2);
  CHECK(std::chrono::steady_clock::now() - started > 5s);  // not before the lease expired
  CHECK(got[1].webhook_id == first[0].webhook_id);
  CHECK(got[1].body == first[0].body);
  CHECK(got[1].answered == 200);
  CHECK(got[1].verified);
  CHECK(eventually(
      [&] {
        const auto row =
            s.db.exec("SELECT state, attempts FROM webhook_deliveries WHERE endpoint_id = $1", endpoint.id);
        return row[0][0].as<std::string>() == "delivered" && row[0][1].as<int>() == 2;
      },
      5s));
}

TEST_CASE("webhook cluster: messages written while no control plane runs are delivered when one starts") {
  const auto settings = webhookSettings();
  WebhookStack s(settings);
  s.addEndpoint("/hooks/later", R"("events":["connection.status_changed"])");
  CHECK(s.server.stop() == 0);
  // The broker (or anyone) changes a connection's status while no control plane runs: the
  // trigger writes the outbox in that transaction.
  const auto tenant_connection = s.db.exec(
                                         "INSERT INTO connections (customer_id, provider, name, auth_type) VALUES ($1, "
                                         "'gmail', 'inbox', 'oauth2') "
                                         "RETURNING id",
                                         s.tenant.id)[0][0]
                                     .as<std::string>();
  s.db.exec("UPDATE connections SET status = 'expired' WHERE id = $1", tenant_connection);
  CHECK(s.db.exec("SELECT count(*) FROM webhook_deliveries WHERE state = 'pending'")[0][0].as<int>() == 1);
  std::this_thread::sleep_for(500ms);
  CHECK(s.receiver.received().empty());

  const ControlPlane restarted(
      withSettings(ControlPlane::environment(s.db.urlAs("hydracore_control_plane")), settings));
  const auto got = s.receiver.await("/hooks/later", 1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].verified);
  CHECK(text(member(payloadOf(got[0]), "data"), "status") == "expired");
}
