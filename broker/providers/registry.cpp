#include "broker/providers/registry.hpp"

#include <fstream>
#include <set>
#include <sstream>

#include <Poco/Net/IPAddress.h>
#include <Poco/URI.h>

#include "shared/config/env.hpp"
#include "shared/crypto/secret_file.hpp"

namespace hydra::broker::providers {
namespace {

constexpr const char* kVariable = "HYDRA_PROVIDERS_FILE";

/// Applies entries to the registry, refusing the first problem as a ConfigError that starts
/// with `source` ("HYDRA_PROVIDERS_FILE: /etc/hydra/providers.json").
class Loader {
 public:
  Loader(std::map<std::string, Provider>& providers, std::string source, bool built_in)
      : providers_(providers), source_(std::move(source)), built_in_(built_in) {}

  [[noreturn]] void refuse(const std::string& problem) const { throw config::ConfigError(source_ + ": " + problem); }

  void applyFile(std::string_view text) {
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(text.data(), text.size());
    if (doc.HasParseError() || !doc.IsObject()) refuse("is not a JSON object");
    const auto providers = doc.FindMember("providers");
    if (providers == doc.MemberEnd() || !providers->value.IsObject()) refuse("has no \"providers\" object");
    std::set<std::string> seen;
    for (const auto& member : providers->value.GetObject()) {
      const std::string name(member.name.GetString(), member.name.GetStringLength());
      if (!seen.insert(name).second) refuse("providers." + name + " is given twice");
      auto [entry, added] = providers_.try_emplace(name);
      // A provider we know nothing about may rotate refresh tokens: assume it does, which only
      // makes retries more careful. Built-ins say so explicitly.
      if (added && !built_in_) entry->second.rotates_refresh_tokens = true;
      apply(entry->second, name, member.value);
    }
  }

 private:
  std::string stringField(const rapidjson::Value& entry, const std::string& provider, const char* field) const {
    const auto it = entry.FindMember(field);
    if (it == entry.MemberEnd()) return {};
    if (!it->value.IsString()) refuse("providers." + provider + "." + field + " must be a string");
    return {it->value.GetString(), it->value.GetStringLength()};
  }

  void apply(Provider& p, const std::string& name, const rapidjson::Value& entry) const {
    if (!entry.IsObject()) refuse("providers." + name + " must be an object");
    if (auto url = stringField(entry, name, "token_url"); !url.empty()) p.token_url = url;
    if (!isAllowedTokenUrl(p.token_url)) {
      refuse("providers." + name + ".token_url must be https (plain http only to a loopback address)");
    }
    if (const auto auth = stringField(entry, name, "client_auth"); !auth.empty()) {
      if (auth != "basic" && auth != "post") refuse("providers." + name + ".client_auth must be \"basic\" or \"post\"");
      p.client_auth = auth == "basic" ? Provider::ClientAuth::kBasic : Provider::ClientAuth::kPost;
    }
    if (auto id = stringField(entry, name, "client_id"); !id.empty()) p.client_id = id;
    if (const auto file = stringField(entry, name, "client_secret_file"); !file.empty()) {
      try {
        const auto secret = crypto::readOwnerOnlyFile(file, "client secret file");
        p.client_secret.assign(secret.begin(), secret.end());
        while (!p.client_secret.empty() && (p.client_secret.back() == '\n' || p.client_secret.back() == '\r')) {
          p.client_secret.pop_back();
        }
      } catch (const std::runtime_error& e) {
        refuse(e.what());
      }
    }
    applyConnect(p, name, entry);
    if (const auto rotates = entry.FindMember("rotates_refresh_tokens"); rotates != entry.MemberEnd()) {
      if (!rotates->value.IsBool()) refuse("providers." + name + ".rotates_refresh_tokens must be true or false");
      p.rotates_refresh_tokens = rotates->value.GetBool();
    }
    try {
      // "proxy" replaces the provider's proxy settings as a whole (its parts depend on each
      // other: a {host} base URL and its metadata rule); capabilities merge by name.
      if (const auto proxy = entry.FindMember("proxy"); proxy != entry.MemberEnd()) {
        if (proxy->value.IsNull()) {
          p.proxy.reset();
        } else {
          p.proxy = parseProxySettings(proxy->value);
        }
      }
      if (const auto capabilities = entry.FindMember("capabilities"); capabilities != entry.MemberEnd()) {
        mergeCapabilities(capabilities->value, p.capabilities);
      }
    } catch (const SettingsError& e) {
      refuse("providers." + name + "." + e.what());
    }
  }

  // The connect flow's fields: each replaces the provider's as a whole when given.
  void applyConnect(Provider& p, const std::string& name, const rapidjson::Value& entry) const {
    const auto field = [&](const char* key) { return "providers." + name + "." + key; };
    if (const auto url = entry.FindMember("authorization_url"); url != entry.MemberEnd()) {
      // The control plane sends browsers there: the same rule as the token endpoint.
      const auto text = stringField(entry, name, "authorization_url");
      if (!isAllowedTokenUrl(text)) {
        refuse(field("authorization_url") + " must be https (plain http only to a loopback address)");
      }
      p.authorization_url = text;
    }
    if (const auto pkce = entry.FindMember("pkce"); pkce != entry.MemberEnd()) {
      if (!pkce->value.IsBool()) refuse(field("pkce") + " must be true or false");
      p.pkce = pkce->value.GetBool();
    }
    if (const auto scopes = entry.FindMember("default_scopes"); scopes != entry.MemberEnd()) {
      if (!scopes->value.IsArray()) refuse(field("default_scopes") + " must be an array of scopes");
      p.default_scopes.clear();
      for (const auto& scope : scopes->value.GetArray()) {
        if (!scope.IsString() || scope.GetStringLength() == 0) refuse(field("default_scopes") + " must hold non-empty strings");
        p.default_scopes.emplace_back(scope.GetString(), scope.GetStringLength());
      }
    }
    if (const auto words = entry.FindMember("scope_descriptions"); words != entry.MemberEnd()) {
      if (!words->value.IsObject()) refuse(field("scope_descriptions") + " must be an object of scope -> words");
      p.scope_descriptions.clear();
      for (const auto& m : words->value.GetObject()) {
        const std::string scope(m.name.GetString(), m.name.GetStringLength());
        if (!m.value.IsString()) refuse(field("scope_descriptions") + "." + scope + " must be a string");
        if (!p.scope_descriptions.emplace(scope, std::string(m.value.GetString(), m.value.GetStringLength())).second) {
          refuse(field("scope_descriptions") + "." + scope + " is given twice");
        }
      }
    }
  }

  std::map<std::string, Provider>& providers_;
  std::string source_;
  bool built_in_;
};

}  // namespace

bool isAllowedTokenUrl(const std::string& url) {
  try {
    const Poco::URI uri(url);
    if (uri.getHost().empty()) return false;
    if (uri.getScheme() == "https") return true;
    if (uri.getScheme() != "http") return false;
    if (uri.getHost() == "localhost") return true;
    Poco::Net::IPAddress address;
    return Poco::Net::IPAddress::tryParse(uri.getHost(), address) && address.isLoopback();
  } catch (const Poco::Exception&) {
    return false;
  }
}

ProviderRegistry ProviderRegistry::fromText(std::string_view file_json, const std::string& source) {
  ProviderRegistry registry;
  Loader(registry.providers_, "built-in providers", true).applyFile(builtInProvidersJson());
  Loader(registry.providers_, std::string(kVariable) + ": " + source, false).applyFile(file_json);
  return registry;
}

ProviderRegistry ProviderRegistry::load(const std::optional<std::string>& path) {
  if (!path) {
    ProviderRegistry registry;
    Loader(registry.providers_, "built-in providers", true).applyFile(builtInProvidersJson());
    return registry;
  }
  std::ifstream in(*path);
  if (!in) throw config::ConfigError(std::string(kVariable) + ": cannot read " + *path);
  std::stringstream text;
  text << in.rdbuf();
  return fromText(text.str(), *path);
}

std::vector<std::string> ProviderRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, provider] : providers_) out.push_back(name);
  return out;
}

const Provider* ProviderRegistry::find(const std::string& provider) const {
  const auto it = providers_.find(provider);
  return it == providers_.end() ? nullptr : &it->second;
}

}  // namespace hydra::broker::providers
