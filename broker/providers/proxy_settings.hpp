#pragma once
// A provider's "proxy" and "capabilities" entries in the registry (README, "Proxied calls:
// the registry"), parsed the same way for the built-ins and HYDRA_PROVIDERS_FILE.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "broker/proxy/capability_rules.hpp"

namespace hydra::broker::providers {

/// A base URL whose host is the connection's: "https://{host}" (optionally ":port" and a path
/// after it), where {host} is the connection metadata's `field`, a DNS name ending in `suffix`
/// (".deputy.com") with at least one label of its own before it.
struct HostFromMetadata {
  std::string field;
  std::string suffix;  // lower case, starts with '.'
};

/// A header the broker sets from the connection's metadata (Xero's tenant): the runtime can
/// never set it, so a connection reaches only the tenant its metadata names.
struct HeaderFromMetadata {
  std::string field;
  std::string header;  // as written in the registry
};

/// Where an api_key connection's `credentials.api_key` goes.
struct ApiKeyPlacement {
  enum class In { kHeader, kQuery } in = In::kHeader;
  std::string name;    // the header or query parameter
  std::string prefix;  // before the key in a header ("Token "); empty for a query parameter
};

struct ProxySettings {
  std::string base_url;  // as written: "https://api.xero.com", "https://{host}"
  std::optional<HostFromMetadata> host_from_metadata;
  std::optional<HeaderFromMetadata> header_from_metadata;
  std::optional<ApiKeyPlacement> api_key;     // none: api_key connections cannot be proxied
  std::vector<std::string> request_headers;   // lower case, passed beyond kDefaultRequestHeaders
  std::vector<std::string> response_headers;  // lower case, passed beyond kDefaultResponseHeaders
};

/// Request headers a runtime may send through to every provider (lower case).
extern const std::vector<std::string> kDefaultRequestHeaders;
/// Response headers passed back from every provider (lower case).
extern const std::vector<std::string> kDefaultResponseHeaders;

/// A problem in an entry: what() is "<where>: <what is wrong>", `where` relative to the
/// provider's entry ("proxy.base_url", "capabilities.send_mail.allow[0]").
struct SettingsError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The "proxy" object; throws SettingsError.
ProxySettings parseProxySettings(const rapidjson::Value& proxy);

/// The "capabilities" object merged into `table`: each capability given replaces the one of
/// that name, null removes it. Throws SettingsError naming the capability and the rule.
void mergeCapabilities(const rapidjson::Value& capabilities, proxy::CapabilityTable& table);

/// https://host[:port][/path] (plain http only to loopback), no query, fragment or user info,
/// no trailing '/'; with `templated`, the host is "{host}" and the scheme https.
bool isAllowedBaseUrl(const std::string& url, bool templated);

/// A DNS name in lower case: labels of 1 to 63 letters, digits and '-' (not first or last),
/// 253 characters at most, no trailing '.'.
bool isHostname(std::string_view name);

}  // namespace hydra::broker::providers
