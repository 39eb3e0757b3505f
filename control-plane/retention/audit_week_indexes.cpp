#include "control-plane/retention/audit_week_indexes.hpp"

#include <chrono>
#include <iomanip>

#include <pqxx/pqxx>

#include "control-plane/db/statements.hpp"

namespace hydra::cp::retention {

int indexEndedAuditWeeks(const std::string& database_url, std::ostream& out) {
  pqxx::connection connection(database_url);
  db::prepareRetentionStatements(connection);
  // CREATE INDEX CONCURRENTLY runs outside a transaction only.
  pqxx::nontransaction session(connection);
  const auto statements = session.exec_prepared("audit_week_index_statements");
  if (statements.empty()) {
    out << "nothing to index: every week of audit_events that has ended has its indexes\n";
    return 0;
  }
  for (const auto& row : statements) {
    const std::string statement = row[0].c_str();
    const auto start = std::chrono::steady_clock::now();
    session.exec(statement);
    const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    out << statement << ": " << std::fixed << std::setprecision(1) << seconds << " s\n";
  }
  return 0;
}

}  // namespace hydra::cp::retention
