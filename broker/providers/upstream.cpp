#include "broker/providers/upstream.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include <Poco/URI.h>
#include <botan/base64.h>
#include <rapidjson/document.h>

namespace hydra::broker::providers {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

/// The object `json` holds; empty when it is empty, null, or not an object. RapidJSON's
/// iterative parser: the text came from the control plane, which this broker does not trust to
/// keep it shallow.
rapidjson::Document parseObject(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) doc.SetObject();
  return doc;
}

/// The string member `field`, or nullopt when it is absent, not a string, or given twice (the
/// reader and the writer of a duplicated key may not agree on which one counts).
std::optional<std::string> onlyString(const rapidjson::Value& object, const std::string& field) {
  const rapidjson::Value* found = nullptr;
  for (const auto& member : object.GetObject()) {
    if (field != std::string_view(member.name.GetString(), member.name.GetStringLength())) continue;
    if (found != nullptr) return std::nullopt;
    found = &member.value;
  }
  if (found == nullptr || !found->IsString()) return std::nullopt;
  return std::string(found->GetString(), found->GetStringLength());
}

/// Visible ASCII only: a value with a line break, a control character or a space would let a
/// stored credential or metadata value add headers of its own.
bool headerSafe(std::string_view value) {
  return !value.empty() &&
         std::all_of(value.begin(), value.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f; });
}

constexpr std::array<std::string_view, 20> kNeverRequest = {"authorization",
                                                            "proxy-authorization",
                                                            "cookie",
                                                            "host",
                                                            "connection",
                                                            "keep-alive",
                                                            "proxy-connection",
                                                            "te",
                                                            "trailer",
                                                            "transfer-encoding",
                                                            "upgrade",
                                                            "content-length",
                                                            "expect",
                                                            "forwarded",
                                                            "x-forwarded-for",
                                                            "x-forwarded-host",
                                                            "x-forwarded-proto",
                                                            "x-real-ip",
                                                            "hydra-connection-name",
                                                            "http2-settings"};
// RateLimit and RateLimit-Policy are the broker's own answer about the grant's limit.
constexpr std::array<std::string_view, 14> kNeverResponse = {"set-cookie",
                                                             "set-cookie2",
                                                             "connection",
                                                             "keep-alive",
                                                             "proxy-connection",
                                                             "te",
                                                             "trailer",
                                                             "transfer-encoding",
                                                             "upgrade",
                                                             "content-length",
                                                             "proxy-authenticate",
                                                             "ratelimit",
                                                             "ratelimit-policy",
                                                             "alt-svc"};

}  // namespace

bool neverPassedRequestHeader(std::string_view lower_name) {
  return std::find(kNeverRequest.begin(), kNeverRequest.end(), lower_name) != kNeverRequest.end();
}

bool neverPassedResponseHeader(std::string_view lower_name) {
  return std::find(kNeverResponse.begin(), kNeverResponse.end(), lower_name) != kNeverResponse.end();
}

std::variant<Upstream, NotProxyable> upstreamFor(const ProxySettings& settings, std::string_view metadata_json) {
  const auto metadata = parseObject(metadata_json);
  auto base = settings.base_url;
  if (const auto& rule = settings.host_from_metadata) {
    const auto value = onlyString(metadata, rule->field);
    if (!value) return NotProxyable{"the connection's metadata_json has no single string \"" + rule->field + "\""};
    const auto host = lower(*value);
    const bool fits = isHostname(host) && host.size() > rule->suffix.size() &&
                      host.compare(host.size() - rule->suffix.size(), rule->suffix.size(), rule->suffix) == 0;
    if (!fits) {
      return NotProxyable{"the connection's metadata_json \"" + rule->field + "\" is not a host name ending in " +
                          rule->suffix};
    }
    base.replace(base.find("{host}"), 6, host);
  }
  Upstream out;
  if (const auto& rule = settings.header_from_metadata) {
    const auto value = onlyString(metadata, rule->field);
    if (!value) return NotProxyable{"the connection's metadata_json has no single string \"" + rule->field + "\""};
    if (!headerSafe(*value) || value->size() > 256) {
      return NotProxyable{"the connection's metadata_json \"" + rule->field +
                          "\" is not a header value (1 to 256 visible ASCII characters)"};
    }
    out.headers.emplace_back(rule->header, *value);
  }
  // The registry checked the base URL's form when it was loaded; the host is now concrete.
  const Poco::URI uri(base);
  out.base_url = base;
  out.scheme = uri.getScheme();
  out.host = lower(uri.getHost());
  out.port = uri.getPort();
  out.path_prefix = uri.getPath();
  return out;
}

std::variant<CredentialPlacement, NotProxyable> credentialPlacement(const ProxySettings& settings,
                                                                    std::string_view auth_type,
                                                                    std::string_view credentials_json) {
  const auto credentials = parseObject(credentials_json);
  const auto field = [&](const char* name) -> std::variant<std::string, NotProxyable> {
    auto value = onlyString(credentials, name);
    if (!value || value->empty())
      return NotProxyable{std::string("the connection's credentials have no \"") + name + "\""};
    return *value;
  };
  CredentialPlacement out;
  if (auth_type == "oauth2") {
    auto token = field("access_token");
    if (auto* refused = std::get_if<NotProxyable>(&token)) return *refused;
    if (!headerSafe(std::get<std::string>(token)))
      return NotProxyable{"the connection's access_token cannot go in a header"};
    out.headers.emplace_back("Authorization", "Bearer " + std::get<std::string>(token));
  } else if (auth_type == "basic") {
    auto user = field("username");
    auto password = field("password");
    if (auto* refused = std::get_if<NotProxyable>(&user)) return *refused;
    if (auto* refused = std::get_if<NotProxyable>(&password)) return *refused;
    // RFC 7617: the user-id cannot hold a ':' (the first one separates it from the password).
    if (std::get<std::string>(user).find(':') != std::string::npos) {
      return NotProxyable{"the connection's username holds a ':', which basic authentication cannot carry"};
    }
    const auto pair = std::get<std::string>(user) + ":" + std::get<std::string>(password);
    out.headers.emplace_back(
        "Authorization",
        "Basic " + Botan::base64_encode(reinterpret_cast<const std::uint8_t*>(pair.data()), pair.size()));
  } else if (auth_type == "api_key") {
    if (!settings.api_key) return NotProxyable{"the registry does not say where this provider takes an API key"};
    auto key = field("api_key");
    if (auto* refused = std::get_if<NotProxyable>(&key)) return *refused;
    if (!headerSafe(std::get<std::string>(key))) return NotProxyable{"the connection's api_key cannot go in a request"};
    if (settings.api_key->in == ApiKeyPlacement::In::kHeader) {
      out.headers.emplace_back(settings.api_key->name, settings.api_key->prefix + std::get<std::string>(key));
    } else {
      out.query.emplace_back(settings.api_key->name, std::get<std::string>(key));
    }
  } else {
    return NotProxyable{"connections of auth_type '" + std::string(auth_type) + "' cannot be proxied"};
  }
  return out;
}

bool passesRequestHeader(const ProxySettings& settings, std::string_view name) {
  const auto lowered = lower(name);
  if (neverPassedRequestHeader(lowered)) return false;
  if (settings.header_from_metadata && lower(settings.header_from_metadata->header) == lowered) return false;
  if (settings.api_key && settings.api_key->in == ApiKeyPlacement::In::kHeader &&
      lower(settings.api_key->name) == lowered) {
    return false;
  }
  const auto listed = [&](const std::vector<std::string>& list) {
    return std::find(list.begin(), list.end(), lowered) != list.end();
  };
  return listed(kDefaultRequestHeaders) || listed(settings.request_headers);
}

bool passesResponseHeader(const ProxySettings& settings, std::string_view name) {
  const auto lowered = lower(name);
  if (neverPassedResponseHeader(lowered)) return false;
  return std::find(kDefaultResponseHeaders.begin(), kDefaultResponseHeaders.end(), lowered) !=
             kDefaultResponseHeaders.end() ||
         std::find(settings.response_headers.begin(), settings.response_headers.end(), lowered) !=
             settings.response_headers.end();
}

}  // namespace hydra::broker::providers
