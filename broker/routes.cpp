#include "broker/routes.hpp"

#include "broker/handlers/fetch.hpp"

namespace hydra::broker {

void addRoutes(http::Server& server, FetchService& fetch, const std::vector<net::Cidr>& trusted_proxies) {
  using Request = Pistache::Rest::Request;
  server.get("/healthz", [](const Request&) { return http::json(200, R"({"status":"ok"})"); });
  server.getAsync("/internal/v1/instances/:instance_id/connections",
                  [&fetch, trusted_proxies](const Request& req, const http::Responder& respond) {
                    handlers::fetchConnection(fetch, trusted_proxies, req, respond);
                  });
}

}  // namespace hydra::broker
