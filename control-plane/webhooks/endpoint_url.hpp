#pragma once
// A customer's webhook URL: parsed strictly (our own small parser: nothing is decoded or
// re-encoded, so the request goes to exactly what the customer wrote) and checked against the
// rules that need no DNS. Checked when an endpoint is created or changed (a 422 explains why),
// and again before every delivery, under the settings of the process that delivers.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "shared/net/address_policy.hpp"

namespace hydra::cp::webhooks {

constexpr std::size_t kMaxUrlLength = 2048;

struct UrlRules {
  /// HYDRA_WEBHOOK_ALLOW_LOOPBACK: plain http to loopback hosts (development, tests).
  bool allow_loopback_http = false;
  /// HYDRA_WEBHOOK_ALLOWED_CIDRS and the refused ranges.
  net::AddressPolicy addresses;
};

/// Why a URL is refused, in words for the customer (no "Value error, " prefix).
class UrlRefused : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct EndpointUrl {
  std::string scheme;  // "https", or "http" for a loopback host
  std::string host;    // lower case; an IPv6 literal without its brackets
  std::uint16_t port = 443;
  std::string target;                   // the request target: path and query ("/" at least), no fragment
  std::optional<net::Address> literal;  // the host, when it is an IP address

  /// A literal loopback address, or "localhost" / "*.localhost" (RFC 6761).
  bool loopbackHost() const;
  /// The Host header: the host (bracketed IPv6) and the port when it is not the scheme's default.
  std::string hostHeader() const;
};

/// Parses `url` and applies the rules: at most 2048 characters of printable ASCII; https, or
/// http to a loopback host when allowed; no credentials; a host that is a DNS name or an IP
/// address the address policy allows (names are resolved and checked at delivery). Throws
/// UrlRefused.
EndpointUrl checkEndpointUrl(std::string_view url, const UrlRules& rules);

}  // namespace hydra::cp::webhooks
