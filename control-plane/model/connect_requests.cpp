// Validation of the connect flow's request bodies, with pydantic's rules and wording.
#include <algorithm>

#include "control-plane/connect/urls.hpp"
#include "control-plane/model/connect.hpp"
#include "shared/json/reader.hpp"
#include "shared/json/writer.hpp"

namespace hydra::cp::model {
namespace {

constexpr std::size_t kMaxProvider = 50;
constexpr std::size_t kMaxName = 255;
constexpr std::size_t kMaxScopes = 100;
constexpr std::size_t kMaxScope = 256;
constexpr std::size_t kMaxParams = 20;
constexpr std::size_t kMaxParamName = 100;
constexpr std::size_t kMaxParamValue = 1024;
constexpr std::size_t kMaxRedirectUrls = 20;
constexpr std::size_t kMaxGrants = 20;
constexpr std::size_t kMaxClientSecret = 4096;

using http::LocPart;

std::vector<LocPart> at(std::vector<LocPart> loc, LocPart part) {
  loc.push_back(std::move(part));
  return loc;
}

// RFC 6749 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ); joined with spaces at the provider.
bool isScopeToken(const std::string& s) {
  if (s.empty() || s.size() > kMaxScope) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x21 && c <= 0x7e && c != '"' && c != '\\'; });
}

std::optional<std::vector<std::string>> readScopes(json::ObjectReader& in, http::Problems& problems, const char* key) {
  auto list = in.stringArray(key, false);
  if (!list) return std::nullopt;
  if (list->size() > kMaxScopes) {
    problems.add({"body", key}, "List should have at most " + std::to_string(kMaxScopes) + " items", "too_long");
    return std::nullopt;
  }
  bool ok = true;
  for (std::size_t i = 0; i < list->size(); ++i) {
    if (!isScopeToken((*list)[i])) {
      problems.add({"body", key, static_cast<int>(i)},
                   "Value error, a scope is 1 to 256 printable ASCII characters without spaces, quotes or backslashes",
                   "value_error");
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return list;
}

std::string strings(const std::vector<std::string>& values) {
  json::Writer w;
  w.strings(values);
  return w.str();
}

// A redirect URL member: allowed shapes only (the allow-list check is the service's).
std::optional<std::string> redirectUrl(json::ObjectReader& in, http::Problems& problems, const char* key) {
  auto url = in.string(key, false, 1, connect::kMaxUrlLength);
  if (!url) return std::nullopt;
  if (const auto why = connect::redirectUrlProblem(*url)) {
    problems.add({"body", key}, "Value error, " + *why, "value_error");
    return std::nullopt;
  }
  return url;
}

}  // namespace

const std::vector<std::string>& reservedAuthorizationParams() {
  static const std::vector<std::string> reserved{"response_type", "client_id", "redirect_uri", "scope",
                                                 "state", "code_challenge", "code_challenge_method"};
  return reserved;
}

OAuthClientCreate OAuthClientCreate::fromJson(const rapidjson::Document& body) {
  http::Problems problems;
  json::ObjectReader in(body, {"body"}, problems);
  OAuthClientCreate out;
  const auto provider = in.string("provider", true, 1, kMaxProvider);
  const auto client_id = in.string("client_id", true, 1, 1024);
  const auto secret = in.string("client_secret", true, 1, kMaxClientSecret);
  const auto scope_list = readScopes(in, problems, "scopes");
  if (const auto* params = in.object("authorization_params", false)) {
    if (params->MemberCount() > kMaxParams) {
      problems.add({"body", "authorization_params"},
                   "Dictionary should have at most " + std::to_string(kMaxParams) + " items", "too_long");
    }
    const auto& reserved = reservedAuthorizationParams();
    for (const auto& m : params->GetObject()) {
      const std::string name(m.name.GetString(), m.name.GetStringLength());
      const auto loc = std::vector<LocPart>{"body", "authorization_params", name};
      if (name.empty() || name.size() > kMaxParamName) {
        problems.add(loc, "Value error, a parameter name is 1 to 100 characters", "value_error");
      } else if (std::find(reserved.begin(), reserved.end(), name) != reserved.end()) {
        problems.add(loc, "Value error, the connect flow sets " + name + " itself", "value_error");
      } else if (!m.value.IsString()) {
        problems.add(loc, "Input should be a valid string", "string_type");
      } else if (m.value.GetStringLength() > kMaxParamValue) {
        problems.add(loc, json::msg::tooLong(kMaxParamValue), "string_too_long");
      }
    }
    out.authorization_params_json = json::toString(*params);
  }
  problems.throwIfAny();
  out.provider = *provider;
  out.client_id = *client_id;
  out.client_secret = *secret;
  out.scopes_json = strings(scope_list.value_or(std::vector<std::string>{}));
  return out;
}

ConnectSettings ConnectSettings::fromJson(const rapidjson::Document& body) {
  http::Problems problems;
  json::ObjectReader in(body, {"body"}, problems);
  ConnectSettings out;
  const auto urls = in.stringArray("allowed_redirect_urls", true);
  if (urls) {
    if (urls->size() > kMaxRedirectUrls) {
      problems.add({"body", "allowed_redirect_urls"},
                   "List should have at most " + std::to_string(kMaxRedirectUrls) + " items after validation, not " +
                       std::to_string(urls->size()),
                   "too_long");
    }
    for (std::size_t i = 0; i < urls->size(); ++i) {
      if (const auto why = connect::redirectUrlProblem((*urls)[i])) {
        problems.add({"body", "allowed_redirect_urls", static_cast<int>(i)}, "Value error, " + *why, "value_error");
      } else if (std::find(out.allowed_redirect_urls.begin(), out.allowed_redirect_urls.end(), (*urls)[i]) ==
                 out.allowed_redirect_urls.end()) {
        out.allowed_redirect_urls.push_back((*urls)[i]);  // repeats dropped
      }
    }
  }
  problems.throwIfAny();
  return out;
}

ConnectSessionCreate ConnectSessionCreate::fromJson(const rapidjson::Document& body) {
  http::Problems problems;
  json::ObjectReader in(body, {"body"}, problems);
  ConnectSessionCreate out;
  const auto provider = in.string("provider", true, 1, kMaxProvider);
  out.name = in.string("name", false, 1, kMaxName);
  out.connection_id = in.uuid("connection_id", false);
  const auto given = [&](const char* key) { return in.has(key) && !body[key].IsNull(); };
  if (given("name") == given("connection_id")) {
    problems.add({"body"}, "Value error, give name (a new connection) or connection_id (re-authorise one), not both",
                 "value_error");
  }
  out.oauth_client_id = in.uuid("oauth_client_id", false);
  out.scopes = readScopes(in, problems, "scopes");
  if (const auto* metadata = in.object("metadata_json", false)) out.metadata_json = json::toString(*metadata);
  if (const auto* grants = in.array("grants", false)) {
    if (grants->Size() > kMaxGrants) {
      problems.add({"body", "grants"}, "List should have at most " + std::to_string(kMaxGrants) + " items", "too_long");
    }
    for (rapidjson::SizeType i = 0; i < grants->Size() && i < kMaxGrants; ++i) {
      const auto loc = std::vector<LocPart>{"body", "grants", static_cast<int>(i)};
      const auto& item = (*grants)[i];
      if (!item.IsObject()) {
        problems.add(loc, "Input should be a valid dictionary", "dict_type");
        continue;
      }
      if (auto grant = GrantCreate::read(item, loc, problems)) {
        const bool repeated = std::any_of(out.grants.begin(), out.grants.end(),
                                          [&](const GrantCreate& g) { return g.instance_id == grant->instance_id; });
        if (repeated) {
          problems.add(at(loc, std::string("instance_id")), "Value error, one grant per instance", "value_error");
        } else {
          out.grants.push_back(std::move(*grant));
        }
      }
    }
  }
  out.success_url = redirectUrl(in, problems, "success_url");
  out.error_url = redirectUrl(in, problems, "error_url");
  problems.throwIfAny();
  out.provider = *provider;
  return out;
}

std::string grantsToJson(const std::vector<GrantCreate>& grants) {
  json::Writer w;
  w.beginArray();
  for (const auto& g : grants) {
    w.beginObject();
    w.key("capabilities").rawOrNull(g.capabilities_json);
    w.key("expires_at").stringOrNull(g.expiry.at);
    w.key("expires_in_seconds");
    if (g.expiry.in_seconds) w.integer(*g.expiry.in_seconds); else w.null();
    w.key("instance_id").string(g.instance_id);
    w.key("proxy_only").boolean(g.proxy_only);
    w.key("rate_limit");
    if (g.rate_limit) {
      w.beginObject().key("per_seconds").integer(g.rate_limit->per_seconds);
      w.key("requests").integer(g.rate_limit->requests).endObject();
    } else {
      w.null();
    }
    w.endObject();
  }
  w.endArray();
  return w.str();
}

std::vector<GrantCreate> grantsFromJson(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  const auto bad = [] { return std::runtime_error("connect_sessions.grants is not in the stored form"); };
  if (doc.HasParseError() || !doc.IsArray()) throw bad();
  std::vector<GrantCreate> out;
  for (const auto& item : doc.GetArray()) {
    if (!item.IsObject()) throw bad();
    const auto field = [&](const char* key) -> const rapidjson::Value& {
      const auto it = item.FindMember(key);
      if (it == item.MemberEnd()) throw bad();
      return it->value;
    };
    GrantCreate g;
    const auto& instance = field("instance_id");
    const auto& capabilities = field("capabilities");
    const auto& proxy_only = field("proxy_only");
    const auto& at = field("expires_at");
    const auto& in = field("expires_in_seconds");
    const auto& limit = field("rate_limit");
    if (!instance.IsString() || !capabilities.IsArray() || !proxy_only.IsBool()) throw bad();
    g.instance_id = instance.GetString();
    g.capabilities_json = json::toString(capabilities);
    g.proxy_only = proxy_only.GetBool();
    if (at.IsString()) g.expiry.at = std::string(at.GetString(), at.GetStringLength());
    if (in.IsInt64()) g.expiry.in_seconds = in.GetInt64();
    if (limit.IsObject()) {
      const auto requests = limit.FindMember("requests");
      const auto per = limit.FindMember("per_seconds");
      if (requests == limit.MemberEnd() || per == limit.MemberEnd() || !requests->value.IsInt64() ||
          !per->value.IsInt64()) {
        throw bad();
      }
      g.rate_limit = RateLimit{requests->value.GetInt64(), per->value.GetInt64()};
    }
    out.push_back(std::move(g));
  }
  return out;
}

std::vector<std::string> stringsFromJson(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  if (doc.HasParseError() || !doc.IsArray()) throw std::runtime_error("not a JSON array of strings");
  std::vector<std::string> out;
  for (const auto& v : doc.GetArray()) {
    if (!v.IsString()) throw std::runtime_error("not a JSON array of strings");
    out.emplace_back(v.GetString(), v.GetStringLength());
  }
  return out;
}

}  // namespace hydra::cp::model
