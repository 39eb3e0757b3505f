#pragma once
// Where the broker refreshes each provider's tokens. Only the operator decides this (built-in
// defaults plus HYDRA_PROVIDERS_FILE): a customer can never make the broker, which sits on a
// private network, call an address of their choosing.

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hydra::broker::oauth {

struct Provider {
  std::string token_url;
  enum class ClientAuth { kBasic, kPost } client_auth = ClientAuth::kPost;
  std::string client_id;
  std::string client_secret;  // read from client_secret_file; empty if none configured
  bool rotates_refresh_tokens = false;
};

class ProviderRegistry {
 public:
  /// The built-in providers (google, gmail, google_calendar, microsoft, xero, deputy),
  /// extended or overridden by the JSON file `path` when given. Throws config::ConfigError
  /// naming HYDRA_PROVIDERS_FILE for an unreadable file, a bad entry, a client secret file
  /// others may read, or a token_url that is not https (plain http only to loopback).
  static ProviderRegistry load(const std::optional<std::string>& path);

  const Provider* find(const std::string& provider) const;
  /// Every provider name, for the background refresh's query.
  std::vector<std::string> names() const;

 private:
  std::map<std::string, Provider> providers_;
};

/// https, or http to a loopback address (tests only).
bool isAllowedTokenUrl(const std::string& url);

}  // namespace hydra::broker::oauth
