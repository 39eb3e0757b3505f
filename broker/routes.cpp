#include "broker/routes.hpp"

#include "broker/handlers/fetch.hpp"
#include "broker/handlers/proxy.hpp"
#include "broker/openapi.hpp"

namespace hydra::broker {

void addRoutes(http::Server& server, FetchService& fetch, proxy::ProxyService& proxy, const std::vector<net::Cidr>& trusted_proxies,
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
  server.anyBelowAsync(
      {"GET", "POST", "PUT", "PATCH", "DELETE"}, handlers::kProxyRoutePrefix,
      [&proxy, trusted_proxies, runtime_identity](const Request& req, const http::Responder& respond) {
        handlers::proxyCall(proxy, trusted_proxies, runtime_identity, req, respond);
      },
      docs::proxyCall());
}

}  // namespace hydra::broker
