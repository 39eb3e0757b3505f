// Retention of the audit trail (issue 21): `hydracore-control-plane audit-retention --older-than
// DAYS`, run as the schema owner, drops the weeks of audit_events that ended DAYS ago only when a
// signed checkpoint covers their records and matches them, records where verification now
// starts, and `hydracore-audit verify --database` passes from there. The records are a journal's
// spread over past weeks, shipped by the broker's own Shipment (which makes each week's
// partition) and covered by checkpoints signed with the test audit key. Last, `audit-index`,
// the other command the operator runs daily as the schema owner (schema/0027).
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "broker/audit/shipment.hpp"
#include "broker/audit/signing_key.hpp"
#include "broker/db/statements.hpp"
#include "shared/audit/merkle.hpp"
#include "shared/audit/note.hpp"
#include "shared/audit/record.hpp"
#include "tests/support/audit.hpp"
#include "tests/support/broker.hpp"
#include "tests/support/control_plane.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/pg.hpp"

using namespace hydra::test;
namespace audit = hydra::audit;
namespace shipping = hydra::broker::audit;

namespace {

constexpr std::int64_t kDayMicros = 86400LL * 1000000;

std::int64_t nowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// A broker's journal written into the past: records shipped as the broker ships them, and
/// checkpoints signed by the test audit key.
class PastJournal {
 public:
  explicit PastJournal(const TestDatabase& db)
      : db_(db), origin_("hydracore-broker/" + randomUuid()), broker_(db.urlAs("hydracore_broker")) {
    hydra::broker::db::prepareStatements(broker_);
  }

  const std::string& origin() const { return origin_; }

  /// Appends and ships one record `days_ago` days old.
  void record(int days_ago) {
    audit::AuditRecord r;
    r.customer_id = "11111111-1111-4111-8111-111111111111";
    r.outcome = "allowed";
    r.reason = "granted";
    r.request_id = "r-" + std::to_string(tree_.size());
    r.peer = "127.0.0.1";
    const auto line = audit::journalLine(tree_.size(), origin_, audit::formatMicros(nowMicros() - days_ago * kDayMicros), r);
    tree_.append(hasher_.leaf(line));
    shipping::Shipment batch(origin_);
    REQUIRE(batch.add(line, last_uses_));
    partitions_.make(broker_, batch.weeks());
    batch.send(broker_);
  }

  /// Signs a checkpoint of every record so far and ships it.
  void checkpoint() {
    const auto key = shipping::readSigningKey(testAuditKey().signing_key);
    const auto note = audit::signNote(audit::checkpointText({origin_, tree_.size(), tree_.root()}), origin_, *key);
    pqxx::nontransaction(broker_).exec_prepared("audit_checkpoint_ship", origin_, tree_.size(), note);
  }

 private:
  const TestDatabase& db_;
  std::string origin_;
  pqxx::connection broker_;
  audit::CompactTree tree_;
  audit::Hasher hasher_;
  shipping::LastUses last_uses_;
  shipping::Partitions partitions_;
};

RunResult retention(const TestDatabase& db, int days, const std::string& role = "") {
  Environment env{{"HYDRA_DATABASE_URL", role.empty() ? db.url() : db.urlAs(role)}};
  return runControlPlane({"audit-retention", "--older-than", std::to_string(days)}, env);
}

RunResult verify(const TestDatabase& db) {
  return runAudit({"verify", "--database", db.url(), "--verifier-key", testAuditKey().verifier_key});
}

long count(const TestDatabase& db, const std::string& sql) { return db.exec(sql)[0][0].as<long>(); }

long partitions(const TestDatabase& db) {
  return count(db, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'audit_events'::regclass");
}

/// Records 0-2 forty days ago, 3-5 twenty-five days ago, 6-8 yesterday: three weeks.
void threeWeeks(PastJournal& journal) {
  for (const int days_ago : {40, 40, 40, 25, 25, 25, 1, 1, 1}) journal.record(days_ago);
}

}  // namespace

TEST_CASE("audit retention: drops the weeks that ended DAYS ago, and verification starts where they end") {
  const TestDatabase db;
  PastJournal journal(db);
  threeWeeks(journal);
  journal.checkpoint();  // covers all nine
  const auto weeks_before = partitions(db);

  // Nothing ended 60 days ago.
  const auto nothing = retention(db, 60);
  CAPTURE(nothing.out);
  CHECK(nothing.exit_code == 0);
  CHECK(nothing.out.find("nothing to drop") != std::string::npos);
  CHECK(partitions(db) == weeks_before);

  // The week of forty days ago ended at least 33 days ago; that of 25 days ago less than 30.
  const auto first = retention(db, 30);
  CAPTURE(first.out);
  CAPTURE(first.err);
  REQUIRE(first.exit_code == 0);
  CHECK(first.out.find("verification starts at tree size 3") != std::string::npos);
  CHECK(partitions(db) == weeks_before - 1);
  CHECK(count(db, "SELECT count(*) FROM audit_events") == 6);
  const auto record = db.exec("SELECT journal_id, tree_size, covering_tree_size, retained_by, cardinality(partitions)"
                              " FROM audit_retention");
  REQUIRE(record.size() == 1);
  CHECK(std::string(record[0][0].c_str()) == journal.origin());
  CHECK(record[0][1].as<int>() == 3);
  CHECK(record[0][2].as<int>() == 9);
  CHECK(std::string(record[0][3].c_str()) == "postgres");
  CHECK(record[0][4].as<int>() == 1);
  const auto after_first = verify(db);
  CAPTURE(after_first.out);
  CHECK(after_first.exit_code == 0);
  CHECK(after_first.out.find("starts at tree size 3") != std::string::npos);

  // A second run goes on from the first one's frontier.
  const auto second = retention(db, 14);
  CAPTURE(second.out);
  REQUIRE(second.exit_code == 0);
  CHECK(second.out.find("verification starts at tree size 6") != std::string::npos);
  CHECK(count(db, "SELECT count(*) FROM audit_events") == 3);
  const auto after_second = verify(db);
  CAPTURE(after_second.out);
  CHECK(after_second.exit_code == 0);
  CHECK(after_second.out.find("starts at tree size 6") != std::string::npos);

  // The broker would start shipping this journal after what was dropped, never at 0 again.
  pqxx::connection broker(db.urlAs("hydracore_broker"));
  hydra::broker::db::prepareStatements(broker);
  CHECK(pqxx::nontransaction(broker).exec_prepared1("audit_shipped_position", journal.origin())[0].as<int>() == 9);
}

TEST_CASE("audit retention: refused, with nothing dropped, until a signed checkpoint covers the records") {
  const TestDatabase db;
  PastJournal journal(db);
  for (const int days_ago : {40, 40}) journal.record(days_ago);
  journal.checkpoint();  // covers records 0 and 1 only
  journal.record(40);
  journal.record(1);
  const auto weeks_before = partitions(db);
  const auto refused = retention(db, 30);
  CAPTURE(refused.out);
  CHECK(refused.exit_code == 1);
  CHECK(refused.out.find("no signed checkpoint covers its record 2") != std::string::npos);
  CHECK(partitions(db) == weeks_before);
  CHECK(count(db, "SELECT count(*) FROM audit_events") == 4);
  CHECK(count(db, "SELECT count(*) FROM audit_retention") == 0);

  journal.checkpoint();
  const auto dropped = retention(db, 30);
  CAPTURE(dropped.out);
  CHECK(dropped.exit_code == 0);
  CHECK(count(db, "SELECT count(*) FROM audit_events") == 1);
  CHECK(verify(db).exit_code == 0);
}

TEST_CASE("audit retention: records that no longer match their checkpoint are not dropped") {
  const TestDatabase db;
  PastJournal journal(db);
  threeWeeks(journal);
  journal.checkpoint();
  // The superuser bypasses the append-only trigger to change a record of the oldest week.
  db.exec("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete");
  db.exec("UPDATE audit_events SET reason = 'nothing happened' WHERE seq = 1");
  db.exec("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_delete");
  const auto weeks_before = partitions(db);
  const auto refused = retention(db, 30);
  CAPTURE(refused.out);
  CHECK(refused.exit_code == 1);
  CHECK(refused.out.find("do not match its checkpoint of 9 records") != std::string::npos);
  CHECK(partitions(db) == weeks_before);
}

TEST_CASE("audit retention: a made-up retention record fails verification, and the service roles cannot drop weeks") {
  const TestDatabase db;
  PastJournal journal(db);
  threeWeeks(journal);
  journal.checkpoint();
  for (const auto* role : {"hydracore_control_plane", "hydracore_broker"}) {
    CAPTURE(role);
    const auto refused = retention(db, 14, role);
    CHECK(refused.exit_code != 0);
    CHECK(count(db, "SELECT count(*) FROM audit_events") == 9);
  }
  REQUIRE(retention(db, 30).exit_code == 0);
  REQUIRE(verify(db).exit_code == 0);
  // Whoever owns the schema claims records 0..5 were dropped, with a frontier of its own.
  db.exec("INSERT INTO audit_retention (journal_id, tree_size, frontier, covering_tree_size, dropped_before, partitions)"
          " VALUES ($1, 6, ARRAY[$2, $3], 9, now(), '{}')",
          journal.origin(), std::string(43, 'A') + "=", std::string(43, 'B') + "=");
  const auto forged = verify(db);
  CAPTURE(forged.out);
  CHECK(forged.exit_code == 1);
  CHECK(forged.out.find("record 3 is still there, before tree size 6") != std::string::npos);
}

TEST_CASE("audit retention: --older-than is required and a whole number of days, --dry-run drops nothing") {
  const TestDatabase db;
  Environment env{{"HYDRA_DATABASE_URL", db.url()}};
  CHECK(runControlPlane({"audit-retention"}, env).exit_code == 2);
  for (const auto* bad : {"", "x", "-1", "7.5", "36501"}) {
    CAPTURE(bad);
    const auto refused = runControlPlane({"audit-retention", "--older-than", bad}, env);
    CHECK(refused.exit_code == 2);
    CHECK(refused.err.find("--older-than") != std::string::npos);
  }
  PastJournal journal(db);
  threeWeeks(journal);
  journal.checkpoint();
  const auto weeks_before = partitions(db);
  const auto dry = runControlPlane({"audit-retention", "--older-than", "30", "--dry-run"}, env);
  CAPTURE(dry.out);
  CHECK(dry.exit_code == 0);
  CHECK(dry.out.find("would drop") != std::string::npos);
  CHECK(partitions(db) == weeks_before);
  CHECK(count(db, "SELECT count(*) FROM audit_retention") == 0);
}

namespace {

RunResult indexWeeks(const TestDatabase& db, const std::string& role = "") {
  Environment env{{"HYDRA_DATABASE_URL", role.empty() ? db.url() : db.urlAs(role)}};
  return runControlPlane({"audit-index"}, env);
}

// Weeks of audit_events whose connection or instance index is not as schema/0027 wants it:
// present and valid on each week that has ended, absent from the others.
long misindexedWeeks(const TestDatabase& db) {
  return count(db,
               "SELECT count(*) FROM audit_events_weeks() w CROSS JOIN (VALUES ('connection'), ('instance')) k(kind)"
               " WHERE (w.until <= now()) IS DISTINCT FROM coalesce((SELECT x.indisvalid FROM pg_index x"
               "   WHERE x.indexrelid = to_regclass(w.partition_name || '_' || k.kind || '_idx')), false)");
}

long endedWeeks(const TestDatabase& db) {
  return count(db, "SELECT count(*) FROM audit_events_weeks() WHERE until <= now()");
}

}  // namespace

TEST_CASE("audit-index: builds the connection and instance indexes of each week that has ended, once, and of no other") {
  const TestDatabase db;
  PastJournal journal(db);
  threeWeeks(journal);
  journal.record(0);  // the week being written
  REQUIRE(endedWeeks(db) >= 2);  // forty and twenty-five days ago (yesterday: last week or this)
  CHECK(misindexedWeeks(db) == endedWeeks(db) * 2);

  for (const auto* role : {"hydracore_control_plane", "hydracore_broker"}) {
    CAPTURE(role);
    CHECK(indexWeeks(db, role).exit_code == 1);
  }
  const auto indexed = indexWeeks(db);
  CAPTURE(indexed.out);
  CAPTURE(indexed.err);
  CHECK(indexed.exit_code == 0);
  CHECK(indexed.out.find("CREATE INDEX CONCURRENTLY") != std::string::npos);
  CHECK(misindexedWeeks(db) == 0);
  const auto again = indexWeeks(db);
  CHECK(again.exit_code == 0);
  CHECK(again.out.find("nothing to index") != std::string::npos);

  // A build CONCURRENTLY that failed midway leaves its index invalid: the next run builds it again.
  const auto week = db.exec("SELECT partition_name FROM audit_events_weeks() WHERE until <= now() LIMIT 1")[0][0]
                        .as<std::string>();
  db.exec("UPDATE pg_index SET indisvalid = false WHERE indexrelid = to_regclass($1)", week + "_connection_idx");
  CHECK(misindexedWeeks(db) == 1);
  const auto rebuilt = indexWeeks(db);
  CAPTURE(rebuilt.out);
  CHECK(rebuilt.exit_code == 0);
  CHECK(rebuilt.out.find("DROP INDEX CONCURRENTLY " + week + "_connection_idx") != std::string::npos);
  CHECK(misindexedWeeks(db) == 0);
  journal.checkpoint();
  CHECK(verify(db).exit_code == 0);
}
