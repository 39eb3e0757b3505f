#pragma once

#include <pqxx/pqxx>

namespace hydra::cp::db {

/// Prepares every statement the control plane runs; called once per new connection.
/// All of the control plane's SQL is in statements.cpp.
void prepareStatements(pqxx::connection& connection);

/// The statements of `audit-retention` (retention/audit_retention.cpp), run as the schema owner.
void prepareRetentionStatements(pqxx::connection& connection);

}  // namespace hydra::cp::db
