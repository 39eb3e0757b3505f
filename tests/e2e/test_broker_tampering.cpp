// Someone with write access to the database changes a ciphertext: moved from another row,
// a flipped byte, a key id the broker does not hold. The broker refuses with a generic 500,
// raises an ALARM in its log and an "error" record in the audit trail, and keeps serving.
// Each case runs with the derived-key cache warm (both rows fetched just before).
#include <doctest/doctest.h>

#include <thread>

#include "tests/support/broker.hpp"

using namespace hydra::test;

namespace {

std::size_t count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

/// The broker's log once it holds `n` ALARM lines (its output is read by another thread, which
/// may not have read the line the broker wrote just before it answered), or after 5 s.
std::string logWithAlarms(Broker& broker, std::size_t n) {
  for (int i = 0; i < 250 && count(broker.log(), "ALARM") < n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return broker.log();
}

/// Connections x and y of one tenant, z of another, each granted to a runtime of its tenant
/// and fetched once.
struct Rows {
  BrokerStack s;
  Tenant t = s.newTenant("a");
  Tenant other = s.newTenant("b");
  std::string x = s.createConnection(t, connectionBody("gmail", "x", R"({"token":"X-CANARY"})"));
  std::string y = s.createConnection(t, connectionBody("gmail", "y", R"({"token":"Y-CANARY"})"));
  std::string z = s.createConnection(other, connectionBody("gmail", "z", R"({"token":"Z-CANARY"})"));
  Runtime runtime = s.grantedRuntime(t, x);
  Runtime other_runtime = s.grantedRuntime(other, z);
  StoredSecret y_original;

  Rows() {
    s.createGrant(t, y, runtime.instance_id);
    y_original = storedSecret(s.db, y);
    for (const auto* name : {"x", "y"}) fetchExpecting(name, 200);
    expectStatus(s.fetch(other_runtime, "provider=gmail"), 200, "fetch z");
  }
  Response fetchExpecting(const std::string& name, int status) const {
    auto r = s.fetch(runtime, "provider=gmail&name=" + name);
    expectStatus(r, status, "fetch " + name);
    return r;
  }
  void setY(const StoredSecret& secret) const {
    s.db.exec("UPDATE connection_secrets SET key_id = $1, ciphertext = decode($2, 'hex') WHERE connection_id = $3",
              secret.key_id, secret.ciphertext_hex, y);
    waitOutStaleness();
  }

  /// y's fetch is refused as tampered: a generic 500 naming no key or SQL, one more ALARM in
  /// the log, an "error" record in the trail; x still opens and the broker keeps serving.
  void checkYRefused(const std::string& what) {
    CAPTURE(what);
    const auto alarms_before = count(s.broker.log(), "ALARM");
    const auto r = s.fetch(runtime, "provider=gmail&name=y");
    CHECK(refusal(r, 500) == "");
    const auto detail = errorDetail(r);
    for (const auto& leak : {y_original.key_id, storedSecret(s.db, x).key_id, std::string("SELECT"),
                             std::string("connection_secrets"), std::string("pqxx"), std::string("CANARY"),
                             y_original.ciphertext_hex.substr(0, 16)}) {
      CAPTURE(leak);
      CHECK(detail.find(leak) == std::string::npos);
    }
    const auto events = s.auditEvents(t);
    const auto& event = eventFor(events, requestId(r));
    CHECK(text(event, "outcome") == "error");
    CHECK(textOrNull(event, "connection_id") == y);
    CHECK(count(logWithAlarms(s.broker, alarms_before + 1), "ALARM") == alarms_before + 1);

    CHECK(s.broker.running());
    const auto x_fetch = fetchExpecting("x", 200);
    CHECK(sameJson(member(x_fetch.json, "credentials"), R"({"token":"X-CANARY"})"));
    CHECK(s.runtime.request("GET", "/healthz").status == 200);
  }
};

}  // namespace

TEST_CASE("broker: a ciphertext moved onto another row is refused, and the row it came from still opens") {
  Rows rows;
  rows.setY(storedSecret(rows.s.db, rows.x));  // same customer, same key
  rows.checkYRefused("x's ciphertext on y");
  rows.setY(storedSecret(rows.s.db, rows.z));  // another customer's
  rows.checkYRefused("z's ciphertext on y");
  const auto z = rows.s.fetch(rows.other_runtime, "provider=gmail");
  REQUIRE(z.status == 200);
  CHECK(sameJson(member(z.json, "credentials"), R"({"token":"Z-CANARY"})"));

  rows.setY(rows.y_original);  // put back: it opens again
  CHECK(sameJson(member(rows.fetchExpecting("y", 200).json, "credentials"), R"({"token":"Y-CANARY"})"));
}

TEST_CASE("broker: a ciphertext with a flipped byte is refused") {
  Rows rows;
  const auto& hex = rows.y_original.ciphertext_hex;
  const auto bytes = hex.size() / 2;
  // In the encapsulated key, in the AEAD ciphertext, and in the tag.
  for (const std::size_t at : {std::size_t{0}, std::size_t{31}, std::size_t{40}, bytes - 1}) {
    const auto flip = [&](char c) { return "0123456789abcdef"[(std::stoi(std::string(1, c), nullptr, 16) ^ 1)]; };
    auto flipped = hex;
    flipped[2 * at + 1] = flip(flipped[2 * at + 1]);
    rows.setY({rows.y_original.key_id, flipped});
    rows.checkYRefused("byte " + std::to_string(at) + " of " + std::to_string(bytes) + " flipped");
  }
  for (const auto& [what, replacement] : std::vector<std::pair<std::string, std::string>>{
           {"truncated to its encapsulated key", hex.substr(0, 64)}, {"one byte", "00"}, {"empty", ""}}) {
    rows.setY({rows.y_original.key_id, replacement});
    rows.checkYRefused(what);
  }
}

TEST_CASE("broker: a ciphertext under a key id it does not hold is an explicit 500, never a crash") {
  Rows rows;
  rows.setY({"retired-key-0000", rows.y_original.ciphertext_hex});
  rows.checkYRefused("unknown key id");
  rows.setY({"", rows.y_original.ciphertext_hex});
  rows.checkYRefused("empty key id");
  rows.setY(rows.y_original);
  CHECK(rows.fetchExpecting("y", 200).status == 200);
}

TEST_CASE("broker: the ALARM names the row, not its ciphertext") {
  Rows rows;
  rows.setY(storedSecret(rows.s.db, rows.x));
  REQUIRE(rows.s.fetch(rows.runtime, "provider=gmail&name=y").status == 500);
  const auto log = logWithAlarms(rows.s.broker, 1);
  const auto alarm_at = log.find("ALARM");
  REQUIRE(alarm_at != std::string::npos);
  const auto alarm = log.substr(alarm_at, log.find('\n', alarm_at) - alarm_at);
  CAPTURE(alarm);
  CHECK(alarm.find(rows.y) != std::string::npos);
  const auto moved = storedSecret(rows.s.db, rows.x).ciphertext_hex;
  for (const auto& secret : {moved.substr(0, 32), moved.substr(moved.size() - 32),
                             rows.y_original.ciphertext_hex.substr(0, 32), std::string("CANARY")}) {
    CHECK(log.find(secret) == std::string::npos);
  }
}

// The control plane's role may change a connection's auth_type (it is not bound into the
// seal): from oauth2 to api_key or basic, the broker would otherwise hand the runtime the
// refresh token and the client secret the oauth2 path holds back.
TEST_CASE("broker: a refresh token or client secret is never released, whatever auth_type the row says") {
  BrokerStack s;
  const auto t = s.newTenant("a");
  const auto connection = s.createConnection(
      t, connectionBody("gmail", "x",
                        R"({"access_token":"AT-CANARY","refresh_token":"RT-CANARY","client_id":"cid",)"
                        R"("client_secret":"CS-CANARY","expires_at":"2999-01-01T00:00:00Z"})"));
  const auto runtime = s.grantedRuntime(t, connection);
  for (const std::string auth_type : {"oauth2", "api_key", "basic"}) {
    CAPTURE(auth_type);
    s.db.exec("UPDATE connections SET auth_type = $1 WHERE id = $2", auth_type, connection);
    waitOutStaleness();
    for (int from_memory = 0; from_memory < 2; ++from_memory) {
      const auto r = s.fetch(runtime, "provider=gmail");
      expectStatus(r, 200, "fetch");
      CHECK(r.body.find("AT-CANARY") != std::string::npos);
      CHECK(r.body.find("RT-CANARY") == std::string::npos);
      CHECK(r.body.find("CS-CANARY") == std::string::npos);
      CHECK(r.body.find("refresh_token") == std::string::npos);
      CHECK(r.body.find("client_secret") == std::string::npos);
    }
  }
}
