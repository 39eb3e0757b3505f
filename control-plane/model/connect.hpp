#pragma once
// The connect flow's resources (issue 20): customers' OAuth clients, their redirect allow-list
// and connect sessions, with the request bodies that make them. As in resources.hpp, fromJson
// validates (FastAPI-shaped 422) and toJson encodes; no type here can emit a client secret.

#include <optional>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "control-plane/model/resources.hpp"

namespace hydra::cp::model {

/// The parameters the flow sets itself: a client's authorization_params may not name them.
const std::vector<std::string>& reservedAuthorizationParams();

struct OAuthClient {
  std::string id, provider, client_id;
  std::string scopes_json;                           // a JSON array of strings
  std::optional<std::string> authorization_params_json;  // a JSON object of strings
  std::string created_at;
};

struct OAuthClientCreate {
  std::string provider, client_id;
  std::string client_secret;  // plaintext: sealed at once, never stored, returned or logged
  std::string scopes_json;
  std::optional<std::string> authorization_params_json;
  static OAuthClientCreate fromJson(const rapidjson::Document& body);
};

struct ConnectSettings {
  std::vector<std::string> allowed_redirect_urls;
  std::optional<std::string> updated_at;  // none: never set
  static ConnectSettings fromJson(const rapidjson::Document& body);
};

struct ConnectSessionCreate {
  std::string provider;
  std::optional<std::string> name, connection_id;  // exactly one
  std::optional<std::string> oauth_client_id;
  std::optional<std::vector<std::string>> scopes;  // none: the client's, else the provider's
  std::optional<std::string> metadata_json;
  std::vector<GrantCreate> grants;
  std::optional<std::string> success_url, error_url;
  static ConnectSessionCreate fromJson(const rapidjson::Document& body);
};

struct ConnectSession {
  std::string id, provider, status;
  std::optional<std::string> connection_id, error;
  std::string expires_at, created_at, updated_at;
  std::optional<std::string> connect_url;  // only in the answer that creates it
};

/// Grants as connect_sessions.grants stores them (and the callback reads them back):
/// [{"capabilities", "expires_at", "expires_in_seconds", "instance_id", "proxy_only", "rate_limit"}].
std::string grantsToJson(const std::vector<GrantCreate>& grants);
/// The stored form back; throws std::runtime_error if it is not that shape.
std::vector<GrantCreate> grantsFromJson(const std::string& json);
/// A JSON array of strings back (scopes as stored); throws std::runtime_error otherwise.
std::vector<std::string> stringsFromJson(const std::string& json);

std::string toJson(const OAuthClient& client);
std::string toJson(const std::vector<OAuthClient>& page, long long total);
std::string toJson(const ConnectSettings& settings);
std::string toJson(const ConnectSession& session);

}  // namespace hydra::cp::model
