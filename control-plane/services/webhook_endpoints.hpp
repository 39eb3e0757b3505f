#pragma once
// Customers' webhook endpoints and what was delivered to them. The signing secret is made here
// and returned only by create and rotateSecret.

#include <optional>
#include <string>
#include <vector>

#include "control-plane/model/resources.hpp"
#include "control-plane/webhooks/endpoint_url.hpp"
#include "shared/db/pool.hpp"

namespace hydra::cp {

class WebhookEndpointService {
 public:
  WebhookEndpointService(hydra::db::Pool& pool, webhooks::UrlRules url_rules)
      : pool_(pool), url_rules_(std::move(url_rules)) {}

  /// The rules new and changed URLs are held to (HYDRA_WEBHOOK_ALLOW_LOOPBACK, _ALLOWED_CIDRS).
  const webhooks::UrlRules& urlRules() const { return url_rules_; }

  /// The returned endpoint carries its secret: the only time it leaves the service.
  model::WebhookEndpoint create(const std::string& customer_id, const model::WebhookEndpointCreate& input);
  std::vector<model::WebhookEndpoint> list(const std::string& customer_id);
  model::WebhookEndpoint get(const std::string& customer_id, const std::string& endpoint_id);
  model::WebhookEndpoint update(const std::string& customer_id, const std::string& endpoint_id,
                                const model::WebhookEndpointUpdate& input);
  void remove(const std::string& customer_id, const std::string& endpoint_id);
  /// A new secret, returned with the endpoint; the old one keeps signing for 24 hours.
  model::WebhookEndpoint rotateSecret(const std::string& customer_id, const std::string& endpoint_id);

  /// Newest first, `limit` at most, older than delivery id `before` when given.
  std::vector<model::WebhookDelivery> deliveries(const std::string& customer_id, const std::string& endpoint_id,
                                                 std::optional<long long> before, long long limit);

 private:
  hydra::db::Pool& pool_;
  const webhooks::UrlRules url_rules_;
};

}  // namespace hydra::cp
