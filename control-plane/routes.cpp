#include "control-plane/routes.hpp"

namespace hydra::cp {

void addRoutes(http::Server& server, Services& s) {
  using Fn = http::Reply (*)(Services&, const handlers::Request&);
  const auto bind = [&s](Fn fn) { return [&s, fn](const handlers::Request& req) { return fn(s, req); }; };
  const std::string customer = "/v1/customers/:customer_id";
  const std::string connection = customer + "/connections/:connection_id";
  const std::string webhook_endpoint = customer + "/webhook-endpoints/:endpoint_id";

  server.get("/healthz", [](const handlers::Request&) { return http::json(200, R"({"status":"ok"})"); });
  server.post("/v1/admin/customers", bind(handlers::createCustomer));

  server.post(customer + "/api-keys", bind(handlers::createApiKey));
  server.get(customer + "/api-keys", bind(handlers::listApiKeys));
  server.del(customer + "/api-keys/:key_id", bind(handlers::revokeApiKey));

  server.post(customer + "/instances", bind(handlers::createInstance));
  server.get(customer + "/instances", bind(handlers::listInstances));
  server.patch(customer + "/instances/:instance_id", bind(handlers::updateInstance));
  server.del(customer + "/instances/:instance_id", bind(handlers::deleteInstance));

  server.post(customer + "/instances/:instance_id/proxy-keys", bind(handlers::createProxyKey));
  server.get(customer + "/instances/:instance_id/proxy-keys", bind(handlers::listProxyKeys));
  server.del(customer + "/instances/:instance_id/proxy-keys/:key_id", bind(handlers::revokeProxyKey));

  server.get(customer + "/audit-events", bind(handlers::listAuditEvents));

  server.get(customer + "/connections", bind(handlers::listConnections));
  server.post(customer + "/connections", bind(handlers::createConnection));
  server.get(connection, bind(handlers::getConnection));
  server.patch(connection, bind(handlers::updateConnection));
  server.del(connection, bind(handlers::deleteConnection));

  server.post(connection + "/grants", bind(handlers::createGrant));
  server.get(connection + "/grants", bind(handlers::listGrants));
  server.patch(connection + "/grants/:grant_id", bind(handlers::updateGrant));
  server.del(connection + "/grants/:grant_id", bind(handlers::deleteGrant));

  server.post(customer + "/webhook-endpoints", bind(handlers::createWebhookEndpoint));
  server.get(customer + "/webhook-endpoints", bind(handlers::listWebhookEndpoints));
  server.get(webhook_endpoint, bind(handlers::getWebhookEndpoint));
  server.patch(webhook_endpoint, bind(handlers::updateWebhookEndpoint));
  server.del(webhook_endpoint, bind(handlers::deleteWebhookEndpoint));
  server.post(webhook_endpoint + "/rotate-secret", bind(handlers::rotateWebhookSecret));
  server.get(webhook_endpoint + "/deliveries", bind(handlers::listWebhookDeliveries));
}

}  // namespace hydra::cp
