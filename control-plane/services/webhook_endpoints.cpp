#include "control-plane/services/webhook_endpoints.hpp"

#include "control-plane/db/rows.hpp"
#include "control-plane/webhooks/signature.hpp"
#include "shared/crypto/random.hpp"
#include "shared/http/errors.hpp"
#include "shared/json/writer.hpp"

namespace hydra::cp {
namespace {

// Every event is delivered to every endpoint that listens: many endpoints multiply the work
// one customer's change causes.
constexpr long long kMaxEndpointsPerCustomer = 20;

std::string eventsJson(const std::vector<std::string>& events) {
  json::Writer w;
  w.strings(events);
  return w.str();
}

std::string keyParam(const webhooks::SigningKey& key) { return "\\x" + crypto::hex(key.data(), key.size()); }

}  // namespace

model::WebhookEndpoint WebhookEndpointService::create(const std::string& customer_id,
                                                      const model::WebhookEndpointCreate& input) {
  const auto key = webhooks::newSigningKey();
  auto endpoint = pool_.run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    // Serialises creations of one customer, so the limit holds under concurrency.
    tx.exec_prepared("customer_lock", customer_id);
    if (tx.exec_prepared1("webhook_endpoint_count", customer_id)[0].as<long long>() >= kMaxEndpointsPerCustomer) {
      throw http::ApiError(
          409, "A customer may have at most " + std::to_string(kMaxEndpointsPerCustomer) + " webhook endpoints");
    }
    auto created = db::webhookEndpointFrom(tx.exec_prepared1(
        "webhook_endpoint_insert", customer_id, input.url, input.description, eventsJson(input.events), keyParam(key)));
    tx.commit();
    return created;
  });
  endpoint.secret = webhooks::encodeSecret(key);
  return endpoint;
}

std::vector<model::WebhookEndpoint> WebhookEndpointService::list(const std::string& customer_id) {
  return pool_.run([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    return db::all(tx.exec_prepared("webhook_endpoint_list", customer_id), db::webhookEndpointFrom);
  });
}

model::WebhookEndpoint WebhookEndpointService::get(const std::string& customer_id, const std::string& endpoint_id) {
  return pool_.run([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    const auto rows = tx.exec_prepared("webhook_endpoint_get", customer_id, endpoint_id);
    if (rows.empty()) throw http::notFound("Webhook endpoint");
    return db::webhookEndpointFrom(rows[0]);
  });
}

model::WebhookEndpoint WebhookEndpointService::update(const std::string& customer_id, const std::string& endpoint_id,
                                                      const model::WebhookEndpointUpdate& input) {
  return pool_.run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    const auto url = input.url ? input.url->c_str() : nullptr;
    const auto description = input.description ? input.description->c_str() : nullptr;
    const auto events = input.events ? std::optional<std::string>(eventsJson(*input.events)) : std::nullopt;
    const auto rows =
        tx.exec_prepared("webhook_endpoint_update", customer_id, endpoint_id, url, description, events, input.enabled);
    if (rows.empty()) throw http::notFound("Webhook endpoint");
    // A disabled endpoint gets nothing more, not even what was still pending for it.
    if (input.enabled == false) tx.exec_prepared("webhook_delivery_fail_pending", endpoint_id);
    auto updated = db::webhookEndpointFrom(rows[0]);
    tx.commit();
    return updated;
  });
}

void WebhookEndpointService::remove(const std::string& customer_id, const std::string& endpoint_id) {
  pool_.run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    // Its deliveries go with it (ON DELETE CASCADE); one in flight is not recorded.
    if (tx.exec_prepared("webhook_endpoint_delete", customer_id, endpoint_id).affected_rows() == 0) {
      throw http::notFound("Webhook endpoint");
    }
    tx.commit();
  });
}

model::WebhookEndpoint WebhookEndpointService::rotateSecret(const std::string& customer_id,
                                                            const std::string& endpoint_id) {
  const auto key = webhooks::newSigningKey();
  auto endpoint = pool_.run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    const auto rows = tx.exec_prepared("webhook_endpoint_rotate_secret", customer_id, endpoint_id, keyParam(key));
    if (rows.empty()) throw http::notFound("Webhook endpoint");
    auto rotated = db::webhookEndpointFrom(rows[0]);
    tx.commit();
    return rotated;
  });
  endpoint.secret = webhooks::encodeSecret(key);
  return endpoint;
}

std::vector<model::WebhookDelivery> WebhookEndpointService::deliveries(const std::string& customer_id,
                                                                       const std::string& endpoint_id,
                                                                       std::optional<long long> before,
                                                                       long long limit) {
  return pool_.run([&](pqxx::connection& c) {
    // One snapshot for the existence check and the page.
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(c);
    if (tx.exec_prepared("webhook_endpoint_get", customer_id, endpoint_id).empty()) {
      throw http::notFound("Webhook endpoint");
    }
    return db::all(tx.exec_prepared("webhook_delivery_list", customer_id, endpoint_id, before, limit),
                   db::webhookDeliveryFrom);
  });
}

}  // namespace hydra::cp
