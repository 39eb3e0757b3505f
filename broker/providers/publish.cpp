#include "broker/providers/publish.hpp"

#include <optional>
#include <string>

#include "shared/json/writer.hpp"

namespace hydra::broker::providers {

std::size_t publishConnectProviders(pqxx::connection& connection, const ProviderRegistry& registry) {
  pqxx::work tx(connection);
  std::size_t written = 0;
  for (const auto& [name, p] : registry.all()) {
    if (p.authorization_url.empty()) continue;
    // Without its secret the broker could not exchange a code for the shared client: sessions
    // must then name the customer's own client.
    const std::optional<std::string> shared_client_id =
        p.client_secret.empty() || p.client_id.empty() ? std::nullopt : std::optional<std::string>(p.client_id);
    json::Writer descriptions;
    descriptions.beginObject();
    for (const auto& [scope, words] : p.scope_descriptions) descriptions.key(scope).string(words);
    descriptions.endObject();
    tx.exec_prepared("connect_provider_upsert", name, p.authorization_url, p.pkce, shared_client_id,
                     json::Writer().strings(p.default_scopes).str(), descriptions.str());
    ++written;
  }
  tx.commit();
  return written;
}

}  // namespace hydra::broker::providers
