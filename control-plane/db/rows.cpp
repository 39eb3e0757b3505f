#include "control-plane/db/rows.hpp"

#include <sstream>

#include "shared/db/timestamps.hpp"

namespace hydra::cp::db {

using hydra::db::rfc3339;
using hydra::db::rfc3339OrNull;
using hydra::db::textOrNull;

model::Customer customerFrom(const pqxx::row& row) {
  return {row["id"].c_str(), row["name"].c_str(), rfc3339(row["created_at"])};
}

model::ApiKey apiKeyFrom(const pqxx::row& row) {
  return {row["id"].c_str(), row["name"].c_str(), rfc3339(row["created_at"]), rfc3339OrNull(row["revoked_at"]), {}};
}

model::Instance instanceFrom(const pqxx::row& row) {
  return {row["id"].c_str(), row["name"].c_str(), rfc3339(row["created_at"]), row["disabled"].as<bool>()};
}

model::ProxyKey proxyKeyFrom(const pqxx::row& row) {
  model::ProxyKey key{row["id"].c_str(),          row["instance_id"].c_str(), rfc3339(row["created_at"]),
                      rfc3339OrNull(row["expires_at"]), rfc3339OrNull(row["revoked_at"]), {}, {}};
  // cidr[] as PostgreSQL prints it, joined with spaces (statements.cpp): canonical blocks.
  if (const auto cidrs = textOrNull(row["allowed_cidrs"])) {
    key.allowed_cidrs.emplace();
    std::stringstream blocks(*cidrs);
    for (std::string block; blocks >> block;) key.allowed_cidrs->push_back(block);
  }
  return key;
}

namespace {

std::optional<std::int64_t> int64OrNull(const pqxx::field& field) {
  if (field.is_null()) return std::nullopt;
  return field.as<std::int64_t>();
}

}  // namespace

model::AuditEvent auditEventFrom(const pqxx::row& row) {
  model::AuditEvent e;
  e.id = row["id"].as<long long>();
  e.occurred_at = rfc3339(row["occurred_at"]);
  e.outcome = row["outcome"].c_str();
  e.reason = row["reason"].c_str();
  e.request_id = row["request_id"].c_str();
  e.instance_id = textOrNull(row["instance_id"]);
  e.proxy_key_id = textOrNull(row["proxy_key_id"]);
  e.connection_id = textOrNull(row["connection_id"]);
  e.provider = textOrNull(row["provider"]);
  e.name = textOrNull(row["name"]);
  e.capability = textOrNull(row["capability"]);
  e.peer = textOrNull(row["peer"]);
  e.method = textOrNull(row["method"]);
  e.path = textOrNull(row["path"]);
  e.upstream_status = int64OrNull(row["upstream_status"]);
  e.request_bytes = int64OrNull(row["request_bytes"]);
  e.response_bytes = int64OrNull(row["response_bytes"]);
  e.duration_us = int64OrNull(row["duration_us"]);
  return e;
}

model::Grant grantFrom(const pqxx::row& row) {
  model::Grant grant{row["id"].c_str(),
                     row["connection_id"].c_str(),
                     row["instance_id"].c_str(),
                     row["capabilities"].c_str(),
                     rfc3339(row["granted_at"]),
                     rfc3339OrNull(row["expires_at"]),
                     row["proxy_only"].as<bool>(),
                     {}};
  // Both or neither (schema/0019's CHECK).
  if (!row["rate_limit_requests"].is_null()) {
    grant.rate_limit =
        model::RateLimit{row["rate_limit_requests"].as<long long>(), row["rate_limit_per_seconds"].as<long long>()};
  }
  return grant;
}

model::Connection connectionFrom(const pqxx::row& row) {
  model::Connection c;
  c.id = row["id"].c_str();
  c.customer_id = row["customer_id"].c_str();
  c.provider = row["provider"].c_str();
  c.name = row["name"].c_str();
  c.auth_type = row["auth_type"].c_str();
  c.scopes_json = row["scopes"].c_str();
  c.metadata_json = textOrNull(row["metadata_json"]);
  c.status = row["status"].c_str();
  c.error_message = textOrNull(row["error_message"]);
  c.expires_at = rfc3339OrNull(row["expires_at"]);
  c.last_used_at = rfc3339OrNull(row["last_used_at"]);
  c.created_at = rfc3339(row["created_at"]);
  c.updated_at = rfc3339(row["updated_at"]);
  return c;
}

model::WebhookEndpoint webhookEndpointFrom(const pqxx::row& row) {
  model::WebhookEndpoint e;
  e.id = row["id"].c_str();
  e.url = row["url"].c_str();
  e.description = row["description"].c_str();
  e.events_json = row["events"].c_str();
  e.enabled = row["enabled"].as<bool>();
  e.disabled_reason = textOrNull(row["disabled_reason"]);
  e.previous_secret_expires_at = rfc3339OrNull(row["previous_secret_expires_at"]);
  e.created_at = rfc3339(row["created_at"]);
  e.updated_at = rfc3339(row["updated_at"]);
  return e;
}

model::WebhookDelivery webhookDeliveryFrom(const pqxx::row& row) {
  model::WebhookDelivery d;
  d.id = row["id"].as<long long>();
  d.webhook_id = row["webhook_id"].c_str();
  d.event_type = row["event_type"].c_str();
  d.state = row["state"].c_str();
  d.attempts = row["attempts"].as<long long>();
  if (!row["last_status_code"].is_null()) d.last_status_code = row["last_status_code"].as<long long>();
  d.last_error = textOrNull(row["last_error"]);
  d.last_response = textOrNull(row["last_response"]);
  d.last_attempt_at = rfc3339OrNull(row["last_attempt_at"]);
  d.next_attempt_at = rfc3339OrNull(row["next_attempt_at"]);
  d.created_at = rfc3339(row["created_at"]);
  return d;
}

model::OAuthClient oauthClientFrom(const pqxx::row& row) {
  return {row["id"].c_str(), row["provider"].c_str(), row["client_id"].c_str(), row["scopes"].c_str(),
          textOrNull(row["authorization_params"]), rfc3339(row["created_at"])};
}

model::ConnectSession connectSessionFrom(const pqxx::row& row) {
  model::ConnectSession s;
  s.id = row["id"].c_str();
  s.provider = row["provider"].c_str();
  s.status = row["status"].c_str();
  s.connection_id = textOrNull(row["connection_id"]);
  s.error = textOrNull(row["error"]);
  s.expires_at = rfc3339(row["expires_at"]);
  s.created_at = rfc3339(row["created_at"]);
  s.updated_at = rfc3339(row["updated_at"]);
  return s;
}

}  // namespace hydra::cp::db
