#pragma once
// What the control plane needs of the registry to send a browser to a provider (schema/0025,
// connect_providers): written by each broker at start-up, never secret.

#include <pqxx/pqxx>

#include "broker/providers/registry.hpp"

namespace hydra::broker::providers {

/// Upserts one connect_providers row per provider with an authorization_url, in one
/// transaction: authorization_url, pkce, default_scopes, scope_descriptions, and
/// shared_client_id = the registry's client_id when a client secret is configured (a shared
/// client the broker can exchange codes with), else NULL. Rows of providers a registry no
/// longer has stay (the broker's role cannot delete). Returns how many rows were written.
std::size_t publishConnectProviders(pqxx::connection& connection, const ProviderRegistry& registry);

}  // namespace hydra::broker::providers
