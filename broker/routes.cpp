#include "broker/routes.hpp"

#include "broker/handlers/fetch.hpp"
#include "broker/openapi.hpp"

namespace hydra::broker {

void addRoutes(http::Server& server, FetchService& fetch) {
  using Request = Pistache::Rest::Request;
  // /healthz, /readyz, /metrics and /openapi.json: shared/ops (main.cpp).
  server.getAsync(
      "/internal/v1/instances/:instance_id/connections",
      [&fetch](const Request& req, const http::Responder& respond) { handlers::fetchConnection(fetch, req, respond); },
      docs::fetchConnection());
}

}  // namespace hydra::broker
