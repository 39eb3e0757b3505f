#pragma once

#include "broker/services/fetch.hpp"
#include "shared/http/server.hpp"

namespace hydra::broker {

/// The broker's API: the credential fetch (the operations routes are added in main.cpp).
void addRoutes(http::Server& server, FetchService& fetch);

}  // namespace hydra::broker
