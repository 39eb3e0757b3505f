#pragma once

#include <optional>

#include <pistache/router.h>

#include "broker/identity/runtime_identity.hpp"
#include "broker/services/fetch.hpp"
#include "shared/http/server.hpp"
#include "shared/net/address.hpp"

namespace hydra::broker::handlers {

/// GET /internal/v1/instances/{instance_id}/connections?provider=&name=&capability=
/// Answers once the decision's audit record is durable (services/fetch.hpp). `trusted_proxies`:
/// HYDRA_TRUSTED_PROXIES, whose X-Forwarded-For is believed; `runtime_identity`: the certificate
/// rules, when on.
void fetchConnection(FetchService& fetch, const std::vector<net::Cidr>& trusted_proxies,
                     const std::optional<identity::RuntimeIdentityPolicy>& runtime_identity,
                     const Pistache::Rest::Request& req, const http::Responder& respond);

}  // namespace hydra::broker::handlers
