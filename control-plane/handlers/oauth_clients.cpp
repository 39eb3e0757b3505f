#include "control-plane/handlers/handlers.hpp"
#include "shared/http/request.hpp"
#include "shared/json/reader.hpp"

namespace hydra::cp::handlers {

Reply createOAuthClient(Services& s, const Request& req) {
  const auto [customer_id] = http::pathUuids(req, {"customer_id"});
  s.auth.requireCustomer(req, customer_id);
  const auto body = json::parseObject(req.body());
  const auto input = model::OAuthClientCreate::fromJson(*body);
  return http::json(201, model::toJson(s.oauth_clients.create(customer_id, input)));
}

Reply listOAuthClients(Services& s, const Request& req) {
  http::Problems problems;
  const auto customer_id = http::pathUuid(req, "customer_id", problems);
  const auto provider = http::queryString(req, "provider", false, 50, problems);
  const auto limit = http::queryInteger(req, "limit", 50, 1, 500, problems);
  const auto offset = http::queryInteger(req, "offset", 0, 0, std::numeric_limits<std::int32_t>::max(), problems);
  problems.throwIfAny();
  s.auth.requireCustomer(req, customer_id);
  const auto page = s.oauth_clients.list(customer_id, provider, limit, offset);
  return http::json(200, model::toJson(page.clients, page.total));
}

Reply getOAuthClient(Services& s, const Request& req) {
  const auto [customer_id, client_id] = http::pathUuids(req, {"customer_id", "oauth_client_id"});
  s.auth.requireCustomer(req, customer_id);
  return http::json(200, model::toJson(s.oauth_clients.get(customer_id, client_id)));
}

Reply deleteOAuthClient(Services& s, const Request& req) {
  const auto [customer_id, client_id] = http::pathUuids(req, {"customer_id", "oauth_client_id"});
  s.auth.requireCustomer(req, customer_id);
  s.oauth_clients.remove(customer_id, client_id);
  return http::noContent();
}

}  // namespace hydra::cp::handlers
