#pragma once
// The path of a proxied call, in the one spelling capability rules are matched against. A
// provider may read "/a/%2e%2e/b", "/a//b" or "/a/./b" as another path than the text says; the
// broker must never let a spelling reach an endpoint its rule does not name. So: unreserved
// characters written as percent escapes are decoded (RFC 3986 6.2.2.2: they mean the same), the
// other escapes are kept with upper-case hex, and whatever a server could read as another path
// ("." or ".." segments, empty segments, an encoded '/' or '\', a backslash, control characters)
// is refused rather than rewritten.

#include <string>
#include <string_view>
#include <variant>

namespace hydra::broker::proxy {

struct NormalPath {
  std::string path;  // starts with '/', no query string
};

/// Why a path is refused, in words for the refusal's detail.
struct BadPath {
  std::string why;
};

/// `raw`: the path as the request wrote it after the provider's name, query string removed.
std::variant<NormalPath, BadPath> normalisePath(std::string_view raw);

}  // namespace hydra::broker::proxy
