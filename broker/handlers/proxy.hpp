#pragma once

#include <optional>
#include <vector>

#include <pistache/router.h>

#include "broker/identity/runtime_identity.hpp"
#include "broker/proxy/service.hpp"
#include "shared/http/server.hpp"
#include "shared/net/address.hpp"

namespace hydra::broker::handlers {

/// Every path below it is a proxied call's (Server::anyBelowAsync).
inline constexpr const char* kProxyRoutePrefix = "/internal/v1/instances/:instance_id/proxy/:provider";

/// GET, POST, PUT, PATCH, DELETE /internal/v1/instances/{instance_id}/proxy/{provider}/{path...}
/// The connection is chosen as the fetch chooses it (Hydra-Connection-Name names one); the
/// answer is the provider's, once the call's audit record is durable (proxy/service.hpp).
void proxyCall(proxy::ProxyService& proxy, const std::vector<net::Cidr>& trusted_proxies,
               const std::optional<identity::RuntimeIdentityPolicy>& runtime_identity,
               const Pistache::Rest::Request& req, const http::Responder& respond);

}  // namespace hydra::broker::handlers
