#pragma once
// The URLs of the connect flow: HYDRA_PUBLIC_URL, the customer's redirect allow-list, the
// provider's authorization URL with the flow's parameters, and origins for the pages' policy.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hydra::cp::connect {

/// The longest redirect URL the allow-list takes (and the longest URL it hands a browser).
constexpr std::size_t kMaxUrlLength = 2048;

/// HYDRA_PUBLIC_URL: "" when unset; else an absolute https URL (http only to a loopback host:
/// the cookie and the code would otherwise cross a network in clear), no query, no fragment,
/// no user info; a trailing '/' is dropped. Throws config::ConfigError naming `variable`.
std::string publicUrl(const char* variable, const std::optional<std::string>& value);

/// Why `url` is no acceptable redirect target (absolute http(s), a host, no user info, no
/// fragment, printable ASCII, at most kMaxUrlLength), or nullopt when it is.
std::optional<std::string> redirectUrlProblem(std::string_view url);

/// "scheme://host[:port]" of an absolute http(s) URL, lower-cased scheme; "" if the authority
/// holds anything but host name, IP literal and port characters (it goes into a CSP header).
std::string origin(std::string_view url);

/// `url` with `params` appended to its query ('?' or '&'), each name and value
/// percent-encoded (RFC 3986: all but unreserved characters), before any fragment.
std::string withQuery(std::string url, const std::vector<std::pair<std::string, std::string>>& params);

/// The path of the connect pages' cookie for HYDRA_PUBLIC_URL `public_url`: its own path (a
/// proxy's prefix, if any) + "/connect".
std::string cookiePath(std::string_view public_url);

/// RFC 3986 percent-encoding of everything but ALPHA / DIGIT / "-" / "." / "_" / "~".
std::string percentEncode(std::string_view text);

}  // namespace hydra::cp::connect
