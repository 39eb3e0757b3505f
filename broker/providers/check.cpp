#include "broker/providers/check.hpp"

namespace hydra::broker::providers {
namespace {

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out.empty() ? "-" : out;
}

void describeProxy(const ProxySettings& proxy, std::ostream& out) {
  out << "  base_url: " << proxy.base_url << "\n";
  if (const auto& host = proxy.host_from_metadata) {
    out << "    {host}: the connection's metadata_json." << host->field << ", a host name ending in " << host->suffix
        << "\n";
  }
  if (const auto& header = proxy.header_from_metadata) {
    out << "    header " << header->header << ": the connection's metadata_json." << header->field << "\n";
  }
  out << "  credential: oauth2 -> Authorization: Bearer <access_token>; basic -> Authorization: Basic "
         "<username:password>; api_key -> ";
  if (!proxy.api_key) {
    out << "not proxied (no \"api_key\" placement)\n";
  } else if (proxy.api_key->in == ApiKeyPlacement::In::kHeader) {
    out << "header " << proxy.api_key->name << ": " << proxy.api_key->prefix << "<api_key>\n";
  } else {
    out << "query parameter " << proxy.api_key->name << "=<api_key>\n";
  }
  auto request = kDefaultRequestHeaders;
  request.insert(request.end(), proxy.request_headers.begin(), proxy.request_headers.end());
  auto response = kDefaultResponseHeaders;
  response.insert(response.end(), proxy.response_headers.begin(), proxy.response_headers.end());
  out << "  request headers passed: " << joined(request) << "\n";
  out << "  response headers passed: " << joined(response) << "\n";
}

}  // namespace

void describe(const ProviderRegistry& registry, std::ostream& out) {
  for (const auto& [name, p] : registry.all()) {
    out << name << "\n";
    out << "  token_url: " << p.token_url << " (client_auth "
        << (p.client_auth == Provider::ClientAuth::kBasic ? "basic" : "post") << ", client_id "
        << (p.client_id.empty() ? "-" : p.client_id) << ", client secret "
        << (p.client_secret.empty() ? "none" : "from its file") << ", rotates refresh tokens "
        << (p.rotates_refresh_tokens ? "yes" : "no") << ")\n";
    if (p.authorization_url.empty()) {
      out << "  connect flow: none (no authorization_url)\n";
    } else {
      out << "  connect flow: " << p.authorization_url << " (PKCE " << (p.pkce ? "S256" : "no") << ", shared client "
          << (p.client_secret.empty() ? "none: customers bring their own" : p.client_id) << ")\n";
      out << "    default scopes: " << joined(p.default_scopes) << "\n";
      for (const auto& [scope, words] : p.scope_descriptions) out << "    scope " << scope << ": " << words << "\n";
    }
    if (!p.proxy) {
      out << "  proxy: none (calls through the broker are refused)\n";
    } else {
      describeProxy(*p.proxy, out);
    }
    if (p.capabilities.empty()) out << "  capabilities: none\n";
    for (const auto& [capability, rules] : p.capabilities) {
      out << "  capability " << capability << "\n";
      for (const auto& rule : rules.allow) out << "    allow " << rule.text << "\n";
      for (const auto& rule : rules.deny) out << "    deny  " << rule.text << "\n";
      if (rules.allow.empty()) out << "    (allows nothing)\n";
    }
  }
}

int checkProvidersFile(const std::string& path, std::ostream& out) {
  const auto registry = ProviderRegistry::load(path);
  describe(registry, out);
  out << registry.all().size() << " providers (built-ins and " << path << "): valid\n";
  return 0;
}

}  // namespace hydra::broker::providers
