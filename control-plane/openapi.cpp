#include "control-plane/openapi.hpp"

namespace hydra::cp::docs {
namespace {

using http::QueryParameter;
using http::RouteDoc;

// Every customer route: the key may be missing or wrong (401), another customer's (403), the
// database away (503); the edge refuses oversized bodies (413) and throttles a peer whose
// authentications keep failing (429), as do changes that narrow access when the customer has
// too many waiting out the revocation wait (handlers/narrowing.hpp).
RouteDoc customerRoute(std::string summary, std::string tag, std::vector<std::pair<int, std::string>> responses,
                       std::string body = "", std::vector<QueryParameter> query = {}) {
  RouteDoc doc{std::move(summary), std::move(tag), "api_key", std::move(query), std::move(body), std::move(responses)};
  for (const int status : {401, 403, 404, 413, 429, 500, 503}) doc.responses.emplace_back(status, "");
  return doc;
}

// The query of newest-first lists paged by id (handlers/paging.hpp).
std::vector<QueryParameter> pageParameters() {
  return {{"limit", false, R"({"type":"integer","minimum":1,"maximum":500,"default":50})", ""},
          {"before", false, R"({"type":"integer","minimum":1})", "Page back: the next_before of the previous page"}};
}

// The audit trail's filters (handlers/audit_events.cpp), for the listing and the export.
std::vector<QueryParameter> auditFilterParameters(bool for_export) {
  const auto time = R"({"type":"string","format":"date-time"})";
  return {
      {"connection_id", false, R"({"type":"string","format":"uuid"})", "Only events about this connection"},
      {"instance_id", false, R"({"type":"string","format":"uuid"})",
       "Only events of this instance (agent runtime)"},
      {"outcome", false, R"({"type":"string","enum":["allowed","denied","error","refreshed","refresh_failed","connected","connect_failed"]})",
       "Only events with this outcome: a fetch's or a proxied call's (allowed, denied, error), a token "
       "refresh's (refreshed, refresh_failed) or a connect flow's code exchange (connected, connect_failed)"},
      {"since", for_export, time,
       std::string("Only events that occurred at or after this time (occurred_at, inclusive): RFC 3339, e.g. "
                   "2026-05-01T00:00:00Z; an offset's + written %2B") +
           (for_export ? ". Required: the export's window is always explicit" : "")},
      {"until", false, time,
       std::string("Only events that occurred before this time (occurred_at, exclusive): RFC 3339; later than since") +
           (for_export ? ". Default: when the export starts" : "")},
  };
}

}  // namespace

const char* schemas() {
  return R"json({
  "OAuthClientCreate": {"title": "OAuthClientCreate", "type": "object", "required": ["client_id", "client_secret", "provider"],
    "properties": {"provider": {"type": "string", "minLength": 1, "maxLength": 50},
                   "client_id": {"type": "string", "minLength": 1, "maxLength": 1024},
                   "client_secret": {"type": "string", "minLength": 1, "maxLength": 4096, "writeOnly": true,
                                     "description": "Sealed to the broker's key at once; never returned"},
                   "scopes": {"type": "array", "items": {"type": "string"}, "maxItems": 100, "default": [],
                              "description": "The client's default scopes for connect sessions"},
                   "authorization_params": {"type": ["object", "null"], "additionalProperties": {"type": "string"},
                                            "maxProperties": 20,
                                            "description": "More authorization request parameters (e.g. access_type, prompt); not response_type, client_id, redirect_uri, scope, state, code_challenge, code_challenge_method"}}},
  "OAuthClient": {"title": "OAuthClient", "type": "object",
    "required": ["authorization_params", "client_id", "created_at", "id", "provider", "scopes"],
    "properties": {"authorization_params": {"type": ["object", "null"], "additionalProperties": {"type": "string"}},
                   "client_id": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"},
                   "id": {"type": "string", "format": "uuid"}, "provider": {"type": "string"},
                   "scopes": {"type": "array", "items": {"type": "string"}}}},
  "OAuthClientList": {"type": "object", "required": ["oauth_clients", "total"],
    "properties": {"oauth_clients": {"type": "array", "items": {"$ref": "#/components/schemas/OAuthClient"}},
                   "total": {"type": "integer"}}},
  "ConnectSettingsUpdate": {"type": "object", "required": ["allowed_redirect_urls"],
    "properties": {"allowed_redirect_urls": {"type": "array", "maxItems": 20,
                                             "items": {"type": "string", "maxLength": 2048},
                                             "description": "Absolute http(s) URLs, no fragment: the only success_url / error_url values sessions may give (exact match)"}}},
  "ConnectSettings": {"type": "object", "required": ["allowed_redirect_urls", "updated_at"],
    "properties": {"allowed_redirect_urls": {"type": "array", "items": {"type": "string"}},
                   "updated_at": {"type": ["string", "null"], "format": "date-time"}}},
  "ConnectSessionCreate": {"title": "ConnectSessionCreate", "type": "object", "required": ["provider"],
    "properties": {"provider": {"type": "string", "minLength": 1, "maxLength": 50,
                                "description": "A provider the brokers' registry offers for the connect flow"},
                   "name": {"type": "string", "minLength": 1, "maxLength": 255,
                            "description": "The new connection's name; not with connection_id"},
                   "connection_id": {"type": "string", "format": "uuid",
                                     "description": "An oauth2 connection of this provider to re-authorise; not with name"},
                   "oauth_client_id": {"type": "string", "format": "uuid",
                                       "description": "This customer's OAuth client; absent: the provider's shared client"},
                   "scopes": {"type": "array", "items": {"type": "string"}, "maxItems": 100,
                              "description": "Default: the client's scopes, else the provider's default scopes"},
                   "metadata_json": {"type": ["object", "null"]},
                   "grants": {"type": "array", "maxItems": 20, "items": {"$ref": "#/components/schemas/GrantCreate"},
                              "description": "Grants the new connection gets when the user returns from the provider"},
                   "success_url": {"type": "string", "maxLength": 2048,
                                   "description": "Where the browser goes once connected (with ?connection_id=); must be in connect-settings"},
                   "error_url": {"type": "string", "maxLength": 2048,
                                 "description": "Where the browser goes on failure or cancel (with ?error=); must be in connect-settings"}}},
  "ConnectSession": {"title": "ConnectSession", "type": "object",
    "required": ["connection_id", "created_at", "error", "expires_at", "id", "provider", "status", "updated_at"],
    "properties": {"connect_url": {"type": "string", "description": "Only when created: the single-use link for the end user"},
                   "connection_id": {"type": ["string", "null"], "format": "uuid"},
                   "created_at": {"type": "string", "format": "date-time"},
                   "error": {"type": ["string", "null"]},
                   "expires_at": {"type": "string", "format": "date-time"},
                   "id": {"type": "string", "format": "uuid"}, "provider": {"type": "string"},
                   "status": {"type": "string",
                              "enum": ["pending", "authorizing", "exchanging", "connected", "failed", "expired"]},
                   "updated_at": {"type": "string", "format": "date-time"}}},
  "ConnectStatus": {"type": "object", "required": ["connection_id", "error", "location", "status"],
    "properties": {"connection_id": {"type": ["string", "null"], "format": "uuid"},
                   "error": {"type": ["string", "null"]},
                   "location": {"type": ["string", "null"], "description": "Where the waiting page sends the browser once ended"},
                   "status": {"type": "string"}}},
  "CustomerCreate": {"title": "CustomerCreate", "type": "object", "required": ["name"],
    "properties": {"name": {"title": "Name", "type": "string", "minLength": 1, "maxLength": 255}}},
  "Customer": {"title": "Customer", "type": "object", "required": ["created_at", "id", "name"],
    "properties": {"created_at": {"type": "string", "format": "date-time"}, "id": {"type": "string", "format": "uuid"},
                   "name": {"type": "string"}}},
  "ApiKeyCreate": {"title": "ApiKeyCreate", "type": "object",
    "properties": {"name": {"title": "Name", "type": "string", "maxLength": 255}}},
  "ApiKey": {"title": "ApiKey", "type": "object", "required": ["created_at", "id", "name", "revoked_at"],
    "properties": {"created_at": {"type": "string", "format": "date-time"}, "id": {"type": "string", "format": "uuid"},
                   "name": {"type": "string"}, "revoked_at": {"type": ["string", "null"], "format": "date-time"}}},
  "ApiKeyCreated": {"title": "ApiKeyCreated", "type": "object",
    "required": ["api_key", "created_at", "id", "name", "revoked_at"],
    "properties": {"api_key": {"type": "string", "description": "Shown only here"},
                   "created_at": {"type": "string", "format": "date-time"}, "id": {"type": "string", "format": "uuid"},
                   "name": {"type": "string"}, "revoked_at": {"type": ["string", "null"], "format": "date-time"}}},
  "ApiKeyList": {"type": "object", "required": ["api_keys"],
    "properties": {"api_keys": {"type": "array", "items": {"$ref": "#/components/schemas/ApiKey"}}}},
  "InstanceCreate": {"title": "InstanceCreate", "type": "object", "required": ["name"],
    "properties": {"name": {"title": "Name", "type": "string", "minLength": 1, "maxLength": 255}}},
  "InstanceUpdate": {"title": "InstanceUpdate", "type": "object",
    "properties": {"name": {"title": "Name", "type": "string", "minLength": 1, "maxLength": 255},
                   "disabled": {"title": "Disabled", "type": "boolean",
                                "description": "The kill switch: every fetch of the instance is refused"}}},
  "Instance": {"title": "Instance", "type": "object", "required": ["created_at", "disabled", "id", "name"],
    "properties": {"created_at": {"type": "string", "format": "date-time"}, "disabled": {"type": "boolean"},
                   "id": {"type": "string", "format": "uuid"}, "name": {"type": "string"}}},
  "InstanceList": {"type": "object", "required": ["instances"],
    "properties": {"instances": {"type": "array", "items": {"$ref": "#/components/schemas/Instance"}}}},
  "ProxyKeyCreate": {"title": "ProxyKeyCreate", "type": "object",
    "properties": {"expires_in_seconds": {"type": "integer", "minimum": 60, "maximum": 31536000},
                   "allowed_cidrs": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 32,
                                     "description": "IPv4 and IPv6 networks the key may be used from"}}},
  "ProxyKey": {"title": "ProxyKey", "type": "object",
    "required": ["allowed_cidrs", "created_at", "expires_at", "id", "instance_id", "revoked_at"],
    "properties": {"allowed_cidrs": {"type": ["array", "null"], "items": {"type": "string"}},
                   "created_at": {"type": "string", "format": "date-time"},
                   "expires_at": {"type": ["string", "null"], "format": "date-time"},
                   "id": {"type": "string", "format": "uuid"}, "instance_id": {"type": "string", "format": "uuid"},
                   "revoked_at": {"type": ["string", "null"], "format": "date-time"}}},
  "ProxyKeyCreated": {"title": "ProxyKeyCreated", "type": "object",
    "required": ["allowed_cidrs", "created_at", "expires_at", "id", "instance_id", "proxy_key", "revoked_at"],
    "properties": {"allowed_cidrs": {"type": ["array", "null"], "items": {"type": "string"}},
                   "created_at": {"type": "string", "format": "date-time"},
                   "expires_at": {"type": ["string", "null"], "format": "date-time"},
                   "id": {"type": "string", "format": "uuid"}, "instance_id": {"type": "string", "format": "uuid"},
                   "proxy_key": {"type": "string", "description": "Shown only here"},
                   "revoked_at": {"type": ["string", "null"], "format": "date-time"}}},
  "ProxyKeyList": {"type": "object", "required": ["proxy_keys"],
    "properties": {"proxy_keys": {"type": "array", "items": {"$ref": "#/components/schemas/ProxyKey"}}}},
  "AuditEvent": {"title": "AuditEvent", "type": "object",
    "description": "A fetch, a token refresh or a proxied call. method, path, upstream_status, request_bytes, response_bytes and duration_us describe a proxied call and are null on the others.",
    "required": ["capability", "connection_id", "duration_us", "id", "instance_id", "method", "name", "occurred_at",
                 "outcome", "path", "peer", "provider", "proxy_key_id", "reason", "request_bytes", "request_id",
                 "response_bytes", "upstream_status"],
    "properties": {"capability": {"type": ["string", "null"]},
                   "connection_id": {"type": ["string", "null"], "format": "uuid"},
                   "duration_us": {"type": ["integer", "null"], "minimum": 0,
                                   "description": "Proxied call: the upstream exchange, in microseconds"},
                   "id": {"type": "integer"}, "instance_id": {"type": ["string", "null"], "format": "uuid"},
                   "method": {"type": ["string", "null"], "description": "Proxied call: the request's HTTP method"},
                   "name": {"type": ["string", "null"]}, "occurred_at": {"type": "string", "format": "date-time"},
                   "outcome": {"type": "string"},
                   "path": {"type": ["string", "null"],
                            "description": "Proxied call: the normalised provider path, without the query string"},
                   "peer": {"type": ["string", "null"]},
                   "provider": {"type": ["string", "null"]},
                   "proxy_key_id": {"type": ["string", "null"], "format": "uuid"},
                   "reason": {"type": "string"},
                   "request_bytes": {"type": ["integer", "null"], "minimum": 0,
                                     "description": "Proxied call: body bytes sent to the provider"},
                   "request_id": {"type": "string"},
                   "response_bytes": {"type": ["integer", "null"], "minimum": 0,
                                      "description": "Proxied call: body bytes the provider answered"},
                   "upstream_status": {"type": ["integer", "null"], "minimum": 100, "maximum": 599,
                                       "description": "Proxied call: the provider's status; null when it did not answer"}}},
  "AuditEventList": {"type": "object", "required": ["events", "next_before"],
    "properties": {"events": {"type": "array", "items": {"$ref": "#/components/schemas/AuditEvent"}},
                   "next_before": {"type": ["integer", "null"]}}},
  "ConnectionCreate": {"title": "ConnectionCreate", "type": "object", "required": ["credentials", "name", "provider"],
    "properties": {"auth_type": {"title": "Auth Type", "type": "string", "enum": ["oauth2", "api_key", "basic"],
                                 "default": "oauth2"},
                   "credentials": {"title": "Credentials", "type": "object",
                                   "description": "Provider credentials (stored encrypted)"},
                   "metadata_json": {"title": "Metadata Json", "type": ["object", "null"]},
                   "name": {"title": "Name", "type": "string", "maxLength": 255,
                            "description": "admin@iqm.com.au, IQM Master Roster, etc."},
                   "provider": {"title": "Provider", "type": "string", "maxLength": 50,
                                "description": "gmail, xero, google_calendar, deputy, etc."},
                   "scopes": {"title": "Scopes", "type": ["array", "null"], "items": {}}}},
  "ConnectionUpdate": {"title": "ConnectionUpdate", "type": "object",
    "properties": {"credentials": {"type": "object", "description": "Replaces the stored credentials (re-encrypted); status becomes active"},
                   "metadata_json": {"type": ["object", "null"]},
                   "name": {"type": "string", "minLength": 1, "maxLength": 255},
                   "scopes": {"type": ["array", "null"], "items": {}}}},
  "Connection": {"title": "Connection", "type": "object",
    "required": ["auth_type", "created_at", "customer_id", "error_message", "expires_at", "grants", "id",
                 "last_used_at", "name", "provider", "scopes", "status", "updated_at"],
    "properties": {"auth_type": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"},
                   "customer_id": {"type": "string", "format": "uuid"},
                   "error_message": {"type": ["string", "null"]},
                   "expires_at": {"type": ["string", "null"], "format": "date-time"},
                   "grants": {"type": "array", "items": {"$ref": "#/components/schemas/Grant"}},
                   "id": {"type": "string", "format": "uuid"},
                   "last_used_at": {"type": ["string", "null"], "format": "date-time"},
                   "metadata_json": {"type": ["object", "null"]}, "name": {"type": "string"},
                   "provider": {"type": "string"}, "scopes": {"type": ["array", "null"], "items": {}},
                   "status": {"type": "string"}, "updated_at": {"type": "string", "format": "date-time"}}},
  "ConnectionList": {"type": "object", "required": ["connections", "total"],
    "properties": {"connections": {"type": "array", "items": {"$ref": "#/components/schemas/Connection"}},
                   "total": {"type": "integer"}}},
  "GrantCreate": {"title": "GrantCreate", "type": "object", "required": ["capabilities", "instance_id"],
    "properties": {"capabilities": {"title": "Capabilities", "type": "array", "items": {"type": "string"},
                                    "description": "Provider-specific capabilities (e.g. send_mail, read_events)"},
                   "instance_id": {"title": "Instance Id", "type": "string", "format": "uuid"},
                   "expires_at": {"type": "string", "format": "date-time", "description": "In the future; not with expires_in_seconds"},
                   "expires_in_seconds": {"type": "integer", "minimum": 60, "maximum": 31536000},
                   "proxy_only": {"title": "Proxy Only", "type": "boolean", "default": false,
                                  "description": "The fetch never releases the credentials (403): the capabilities are usable only through the broker's proxy"},
                   "rate_limit": {"anyOf": [{"$ref": "#/components/schemas/RateLimit"}, {"type": "null"}],
                                  "description": "Proxied calls allowed per period, by each broker; null or absent: unlimited"}}},
  "GrantUpdate": {"title": "GrantUpdate", "type": "object",
    "properties": {"capabilities": {"type": "array", "items": {"type": "string"}},
                   "expires_at": {"type": ["string", "null"], "format": "date-time", "description": "null: no end"},
                   "expires_in_seconds": {"type": "integer", "minimum": 60, "maximum": 31536000},
                   "proxy_only": {"type": "boolean", "description": "true narrows access: answered after the revocation wait"},
                   "rate_limit": {"anyOf": [{"$ref": "#/components/schemas/RateLimit"}, {"type": "null"}],
                                  "description": "null: unlimited; absent: unchanged"}}},
  "RateLimit": {"title": "RateLimit", "type": "object", "required": ["per_seconds", "requests"],
    "additionalProperties": false,
    "properties": {"per_seconds": {"title": "Per Seconds", "type": "integer", "minimum": 1, "maximum": 86400},
                   "requests": {"title": "Requests", "type": "integer", "minimum": 1, "maximum": 1000000}}},
  "Grant": {"title": "Grant", "type": "object",
    "required": ["capabilities", "connection_id", "expires_at", "granted_at", "id", "instance_id", "proxy_only",
                 "rate_limit"],
    "properties": {"capabilities": {"type": "array", "items": {"type": "string"}},
                   "connection_id": {"type": "string", "format": "uuid"},
                   "expires_at": {"type": ["string", "null"], "format": "date-time"},
                   "granted_at": {"type": "string", "format": "date-time"},
                   "id": {"type": "string", "format": "uuid"}, "instance_id": {"type": "string", "format": "uuid"},
                   "proxy_only": {"type": "boolean"},
                   "rate_limit": {"anyOf": [{"$ref": "#/components/schemas/RateLimit"}, {"type": "null"}]}}},
  "GrantList": {"type": "object", "required": ["grants"],
    "properties": {"grants": {"type": "array", "items": {"$ref": "#/components/schemas/Grant"}}}},
  "WebhookEndpointCreate": {"title": "WebhookEndpointCreate", "type": "object", "required": ["url"],
    "properties": {"url": {"type": "string", "maxLength": 2048, "description": "https (http only to loopback, when allowed)"},
                   "events": {"type": "array", "items": {"type": "string"}, "description": "Default: every event type"},
                   "description": {"type": "string"}}},
  "WebhookEndpointUpdate": {"title": "WebhookEndpointUpdate", "type": "object",
    "properties": {"url": {"type": "string", "maxLength": 2048}, "events": {"type": "array", "items": {"type": "string"}},
                   "description": {"type": "string"}, "enabled": {"type": "boolean"}}},
  "WebhookEndpoint": {"title": "WebhookEndpoint", "type": "object",
    "required": ["created_at", "description", "disabled_reason", "enabled", "events", "id",
                 "previous_secret_expires_at", "updated_at", "url"],
    "properties": {"created_at": {"type": "string", "format": "date-time"}, "description": {"type": "string"},
                   "disabled_reason": {"type": ["string", "null"]}, "enabled": {"type": "boolean"},
                   "events": {"type": "array", "items": {"type": "string"}}, "id": {"type": "string", "format": "uuid"},
                   "previous_secret_expires_at": {"type": ["string", "null"], "format": "date-time"},
                   "secret": {"type": "string", "description": "whsec_...; only when created or rotated"},
                   "updated_at": {"type": "string", "format": "date-time"}, "url": {"type": "string"}}},
  "WebhookEndpointList": {"type": "object", "required": ["webhook_endpoints"],
    "properties": {"webhook_endpoints": {"type": "array", "items": {"$ref": "#/components/schemas/WebhookEndpoint"}}}},
  "WebhookDelivery": {"title": "WebhookDelivery", "type": "object",
    "required": ["attempts", "created_at", "event_type", "id", "last_attempt_at", "last_error", "last_response",
                 "last_status_code", "next_attempt_at", "state", "webhook_id"],
    "properties": {"attempts": {"type": "integer"}, "created_at": {"type": "string", "format": "date-time"},
                   "event_type": {"type": "string"}, "id": {"type": "integer"},
                   "last_attempt_at": {"type": ["string", "null"], "format": "date-time"},
                   "last_error": {"type": ["string", "null"]}, "last_response": {"type": ["string", "null"]},
                   "last_status_code": {"type": ["integer", "null"]},
                   "next_attempt_at": {"type": ["string", "null"], "format": "date-time"},
                   "state": {"type": "string", "enum": ["pending", "delivered", "failed"]},
                   "webhook_id": {"type": "string"}}},
  "WebhookDeliveryList": {"type": "object", "required": ["deliveries", "next_before"],
    "properties": {"deliveries": {"type": "array", "items": {"$ref": "#/components/schemas/WebhookDelivery"}},
                   "next_before": {"type": ["integer", "null"]}}}
})json";
}

RouteDoc createCustomer() {
  RouteDoc doc{"Create a customer (operator)", "admin", "admin", {}, "CustomerCreate", {{201, "Customer"}}};
  for (const int status : {401, 413, 429, 500, 503}) doc.responses.emplace_back(status, "");
  return doc;
}

RouteDoc createApiKey() {
  auto doc = customerRoute("Create an API key (shown only in this answer)", "api-keys", {{201, "ApiKeyCreated"}},
                           "ApiKeyCreate");
  doc.auth = "admin_or_api_key";
  return doc;
}
RouteDoc listApiKeys() { return customerRoute("List API keys (no secrets)", "api-keys", {{200, "ApiKeyList"}}); }
RouteDoc revokeApiKey() { return customerRoute("Revoke an API key", "api-keys", {{204, ""}}); }

RouteDoc createInstance() {
  return customerRoute("Create an instance (an agent runtime)", "instances", {{201, "Instance"}}, "InstanceCreate");
}
RouteDoc listInstances() { return customerRoute("List instances", "instances", {{200, "InstanceList"}}); }
RouteDoc updateInstance() {
  return customerRoute("Rename an instance or switch it off and on (disabled)", "instances", {{200, "Instance"}},
                       "InstanceUpdate");
}
RouteDoc deleteInstance() {
  return customerRoute("Delete an instance, its grants and proxy keys", "instances", {{204, ""}});
}

RouteDoc createProxyKey() {
  return customerRoute("Create a proxy key for an instance (shown only in this answer)", "proxy-keys",
                       {{201, "ProxyKeyCreated"}}, "ProxyKeyCreate");
}
RouteDoc listProxyKeys() { return customerRoute("List an instance's proxy keys", "proxy-keys", {{200, "ProxyKeyList"}}); }
RouteDoc revokeProxyKey() { return customerRoute("Revoke a proxy key", "proxy-keys", {{204, ""}}); }

RouteDoc listAuditEvents() {
  auto query = auditFilterParameters(false);
  for (auto& p : pageParameters()) query.push_back(std::move(p));
  return customerRoute("The broker's decisions, newest first; filters combine, and hold across pages", "audit",
                       {{200, "AuditEventList"}}, "", std::move(query));
}
RouteDoc exportAuditEvents() {
  auto doc = customerRoute(
      "Export the broker's decisions as JSON lines, oldest first: one AuditEvent per line (exactly as the listing "
      "has it), streamed in chunks; an answer cut off (no last chunk, the connection closed) is incomplete: export "
      "again from the last occurred_at received",
      "audit", {{200, "AuditEvent"}}, "", auditFilterParameters(true));
  doc.media_type = "application/x-ndjson";
  doc.responses.emplace_back(505, "");  // HTTP/1.0: no chunked answers
  return doc;
}

RouteDoc listConnections() {
  return customerRoute("List Connections", "connections", {{200, "ConnectionList"}}, "",
                       {{"provider", false, R"({"type":"string","maxLength":50})", ""},
                        {"status", false, R"({"type":"string","enum":["pending","active","expired","error"]})", ""},
                        {"limit", false, R"({"type":"integer","minimum":1,"maximum":500,"default":50})", ""},
                        {"offset", false, R"({"type":"integer","minimum":0,"default":0})", ""}});
}
RouteDoc createConnection() {
  auto doc = customerRoute("Create Connection", "connections", {{201, "Connection"}}, "ConnectionCreate");
  doc.responses.emplace_back(409, "");
  return doc;
}
RouteDoc getConnection() { return customerRoute("Get Connection", "connections", {{200, "Connection"}}); }
RouteDoc updateConnection() {
  auto doc = customerRoute("Update Connection", "connections", {{200, "Connection"}}, "ConnectionUpdate");
  doc.responses.emplace_back(409, "");
  return doc;
}
RouteDoc deleteConnection() { return customerRoute("Delete Connection", "connections", {{204, ""}}); }

RouteDoc createGrant() {
  auto doc = customerRoute("Create Grant", "grants", {{201, "Grant"}}, "GrantCreate");
  doc.responses.emplace_back(409, "");
  return doc;
}
RouteDoc listGrants() { return customerRoute("List a connection's grants", "grants", {{200, "GrantList"}}); }
RouteDoc updateGrant() {
  return customerRoute("Change a grant's capabilities, end, proxy-only flag or rate limit", "grants", {{200, "Grant"}},
                       "GrantUpdate");
}
RouteDoc deleteGrant() { return customerRoute("Delete Grant", "grants", {{204, ""}}); }

RouteDoc createWebhookEndpoint() {
  return customerRoute("Register a webhook endpoint (its secret is shown only in this answer)", "webhooks",
                       {{201, "WebhookEndpoint"}}, "WebhookEndpointCreate");
}
RouteDoc listWebhookEndpoints() {
  return customerRoute("List webhook endpoints", "webhooks", {{200, "WebhookEndpointList"}});
}
RouteDoc getWebhookEndpoint() { return customerRoute("Get a webhook endpoint", "webhooks", {{200, "WebhookEndpoint"}}); }
RouteDoc updateWebhookEndpoint() {
  return customerRoute("Change a webhook endpoint", "webhooks", {{200, "WebhookEndpoint"}}, "WebhookEndpointUpdate");
}
RouteDoc deleteWebhookEndpoint() { return customerRoute("Delete a webhook endpoint", "webhooks", {{204, ""}}); }
RouteDoc rotateWebhookSecret() {
  return customerRoute("A new signing secret; the old one signs too for 24 hours", "webhooks",
                       {{200, "WebhookEndpoint"}});
}
RouteDoc listWebhookDeliveries() {
  return customerRoute("An endpoint's deliveries, newest first", "webhooks", {{200, "WebhookDeliveryList"}}, "",
                       pageParameters());
}


RouteDoc createOAuthClient() {
  return customerRoute("Create an OAuth client (its secret is sealed to the broker and never returned)", "connect",
                       {{201, "OAuthClient"}}, "OAuthClientCreate");
}
RouteDoc listOAuthClients() {
  return customerRoute("List OAuth clients", "connect", {{200, "OAuthClientList"}}, "",
                       {{"provider", false, R"({"type":"string","maxLength":50})", ""},
                        {"limit", false, R"({"type":"integer","minimum":1,"maximum":500,"default":50})", ""},
                        {"offset", false, R"({"type":"integer","minimum":0,"default":0})", ""}});
}
RouteDoc getOAuthClient() { return customerRoute("Get an OAuth client", "connect", {{200, "OAuthClient"}}); }
RouteDoc deleteOAuthClient() {
  return customerRoute("Delete an OAuth client (connect sessions not yet past the provider that use it fail)", "connect",
                       {{204, ""}});
}
RouteDoc getConnectSettings() {
  return customerRoute("Get the connect settings (the redirect allow-list)", "connect", {{200, "ConnectSettings"}});
}
RouteDoc putConnectSettings() {
  return customerRoute("Replace the connect settings", "connect", {{200, "ConnectSettings"}}, "ConnectSettingsUpdate");
}
RouteDoc createConnectSession() {
  auto doc = customerRoute("Create a connect session: a single-use link for an end user to authorise a provider",
                           "connect", {{201, "ConnectSession"}}, "ConnectSessionCreate");
  doc.responses.emplace_back(409, "");
  doc.responses.emplace_back(501, "");
  return doc;
}
RouteDoc getConnectSession() {
  return customerRoute("Get a connect session's status", "connect", {{200, "ConnectSession"}});
}

namespace {
// The pages: no API key (the link's token or the browser's cookie is the credential), HTML.
RouteDoc pageRoute(std::string summary, std::vector<std::pair<int, std::string>> responses, bool token) {
  RouteDoc doc{std::move(summary), "connect-pages", "", {}, "", std::move(responses), "text/html"};
  if (token) doc.path = {{"token", R"({"type":"string"})", "The link's token (from connect_url)"}};
  return doc;
}
}  // namespace

RouteDoc connectLinkPage() {
  return pageRoute("The connect link's page: who asks, for which provider, what access", {{200, "string"}, {404, "string"}, {410, "string"}},
                   true);
}
RouteDoc connectContinue() {
  return pageRoute("Continue: sets the browser's cookie and redirects to the provider",
                   {{302, ""}, {404, "string"}, {409, "string"}, {410, "string"}}, true);
}
RouteDoc connectCancel() {
  return pageRoute("Cancel: the session fails (access_denied); redirects to error_url or says so",
                   {{200, "string"}, {302, ""}, {404, "string"}, {410, "string"}}, true);
}
RouteDoc connectCallback() {
  auto doc = pageRoute("The provider's redirect (the redirect URI to register: HYDRA_PUBLIC_URL/connect/callback)",
                       {{200, "string"}, {302, ""}, {400, "string"}, {409, "string"}, {410, "string"}}, false);
  doc.query = {{"code", false, R"({"type":"string"})", ""},
               {"state", false, R"({"type":"string"})", ""},
               {"error", false, R"({"type":"string"})", ""},
               {"error_description", false, R"({"type":"string"})", ""}};
  return doc;
}
RouteDoc connectStatus() {
  RouteDoc doc{"The waiting page's poll (the browser's cookie authenticates it)", "connect-pages", "", {}, "",
               {{200, "ConnectStatus"}, {404, ""}}};
  return doc;
}
RouteDoc connectAsset() {
  RouteDoc doc{"A style sheet or script of the connect pages", "connect-pages", "", {}, "", {{200, "string"}, {404, ""}}, "*/*"};
  doc.path = {{"name", R"({"type":"string"})", "The asset's name as the pages link it (with its content's hash)"}};
  return doc;
}

}  // namespace hydra::cp::docs
