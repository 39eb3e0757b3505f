#pragma once

#include <optional>

#include "broker/identity/runtime_identity.hpp"
#include "broker/proxy/service.hpp"
#include "broker/services/fetch.hpp"
#include "shared/http/server.hpp"
#include "shared/net/address.hpp"

namespace hydra::broker {

/// The broker's API: the credential fetch and proxied calls (the operations routes are added in
/// main.cpp).
/// `trusted_proxies`: HYDRA_TRUSTED_PROXIES, whose X-Forwarded-For is believed;
/// `runtime_identity`: the certificate rules every runtime route applies, when on.
void addRoutes(http::Server& server, FetchService& fetch, proxy::ProxyService& proxy,
               const std::vector<net::Cidr>& trusted_proxies,
               const std::optional<identity::RuntimeIdentityPolicy>& runtime_identity);

}  // namespace hydra::broker
