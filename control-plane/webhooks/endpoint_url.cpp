#include "control-plane/webhooks/endpoint_url.hpp"

#include <algorithm>
#include <cctype>

namespace hydra::cp::webhooks {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool isDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

// A DNS name: labels of letters, digits, '-' and '_' (seen in real service names), 1..63 each,
// 253 in all, an optional trailing dot. The last label may not look numeric: "127.1",
// "0x7f.1" and "2130706433" are IPv4 addresses to inet_aton (and so to getaddrinfo), which
// only the canonical dotted quad may spell here.
void checkHostName(const std::string& host) {
  std::string_view name(host);
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > 253) throw UrlRefused("URL host is not a valid host name");
  std::string_view last;
  std::size_t start = 0;
  while (start <= name.size()) {
    const auto end = std::min(name.find('.', start), name.size());
    const auto label = name.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      throw UrlRefused("URL host is not a valid host name");
    }
    for (const unsigned char c : label) {
      if (std::isalnum(c) == 0 && c != '-' && c != '_') throw UrlRefused("URL host is not a valid host name");
    }
    last = label;
    start = end + 1;
  }
  if (isDigits(last) || last.rfind("0x", 0) == 0) {
    throw UrlRefused("URL host looks like an IP address but is not one in standard form");
  }
}

}  // namespace

bool EndpointUrl::loopbackHost() const {
  if (literal) return net::classify(*literal) == net::Range::kLoopback;
  std::string_view name(host);
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return name == "localhost" || (name.size() > 10 && name.substr(name.size() - 10) == ".localhost");
}

std::string EndpointUrl::hostHeader() const {
  const bool v6 = host.find(':') != std::string::npos;  // an IPv6 literal, written in brackets
  std::string out = v6 ? "[" + host + "]" : host;
  const std::uint16_t default_port = scheme == "https" ? 443 : 80;
  if (port != default_port) out += ":" + std::to_string(port);
  return out;
}

EndpointUrl checkEndpointUrl(std::string_view url, const UrlRules& rules) {
  if (url.size() > kMaxUrlLength) throw UrlRefused("URL is longer than 2048 characters");
  for (const unsigned char c : url) {
    // Spaces, control characters and raw non-ASCII would be sent as they are (or split the
    // request line): the customer must percent-encode them.
    if (c <= 0x20 || c >= 0x7f)
      throw UrlRefused("URL must be printable ASCII without spaces (percent-encode the rest)");
  }
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) throw UrlRefused("URL must be absolute, e.g. https://example.com/webhooks");
  EndpointUrl out;
  out.scheme = lower(url.substr(0, scheme_end));
  if (out.scheme != "https" && out.scheme != "http") throw UrlRefused("URL must use https");

  const auto rest = url.substr(scheme_end + 3);
  const auto authority_end = std::min(rest.find_first_of("/?#"), rest.size());
  const auto authority = rest.substr(0, authority_end);
  if (authority.find('@') != std::string_view::npos) throw UrlRefused("URL must not contain credentials");

  std::string_view host, port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) throw UrlRefused("URL host is not a valid IPv6 address");
    host = authority.substr(1, close - 1);
    const auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') throw UrlRefused("URL has a malformed host and port");
      port = after.substr(1);
      if (port.empty()) throw UrlRefused("URL port must be a number from 1 to 65535");
    }
    // An IPv6 literal (an IPv4-mapped one included); a dotted quad has no business in brackets.
    out.literal = net::parseAddress(host);
    if (!out.literal || host.find(':') == std::string_view::npos)
      throw UrlRefused("URL host is not a valid IPv6 address");
  } else {
    const auto colon = authority.rfind(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) throw UrlRefused("URL port must be a number from 1 to 65535");
    }
  }
  if (host.empty()) throw UrlRefused("URL has no host");
  out.host = lower(host);
  if (!port.empty()) {
    if (!isDigits(port) || port.size() > 5 || std::stoi(std::string(port)) < 1 ||
        std::stoi(std::string(port)) > 65535) {
      throw UrlRefused("URL port must be a number from 1 to 65535");
    }
    out.port = static_cast<std::uint16_t>(std::stoi(std::string(port)));
  } else {
    out.port = out.scheme == "https" ? 443 : 80;
  }
  if (!out.literal) {
    out.literal = net::parseAddress(out.host);
    if (!out.literal) checkHostName(out.host);
  }

  // The request target: path and query exactly as written; the fragment is never sent.
  auto target = rest.substr(authority_end);
  target = target.substr(0, std::min(target.find('#'), target.size()));
  out.target = target.empty() || target.front() != '/' ? "/" + std::string(target) : std::string(target);

  if (out.scheme == "http") {
    if (!rules.allow_loopback_http) throw UrlRefused("URL must use https");
    if (!out.loopbackHost()) throw UrlRefused("URL must use https (plain http is allowed only to loopback hosts)");
  }
  if (out.literal) {
    if (const auto refused = rules.addresses.refusal(*out.literal)) {
      throw UrlRefused("URL host " + *refused + ", which webhooks may not reach");
    }
  }
  return out;
}

}  // namespace hydra::cp::webhooks
