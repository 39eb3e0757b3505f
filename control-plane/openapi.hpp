#pragma once
// What the control plane's OpenAPI document says of each route (registered beside it in
// routes.cpp), and its schemas, with the field names and types of the vendor's
// connections-api (a FastAPI service) where it defines them.

#include "shared/http/route_doc.hpp"

namespace hydra::cp::docs {

/// The "components.schemas" object, as JSON text.
const char* schemas();

http::RouteDoc createCustomer();
http::RouteDoc createApiKey();
http::RouteDoc listApiKeys();
http::RouteDoc revokeApiKey();
http::RouteDoc createInstance();
http::RouteDoc listInstances();
http::RouteDoc updateInstance();
http::RouteDoc deleteInstance();
http::RouteDoc createProxyKey();
http::RouteDoc listProxyKeys();
http::RouteDoc revokeProxyKey();
http::RouteDoc listAuditEvents();
http::RouteDoc exportAuditEvents();
http::RouteDoc listConnections();
http::RouteDoc createConnection();
http::RouteDoc getConnection();
http::RouteDoc updateConnection();
http::RouteDoc deleteConnection();
http::RouteDoc createGrant();
http::RouteDoc listGrants();
http::RouteDoc updateGrant();
http::RouteDoc deleteGrant();
http::RouteDoc createWebhookEndpoint();
http::RouteDoc listWebhookEndpoints();
http::RouteDoc getWebhookEndpoint();
http::RouteDoc updateWebhookEndpoint();
http::RouteDoc deleteWebhookEndpoint();
http::RouteDoc rotateWebhookSecret();
http::RouteDoc listWebhookDeliveries();
http::RouteDoc createOAuthClient();
http::RouteDoc listOAuthClients();
http::RouteDoc getOAuthClient();
http::RouteDoc deleteOAuthClient();
http::RouteDoc getConnectSettings();
http::RouteDoc putConnectSettings();
http::RouteDoc createConnectSession();
http::RouteDoc getConnectSession();
http::RouteDoc connectLinkPage();
http::RouteDoc connectContinue();
http::RouteDoc connectCancel();
http::RouteDoc connectCallback();
http::RouteDoc connectStatus();
http::RouteDoc connectAsset();

}  // namespace hydra::cp::docs
