#pragma once
// One function per endpoint, each reading parse -> authorize -> act -> encode. Routes that may
// narrow access also take a RevocationWait, reserved between authorize and act (narrowing.hpp).
// Handlers hold no SQL and no crypto; routes.cpp maps paths to them.

#include <pistache/router.h>

#include "control-plane/services/audit_events.hpp"
#include "control-plane/services/auth.hpp"
#include "control-plane/services/connect_flow.hpp"
#include "control-plane/services/connect_sessions.hpp"
#include "control-plane/services/connections.hpp"
#include "control-plane/services/oauth_clients.hpp"
#include "control-plane/services/identity.hpp"
#include "control-plane/services/revocation.hpp"
#include "control-plane/services/webhook_endpoints.hpp"
#include "shared/http/response.hpp"
#include "shared/http/stream.hpp"

namespace hydra::cp {

struct Services {
  Authenticator& auth;
  IdentityService& identity;
  ConnectionService& connections;
  WebhookEndpointService& webhooks;
  RevocationDelay& revocation;
  AuditEventService& audit;
  OAuthClientService& oauth_clients;
  ConnectSessionService& connect_sessions;
  ConnectFlow& connect_flow;
};

namespace handlers {

using Request = Pistache::Rest::Request;
using http::Reply;
/// narrowing.hpp: what a handler whose change may narrow access is given.
class RevocationWait;

// admin.cpp
Reply createCustomer(Services& s, const Request& req);

// api_keys.cpp
Reply createApiKey(Services& s, const Request& req);
Reply listApiKeys(Services& s, const Request& req);
Reply revokeApiKey(Services& s, const Request& req);

// instances.cpp
Reply createInstance(Services& s, const Request& req);
Reply listInstances(Services& s, const Request& req);
Reply updateInstance(Services& s, const Request& req, RevocationWait& wait);
Reply deleteInstance(Services& s, const Request& req, RevocationWait& wait);

// proxy_keys.cpp
Reply createProxyKey(Services& s, const Request& req);
Reply listProxyKeys(Services& s, const Request& req);
Reply revokeProxyKey(Services& s, const Request& req, RevocationWait& wait);

// audit_events.cpp
Reply listAuditEvents(Services& s, const Request& req);
/// JSON lines, streamed (routes.cpp: Server::getStreamed).
http::Streamed exportAuditEvents(Services& s, const Request& req);

// connections.cpp
Reply listConnections(Services& s, const Request& req);
Reply createConnection(Services& s, const Request& req);
Reply getConnection(Services& s, const Request& req);
Reply updateConnection(Services& s, const Request& req, RevocationWait& wait);
Reply deleteConnection(Services& s, const Request& req, RevocationWait& wait);

// grants.cpp
Reply createGrant(Services& s, const Request& req);
Reply listGrants(Services& s, const Request& req);
Reply updateGrant(Services& s, const Request& req, RevocationWait& wait);
Reply deleteGrant(Services& s, const Request& req, RevocationWait& wait);

// webhook_endpoints.cpp
Reply createWebhookEndpoint(Services& s, const Request& req);
Reply listWebhookEndpoints(Services& s, const Request& req);
Reply getWebhookEndpoint(Services& s, const Request& req);
Reply updateWebhookEndpoint(Services& s, const Request& req);
Reply deleteWebhookEndpoint(Services& s, const Request& req);
Reply rotateWebhookSecret(Services& s, const Request& req);
Reply listWebhookDeliveries(Services& s, const Request& req);

// oauth_clients.cpp
Reply createOAuthClient(Services& s, const Request& req);
Reply listOAuthClients(Services& s, const Request& req);
Reply getOAuthClient(Services& s, const Request& req);
Reply deleteOAuthClient(Services& s, const Request& req);

// connect_sessions.cpp (the API side: settings and sessions)
Reply getConnectSettings(Services& s, const Request& req);
Reply putConnectSettings(Services& s, const Request& req);
Reply createConnectSession(Services& s, const Request& req);
Reply getConnectSession(Services& s, const Request& req);

// connect_pages.cpp (the browser side: no API key, the link or the cookie is the credential)
Reply connectLinkPage(Services& s, const Request& req);
Reply connectContinue(Services& s, const Request& req);
Reply connectCancel(Services& s, const Request& req);
Reply connectCallback(Services& s, const Request& req);
Reply connectStatus(Services& s, const Request& req);
Reply connectAsset(Services& s, const Request& req);

}  // namespace handlers
}  // namespace hydra::cp
