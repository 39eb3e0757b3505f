#pragma once
// Schema migrations: the numbered files of schema/, compiled into the binary.

#include <string>
#include <vector>

#include <pqxx/connection>

namespace hydra::db {

struct Migration {
  const char* name;  // file name, e.g. "0001_customers.sql"; applied in this order
  const char* sql;
};

/// Every migration, in order (generated from schema/*.sql at build time).
const std::vector<Migration>& migrations();

/// Applies the migrations not yet recorded in schema_migrations, each in its own
/// transaction. Idempotent, and safe to run from several processes at once: they
/// serialise on an advisory lock. Returns how many were applied.
int migrate(const std::string& url);

/// The compiled-in migrations that schema_migrations does not record, in order: empty when the
/// schema is what this binary expects (or newer: migrations only add, so a binary keeps
/// working on a schema migrated for the next release, as a rolling upgrade needs).
std::vector<std::string> pendingMigrations(pqxx::connection& connection);

}  // namespace hydra::db
