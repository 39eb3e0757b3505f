#include "broker/providers/proxy_settings.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include <Poco/Net/IPAddress.h>
#include <Poco/URI.h>

#include "broker/providers/upstream.hpp"

namespace hydra::broker::providers {

const std::vector<std::string> kDefaultRequestHeaders = {
    "accept",        "accept-language",    "content-type", "if-match", "if-modified-since",
    "if-none-match", "if-unmodified-since"};
const std::vector<std::string> kDefaultResponseHeaders = {"content-language", "content-type", "etag",
                                                          "last-modified",    "link",         "retry-after"};

namespace {

constexpr const char* kTemplatePrefix = "https://{host}";

[[noreturn]] void fail(const std::string& where, const std::string& problem) {
  throw SettingsError(where + ": " + problem);
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

/// RFC 9110 token characters: what a header name may hold.
bool isToken(std::string_view text) {
  static const std::string_view kSpecials = "!#$%&'*+-.^_`|~";
  return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) {
    return std::isalnum(c) || kSpecials.find(static_cast<char>(c)) != std::string_view::npos;
  });
}

/// Refuses a member given twice: RapidJSON would read the first, a reader of the file might read
/// the last.
void checkObject(const rapidjson::Value& value, const std::string& where, const std::set<std::string>& known) {
  if (!value.IsObject()) fail(where, "must be an object");
  std::set<std::string> seen;
  for (const auto& member : value.GetObject()) {
    const std::string name(member.name.GetString(), member.name.GetStringLength());
    if (!seen.insert(name).second) fail(where + "." + name, "is given twice");
    if (!known.empty() && known.count(name) == 0) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      fail(where + "." + name, "is not a known field (" + list + ")");
    }
  }
}

std::string string(const rapidjson::Value& object, const char* field, const std::string& where, bool required) {
  const auto it = object.FindMember(field);
  if (it == object.MemberEnd()) {
    if (required) fail(where + "." + field, "is required");
    return {};
  }
  if (!it->value.IsString() || it->value.GetStringLength() == 0)
    fail(where + "." + field, "must be a non-empty string");
  return {it->value.GetString(), it->value.GetStringLength()};
}

/// A connection metadata field's name: what a JSON object member may be called, kept plain.
std::string metadataField(const rapidjson::Value& object, const std::string& where) {
  auto field = string(object, "field", where, true);
  if (field.size() > 64 || !std::all_of(field.begin(), field.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '_' || c == '-' || c == '.';
      })) {
    fail(where + ".field", "must be 1 to 64 letters, digits, '_', '-' or '.'");
  }
  return field;
}

HostFromMetadata parseHostFromMetadata(const rapidjson::Value& value, const std::string& where) {
  checkObject(value, where, {"field", "suffix"});
  HostFromMetadata out{metadataField(value, where), lower(string(value, "suffix", where, true))};
  // At least two labels: ".com" would let a connection name any host of a top-level domain.
  if (out.suffix.front() != '.' || !isHostname(out.suffix.substr(1)) || out.suffix.find('.', 1) == std::string::npos) {
    fail(where + ".suffix", "must be '.' and a DNS name of at least two labels (\".deputy.com\")");
  }
  return out;
}

HeaderFromMetadata parseHeaderFromMetadata(const rapidjson::Value& value, const std::string& where) {
  checkObject(value, where, {"field", "header"});
  HeaderFromMetadata out{metadataField(value, where), string(value, "header", where, true)};
  if (!isToken(out.header) || neverPassedRequestHeader(lower(out.header))) {
    fail(where + ".header", "'" + out.header + "' is not a header name the broker may set");
  }
  return out;
}

ApiKeyPlacement parseApiKey(const rapidjson::Value& value, const std::string& where) {
  checkObject(value, where, {"header", "prefix", "query"});
  const auto header = string(value, "header", where, false);
  const auto query = string(value, "query", where, false);
  const auto prefix = value.FindMember("prefix");
  if (header.empty() == query.empty()) fail(where, "must name either a \"header\" or a \"query\" parameter");
  ApiKeyPlacement out;
  if (!header.empty()) {
    // Authorization is where many providers take keys; the others are never the broker's to set.
    if (!isToken(header) || (lower(header) != "authorization" && neverPassedRequestHeader(lower(header)))) {
      fail(where + ".header", "'" + header + "' is not a header name the broker may set");
    }
    out.name = header;
    if (prefix != value.MemberEnd()) {
      if (!prefix->value.IsString()) fail(where + ".prefix", "must be a string");
      out.prefix.assign(prefix->value.GetString(), prefix->value.GetStringLength());
      if (!std::all_of(out.prefix.begin(), out.prefix.end(), [](unsigned char c) { return c >= 0x20 && c < 0x7f; })) {
        fail(where + ".prefix", "must be printable ASCII");
      }
    }
  } else {
    if (prefix != value.MemberEnd()) fail(where + ".prefix", "goes only with \"header\"");
    if (!std::all_of(query.begin(), query.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '_' || c == '-' || c == '.' || c == '~'; })) {
      fail(where + ".query", "must be letters, digits, '_', '-', '.' or '~'");
    }
    out.in = ApiKeyPlacement::In::kQuery;
    out.name = query;
  }
  return out;
}

std::vector<std::string> headerList(const rapidjson::Value& object, const char* field, const std::string& where,
                                    bool (*never)(std::string_view)) {
  std::vector<std::string> out;
  const auto it = object.FindMember(field);
  if (it == object.MemberEnd()) return out;
  const auto at = where + "." + field;
  if (!it->value.IsArray()) fail(at, "must be an array of header names");
  for (rapidjson::SizeType i = 0; i < it->value.Size(); ++i) {
    const auto& item = it->value[i];
    const auto item_at = at + "[" + std::to_string(i) + "]";
    if (!item.IsString() || !isToken({item.GetString(), item.GetStringLength()}))
      fail(item_at, "must be a header name");
    auto name = lower({item.GetString(), item.GetStringLength()});
    if (never(name)) fail(item_at, "'" + name + "' is never passed");
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(std::move(name));
  }
  return out;
}

std::vector<proxy::Rule> rules(const rapidjson::Value& object, const char* field, const std::string& where) {
  std::vector<proxy::Rule> out;
  const auto it = object.FindMember(field);
  if (it == object.MemberEnd()) return out;
  const auto at = where + "." + field;
  if (!it->value.IsArray()) fail(at, "must be an array of \"METHOD /path\" rules");
  for (rapidjson::SizeType i = 0; i < it->value.Size(); ++i) {
    const auto& item = it->value[i];
    const auto item_at = at + "[" + std::to_string(i) + "]";
    if (!item.IsString()) fail(item_at, "must be a \"METHOD /path\" string");
    try {
      out.push_back(proxy::parseRule({item.GetString(), item.GetStringLength()}));
    } catch (const std::invalid_argument& e) {
      fail(item_at, e.what());
    }
  }
  return out;
}

bool isCapabilityName(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '-' || c == '.' || c == ':';
  });
}

}  // namespace

bool isHostname(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  std::size_t start = 0;
  while (start <= name.size()) {
    const auto end = std::min(name.find('.', start), name.size());
    const auto label = name.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    if (!std::all_of(label.begin(), label.end(),
                     [](unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; })) {
      return false;
    }
    start = end + 1;
  }
  return true;
}

bool isAllowedBaseUrl(const std::string& url, bool templated) {
  auto concrete = url;
  if (templated) {
    if (url.rfind(kTemplatePrefix, 0) != 0) return false;
    concrete = "https://example.invalid" + url.substr(std::string_view(kTemplatePrefix).size());
  }
  if (concrete.find_first_of("{}?#@\\ ") != std::string::npos) return false;
  try {
    const Poco::URI uri(concrete);
    if (uri.getHost().empty() || !uri.getUserInfo().empty()) return false;
    const auto& path = uri.getPath();
    if (!path.empty() && (path.front() != '/' || path.back() == '/')) return false;
    if (!std::all_of(path.begin(), path.end(), [](unsigned char c) {
          return std::isalnum(c) || c == '/' || c == '-' || c == '.' || c == '_' || c == '~';
        })) {
      return false;
    }
    if (path.find("/./") != std::string::npos || path.find("/../") != std::string::npos ||
        path.find("//") != std::string::npos) {
      return false;
    }
    if (uri.getScheme() == "https") return true;
    if (uri.getScheme() != "http" || templated) return false;
    if (uri.getHost() == "localhost") return true;
    Poco::Net::IPAddress address;
    return Poco::Net::IPAddress::tryParse(uri.getHost(), address) && address.isLoopback();
  } catch (const Poco::Exception&) {
    return false;
  }
}

ProxySettings parseProxySettings(const rapidjson::Value& proxy) {
  const std::string where = "proxy";
  checkObject(
      proxy, where,
      {"api_key", "base_url", "header_from_metadata", "host_from_metadata", "request_headers", "response_headers"});
  ProxySettings out;
  out.base_url = string(proxy, "base_url", where, true);
  const auto host = proxy.FindMember("host_from_metadata");
  const bool templated = out.base_url.find("{host}") != std::string::npos;
  if (templated != (host != proxy.MemberEnd())) {
    fail(where + ".base_url", "\"https://{host}\" and \"host_from_metadata\" go together");
  }
  if (!isAllowedBaseUrl(out.base_url, templated)) {
    fail(where + ".base_url", templated ? "must be \"https://{host}\", optionally a port and a path"
                                        : "must be an https URL without query, fragment or user info, no '/' at the "
                                          "end (plain http only to a loopback address)");
  }
  if (templated) out.host_from_metadata = parseHostFromMetadata(host->value, where + ".host_from_metadata");
  if (const auto it = proxy.FindMember("header_from_metadata"); it != proxy.MemberEnd()) {
    out.header_from_metadata = parseHeaderFromMetadata(it->value, where + ".header_from_metadata");
  }
  if (const auto it = proxy.FindMember("api_key"); it != proxy.MemberEnd()) {
    out.api_key = parseApiKey(it->value, where + ".api_key");
  }
  out.request_headers = headerList(proxy, "request_headers", where, neverPassedRequestHeader);
  out.response_headers = headerList(proxy, "response_headers", where, neverPassedResponseHeader);
  if (out.header_from_metadata && out.api_key && out.api_key->in == ApiKeyPlacement::In::kHeader &&
      lower(out.header_from_metadata->header) == lower(out.api_key->name)) {
    fail(where + ".header_from_metadata.header", "is the api_key header");
  }
  // A header the broker sets is never the runtime's to send too.
  for (const auto* own :
       {out.header_from_metadata ? &out.header_from_metadata->header : nullptr,
        out.api_key && out.api_key->in == ApiKeyPlacement::In::kHeader ? &out.api_key->name : nullptr}) {
    if (own != nullptr &&
        std::find(out.request_headers.begin(), out.request_headers.end(), lower(*own)) != out.request_headers.end()) {
      fail(where + ".request_headers", "'" + lower(*own) + "' is set by the broker");
    }
  }
  return out;
}

void mergeCapabilities(const rapidjson::Value& capabilities, proxy::CapabilityTable& table) {
  const std::string where = "capabilities";
  checkObject(capabilities, where, {});
  for (const auto& member : capabilities.GetObject()) {
    const std::string name(member.name.GetString(), member.name.GetStringLength());
    const auto at = where + "." + name;
    if (!isCapabilityName(name)) fail(at, "a capability name is 1 to 64 letters, digits, '_', '-', '.' or ':'");
    if (member.value.IsNull()) {
      table.erase(name);
      continue;
    }
    checkObject(member.value, at, {"allow", "deny"});
    proxy::CapabilityRules parsed;
    parsed.allow = rules(member.value, "allow", at);
    parsed.deny = rules(member.value, "deny", at);
    table[name] = std::move(parsed);
  }
}

}  // namespace hydra::broker::providers
