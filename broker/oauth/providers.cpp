#include "broker/oauth/providers.hpp"

#include <fstream>
#include <sstream>

#include <Poco/Net/IPAddress.h>
#include <Poco/URI.h>
#include <rapidjson/document.h>

#include "shared/config/env.hpp"
#include "shared/crypto/secret_file.hpp"

namespace hydra::broker::oauth {
namespace {

constexpr const char* kVariable = "HYDRA_PROVIDERS_FILE";

[[noreturn]] void refuse(const std::string& problem) { throw config::ConfigError(std::string(kVariable) + ": " + problem); }

std::map<std::string, Provider> builtIns() {
  using Auth = Provider::ClientAuth;
  const Provider google{"https://oauth2.googleapis.com/token", Auth::kPost, "", "", false};
  return {
      {"google", google},
      {"gmail", google},
      {"google_calendar", google},
      {"microsoft", {"https://login.microsoftonline.com/common/oauth2/v2.0/token", Auth::kPost, "", "", true}},
      {"xero", {"https://identity.xero.com/connect/token", Auth::kBasic, "", "", true}},
      {"deputy", {"https://once.deputy.com/my/oauth/access_token", Auth::kPost, "", "", true}},
  };
}

std::string stringField(const rapidjson::Value& entry, const std::string& provider, const char* field) {
  const auto it = entry.FindMember(field);
  if (it == entry.MemberEnd()) return {};
  if (!it->value.IsString()) refuse("providers." + provider + "." + field + " must be a string");
  return {it->value.GetString(), it->value.GetStringLength()};
}

void apply(Provider& p, const std::string& name, const rapidjson::Value& entry) {
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
  if (const auto rotates = entry.FindMember("rotates_refresh_tokens"); rotates != entry.MemberEnd()) {
    if (!rotates->value.IsBool()) refuse("providers." + name + ".rotates_refresh_tokens must be true or false");
    p.rotates_refresh_tokens = rotates->value.GetBool();
  }
}

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

ProviderRegistry ProviderRegistry::load(const std::optional<std::string>& path) {
  ProviderRegistry registry;
  registry.providers_ = builtIns();
  if (!path) return registry;

  std::ifstream in(*path);
  if (!in) refuse("cannot read " + *path);
  std::stringstream text;
  text << in.rdbuf();
  rapidjson::Document doc;
  doc.Parse(text.str().c_str());
  if (doc.HasParseError() || !doc.IsObject()) refuse(*path + " is not a JSON object");
  const auto providers = doc.FindMember("providers");
  if (providers == doc.MemberEnd() || !providers->value.IsObject()) refuse(*path + " has no \"providers\" object");
  for (const auto& member : providers->value.GetObject()) {
    const std::string name(member.name.GetString(), member.name.GetStringLength());
    auto [entry, added] = registry.providers_.try_emplace(name);
    // A provider we know nothing about may rotate refresh tokens: assume it does, which only
    // makes retries more careful.
    if (added) entry->second.rotates_refresh_tokens = true;
    apply(entry->second, name, member.value);
  }
  return registry;
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

}  // namespace hydra::broker::oauth
