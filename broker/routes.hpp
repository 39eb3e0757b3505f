#pragma once

#include "broker/services/fetch.hpp"
#include "shared/http/server.hpp"
#include "shared/net/address.hpp"

namespace hydra::broker {

/// The broker's whole surface: a health check and the credential fetch.
void addRoutes(http::Server& server, FetchService& fetch, const std::vector<net::Cidr>& trusted_proxies);

}  // namespace hydra::broker
