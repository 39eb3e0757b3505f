#pragma once

#include <pqxx/pqxx>

namespace hydra::broker::db {

/// Prepares every statement the broker runs; called once per new connection.
/// All of the broker's SQL is in statements.cpp.
void prepareStatements(pqxx::connection& connection);

}  // namespace hydra::broker::db
