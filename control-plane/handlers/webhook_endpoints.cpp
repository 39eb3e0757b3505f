#include "control-plane/handlers/handlers.hpp"
#include "control-plane/handlers/paging.hpp"
#include "shared/http/request.hpp"
#include "shared/json/reader.hpp"

namespace hydra::cp::handlers {
namespace {

// The secret is in these responses only.
Reply withSecret(int status, const model::WebhookEndpoint& endpoint) {
  auto reply = http::json(status, model::toJson(endpoint));
  reply.headers.emplace_back("Cache-Control", "no-store");
  return reply;
}

}  // namespace

Reply createWebhookEndpoint(Services& s, const Request& req) {
  const auto [customer_id] = http::pathUuids(req, {"customer_id"});
  s.auth.requireCustomer(req, customer_id);
  const auto body = json::parseObject(req.body());
  const auto input = model::WebhookEndpointCreate::fromJson(*body, s.webhooks.urlRules());
  return withSecret(201, s.webhooks.create(customer_id, input));
}

Reply listWebhookEndpoints(Services& s, const Request& req) {
  const auto [customer_id] = http::pathUuids(req, {"customer_id"});
  s.auth.requireCustomer(req, customer_id);
  return http::json(200, model::toJson(s.webhooks.list(customer_id)));
}

Reply getWebhookEndpoint(Services& s, const Request& req) {
  const auto [customer_id, endpoint_id] = http::pathUuids(req, {"customer_id", "endpoint_id"});
  s.auth.requireCustomer(req, customer_id);
  return http::json(200, model::toJson(s.webhooks.get(customer_id, endpoint_id)));
}

Reply updateWebhookEndpoint(Services& s, const Request& req) {
  const auto [customer_id, endpoint_id] = http::pathUuids(req, {"customer_id", "endpoint_id"});
  s.auth.requireCustomer(req, customer_id);
  const auto body = json::parseObject(req.body());
  const auto input = model::WebhookEndpointUpdate::fromJson(*body, s.webhooks.urlRules());
  return http::json(200, model::toJson(s.webhooks.update(customer_id, endpoint_id, input)));
}

Reply deleteWebhookEndpoint(Services& s, const Request& req) {
  const auto [customer_id, endpoint_id] = http::pathUuids(req, {"customer_id", "endpoint_id"});
  s.auth.requireCustomer(req, customer_id);
  s.webhooks.remove(customer_id, endpoint_id);
  return http::noContent();
}

Reply rotateWebhookSecret(Services& s, const Request& req) {
  const auto [customer_id, endpoint_id] = http::pathUuids(req, {"customer_id", "endpoint_id"});
  s.auth.requireCustomer(req, customer_id);
  return withSecret(200, s.webhooks.rotateSecret(customer_id, endpoint_id));
}

Reply listWebhookDeliveries(Services& s, const Request& req) {
  http::Problems problems;
  const auto customer_id = http::pathUuid(req, "customer_id", problems);
  const auto endpoint_id = http::pathUuid(req, "endpoint_id", problems);
  const auto page = pageQuery(req, problems);
  problems.throwIfAny();
  s.auth.requireCustomer(req, customer_id);
  const auto deliveries = s.webhooks.deliveries(customer_id, endpoint_id, page.before, page.limit);
  return http::json(200, model::toJson(deliveries, nextBefore(deliveries, page)));
}

}  // namespace hydra::cp::handlers
