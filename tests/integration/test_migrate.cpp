// `hydracore-control-plane migrate` against real PostgreSQL databases: a fresh one, a second
// run, and two migrations racing (two processes, and db::migrate from two threads).
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <future>
#include <memory>
#include <regex>
#include <set>

#include "shared/db/migrate.hpp"
#include "tests/support/control_plane.hpp"
#include "tests/support/pg.hpp"

namespace {

using namespace hydra::test;
using namespace std::chrono_literals;

/// The migrations the binary must apply: every file of schema/, by name.
std::vector<std::string> schemaFiles() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(HYDRA_SCHEMA_DIR)) {
    if (entry.path().extension() == ".sql") names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::set<std::string> publicTables(const TestDatabase& db) {
  std::set<std::string> names;
  // A partition (of audit_events, a week's: schema/0022) is not a table of its own.
  for (const auto& row : db.exec("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                                 "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition")) {
    names.insert(row[0].c_str());
  }
  return names;
}

/// schema_migrations as "name applied_at" lines, in name order.
std::vector<std::string> recorded(const TestDatabase& db) {
  std::vector<std::string> rows;
  for (const auto& row : db.exec("SELECT name, applied_at::text FROM schema_migrations ORDER BY name")) {
    rows.push_back(std::string(row[0].c_str()) + " " + row[1].c_str());
  }
  return rows;
}

std::vector<std::string> recordedNames(const TestDatabase& db) {
  std::vector<std::string> names;
  for (const auto& row : db.exec("SELECT name FROM schema_migrations ORDER BY name")) names.push_back(row[0].c_str());
  return names;
}

/// The count from the binary's "migrations applied: N" log line, or -1.
int appliedCount(const std::string& log) {
  static const std::regex line(R"(migrations applied: (\d+))");
  std::smatch match;
  return std::regex_search(log, match, line) ? std::stoi(match[1].str()) : -1;
}

Environment migrateEnv(const TestDatabase& db) { return {{"HYDRA_DATABASE_URL", db.url()}}; }

/// Every table the schema files create, plus the migrations' own bookkeeping table.
std::set<std::string> schemaTables() {
  static const std::regex create_table(R"(CREATE TABLE (?:IF NOT EXISTS )?(\w+))", std::regex::icase);
  std::set<std::string> names{"schema_migrations"};
  for (const auto& file : schemaFiles()) {
    std::ifstream in(std::filesystem::path(HYDRA_SCHEMA_DIR) / file);
    const std::string sql((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (std::sregex_iterator it(sql.begin(), sql.end(), create_table), end; it != end; ++it) names.insert((*it)[1]);
  }
  return names;
}

/// The tables the issue asks for, whatever else later migrations add.
const std::set<std::string> kIssueTables{"customers", "api_keys", "instances", "connections", "connection_secrets",
                                         "grants"};

}  // namespace

TEST_CASE("migrate on an empty database creates every table and records every migration once") {
  TestDatabase db(TestDatabase::Schema::Empty);
  REQUIRE(publicTables(db).empty());

  const auto run = runControlPlane({"migrate"}, migrateEnv(db));
  INFO("stderr: " << run.err);
  REQUIRE(run.exit_code == 0);
  const auto tables = publicTables(db);
  CHECK(tables == schemaTables());
  for (const auto& table : kIssueTables) CHECK(tables.count(table) == 1);
  CHECK(recordedNames(db) == schemaFiles());
  CHECK(appliedCount(run.err) == static_cast<int>(schemaFiles().size()));
}

TEST_CASE("running migrate a second time applies nothing") {
  TestDatabase db(TestDatabase::Schema::Empty);
  REQUIRE(runControlPlane({"migrate"}, migrateEnv(db)).exit_code == 0);
  const auto before = recorded(db);
  REQUIRE(before.size() == schemaFiles().size());

  const auto again = runControlPlane({"migrate"}, migrateEnv(db));
  INFO("stderr: " << again.err);
  CHECK(again.exit_code == 0);
  CHECK(appliedCount(again.err) == 0);
  CHECK(recorded(db) == before);  // same rows, same applied_at: nothing re-ran
  CHECK(publicTables(db) == schemaTables());
}

TEST_CASE("the template the other tests clone is fully migrated") {
  TestDatabase db;  // from hydra_template
  const auto run = runControlPlane({"migrate"}, migrateEnv(db));
  INFO("stderr: " << run.err);
  CHECK(run.exit_code == 0);
  CHECK(appliedCount(run.err) == 0);
  CHECK(recordedNames(db) == schemaFiles());
}

TEST_CASE("two migrate processes started at once both succeed and apply each migration once") {
  const auto expected = schemaFiles();
  // A few rounds, each on a fresh database, to give the race several chances to show.
  for (int round = 0; round < 3; ++round) {
    CAPTURE(round);
    TestDatabase db(TestDatabase::Schema::Empty);
    ChildProcess first({"migrate"}, migrateEnv(db));
    ChildProcess second({"migrate"}, migrateEnv(db));
    const auto first_code = first.wait(30s);
    const auto second_code = second.wait(30s);
    INFO("first stderr: " << first.err());
    INFO("second stderr: " << second.err());
    REQUIRE(first_code.has_value());
    REQUIRE(second_code.has_value());
    CHECK(*first_code == 0);
    CHECK(*second_code == 0);
    CHECK(appliedCount(first.err()) + appliedCount(second.err()) == static_cast<int>(expected.size()));
    CHECK(db.exec("SELECT count(*) FROM schema_migrations")[0][0].as<int>() == static_cast<int>(expected.size()));
    CHECK(recordedNames(db) == expected);
    CHECK(publicTables(db) == schemaTables());
  }
}

TEST_CASE("db::migrate from two threads with their own connections applies each migration once") {
  TestDatabase db(TestDatabase::Schema::Empty);
  auto run = [&] { return hydra::db::migrate(db.url()); };
  auto first = std::async(std::launch::async, run);
  auto second = std::async(std::launch::async, run);
  const int applied = first.get() + second.get();  // get() rethrows a failure
  CHECK(applied == static_cast<int>(schemaFiles().size()));
  CHECK(recordedNames(db) == schemaFiles());
  CHECK(hydra::db::migrate(db.url()) == 0);
}

TEST_CASE("the migrated schema refuses a grant joining two customers' objects") {
  TestDatabase db;
  const auto customer = [&](const char* name) {
    return std::string(db.exec("INSERT INTO customers (name) VALUES ($1) RETURNING id", name)[0][0].c_str());
  };
  const auto a = customer("a");
  const auto b = customer("b");
  const auto connection = std::string(db.exec("INSERT INTO connections (customer_id, provider, name, auth_type) "
                                              "VALUES ($1, 'gmail', 'x', 'oauth2') RETURNING id",
                                              a)[0][0]
                                          .c_str());
  const auto instance_b =
      std::string(db.exec("INSERT INTO instances (customer_id, name) VALUES ($1, 'rt') RETURNING id", b)[0][0].c_str());
  // Whichever customer the row claims, one of the two composite foreign keys fails.
  for (const auto& claimed : {a, b}) {
    CHECK_THROWS_AS(db.exec("INSERT INTO grants (customer_id, connection_id, instance_id) VALUES ($1, $2, $3)", claimed,
                            connection, instance_b),
                    pqxx::foreign_key_violation);
  }
  CHECK_THROWS_AS(db.exec("INSERT INTO connections (customer_id, provider, name, auth_type) "
                          "VALUES ($1, 'gmail', 'x', 'oauth2')",
                          a),
                  pqxx::unique_violation);
}

TEST_CASE("a change to any column of connections but last_used_at notifies the brokers, and last_used_at alone does not") {
  TestDatabase db;
  // schema/0024 lists the columns by name: every one but last_used_at, a column added later too.
  const auto listed = db.exec(
      "SELECT coalesce(string_agg(a.attname, ',' ORDER BY a.attname), '') FROM pg_trigger t"
      " CROSS JOIN unnest(t.tgattr::int2[]) AS k(attnum)"
      " JOIN pg_attribute a ON a.attrelid = t.tgrelid AND a.attnum = k.attnum"
      " WHERE t.tgrelid = 'connections'::regclass AND t.tgname = 'connections_notify_update'")[0][0];
  const auto columns = db.exec(
      "SELECT string_agg(attname, ',' ORDER BY attname) FROM pg_attribute WHERE attrelid = 'connections'::regclass"
      " AND attnum > 0 AND NOT attisdropped AND attname <> 'last_used_at'")[0][0];
  CHECK(listed.as<std::string>() == columns.as<std::string>());

  const auto customer = db.exec("INSERT INTO customers (name) VALUES ('a') RETURNING id")[0][0].as<std::string>();
  const auto connection = db.exec("INSERT INTO connections (customer_id, provider, name, auth_type) "
                                  "VALUES ($1, 'gmail', 'x', 'oauth2') RETURNING id",
                                  customer)[0][0]
                              .as<std::string>();
  pqxx::connection listener(db.url());
  int heard = 0;
  struct Counter : pqxx::notification_receiver {
    int& count;
    Counter(pqxx::connection& c, int& n) : pqxx::notification_receiver(c, "hydra_authz"), count(n) {}
    void operator()(const std::string&, int) override { ++count; }
  } counter(listener, heard);
  const auto heardAfter = [&](const std::string& sql) {
    heard = 0;
    db.exec(sql, connection);
    listener.await_notification(1, 0);
    return heard;
  };
  CHECK(heardAfter("UPDATE connections SET last_used_at = now() WHERE id = $1") == 0);
  CHECK(heardAfter("UPDATE connections SET last_used_at = now(), status = 'expired' WHERE id = $1") == 1);
  CHECK(heardAfter("UPDATE connections SET metadata_json = '{\"a\": 1}' WHERE id = $1") == 1);
  CHECK(heardAfter("UPDATE connections SET metadata_json = '{\"a\": 1}' WHERE id = $1") == 0);  // unchanged
}
