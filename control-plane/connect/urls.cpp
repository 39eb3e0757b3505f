#include "control-plane/connect/urls.hpp"

#include <cctype>

#include "shared/config/env.hpp"

namespace hydra::cp::connect {
namespace {

struct Parts {
  std::string scheme;  // lower case
  std::string authority, host;
  std::size_t rest = 0;  // where the path (or query, fragment) starts
};

std::optional<Parts> split(std::string_view url) {
  const auto colon = url.find("://");
  if (colon == std::string_view::npos) return std::nullopt;
  Parts p;
  for (const char c : url.substr(0, colon)) p.scheme += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (p.scheme != "http" && p.scheme != "https") return std::nullopt;
  const auto start = colon + 3;
  auto end = url.find_first_of("/?#", start);
  if (end == std::string_view::npos) end = url.size();
  p.authority = std::string(url.substr(start, end - start));
  p.rest = end;
  if (p.authority.empty() || p.authority.find('@') != std::string::npos) return std::nullopt;
  if (p.authority.front() == '[') {
    const auto close = p.authority.find(']');
    if (close == std::string::npos) return std::nullopt;
    p.host = p.authority.substr(0, close + 1);
  } else {
    p.host = p.authority.substr(0, p.authority.find(':'));
  }
  if (p.host.empty()) return std::nullopt;
  return p;
}

bool printableAscii(std::string_view s) {
  for (const char c : s) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

bool isLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

}  // namespace

std::string publicUrl(const char* variable, const std::optional<std::string>& value) {
  if (!value || value->empty()) return "";
  std::string url = *value;
  const auto fail = [&](const std::string& why) { return config::ConfigError(std::string(variable) + " " + why); };
  if (url.size() > 512 || !printableAscii(url)) throw fail("must be an absolute URL of printable characters");
  const auto parts = split(url);
  if (!parts) throw fail("must be an absolute http(s) URL with a host and no user info");
  if (url.find_first_of("?#") != std::string::npos) throw fail("must have no query and no fragment");
  if (parts->scheme == "http" && !isLoopbackHost(parts->host)) {
    throw fail("must be https (http only to a loopback host): the connect cookie and the code cross it");
  }
  if (url.back() == '/') url.pop_back();
  return url;
}

std::optional<std::string> redirectUrlProblem(std::string_view url) {
  if (url.size() > kMaxUrlLength) return "at most " + std::to_string(kMaxUrlLength) + " characters";
  if (!printableAscii(url)) return "printable ASCII only (percent-encode anything else)";
  if (!split(url)) return "an absolute http or https URL with a host and no user info";
  if (url.find('#') != std::string_view::npos) return "no fragment";
  return std::nullopt;
}

std::string origin(std::string_view url) {
  const auto parts = split(url);
  if (!parts) return "";
  for (const char c : parts->authority) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != ':' && c != '[' && c != ']') {
      return "";
    }
  }
  return parts->scheme + "://" + parts->authority;
}

std::string cookiePath(std::string_view public_url) {
  const auto parts = split(public_url);
  return (parts ? std::string(public_url.substr(parts->rest)) : std::string()) + "/connect";
}

std::string percentEncode(std::string_view text) {
  static const char* const kHex = "0123456789ABCDEF";
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string withQuery(std::string url, const std::vector<std::pair<std::string, std::string>>& params) {
  std::string fragment;
  if (const auto hash = url.find('#'); hash != std::string::npos) {
    fragment = url.substr(hash);
    url.erase(hash);
  }
  char separator = url.find('?') == std::string::npos ? '?' : '&';
  if (!url.empty() && (url.back() == '?' || url.back() == '&')) separator = '\0';
  for (const auto& [name, value] : params) {
    if (separator != '\0') url += separator;
    url += percentEncode(name) + "=" + percentEncode(value);
    separator = '&';
  }
  return url + fragment;
}

}  // namespace hydra::cp::connect
