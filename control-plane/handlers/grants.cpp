#include "control-plane/handlers/handlers.hpp"
#include "control-plane/handlers/path.hpp"
#include "shared/json/reader.hpp"

namespace hydra::cp::handlers {

Reply createGrant(Services& s, const Request& req) {
  const auto path = childPath(req, "connection_id");
  s.auth.requireCustomer(req, path.customer_id);
  const auto body = json::parseObject(req.body());
  const auto input = model::GrantCreate::fromJson(*body);
  const auto grant = s.connections.grant(path.customer_id, path.child_id, input);
  return http::json(201, model::toJson(grant));
}

Reply listGrants(Services& s, const Request& req) {
  const auto path = childPath(req, "connection_id");
  s.auth.requireCustomer(req, path.customer_id);
  return http::json(200, model::toJson(s.connections.grants(path.customer_id, path.child_id)));
}

Reply deleteGrant(Services& s, const Request& req) {
  const auto path = grantPath(req);
  s.auth.requireCustomer(req, path.customer_id);
  s.connections.revokeGrant(path.customer_id, path.connection_id, path.grant_id);
  return http::noContent();
}

}  // namespace hydra::cp::handlers
