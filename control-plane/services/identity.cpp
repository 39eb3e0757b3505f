#include "control-plane/services/identity.hpp"

#include "control-plane/db/rows.hpp"
#include "control-plane/services/existence.hpp"
#include "control-plane/services/webhook_outbox.hpp"
#include "control-plane/webhooks/events.hpp"
#include "shared/crypto/random.hpp"
#include "shared/db/bytea.hpp"
#include "shared/http/errors.hpp"

namespace hydra::cp {
namespace {

constexpr const char* kApiKeyPrefix = "hck_";
constexpr const char* kProxyKeyPrefix = "hcp_";

// A PostgreSQL array literal of canonical CIDR blocks (no character in them needs quoting).
std::optional<std::string> cidrArray(const std::optional<std::vector<std::string>>& cidrs) {
  if (!cidrs) return std::nullopt;
  std::string literal = "{";
  for (const auto& cidr : *cidrs) literal += (literal.size() > 1 ? "," : "") + cidr;
  return literal + "}";
}

}  // namespace

model::Customer IdentityService::createCustomer(const std::string& name) {
  return pool_.run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    auto customer = db::customerFrom(tx.exec_prepared1("customer_insert", name));
    tx.commit();
    return customer;
  });
}

model::ApiKey IdentityService::createApiKey(const std::string& customer_id, const std::string& name) {
  const auto secret = crypto::newSecretToken(kApiKeyPrefix);
  auto key = pool_.run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    requireCustomerExists(tx, customer_id);
    auto created = db::apiKeyFrom(tx.exec_prepared1("api_key_insert", customer_id, name, hydra::db::byteaParam(crypto::tokenHash(secret))));
    tx.commit();
    return created;
  });
  key.secret = secret;
  return key;
}

std::vector<model::ApiKey> IdentityService::listApiKeys(const std::string& customer_id) {
  return pool_.run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    requireCustomerExists(tx, customer_id);
    return db::all(tx.exec_prepared("api_key_list", customer_id), db::apiKeyFrom);
  });
}

void IdentityService::revokeApiKey(const std::string& customer_id, const std::string& key_id) {
  pool_.run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    if (tx.exec_prepared("api_key_revoke", customer_id, key_id).affected_rows() == 0) throw http::notFound("API key");
    tx.commit();
  });
}

model::Instance IdentityService::createInstance(const std::string& customer_id, const std::string& name) {
  return pool_.run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    auto instance = db::instanceFrom(tx.exec_prepared1("instance_insert", customer_id, name));
    tx.commit();
    return instance;
  });
}

std::vector<model::Instance> IdentityService::listInstances(const std::string& customer_id) {
  return pool_.run([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    return db::all(tx.exec_prepared("instance_list", customer_id), db::instanceFrom);
  });
}

model::Instance IdentityService::updateInstance(const std::string& customer_id, const std::string& instance_id,
                                               const model::InstanceUpdate& input) {
  return pool_.run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    const auto rows = tx.exec_prepared("instance_update", customer_id, instance_id, input.name, input.disabled);
    if (rows.empty()) throw http::notFound("Instance");
    auto updated = db::instanceFrom(rows[0]);
    emitWebhookEvent(tx, customer_id, webhooks::events::kInstanceUpdated, model::toJson(updated));
    tx.commit();
    return updated;
  });
}

void IdentityService::deleteInstance(const std::string& customer_id, const std::string& instance_id) {
  pool_.run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    if (tx.exec_prepared("instance_lock", customer_id, instance_id).empty()) throw http::notFound("Instance");
    // Its grants and proxy keys go with it; each grant is announced (the keys die with the
    // instance, which instance.deleted says).
    for (const auto& row : tx.exec_prepared("grant_delete_by_instance", customer_id, instance_id)) {
      emitWebhookEvent(tx, customer_id, webhooks::events::kGrantDeleted, model::toJson(db::grantFrom(row)));
    }
    const auto gone = db::instanceFrom(tx.exec_prepared1("instance_delete", customer_id, instance_id));
    emitWebhookEvent(tx, customer_id, webhooks::events::kInstanceDeleted, model::toJson(gone));
    tx.commit();
  });
}

model::ProxyKey IdentityService::createProxyKey(const std::string& customer_id, const std::string& instance_id,
                                                const model::ProxyKeyCreate& input) {
  const auto secret = crypto::newSecretToken(kProxyKeyPrefix);
  auto key = pool_.run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    requireInstanceExists(tx, customer_id, instance_id);
    auto created = db::proxyKeyFrom(
        tx.exec_prepared1("proxy_key_insert", customer_id, instance_id, hydra::db::byteaParam(crypto::tokenHash(secret)),
                          input.expires_in_seconds, cidrArray(input.allowed_cidrs)));
    // The event carries the key's metadata; the key itself exists only in this call's result.
    emitWebhookEvent(tx, customer_id, webhooks::events::kProxyKeyCreated, model::toJson(created));
    tx.commit();
    return created;
  });
  key.secret = secret;
  return key;
}

std::vector<model::ProxyKey> IdentityService::listProxyKeys(const std::string& customer_id,
                                                            const std::string& instance_id) {
  return pool_.run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    requireInstanceExists(tx, customer_id, instance_id);
    return db::all(tx.exec_prepared("proxy_key_list", customer_id, instance_id), db::proxyKeyFrom);
  });
}

void IdentityService::revokeProxyKey(const std::string& customer_id, const std::string& instance_id,
                                     const std::string& key_id) {
  pool_.run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    const auto rows = tx.exec_prepared("proxy_key_revoke", customer_id, instance_id, key_id);
    if (rows.empty()) throw http::notFound("Proxy key");
    emitWebhookEvent(tx, customer_id, webhooks::events::kProxyKeyRevoked, model::toJson(db::proxyKeyFrom(rows[0])));
    tx.commit();
  });
}

}  // namespace hydra::cp
