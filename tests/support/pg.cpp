#include "tests/support/pg.hpp"

#include <cstdlib>
#include <iostream>
#include <random>
#include <stdexcept>

namespace hydra::test {
namespace {

std::string randomHex(std::size_t chars) {
  std::random_device rd;
  std::string out;
  while (out.size() < chars) out += "0123456789abcdef"[rd() % 16];
  return out;
}

}  // namespace

std::string adminUrl() {
  const char* url = std::getenv("HYDRA_TEST_ADMIN_URL");
  if (url == nullptr || *url == '\0') {
    throw std::runtime_error(
        "HYDRA_TEST_ADMIN_URL is not set: database tests need a PostgreSQL superuser URL. "
        "Run them through scripts/test.sh, which starts a throwaway cluster and sets it.");
  }
  return url;
}

std::string urlForDatabase(const std::string& database) {
  const auto url = adminUrl();
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) throw std::runtime_error("HYDRA_TEST_ADMIN_URL must be a postgresql:// URI");
  const auto path = url.find('/', scheme + 3);
  const auto query = url.find('?', scheme + 3);
  if (path == std::string::npos || (query != std::string::npos && path > query)) {
    return url.substr(0, query) + "/" + database + (query == std::string::npos ? "" : url.substr(query));
  }
  return url.substr(0, path + 1) + database + (query == std::string::npos ? "" : url.substr(query));
}

pqxx::result execAdmin(const std::string& sql) {
  pqxx::connection connection(adminUrl());
  pqxx::nontransaction tx(connection);
  return tx.exec(sql);
}

TestDatabase::TestDatabase(Schema schema) : name_("hydra_t_" + randomHex(16)), url_(urlForDatabase(name_)) {
  // Names are random hex: nothing to quote.
  execAdmin("CREATE DATABASE " + name_ + (schema == Schema::Migrated ? " TEMPLATE hydra_template" : ""));
}

TestDatabase::~TestDatabase() {
  try {
    // The outage tests may leave it refusing connections; DROP does not care.
    execAdmin("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (const std::exception& e) {
    std::cerr << "warning: could not drop test database " << name_ << ": " << e.what() << "\n";
  }
}

std::string TestDatabase::urlAs(const std::string& role) const {
  const auto authority = url_.find("://") + 3;
  const auto path = url_.find('/', authority);
  const auto at = url_.find('@', authority);
  const auto user_end = (at != std::string::npos && at < path) ? at + 1 : authority;
  return url_.substr(0, authority) + role + "@" + url_.substr(user_end);
}

std::string TestDatabase::dump() const {
  pqxx::connection connection(url_);
  pqxx::nontransaction tx(connection);
  std::string out;
  const auto tables = tx.exec(
      "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) FROM information_schema.tables "
      "WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1");
  if (tables.empty()) throw std::runtime_error("dump: the database has no tables");
  constexpr pqxx::oid kByteaOid = 17;
  for (const auto& table : tables) {
    const std::string name = table[0].c_str();
    out += "== " + name + "\n";
    const auto rows = tx.exec("SELECT * FROM " + name);
    for (const auto& row : rows) {
      for (const auto& field : row) {
        out += std::string(field.name()) + "=";
        if (field.is_null()) {
          out += "NULL";
        } else if (rows.column_type(field.num()) == kByteaOid) {
          out += pqxx::binarystring(field).str();
        } else {
          out += std::string(field.c_str(), field.size());
        }
        out += "\t";
      }
      out += "\n";
    }
  }
  return out;
}

}  // namespace hydra::test
