#pragma once
// What the proxy route asks the registry before a provider call (issue 19): where the call
// goes for this connection, how its credential is added, and which headers cross. Pure
// functions of the registry's settings and the connection's stored fields, so every refusal
// is decided before any connection is made.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "broker/providers/proxy_settings.hpp"

namespace hydra::broker::providers {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

/// Why a connection cannot be proxied, in words for a refusal's detail (never a secret).
struct NotProxyable {
  std::string why;
};

/// Where the connection's calls go: `base_url` + the normalised path (+ the query string).
struct Upstream {
  std::string base_url;     // "https://acme.au.deputy.com", no trailing '/'
  std::string scheme;       // "https" ("http" only for a loopback base written in the registry)
  std::string host;         // lower case, to resolve and check before connecting
  std::uint16_t port = 0;   // explicit or the scheme's
  std::string path_prefix;  // "" or "/api" (no trailing '/'), before the proxied path
  HeaderList headers;       // set by the broker from metadata (Xero-Tenant-Id)
};

/// The upstream of a connection whose metadata (its `metadata_json`; empty or "null" when it has
/// none) is `metadata_json`: the registry's base URL, its {host} from the metadata when the
/// registry says so, and the metadata header. Refused when a value the registry needs is missing,
/// appears twice, or is not what the registry allows.
std::variant<Upstream, NotProxyable> upstreamFor(const ProxySettings& settings, std::string_view metadata_json);

/// What the broker adds to the request: headers, and query parameters (unencoded: the caller
/// encodes them as it appends them).
struct CredentialPlacement {
  HeaderList headers;
  HeaderList query;
};

/// oauth2: `Authorization: Bearer <access_token>`; basic: `Authorization: Basic` of
/// `username`:`password`; api_key: `credentials.api_key` where the registry says. Refused when the
/// field is missing, or holds what a header cannot carry (control characters), or the provider
/// takes no API key. `credentials_json` is the opened (and, for oauth2, refreshed) credentials.
std::variant<CredentialPlacement, NotProxyable> credentialPlacement(const ProxySettings& settings,
                                                                    std::string_view auth_type,
                                                                    std::string_view credentials_json);

/// Whether the runtime's request header `name` (any case) is passed to the provider: the default
/// list and the registry's, never Authorization, Cookie, Host, hop-by-hop, Content-Length, the
/// forwarding headers, nor a header the broker sets itself (credential, metadata header).
bool passesRequestHeader(const ProxySettings& settings, std::string_view name);

/// Whether the provider's response header `name` (any case) is passed back to the runtime: the
/// default list and the registry's, never Set-Cookie or hop-by-hop.
bool passesResponseHeader(const ProxySettings& settings, std::string_view name);

/// Request headers the registry may never list, whatever it says (lower case).
bool neverPassedRequestHeader(std::string_view lower_name);
/// Response headers the registry may never list (lower case).
bool neverPassedResponseHeader(std::string_view lower_name);

}  // namespace hydra::broker::providers
