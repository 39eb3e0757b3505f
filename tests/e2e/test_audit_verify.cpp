// `hydracore-audit verify --database` against a database that lies about its own journals (issue 18,
// point 8): a journal fabricated without checkpoints, an expected journal deleted, rows outside
// every journal shown to customers, records left uncovered by checkpoints, and checkpoints
// signed under two keys after a signing key rotation. A proxied call's record (issue 19)
// verifies from its columns, and a changed proxy column fails.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "broker/audit/journal.hpp"
#include "broker/audit/signing_key.hpp"
#include "tests/support/audit.hpp"
#include "tests/support/broker.hpp"

using namespace hydra::test;
using namespace std::chrono_literals;

namespace {

/// A tenant with gmail/inbox granted to a runtime, and a broker of the test's own with
/// `settings` (its environment kept, to restart it on the same journal).
struct Verified {
  explicit Verified(const Environment& settings = {{"HYDRA_AUDIT_CHECKPOINT_SECONDS", "1"}}) : s(settings) {}

  BrokerStack s;
  Tenant t = s.newTenant();
  std::string connection = s.createConnection(t, connectionBody("gmail", "inbox", R"({"token":"VERIFY-CANARY"})"));
  Runtime runtime = s.grantedRuntime(t, connection);
  Environment env = s.brokerEnvironment();
  std::optional<Broker> broker{std::in_place, env};

  std::string origin() const {
    std::string origin;
    std::getline(std::ifstream(env.at("HYDRA_AUDIT_DIR") + "/origin"), origin);
    return origin;
  }
  void fetch(int times) const {
    for (int i = 0; i < times; ++i) {
      REQUIRE(fetchFrom(HttpClient(broker->port()), runtime.instance_id, runtime.proxy_key, "provider=gmail").status ==
              200);
    }
  }
  void restart() {
    broker.reset();
    broker.emplace(env);
  }
  /// Waits (up to 15 s) until PostgreSQL holds `records` records of `journal` and a checkpoint of
  /// at least `covered` of them.
  void awaitShipped(const std::string& journal, long records, long covered) const {
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    for (;;) {
      const auto row = s.db.exec(
          "SELECT (SELECT count(*) FROM audit_events WHERE journal_id = $1),"
          " (SELECT coalesce(max(tree_size), 0) FROM audit_checkpoints WHERE journal_id = $1)",
          journal)[0];
      if (row[0].as<long>() >= records && row[1].as<long>() >= covered) return;
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(50ms);
    }
  }
  RunResult verify(const std::vector<std::string>& extra,
                   const std::vector<std::string>& verifier_keys = {testAuditKey().verifier_key}) const {
    std::vector<std::string> args{"verify", "--database", s.db.url()};
    for (const auto& key : verifier_keys) {
      args.push_back("--verifier-key");
      args.push_back(key);
    }
    args.insert(args.end(), extra.begin(), extra.end());
    return runAudit(args);
  }
};

}  // namespace

TEST_CASE("audit verify --database: a journal fabricated without checkpoints fails") {
  Verified v;
  v.fetch(3);
  v.broker.reset();  // SIGTERM: a last checkpoint
  v.awaitShipped(v.origin(), 3, 3);
  REQUIRE(v.verify({}).exit_code == 0);

  // Whoever can write the table copies the journal's rows under a journal of their own,
  // consistently (lines and columns): no signing key vouches for them.
  v.s.db.exec(
      "INSERT INTO audit_events (journal_id, seq, line, occurred_at, customer_id, instance_id, proxy_key_id,"
      " connection_id, provider, name, capability, outcome, reason, request_id, peer)"
      " SELECT 'hydracore-broker/fabricated', seq, replace(line, journal_id, 'hydracore-broker/fabricated'),"
      " occurred_at, customer_id, instance_id, proxy_key_id, connection_id, provider, name, capability, outcome,"
      " reason, request_id, peer FROM audit_events WHERE journal_id = $1",
      v.origin());
  const auto r = v.verify({});
  CAPTURE(r.out);
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("journal hydracore-broker/fabricated has no checkpoint") != std::string::npos);
}

TEST_CASE("audit verify --database: an expected journal deleted, or short of its expected size, fails") {
  Verified v;
  v.fetch(3);
  // The stack's own broker keeps a second journal, which stays.
  REQUIRE(v.s.fetch(v.runtime, "provider=gmail").status == 200);
  std::string other;
  std::getline(std::ifstream(v.s.broker_env.at("HYDRA_AUDIT_DIR") + "/origin"), other);
  v.awaitShipped(v.origin(), 3, 3);
  v.awaitShipped(other, 1, 1);

  const auto present = v.verify({"--expect", v.origin() + ":3", "--expect", other});
  CAPTURE(present.out);
  CHECK(present.exit_code == 0);
  const auto short_of = v.verify({"--expect", v.origin() + ":4"});
  CHECK(short_of.exit_code == 1);
  CHECK(short_of.out.find("covers 3 records, expected at least 4") != std::string::npos);

  // A superuser removes the journal, checkpoints and all: the database alone cannot tell.
  v.broker.reset();
  v.s.db.exec("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete");
  v.s.db.exec("ALTER TABLE audit_checkpoints DISABLE TRIGGER audit_checkpoints_no_update_delete");
  v.s.db.exec("DELETE FROM audit_events WHERE journal_id = $1", v.origin());
  v.s.db.exec("DELETE FROM audit_checkpoints WHERE journal_id = $1", v.origin());
  CHECK(v.verify({}).exit_code == 0);
  const auto deleted = v.verify({"--expect", v.origin(), "--expect", other});
  CAPTURE(deleted.out);
  CHECK(deleted.exit_code == 1);
  CHECK(deleted.out.find("expected journal " + v.origin() + " is not in the database") != std::string::npos);
}

TEST_CASE("audit verify --database: rows without a journal, shown to customers, are reported and fail") {
  Verified v;
  v.fetch(2);
  v.broker.reset();
  v.awaitShipped(v.origin(), 2, 2);
  REQUIRE(v.verify({}).exit_code == 0);

  v.s.db.exec("INSERT INTO audit_events (customer_id, outcome, reason, request_id)"
              " VALUES ($1, 'allowed', 'granted', 'unjournaled-request')",
              v.t.id);
  eventFor(v.s.auditEvents(v.t), "unjournaled-request");  // the customer sees it
  const auto refused = v.verify({});
  CAPTURE(refused.out);
  CHECK(refused.exit_code == 1);
  CHECK(refused.out.find("1 rows have no journal") != std::string::npos);
  const auto allowed = v.verify({"--allow-unjournaled"});
  CAPTURE(allowed.out);
  CHECK(allowed.exit_code == 0);
  CHECK(allowed.out.find("1 rows have no journal") != std::string::npos);
}

TEST_CASE("audit verify --database: records older than --max-uncovered-seconds under no checkpoint fail") {
  Verified v(Environment{{"HYDRA_AUDIT_CHECKPOINT_SECONDS", "3600"}});
  v.fetch(2);
  v.restart();  // SIGTERM: a checkpoint of 2; the next ones stay uncovered for an hour
  v.fetch(2);
  v.awaitShipped(v.origin(), 4, 2);
  std::this_thread::sleep_for(2s);

  const auto old = v.verify({"--max-uncovered-seconds", "1"});
  CAPTURE(old.out);
  CHECK(old.exit_code == 1);
  CHECK(old.out.find("record 2 (") != std::string::npos);
  CHECK(old.out.find("not covered by any checkpoint") != std::string::npos);
  const auto recent = v.verify({"--max-uncovered-seconds", "600"});
  CAPTURE(recent.out);
  CHECK(recent.exit_code == 0);
  CHECK(recent.out.find("(2 not yet covered by a checkpoint)") != std::string::npos);
}

TEST_CASE("audit verify: after a signing key rotation, both verifier keys verify the journal, either alone fails") {
  Verified v;
  v.fetch(2);
  v.broker.reset();  // checkpoint of 2 under the first key
  TempDir work;
  const auto new_verifier = work.path("new-verifier.txt");
  REQUIRE(runBroker({"keygen", "--audit-key", work.path("new-signing.pem"), "--verifier-key", new_verifier}, {})
              .exit_code == 0);
  v.env["HYDRA_AUDIT_SIGNING_KEY"] = work.path("new-signing.pem");
  v.broker.emplace(v.env);
  v.fetch(2);
  v.broker.reset();  // checkpoint of 4 under the new key
  v.awaitShipped(v.origin(), 4, 4);

  const std::vector<std::string> both{testAuditKey().verifier_key, new_verifier};
  const auto journal = [&](const std::vector<std::string>& keys) {
    std::vector<std::string> args{"verify", "--journal", v.env.at("HYDRA_AUDIT_DIR")};
    for (const auto& key : keys) args.insert(args.end(), {"--verifier-key", key});
    return runAudit(args);
  };
  const auto database = v.verify({}, both);
  CAPTURE(database.out);
  CHECK(database.exit_code == 0);
  CHECK(database.out.find("4 records in sequence, 2 checkpoints verified") != std::string::npos);
  CHECK(journal(both).exit_code == 0);
  for (const auto& only : both) {
    CAPTURE(only);
    const auto one = v.verify({}, {only});
    CAPTURE(one.out);
    CHECK(one.exit_code == 1);
    CHECK(one.out.find("checkpoint #") != std::string::npos);
    CHECK(journal({only}).exit_code == 1);
  }
}

TEST_CASE("audit verify --database: records removed with their checkpoints fail against checkpoints saved earlier") {
  Verified v;
  v.fetch(2);
  v.restart();  // a checkpoint of 2
  v.fetch(2);
  v.broker.reset();  // a checkpoint of 4
  v.awaitShipped(v.origin(), 4, 4);
  TempDir work;
  std::filesystem::copy_file(v.env.at("HYDRA_AUDIT_DIR") + "/checkpoints.jsonl", work.path("saved.jsonl"));
  const auto saved = v.verify({"--checkpoints", work.path("saved.jsonl")});
  CAPTURE(saved.out);
  CHECK(saved.exit_code == 0);

  // A superuser cuts the trail back, checkpoints included: it still verifies as a shorter trail.
  v.s.db.exec("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete");
  v.s.db.exec("ALTER TABLE audit_checkpoints DISABLE TRIGGER audit_checkpoints_no_update_delete");
  v.s.db.exec("DELETE FROM audit_events WHERE journal_id = $1 AND seq >= 2", v.origin());
  v.s.db.exec("DELETE FROM audit_checkpoints WHERE journal_id = $1 AND tree_size > 2", v.origin());
  CHECK(v.verify({}).exit_code == 0);
  const auto cut = v.verify({"--checkpoints", work.path("saved.jsonl")});
  CAPTURE(cut.out);
  CHECK(cut.exit_code == 1);
  CHECK(cut.out.find("fewer than the saved checkpoint of 4") != std::string::npos);
}

TEST_CASE("audit verify --database: a proxied call's record verifies from its columns, a changed path or status fails") {
  Verified v;
  v.fetch(2);
  v.broker.reset();
  // A proxied call journaled through the broker's own Journal on the broker's folder and key
  // (the route records it the same way), between the fetches and the next start.
  {
    using namespace hydra::audit;
    using namespace hydra::broker::audit;
    JournalOptions options;
    options.dir = v.env.at("HYDRA_AUDIT_DIR");
    Journal journal(options, readSigningKey(testAuditKey().signing_key));
    AuditRecord r;
    r.customer_id = v.t.id;
    r.instance_id = v.runtime.instance_id;
    r.proxy_key_id = v.runtime.key_id;
    r.connection_id = v.connection;
    r.provider = "gmail";
    r.name = "inbox";
    r.capability = "send_mail";
    r.outcome = "allowed";
    r.reason = "proxied";
    r.request_id = "proxied-request";
    r.peer = "127.0.0.1";
    r.method = "POST";
    r.path = "/gmail/v1/users/me/messages/send";
    r.upstream_status = 200;
    r.request_bytes = 321;
    r.response_bytes = 45;
    r.duration_us = 6789;
    journal.appendAndWait(r);
  }  // a last checkpoint, covering it
  v.restart();
  v.fetch(1);
  v.broker.reset();
  v.awaitShipped(v.origin(), 4, 4);
  REQUIRE(v.s.db.exec("SELECT count(*) FROM audit_events WHERE method IS NOT NULL AND line IS NULL")[0][0].as<int>() ==
          1);
  const auto ok = v.verify({"--expect", v.origin() + ":4"});
  CAPTURE(ok.out);
  CHECK(ok.exit_code == 0);

  // The customer sees it with its fields, and a fetch with them null.
  const auto events = v.s.auditEvents(v.t);
  const auto& proxied = eventFor(events, "proxied-request");
  CHECK(text(proxied, "method") == "POST");
  CHECK(text(proxied, "path") == "/gmail/v1/users/me/messages/send");
  CHECK(member(proxied, "upstream_status").GetInt() == 200);
  CHECK(member(proxied, "request_bytes").GetInt64() == 321);
  CHECK(member(proxied, "response_bytes").GetInt64() == 45);
  CHECK(member(proxied, "duration_us").GetInt64() == 6789);
  for (const auto* event : items(member(events.json, "events"))) {
    if (text(*event, "request_id") == "proxied-request") continue;
    for (const char* key : {"method", "path", "upstream_status", "request_bytes", "response_bytes", "duration_us"}) {
      CAPTURE(key);
      CHECK(member(*event, key).IsNull());
    }
  }

  // Whoever can write the table makes the call look harmless: the rebuilt line is not the one
  // the signed checkpoint covers.
  v.s.db.exec("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete");
  for (const auto& [change, undo] : std::vector<std::pair<std::string, std::string>>{
           {"path = '/gmail/v1/users/me/messages'", "path = '/gmail/v1/users/me/messages/send'"},
           {"upstream_status = 403", "upstream_status = 200"},
           {"method = 'GET'", "method = 'POST'"},
           {"duration_us = NULL", "duration_us = 6789"}}) {
    CAPTURE(change);
    v.s.db.exec("UPDATE audit_events SET " + change + " WHERE request_id = 'proxied-request'");
    const auto changed = v.verify({});
    CAPTURE(changed.out);
    CHECK(changed.exit_code == 1);
    CHECK(changed.out.find("does not match the records") != std::string::npos);
    v.s.db.exec("UPDATE audit_events SET " + undo + " WHERE request_id = 'proxied-request'");
    CHECK(v.verify({}).exit_code == 0);
  }
  // A fetch's row given a proxy column is no longer its line either.
  v.s.db.exec("UPDATE audit_events SET method = 'GET' WHERE journal_id = $1 AND seq = 0", v.origin());
  CHECK(v.verify({}).exit_code == 1);
}
