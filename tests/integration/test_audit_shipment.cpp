// Shipping audit records (issue 21, ingest): the broker's own Shipment (COPY) and prepared
// statements, run as hydracore_broker on a migrated database. The columns are stored typed and
// the line only where they cannot rebuild it; the rebuilt line is the journal's bytes exactly,
// whatever the fields hold; records PostgreSQL holds are refused, not stored twice;
// last_used_at moves to the minute, without firing the change notification.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "broker/audit/shipment.hpp"
#include "broker/db/statements.hpp"
#include "shared/audit/record.hpp"
#include "shared/audit/stored_record.hpp"
#include "tests/support/pg.hpp"

using namespace hydra::test;
using namespace hydra::audit;
using namespace hydra::broker::audit;

namespace {

const std::string kOrigin = "hydracore-broker/7f1c2a4e-0000-4000-8000-000000000001";
const std::string kCustomer = "11111111-1111-4111-8111-111111111111";
const std::string kConnection = "33333333-3333-4333-8333-333333333333";

void seed(const TestDatabase& db) {
  db.exec("INSERT INTO customers (id, name) VALUES ($1, 'acme')", kCustomer);
  db.exec("INSERT INTO connections (id, customer_id, provider, name, auth_type) VALUES ($1, $2, 'gmail', 'inbox', 'api_key')",
          kConnection, kCustomer);
}

AuditRecord allowed(const std::string& request_id) {
  AuditRecord r;
  r.customer_id = kCustomer;
  r.connection_id = kConnection;
  r.provider = "gmail";
  r.name = "inbox";
  r.capability = "send_mail";
  r.outcome = "allowed";
  r.reason = "granted";
  r.request_id = request_id;
  r.peer = "127.0.0.1";
  return r;
}

struct Broker {
  pqxx::connection connection;
  LastUses last_uses;
  Partitions partitions;
  explicit Broker(const TestDatabase& db) : connection(db.urlAs("hydracore_broker")) {
    hydra::broker::db::prepareStatements(connection);
  }
  void ship(const std::vector<std::string>& lines) {
    Shipment batch(kOrigin);
    for (const auto& line : lines) REQUIRE(batch.add(line, last_uses));
    partitions.make(connection, batch.weeks());
    batch.send(connection);
    last_uses.told(batch.uses());
  }
};

/// Each stored row's line as `hydracore-audit verify --database` reads it: the stored one, or the one
/// its columns rebuild.
std::vector<std::string> storedLines(const TestDatabase& db) {
  std::vector<std::string> lines;
  for (const auto& row : db.exec(std::string("SELECT ") + kStoredRecordColumns +
                                 " FROM audit_events WHERE journal_id = $1 ORDER BY seq",
                                 kOrigin)) {
    lines.push_back(hashedLine(readStoredRecord(row), kOrigin).value_or("(neither line nor columns)"));
  }
  return lines;
}

/// A proxied call (issue 19) the provider answered.
AuditRecord proxied(const std::string& request_id) {
  auto r = allowed(request_id);
  r.reason = "proxied";
  r.method = "POST";
  r.path = "/gmail/v1/users/me/messages/send";
  r.upstream_status = 202;
  r.request_bytes = 5'000'000'000;  // past 32 bits: the columns are bigint
  r.response_bytes = 0;
  r.duration_us = 81'234;
  return r;
}

}  // namespace

TEST_CASE("audit shipment: columns only, the exact line rebuilt from them whatever the fields hold") {
  TestDatabase db;
  seed(db);
  Broker broker(db);
  auto odd = allowed(R"(q"u\o,te{}NULL )");
  odd.reason = "NULL";
  odd.name = "in\"box\\\n\t\u00e9\u2603";
  odd.capability = std::nullopt;
  auto denied = allowed("r-2");
  denied.outcome = "denied";
  denied.connection_id = std::nullopt;
  denied.customer_id = std::nullopt;
  const std::vector<std::string> lines = {
      journalLine(0, kOrigin, "2026-12-06T04:00:00.000001Z", allowed("r-0")),
      journalLine(1, kOrigin, "1999-12-31T23:59:59.999999Z", odd),
      journalLine(2, kOrigin, "2026-12-06T04:00:00.120000Z", denied),
  };
  broker.ship(lines);
  CHECK(db.exec("SELECT count(*) FROM audit_events WHERE journal_id = $1 AND line IS NULL", kOrigin)[0][0].as<int>() == 3);
  CHECK(db.exec("SELECT name FROM audit_events WHERE seq = 1")[0][0].as<std::string>() == *odd.name);
  CHECK(db.exec("SELECT reason FROM audit_events WHERE seq = 1")[0][0].as<std::string>() == "NULL");
  CHECK(db.exec("SELECT capability IS NULL FROM audit_events WHERE seq = 1")[0][0].as<bool>());
  CHECK(storedLines(db) == lines);
}

TEST_CASE("audit shipment: a line the columns cannot rebuild is stored as it is") {
  TestDatabase db;
  seed(db);
  Broker broker(db);
  // An earlier broker wrote what a client sent as it was: an escaped NUL reads back as U+FFFD,
  // so the columns no longer give these bytes. And a line naming another origin.
  auto earlier = journalLine(0, kOrigin, "2026-12-06T04:00:00.000001Z", allowed("r-0"));
  earlier.replace(earlier.find("127.0.0.1"), 9, "\\u0000x");
  const auto foreign = journalLine(1, "hydracore-broker/elsewhere", "2026-12-06T04:00:01.000001Z", allowed("r-1"));
  broker.ship({earlier, foreign});
  const auto rows = db.exec("SELECT line, peer FROM audit_events WHERE journal_id = $1 ORDER BY seq", kOrigin);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0][0].as<std::string>() == earlier);
  CHECK(rows[0][1].as<std::string>() == "\xEF\xBF\xBDx");
  CHECK(rows[1][0].as<std::string>() == foreign);
  CHECK(storedLines(db) == std::vector<std::string>{earlier, foreign});
  // Raw invalid UTF-8 cannot be stored at all: PostgreSQL refuses it for its content (the
  // shipper's ALARM), as it did when it parsed the JSON itself.
  auto invalid = journalLine(2, kOrigin, "2026-12-06T04:00:02.000001Z", allowed("r-2"));
  invalid.replace(invalid.find("127.0.0.1"), 9, "\xff\xfe garbage");
  std::string state;
  try {
    broker.ship({invalid});
  } catch (const pqxx::sql_error& e) {
    state = e.sqlstate();
  }
  CHECK(state.rfind("22", 0) == 0);
}

TEST_CASE("audit shipment: records PostgreSQL holds are refused whole, and shipping goes on from where its records stop") {
  TestDatabase db;
  seed(db);
  Broker broker(db);
  std::vector<std::string> lines;
  for (int i = 0; i < 5; ++i) {
    lines.push_back(journalLine(i, kOrigin, "2026-12-06T04:00:0" + std::to_string(i) + ".000000Z",
                                allowed("r-" + std::to_string(i))));
  }
  // Another session (a broker's statement PostgreSQL finished after the broker gave up on it)
  // shipped the first three; this one, started before, ships them again with the rest.
  broker.ship({lines.begin(), lines.begin() + 3});
  const auto before = db.exec("SELECT id, seq FROM audit_events ORDER BY id");
  Broker late(db);
  CHECK_THROWS_AS(late.ship(lines), pqxx::unique_violation);
  CHECK(db.exec("SELECT id, seq FROM audit_events ORDER BY id") == before);
  // The shipper then starts a new session, which starts where PostgreSQL's records stop.
  Broker next(db);
  const auto position = pqxx::nontransaction(next.connection).exec_prepared1("audit_shipped_position", kOrigin);
  REQUIRE(position[0].as<int>() == 3);
  next.ship({lines.begin() + 3, lines.end()});
  CHECK(db.exec("SELECT count(*), count(DISTINCT seq) FROM audit_events")[0][0].as<int>() == 5);
  CHECK(storedLines(db) == lines);
}

TEST_CASE("audit shipment: a record of a week without a partition gets its week's, and the next week's, made ahead") {
  TestDatabase db;
  seed(db);
  Broker broker(db);
  // Sunday night and Monday morning (UTC) of a week years ahead: two weeks, two partitions.
  const std::vector<std::string> lines{
      journalLine(0, kOrigin, "2031-03-09T23:59:59.999999Z", allowed("sunday")),
      journalLine(1, kOrigin, "2031-03-10T00:00:00.000000Z", allowed("monday"))};
  broker.ship(lines);
  const auto where = db.exec("SELECT request_id, tableoid::regclass::text FROM audit_events ORDER BY seq");
  REQUIRE(where.size() == 2);
  CHECK(std::string(where[0][1].c_str()) == "audit_events_20310303");
  CHECK(std::string(where[1][1].c_str()) == "audit_events_20310310");
  CHECK(db.exec("SELECT to_regclass('audit_events_20310317') IS NOT NULL")[0][0].as<bool>());  // ahead
  CHECK(storedLines(db) == lines);
  // Every partition is append-only, also when named directly, and the superuser's too.
  for (const auto* sql : {"DELETE FROM audit_events_20310303", "UPDATE audit_events_20310310 SET reason = 'x'",
                          "TRUNCATE audit_events_20310303"}) {
    CAPTURE(sql);
    CHECK_THROWS_AS(db.exec(sql), pqxx::insufficient_privilege);
  }
  CHECK(db.exec("SELECT count(*) FROM audit_events")[0][0].as<int>() == 2);
}

TEST_CASE("audit shipment: the week a record falls in starts on Monday 00:00 UTC, before 1970 too") {
  const auto micros = [](const std::string& time) { return *parseMicros(time); };
  CHECK(formatMicros(Partitions::weekOf(micros("2026-12-06T23:59:59.999999Z"))) == "2026-11-30T00:00:00.000000Z");
  CHECK(formatMicros(Partitions::weekOf(micros("2026-12-07T00:00:00.000000Z"))) == "2026-12-07T00:00:00.000000Z");
  CHECK(formatMicros(Partitions::weekOf(micros("1970-01-01T00:00:00.000000Z"))) == "1969-12-29T00:00:00.000000Z");
  CHECK(formatMicros(Partitions::weekOf(micros("1969-12-29T00:00:00.000000Z"))) == "1969-12-29T00:00:00.000000Z");
}

TEST_CASE("audit shipment: last_used_at is correct to the minute without a row update per release") {
  TestDatabase db;
  seed(db);
  Broker broker(db);
  const auto last_used = [&] {
    return db.exec("SELECT to_char(last_used_at AT TIME ZONE 'UTC', 'HH24:MI:SS.US') FROM connections WHERE id = $1",
                   kConnection)[0][0].as<std::string>();
  };
  const auto row_version = [&] {
    return std::string(db.exec("SELECT xmin::text FROM connections WHERE id = $1", kConnection)[0][0].c_str());
  };
  auto line = [](int seq, const std::string& time, const std::string& outcome) {
    auto r = allowed("r-" + std::to_string(seq));
    r.outcome = outcome;
    return journalLine(seq, kOrigin, "2026-12-06T" + time + "Z", r);
  };
  // A refusal is no use.
  broker.ship({line(0, "04:00:00.000000", "denied")});
  CHECK(db.exec("SELECT last_used_at IS NULL FROM connections WHERE id = $1", kConnection)[0][0].as<bool>());
  // The first use is exact; the latest of a batch counts.
  broker.ship({line(1, "04:00:00.000000", "allowed"), line(2, "04:00:05.250000", "allowed")});
  CHECK(last_used() == std::string("04:00:05.250000"));
  // Uses within the step leave the row alone (no new row version, no trigger)...
  const auto version = row_version();
  broker.ship({line(3, "04:00:20.000000", "allowed")});
  broker.ship({line(4, "04:00:35.000000", "allowed")});
  CHECK(row_version() == version);
  CHECK(last_used() == std::string("04:00:05.250000"));
  // ... one a step after the last told moves it; last_used_at is never a minute behind a use.
  broker.ship({line(5, "04:00:36.000000", "allowed")});
  CHECK(last_used() == std::string("04:00:36.000000"));
  // A second broker (nothing told yet) tells PostgreSQL, which moves the row only past the step.
  Broker other(db);
  other.ship({line(6, "04:00:50.000000", "allowed")});
  CHECK(last_used() == std::string("04:00:36.000000"));
  // It told 04:00:50: a use within its step is not sent (04:00:36 is 31 s behind it)...
  other.ship({line(7, "04:01:07.000000", "allowed")});
  CHECK(last_used() == std::string("04:00:36.000000"));
  // ... one past its step is.
  other.ship({line(8, "04:01:21.000000", "allowed")});
  CHECK(last_used() == std::string("04:01:21.000000"));
}

TEST_CASE("audit shipment: a proxied call's fields are stored typed, and its exact line rebuilt from them") {
  TestDatabase db;
  seed(db);
  Broker broker(db);
  auto refused = proxied("r-1");
  refused.outcome = "denied";
  refused.capability = std::nullopt;
  refused.reason = "Path refused: an encoded '/'";
  refused.path = std::nullopt;
  refused.upstream_status = std::nullopt;
  refused.request_bytes = std::nullopt;
  refused.response_bytes = std::nullopt;
  refused.duration_us = std::nullopt;
  auto odd = proxied("r-2");
  odd.method = "DELETE";
  odd.path = "/gmail/v1/users/me/labels/{\"x\"},NULL\u00e9";
  odd.upstream_status = 599;
  const std::vector<std::string> lines = {
      journalLine(0, kOrigin, "2026-12-06T04:00:00.000001Z", proxied("r-0")),
      journalLine(1, kOrigin, "2026-12-06T04:00:00.000002Z", refused),
      journalLine(2, kOrigin, "2026-12-06T04:00:00.000003Z", odd),
      journalLine(3, kOrigin, "2026-12-06T04:00:00.000004Z", allowed("r-3")),  // a fetch, in the same batch
  };
  broker.ship(lines);
  const auto rows = db.exec(
      "SELECT method, path, upstream_status, request_bytes, response_bytes, duration_us, line IS NULL,"
      " pg_typeof(upstream_status)::text, pg_typeof(request_bytes)::text FROM audit_events ORDER BY seq");
  REQUIRE(rows.size() == 4);
  CHECK(rows[0][0].as<std::string>() == "POST");
  CHECK(rows[0][1].as<std::string>() == "/gmail/v1/users/me/messages/send");
  CHECK(rows[0][2].as<int>() == 202);
  CHECK(rows[0][3].as<std::int64_t>() == 5'000'000'000);
  CHECK(rows[0][4].as<std::int64_t>() == 0);
  CHECK(rows[0][5].as<std::int64_t>() == 81'234);
  CHECK(rows[0][7].as<std::string>() == "integer");
  CHECK(rows[0][8].as<std::string>() == "bigint");
  CHECK(rows[1][0].as<std::string>() == "POST");
  for (int column = 1; column <= 5; ++column) CHECK(rows[1][column].is_null());
  CHECK(rows[2][1].as<std::string>() == *odd.path);
  for (int column = 0; column <= 5; ++column) CHECK(rows[3][column].is_null());  // the fetch
  for (const auto& row : rows) CHECK(row[6].as<bool>());                       // columns only
  CHECK(storedLines(db) == lines);
}

TEST_CASE("audit shipment: PostgreSQL refuses a proxied call's columns in another shape than the line's") {
  TestDatabase db;
  seed(db);
  pqxx::connection connection(db.urlAs("hydracore_broker"));
  const auto insert = [&](const std::string& columns, const std::string& values) {
    pqxx::nontransaction tx(connection);
    try {
      tx.exec("INSERT INTO audit_events (outcome, reason, request_id, peer, " + columns +
              ") VALUES ('allowed', 'proxied', 'r', 'p', " + values + ")");
      return std::string("ok");
    } catch (const pqxx::check_violation&) {
      return std::string("check");
    }
  };
  CHECK(insert("method, path, upstream_status, request_bytes, response_bytes, duration_us",
               "'GET', '/x', 200, 0, 9223372036854775807, 0") == "ok");
  CHECK(insert("method, upstream_status", "'GET', 100") == "ok");
  CHECK(insert("method, upstream_status", "'GET', 599") == "ok");
  CHECK(insert("path", "'/x'") == "check");  // the other fields only with a method
  CHECK(insert("upstream_status", "200") == "check");
  CHECK(insert("duration_us", "1") == "check");
  CHECK(insert("method, upstream_status", "'GET', 99") == "check");
  CHECK(insert("method, upstream_status", "'GET', 600") == "check");
  CHECK(insert("method, request_bytes", "'GET', -1") == "check");
  CHECK(insert("method, response_bytes", "'GET', -1") == "check");
  CHECK(insert("method, duration_us", "'GET', -1") == "check");
}
