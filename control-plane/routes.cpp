#include "control-plane/routes.hpp"

#include "control-plane/handlers/narrowing.hpp"
#include "control-plane/openapi.hpp"

namespace hydra::cp {

void addRoutes(http::Server& server, Services& s) {
  using Fn = http::Reply (*)(Services&, const handlers::Request&);
  const auto bind = [&s](Fn fn) { return [&s, fn](const handlers::Request& req) { return fn(s, req); }; };
  // Routes that may narrow access answer after the revocation wait (handlers/narrowing.hpp).
  const auto narrowing = [&s](handlers::NarrowingHandler fn) { return handlers::answerAfterWait(s, fn); };
  const std::string customer = "/v1/customers/:customer_id";
  const std::string connection = customer + "/connections/:connection_id";
  const std::string webhook_endpoint = customer + "/webhook-endpoints/:endpoint_id";

  // /healthz, /readyz, /metrics and /openapi.json: shared/ops (main.cpp).
  server.post("/v1/admin/customers", bind(handlers::createCustomer), docs::createCustomer());

  server.post(customer + "/api-keys", bind(handlers::createApiKey), docs::createApiKey());
  server.get(customer + "/api-keys", bind(handlers::listApiKeys), docs::listApiKeys());
  server.del(customer + "/api-keys/:key_id", bind(handlers::revokeApiKey), docs::revokeApiKey());

  server.post(customer + "/instances", bind(handlers::createInstance), docs::createInstance());
  server.get(customer + "/instances", bind(handlers::listInstances), docs::listInstances());
  server.patchAsync(customer + "/instances/:instance_id", narrowing(handlers::updateInstance), docs::updateInstance());
  server.delAsync(customer + "/instances/:instance_id", narrowing(handlers::deleteInstance), docs::deleteInstance());

  server.post(customer + "/instances/:instance_id/proxy-keys", bind(handlers::createProxyKey), docs::createProxyKey());
  server.get(customer + "/instances/:instance_id/proxy-keys", bind(handlers::listProxyKeys), docs::listProxyKeys());
  server.delAsync(customer + "/instances/:instance_id/proxy-keys/:key_id", narrowing(handlers::revokeProxyKey),
                  docs::revokeProxyKey());

  server.get(customer + "/audit-events", bind(handlers::listAuditEvents), docs::listAuditEvents());
  server.getStreamed(
      customer + "/audit-events/export", [&s](const handlers::Request& req) { return handlers::exportAuditEvents(s, req); },
      docs::exportAuditEvents());

  server.get(customer + "/connections", bind(handlers::listConnections), docs::listConnections());
  server.post(customer + "/connections", bind(handlers::createConnection), docs::createConnection());
  server.get(connection, bind(handlers::getConnection), docs::getConnection());
  server.patchAsync(connection, narrowing(handlers::updateConnection), docs::updateConnection());
  server.delAsync(connection, narrowing(handlers::deleteConnection), docs::deleteConnection());

  server.post(connection + "/grants", bind(handlers::createGrant), docs::createGrant());
  server.get(connection + "/grants", bind(handlers::listGrants), docs::listGrants());
  server.patchAsync(connection + "/grants/:grant_id", narrowing(handlers::updateGrant), docs::updateGrant());
  server.delAsync(connection + "/grants/:grant_id", narrowing(handlers::deleteGrant), docs::deleteGrant());

  server.post(customer + "/webhook-endpoints", bind(handlers::createWebhookEndpoint), docs::createWebhookEndpoint());
  server.get(customer + "/webhook-endpoints", bind(handlers::listWebhookEndpoints), docs::listWebhookEndpoints());
  server.get(webhook_endpoint, bind(handlers::getWebhookEndpoint), docs::getWebhookEndpoint());
  server.patch(webhook_endpoint, bind(handlers::updateWebhookEndpoint), docs::updateWebhookEndpoint());
  server.del(webhook_endpoint, bind(handlers::deleteWebhookEndpoint), docs::deleteWebhookEndpoint());
  server.post(webhook_endpoint + "/rotate-secret", bind(handlers::rotateWebhookSecret), docs::rotateWebhookSecret());
  server.get(webhook_endpoint + "/deliveries", bind(handlers::listWebhookDeliveries), docs::listWebhookDeliveries());

  // The connect flow (issue 20): the API side ...
  server.post(customer + "/oauth-clients", bind(handlers::createOAuthClient), docs::createOAuthClient());
  server.get(customer + "/oauth-clients", bind(handlers::listOAuthClients), docs::listOAuthClients());
  server.get(customer + "/oauth-clients/:oauth_client_id", bind(handlers::getOAuthClient), docs::getOAuthClient());
  server.del(customer + "/oauth-clients/:oauth_client_id", bind(handlers::deleteOAuthClient), docs::deleteOAuthClient());
  server.get(customer + "/connect-settings", bind(handlers::getConnectSettings), docs::getConnectSettings());
  server.put(customer + "/connect-settings", bind(handlers::putConnectSettings), docs::putConnectSettings());
  server.post(customer + "/connect-sessions", bind(handlers::createConnectSession), docs::createConnectSession());
  server.get(customer + "/connect-sessions/:session_id", bind(handlers::getConnectSession), docs::getConnectSession());
  // ... and the browser's (no API key).
  server.get("/connect/callback", bind(handlers::connectCallback), docs::connectCallback());
  server.get("/connect/assets/:name", bind(handlers::connectAsset), docs::connectAsset());
  server.get("/connect/sessions/:session_id/status", bind(handlers::connectStatus), docs::connectStatus());
  server.get("/connect/:token", bind(handlers::connectLinkPage), docs::connectLinkPage());
  server.post("/connect/:token/continue", bind(handlers::connectContinue), docs::connectContinue());
  server.post("/connect/:token/cancel", bind(handlers::connectCancel), docs::connectCancel());
}

}  // namespace hydra::cp
