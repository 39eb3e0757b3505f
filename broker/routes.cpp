#include "broker/routes.hpp"

#include "broker/handlers/fetch.hpp"
#include "broker/openapi.hpp"

namespace hydra::broker {

void addRoutes(http::Server& server, FetchService& fetch, const std::vector<net::Cidr>& trusted_proxies,
               const std::optional<identity::RuntimeIdentityPolicy>& runtime_identity) {
  using Request = Pistache::Rest::Request;
  // /healthz, /readyz, /metrics and /openapi.json: shared/ops (main.cpp). They need no client
  // certificate; every runtime route checks it with `runtime_identity`.
  server.getAsync(
      "/internal/v1/instances/:instance_id/connections",
      [&fetch, trusted_proxies, runtime_identity](const Request& req, const http::Responder& respond) {
        handlers::fetchConnection(fetch, trusted_proxies, runtime_identity, req, respond);
      },
      docs::fetchConnection());
}

}  // namespace hydra::broker
