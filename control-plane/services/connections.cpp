#include "control-plane/services/connections.hpp"

#include <ctime>
#include <utility>

#include "control-plane/db/rows.hpp"
#include "control-plane/services/existence.hpp"
#include "control-plane/services/webhook_outbox.hpp"
#include "control-plane/webhooks/events.hpp"
#include "shared/db/bytea.hpp"
#include "shared/http/errors.hpp"
#include "shared/oauth/token_fields.hpp"

namespace hydra::cp {
namespace {

using hydra::http::ApiError;

constexpr const char* kDuplicateConnection = "A connection with this provider and name already exists";

// Attaches each connection's grants with one query for the whole page.
void attachGrants(pqxx::transaction_base& tx, const std::string& customer_id, std::vector<model::Connection>& page) {
  if (page.empty()) return;
  std::string ids = "{";
  for (const auto& c : page) ids += (ids.size() > 1 ? "," : "") + c.id;  // UUIDs need no quoting
  ids += "}";
  for (const auto& row : tx.exec_prepared("grant_list_by_connections", customer_id, ids)) {
    auto grant = db::grantFrom(row);
    for (auto& c : page) {
      if (c.id == grant.connection_id) c.grants.push_back(grant);
    }
  }
}

// oauth2 credentials are stored with `expires_at` (from `expires_in` if need be), which the
// connection row mirrors; other kinds are stored as given.
oauth::NormalizedCredentials prepareCredentials(const std::string& auth_type, const std::string& credentials_json) {
  if (auth_type != "oauth2") return {credentials_json, std::nullopt};
  return oauth::normalizeCredentials(credentials_json, std::time(nullptr));
}

std::optional<std::string> expiresAtParam(const oauth::NormalizedCredentials& credentials) {
  if (!credentials.expires_at) return std::nullopt;
  return oauth::formatTime(*credentials.expires_at);
}

// A token refresh holds the secret row while the provider answers (at most ~40 s: retries for
// 10 s, each exchange up to 30 s); wait that long rather than fail the customer's change.
void lockSecret(pqxx::transaction_base& tx, const std::string& customer_id, const std::string& connection_id) {
  tx.exec("SET LOCAL statement_timeout = '45s'");
  tx.exec_prepared("connection_secret_lock", customer_id, connection_id);
  tx.exec("SET LOCAL statement_timeout = '10s'");
}

// A rate limit as grant_insert and grant_update take it: requests and period, or two NULLs.
std::pair<std::optional<long long>, std::optional<long long>> rateLimitParams(
    const std::optional<model::RateLimit>& limit) {
  if (!limit) return {};
  return {limit->requests, limit->per_seconds};
}

model::Connection fetchOne(pqxx::transaction_base& tx, const std::string& customer_id, const std::string& connection_id) {
  const auto rows = tx.exec_prepared("connection_get", customer_id, connection_id);
  if (rows.empty()) throw http::notFound("Connection");
  std::vector<model::Connection> one{db::connectionFrom(rows[0])};
  attachGrants(tx, customer_id, one);
  return std::move(one[0]);
}

}  // namespace

void ConnectionService::storeCredentials(pqxx::work& tx, const char* statement, const std::string& customer_id,
                                         const std::string& connection_id, const std::string& credentials_json) const {
  const auto sealed = sealer_.seal(credentials_json, crypto::connectionAad(customer_id, connection_id));
  tx.exec_prepared(statement, connection_id, sealed.key_id,
                   hydra::db::byteaParam(sealed.ciphertext));
}

model::Connection ConnectionService::create(const std::string& customer_id, const model::ConnectionCreate& input) {
  try {
    const auto credentials = prepareCredentials(input.auth_type, input.credentials_json);
    return pool_.run([&](pqxx::connection& c) {
      pqxx::work tx(c);
      const auto metadata = input.metadata_json ? input.metadata_json->c_str() : nullptr;
      auto created = db::connectionFrom(tx.exec_prepared1("connection_insert", customer_id, input.provider, input.name,
                                                          input.auth_type, input.scopes_json, metadata,
                                                          expiresAtParam(credentials)));
      // The row id is part of the ciphertext's associated data, so seal after the insert.
      storeCredentials(tx, "connection_secret_insert", customer_id, created.id, credentials.credentials_json);
      emitWebhookEvent(tx, customer_id, webhooks::events::kConnectionCreated, model::toJson(created));
      tx.commit();
      return created;
    });
  } catch (const pqxx::unique_violation&) {
    throw ApiError(409, kDuplicateConnection);
  }
}

model::Connection ConnectionService::get(const std::string& customer_id, const std::string& connection_id) {
  return pool_.run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    return fetchOne(tx, customer_id, connection_id);
  });
}

ConnectionPage ConnectionService::list(const std::string& customer_id, const ConnectionFilter& filter) {
  return pool_.run([&](pqxx::connection& c) {
    // Repeatable read: the page and the total come from one snapshot.
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(c);
    const auto provider = filter.provider ? filter.provider->c_str() : nullptr;
    const auto status = filter.status ? filter.status->c_str() : nullptr;
    ConnectionPage page;
    page.connections = db::all(
        tx.exec_prepared("connection_list", customer_id, provider, status, filter.limit, filter.offset), db::connectionFrom);
    page.total = tx.exec_prepared1("connection_count", customer_id, provider, status)[0].as<long long>();
    attachGrants(tx, customer_id, page.connections);
    return page;
  });
}

model::Connection ConnectionService::update(const std::string& customer_id, const std::string& connection_id,
                                            const model::ConnectionUpdate& input) {
  try {
    return pool_.run([&](pqxx::connection& c) {
      pqxx::work tx(c);
      const auto name = input.name ? input.name->c_str() : nullptr;
      const auto scopes = input.scopes_json ? input.scopes_json->c_str() : nullptr;
      const auto metadata = input.metadata_json ? input.metadata_json->c_str() : nullptr;
      std::optional<oauth::NormalizedCredentials> credentials;
      if (input.credentials_json) {
        // Waits for a token refresh in flight, whose result this replaces (statements.cpp: lock order).
        lockSecret(tx, customer_id, connection_id);
        credentials = prepareCredentials(fetchOne(tx, customer_id, connection_id).auth_type, *input.credentials_json);
      }
      const auto rows = tx.exec_prepared("connection_update", customer_id, connection_id, name, scopes,
                                         input.replace_metadata, metadata, credentials.has_value(),
                                         credentials ? expiresAtParam(*credentials) : std::nullopt);
      if (rows.empty()) throw http::notFound("Connection");
      if (credentials) {
        storeCredentials(tx, "connection_secret_replace", customer_id, connection_id, credentials->credentials_json);
      }
      auto updated = fetchOne(tx, customer_id, connection_id);
      // A status change (new credentials reactivate) is announced by the schema's trigger.
      emitWebhookEvent(tx, customer_id, webhooks::events::kConnectionUpdated, model::toJson(updated));
      tx.commit();
      return updated;
    });
  } catch (const pqxx::unique_violation&) {
    throw ApiError(409, kDuplicateConnection);
  }
}

void ConnectionService::remove(const std::string& customer_id, const std::string& connection_id) {
  pool_.run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    // The secret row is locked first, as a token refresh locks it (statements.cpp: lock order),
    // then the connection row, so no grant joins it while it goes.
    lockSecret(tx, customer_id, connection_id);
    if (tx.exec_prepared("connection_lock", customer_id, connection_id).empty()) throw http::notFound("Connection");
    const auto gone = fetchOne(tx, customer_id, connection_id);
    // Its grants go with it (and the secret, ON DELETE CASCADE); each grant is announced.
    for (const auto& row : tx.exec_prepared("grant_delete_by_connection", customer_id, connection_id)) {
      emitWebhookEvent(tx, customer_id, webhooks::events::kGrantDeleted, model::toJson(db::grantFrom(row)));
    }
    tx.exec_prepared("connection_delete", customer_id, connection_id);
    emitWebhookEvent(tx, customer_id, webhooks::events::kConnectionDeleted, model::toJson(gone));
    tx.commit();
  });
}

model::Grant ConnectionService::grant(const std::string& customer_id, const std::string& connection_id,
                                      const model::GrantCreate& input) {
  try {
    return pool_.run([&](pqxx::connection& c) {
      pqxx::work tx(c);
      if (tx.exec_prepared("connection_get", customer_id, connection_id).empty()) throw http::notFound("Connection");
      // An instance of another customer looks exactly like one that does not exist.
      requireInstanceExists(tx, customer_id, input.instance_id);
      const auto limit = rateLimitParams(input.rate_limit);
      auto created = db::grantFrom(tx.exec_prepared1("grant_insert", customer_id, connection_id, input.instance_id,
                                                     input.capabilities_json, input.expiry.at, input.expiry.in_seconds,
                                                     input.proxy_only, limit.first, limit.second));
      emitWebhookEvent(tx, customer_id, webhooks::events::kGrantCreated, model::toJson(created));
      tx.commit();
      return created;
    });
  } catch (const pqxx::unique_violation&) {
    throw ApiError(409, "This connection is already granted to this instance");
  }
}

std::vector<model::Grant> ConnectionService::grants(const std::string& customer_id, const std::string& connection_id) {
  return pool_.run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    return fetchOne(tx, customer_id, connection_id).grants;
  });
}

model::Grant ConnectionService::updateGrant(const std::string& customer_id, const std::string& connection_id,
                                            const std::string& grant_id, const model::GrantUpdate& input) {
  return pool_.run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    const auto limit = rateLimitParams(input.rate_limit);
    const auto rows = tx.exec_prepared("grant_update", customer_id, connection_id, grant_id, input.capabilities_json,
                                       input.expiry.at, input.expiry.in_seconds, input.change_expiry, input.proxy_only,
                                       input.change_rate_limit, limit.first, limit.second);
    if (rows.empty()) throw http::notFound("Grant");
    auto updated = db::grantFrom(rows[0]);
    emitWebhookEvent(tx, customer_id, webhooks::events::kGrantUpdated, model::toJson(updated));
    tx.commit();
    return updated;
  });
}

void ConnectionService::revokeGrant(const std::string& customer_id, const std::string& connection_id,
                                    const std::string& grant_id) {
  pool_.run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    const auto rows = tx.exec_prepared("grant_delete", customer_id, connection_id, grant_id);
    if (rows.empty()) throw http::notFound("Grant");
    emitWebhookEvent(tx, customer_id, webhooks::events::kGrantDeleted, model::toJson(db::grantFrom(rows[0])));
    tx.commit();
  });
}

}  // namespace hydra::cp
