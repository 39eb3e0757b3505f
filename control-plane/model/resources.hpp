#pragma once
// The control plane's resources as the API shows them, and the request bodies that create
// or change them. fromJson validates (FastAPI-shaped 422); toJson encodes.
// No type here holds credentials in a form that toJson could emit.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "control-plane/webhooks/endpoint_url.hpp"
#include "shared/http/errors.hpp"

namespace hydra::cp::model {

struct Customer {
  std::string id, name, created_at;
};

struct ApiKey {
  std::string id, name, created_at;
  std::optional<std::string> revoked_at;
  std::optional<std::string> secret;  // only right after creation, shown once
};

struct Instance {
  std::string id, name, created_at;
  bool disabled = false;  // the kill switch: every fetch of its runtime is refused
};

struct ProxyKey {
  std::string id, instance_id, created_at;
  std::optional<std::string> expires_at, revoked_at;
  std::optional<std::vector<std::string>> allowed_cidrs;  // none: usable from any address
  std::optional<std::string> secret;  // only right after creation, shown once
};

struct AuditEvent {
  long long id = 0;
  std::string occurred_at, outcome, reason, request_id;
  std::optional<std::string> instance_id, proxy_key_id, connection_id, provider, name, capability, peer;
  // A proxied call's (issue 19); null on a fetch's or a refresh's event.
  std::optional<std::string> method, path;
  std::optional<std::int64_t> upstream_status, request_bytes, response_bytes, duration_us;
};

/// At most `requests` proxied calls per `per_seconds`, enforced by each broker.
struct RateLimit {
  long long requests = 0, per_seconds = 0;
};

struct Grant {
  std::string id, connection_id, instance_id;
  std::string capabilities_json;  // a JSON array of strings, as stored
  std::string granted_at;
  std::optional<std::string> expires_at;  // none: no expiry
  bool proxy_only = false;                // the fetch never releases the credentials
  std::optional<RateLimit> rate_limit;    // none: unlimited
};

struct Connection {
  std::string id, customer_id, provider, name, auth_type;
  std::string scopes_json;                   // a JSON array, as stored
  std::optional<std::string> metadata_json;  // a JSON object, as stored
  std::string status;
  std::optional<std::string> error_message, expires_at, last_used_at;
  std::string created_at, updated_at;
  std::vector<Grant> grants;
};

struct WebhookEndpoint {
  std::string id, url, description;
  std::string events_json;  // a JSON array of event types
  bool enabled = true;
  std::optional<std::string> disabled_reason;
  std::optional<std::string> previous_secret_expires_at;  // while the old secret still signs
  std::string created_at, updated_at;
  std::optional<std::string> secret;  // "whsec_...": only right after creation or rotation
};

struct WebhookDelivery {
  long long id = 0;
  std::string webhook_id, event_type, state;
  long long attempts = 0;
  std::optional<long long> last_status_code;
  std::optional<std::string> last_error, last_response, last_attempt_at, next_attempt_at;
  std::string created_at;
};

// Request bodies -------------------------------------------------------------------------

struct NameInput {
  std::string name;
  /// `required`: 1..255 characters; otherwise 0..255 and "" when absent.
  static NameInput fromJson(const rapidjson::Document& body, bool required);
};

struct ConnectionCreate {
  std::string auth_type, provider, name;
  std::string credentials_json;  // plaintext: sealed immediately, never stored or logged
  std::string scopes_json;
  std::optional<std::string> metadata_json;
  static ConnectionCreate fromJson(const rapidjson::Document& body);
};

struct ConnectionUpdate {
  std::optional<std::string> name, scopes_json;
  bool replace_metadata = false;
  std::optional<std::string> metadata_json;
  std::optional<std::string> credentials_json;  // plaintext, as above
  static ConnectionUpdate fromJson(const rapidjson::Document& body);
};

struct InstanceUpdate {
  std::optional<std::string> name;
  std::optional<bool> disabled;
  static InstanceUpdate fromJson(const rapidjson::Document& body);
};

struct ProxyKeyCreate {
  std::optional<long long> expires_in_seconds;  // none: the key lives until revoked
  /// Canonical CIDR blocks (IPv4 and IPv6, at most 32); none: usable from any address.
  std::optional<std::vector<std::string>> allowed_cidrs;
  static ProxyKeyCreate fromJson(const rapidjson::Document& body);
};

/// When a grant ends: an RFC 3339 time in the future (`expires_at`) or a number of seconds from
/// now (`expires_in_seconds`, 60 .. 31,536,000), not both.
struct GrantExpiry {
  std::optional<std::string> at;        // RFC 3339 UTC, whole seconds (PostgreSQL reads it)
  std::optional<long long> in_seconds;
};

struct GrantCreate {
  std::string instance_id;
  std::string capabilities_json;
  GrantExpiry expiry;  // neither: the grant lasts until deleted
  bool proxy_only = false;
  std::optional<RateLimit> rate_limit;
  static GrantCreate fromJson(const rapidjson::Document& body);
  /// One grant object at `loc` (a connect session's "grants" item); nullopt after adding its
  /// problems to `problems`.
  static std::optional<GrantCreate> read(const rapidjson::Value& object, std::vector<http::LocPart> loc,
                                         http::Problems& problems);
};

struct GrantUpdate {
  std::optional<std::string> capabilities_json;
  bool change_expiry = false;  // expires_at or expires_in_seconds given; both absent in expiry: null, no expiry
  GrantExpiry expiry;
  std::optional<bool> proxy_only;  // none: unchanged
  bool change_rate_limit = false;  // rate_limit given; none in rate_limit: null, removed
  std::optional<RateLimit> rate_limit;
  static GrantUpdate fromJson(const rapidjson::Document& body);
};

struct WebhookEndpointCreate {
  std::string url, description;
  std::vector<std::string> events;  // none given: every event type
  /// The URL is checked against `rules` (https, no credentials, no refused literal address).
  static WebhookEndpointCreate fromJson(const rapidjson::Document& body, const webhooks::UrlRules& rules);
};

struct WebhookEndpointUpdate {
  std::optional<std::string> url, description;
  std::optional<std::vector<std::string>> events;
  std::optional<bool> enabled;
  /// null or absent leaves a field unchanged.
  static WebhookEndpointUpdate fromJson(const rapidjson::Document& body, const webhooks::UrlRules& rules);
};

// Encoding ----------------------------------------------------------------------------

std::string toJson(const Customer& customer);
std::string toJson(const ApiKey& key);
std::string toJson(const std::vector<ApiKey>& keys);
std::string toJson(const Instance& instance);
std::string toJson(const std::vector<Instance>& instances);
std::string toJson(const ProxyKey& key);
std::string toJson(const std::vector<ProxyKey>& keys);
/// `next_before`: the cursor for the next (older) page, if there may be one.
std::string toJson(const std::vector<AuditEvent>& events, std::optional<long long> next_before);
/// JSON lines (the export): each event exactly as a page lists it, then "\n".
std::string toJsonLines(const std::vector<AuditEvent>& events);
std::string toJson(const Grant& grant);
std::string toJson(const std::vector<Grant>& grants);
std::string toJson(const Connection& connection);
std::string toJson(const std::vector<Connection>& page, long long total);
std::string toJson(const WebhookEndpoint& endpoint);
std::string toJson(const std::vector<WebhookEndpoint>& endpoints);
/// `next_before`: the cursor for the next (older) page, if there may be one.
std::string toJson(const std::vector<WebhookDelivery>& deliveries, std::optional<long long> next_before);

}  // namespace hydra::cp::model
