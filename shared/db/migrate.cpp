#include "shared/db/migrate.hpp"

#include <set>

#include <pqxx/pqxx>

#include "shared/log/log.hpp"

namespace hydra::db {
namespace {

// Any fixed number shared by every process that migrates this schema.
constexpr long long kMigrationLockKey = 0x4879647261436f72;  // "HydraCor"

}  // namespace

int migrate(const std::string& url) {
  pqxx::connection connection(url);
  pqxx::nontransaction session(connection);
  // A session-level lock, released when the connection closes even if we crash.
  session.exec_params("SELECT pg_advisory_lock($1)", kMigrationLockKey);
  session.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      " name text PRIMARY KEY,"
      " applied_at timestamptz NOT NULL DEFAULT now())");
  session.commit();

  int applied = 0;
  for (const auto& migration : migrations()) {
    pqxx::work tx(connection);
    if (!tx.exec_params("SELECT 1 FROM schema_migrations WHERE name = $1", migration.name).empty()) continue;
    tx.exec(migration.sql);
    tx.exec_params("INSERT INTO schema_migrations (name) VALUES ($1)", migration.name);
    tx.commit();
    log::db().information(std::string("applied migration ") + migration.name);
    ++applied;
  }
  pqxx::nontransaction unlock(connection);
  unlock.exec_params("SELECT pg_advisory_unlock($1)", kMigrationLockKey);
  return applied;
}

std::vector<std::string> pendingMigrations(pqxx::connection& connection) {
  pqxx::nontransaction tx(connection);
  std::set<std::string> applied;
  for (const auto& row : tx.exec("SELECT name FROM schema_migrations")) applied.insert(row[0].c_str());
  std::vector<std::string> pending;
  for (const auto& migration : migrations()) {
    if (applied.count(migration.name) == 0) pending.emplace_back(migration.name);
  }
  return pending;
}

}  // namespace hydra::db
