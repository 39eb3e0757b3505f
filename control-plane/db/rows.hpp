#pragma once
// Result rows of statements.cpp -> model types.

#include <vector>

#include <pqxx/pqxx>

#include "control-plane/model/connect.hpp"

namespace hydra::cp::db {

/// Every row of `rows`, mapped with `from`.
template <typename T>
std::vector<T> all(const pqxx::result& rows, T (*from)(const pqxx::row&)) {
  std::vector<T> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back(from(row));
  return out;
}

model::Customer customerFrom(const pqxx::row& row);
model::ApiKey apiKeyFrom(const pqxx::row& row);
model::Instance instanceFrom(const pqxx::row& row);
model::ProxyKey proxyKeyFrom(const pqxx::row& row);
model::AuditEvent auditEventFrom(const pqxx::row& row);
model::Grant grantFrom(const pqxx::row& row);
model::Connection connectionFrom(const pqxx::row& row);
model::WebhookEndpoint webhookEndpointFrom(const pqxx::row& row);
model::WebhookDelivery webhookDeliveryFrom(const pqxx::row& row);
model::OAuthClient oauthClientFrom(const pqxx::row& row);
model::ConnectSession connectSessionFrom(const pqxx::row& row);

}  // namespace hydra::cp::db
