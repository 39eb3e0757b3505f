#include "control-plane/handlers/handlers.hpp"
#include "control-plane/handlers/narrowing.hpp"
#include "shared/http/request.hpp"
#include "shared/json/reader.hpp"

namespace hydra::cp::handlers {

Reply createGrant(Services& s, const Request& req) {
  const auto [customer_id, connection_id] = http::pathUuids(req, {"customer_id", "connection_id"});
  s.auth.requireCustomer(req, customer_id);
  const auto body = json::parseObject(req.body());
  const auto input = model::GrantCreate::fromJson(*body);
  const auto grant = s.connections.grant(customer_id, connection_id, input);
  return http::json(201, model::toJson(grant));
}

Reply listGrants(Services& s, const Request& req) {
  const auto [customer_id, connection_id] = http::pathUuids(req, {"customer_id", "connection_id"});
  s.auth.requireCustomer(req, customer_id);
  return http::json(200, model::toJson(s.connections.grants(customer_id, connection_id)));
}

Reply updateGrant(Services& s, const Request& req, RevocationWait& wait) {
  const auto [customer_id, connection_id, grant_id] =
      http::pathUuids(req, {"customer_id", "connection_id", "grant_id"});
  s.auth.requireCustomer(req, customer_id);
  const auto body = json::parseObject(req.body());
  const auto input = model::GrantUpdate::fromJson(*body);
  // Every PATCH waits out the brokers' staleness bound, whatever it changes: fewer capabilities,
  // an earlier end, "proxy_only": true (the fetch stops releasing the credentials: a revocation)
  // or a tighter rate limit all narrow access, and the answer must not come before they hold.
  wait.reserve(customer_id);
  return http::json(200, model::toJson(s.connections.updateGrant(customer_id, connection_id, grant_id, input)));
}

Reply deleteGrant(Services& s, const Request& req, RevocationWait& wait) {
  const auto [customer_id, connection_id, grant_id] =
      http::pathUuids(req, {"customer_id", "connection_id", "grant_id"});
  s.auth.requireCustomer(req, customer_id);
  wait.reserve(customer_id);
  s.connections.revokeGrant(customer_id, connection_id, grant_id);
  return http::noContent();
}

}  // namespace hydra::cp::handlers
