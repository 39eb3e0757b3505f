#pragma once
// A PostgreSQL database of its own for each test case, so that tests run in parallel.
// scripts/test.sh starts a throwaway cluster, exports HYDRA_TEST_ADMIN_URL (superuser, database
// `postgres`) and migrates the template database `hydra_template`. Without that variable every
// database test fails loudly: CI must never go green without having run them.

#include <string>

#include <pqxx/pqxx>

namespace hydra::test {

/// HYDRA_TEST_ADMIN_URL; throws (failing the test) when it is not set.
std::string adminUrl();

/// The admin URL with its database name replaced by `database`.
std::string urlForDatabase(const std::string& database);

/// Runs one statement as superuser on the `postgres` database (e.g. ALTER DATABASE).
pqxx::result execAdmin(const std::string& sql);

class TestDatabase {
 public:
  enum class Schema {
    Migrated,  // a copy of hydra_template: every migration applied
    Empty,     // a plain new database, for the migration tests
  };

  explicit TestDatabase(Schema schema = Schema::Migrated);
  ~TestDatabase();  // DROP DATABASE ... WITH (FORCE)
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  const std::string& name() const { return name_; }
  const std::string& url() const { return url_; }
  /// url() logging in as `role` instead (the cluster trusts loopback, so no password).
  std::string urlAs(const std::string& role) const;

  /// Runs SQL as superuser in this database, on a connection of its own (one per call, so it
  /// survives the outage tests terminating every backend), with $1.. parameters.
  template <typename... Args>
  pqxx::result exec(const std::string& sql, Args&&... args) const {
    pqxx::connection connection(url_);
    pqxx::nontransaction tx(connection);
    return tx.exec_params(sql, std::forward<Args>(args)...);
  }

  /// Every value of every row of every table outside the system schemas, one line per row;
  /// bytea values appear as their raw bytes. For "this never reaches the database" checks.
  std::string dump() const;

 private:
  std::string name_;
  std::string url_;
};

}  // namespace hydra::test
