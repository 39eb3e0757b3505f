#pragma once

#include <pqxx/pqxx>

namespace hydra::cp::db {

/// Prepares every statement the control plane runs; called once per new connection.
/// All of the control plane's SQL is in statements.cpp.
void prepareStatements(pqxx::connection& connection);

}  // namespace hydra::cp::db
