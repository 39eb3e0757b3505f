#pragma once
// The broker's provider registry: where each provider's tokens are refreshed and, for proxied
// calls (issue 19), where its API lives, how a connection's credential is added, which headers
// cross, and what each capability name allows. Only the operator decides this (built-ins,
// builtin.cpp, plus HYDRA_PROVIDERS_FILE, read by the same code): a customer, or the control
// plane, can never make the broker call an address or reach an endpoint of their choosing.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/providers/proxy_settings.hpp"
#include "broker/proxy/capability_rules.hpp"

namespace hydra::broker::providers {

struct Provider {
  std::string token_url;
  enum class ClientAuth { kBasic, kPost } client_auth = ClientAuth::kPost;
  std::string client_id;
  std::string client_secret;  // read from client_secret_file; empty if none configured
  bool rotates_refresh_tokens = false;
  std::optional<ProxySettings> proxy;  // none: the provider cannot be proxied
  proxy::CapabilityTable capabilities;
  // The connect flow (issue 20): where the control plane sends an end user's browser, published
  // into connect_providers at start-up (providers/publish.cpp). Empty: no connect flow.
  std::string authorization_url;
  bool pkce = false;                                    // the provider takes S256 challenges
  std::vector<std::string> default_scopes;              // asked for when a session names none
  std::map<std::string, std::string> scope_descriptions;  // scope -> what it allows, in words
};

class ProviderRegistry {
 public:
  /// The built-in providers (google, gmail, google_calendar, microsoft, xero, deputy),
  /// extended or overridden by the JSON file `path` when given. Throws config::ConfigError
  /// naming HYDRA_PROVIDERS_FILE (and the provider, field, capability and rule) for an
  /// unreadable file, a bad entry, a client secret file others may read, a token_url,
  /// authorization_url or base_url that is not https (plain http only to loopback), or a rule
  /// parseRule refuses.
  static ProviderRegistry load(const std::optional<std::string>& path);
  /// The same from the file's text; `source` names it in errors (tests, `providers check`).
  static ProviderRegistry fromText(std::string_view file_json, const std::string& source);

  const Provider* find(const std::string& provider) const;
  /// Every provider name, for the background refresh's query.
  std::vector<std::string> names() const;
  const std::map<std::string, Provider>& all() const { return providers_; }

 private:
  std::map<std::string, Provider> providers_;
};

/// https, or http to a loopback address (tests only).
bool isAllowedTokenUrl(const std::string& url);

/// The built-in registry as JSON, in the file's format (builtin.cpp).
std::string_view builtInProvidersJson();

}  // namespace hydra::broker::providers
