#include "broker/routes.hpp"

#include "broker/handlers/fetch.hpp"

namespace hydra::broker {

void addRoutes(http::Server& server, FetchService& fetch) {
  using Request = Pistache::Rest::Request;
  server.get("/healthz", [](const Request&) { return http::json(200, R"({"status":"ok"})"); });
  server.get("/internal/v1/instances/:instance_id/connections",
             [&fetch](const Request& req) { return handlers::fetchConnection(fetch, req); });
}

}  // namespace hydra::broker
