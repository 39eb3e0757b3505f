#pragma once
// Result rows of statements.cpp -> model types.

#include <pqxx/pqxx>

#include "control-plane/model/resources.hpp"

namespace hydra::cp::db {

model::Customer customerFrom(const pqxx::row& row);
model::ApiKey apiKeyFrom(const pqxx::row& row);
model::Instance instanceFrom(const pqxx::row& row);
model::ProxyKey proxyKeyFrom(const pqxx::row& row);
model::AuditEvent auditEventFrom(const pqxx::row& row);
model::Grant grantFrom(const pqxx::row& row);
model::Connection connectionFrom(const pqxx::row& row);

}  // namespace hydra::cp::db
