#include "control-plane/handlers/handlers.hpp"
#include "control-plane/handlers/path.hpp"
#include "shared/json/reader.hpp"

namespace hydra::cp::handlers {

Reply listConnections(Services& s, const Request& req) {
  http::Problems problems;
  const auto customer_id = http::pathUuid(req, "customer_id", problems);
  ConnectionFilter filter;
  filter.provider = http::queryString(req, "provider", false, 50, problems);
  filter.status = http::queryOneOf(req, "status", {"active", "expired", "error"}, problems);
  filter.limit = http::queryInteger(req, "limit", 50, 1, 500, problems);
  filter.offset = http::queryInteger(req, "offset", 0, 0, std::numeric_limits<std::int32_t>::max(), problems);
  problems.throwIfAny();
  s.auth.requireCustomer(req, customer_id);
  const auto page = s.connections.list(customer_id, filter);
  return http::json(200, model::toJson(page.connections, page.total));
}

Reply createConnection(Services& s, const Request& req) {
  const auto path = customerPath(req);
  s.auth.requireCustomer(req, path.customer_id);
  const auto body = json::parseObject(req.body());
  const auto input = model::ConnectionCreate::fromJson(*body);
  const auto created = s.connections.create(path.customer_id, input);
  return http::json(201, model::toJson(created));
}

Reply getConnection(Services& s, const Request& req) {
  const auto path = childPath(req, "connection_id");
  s.auth.requireCustomer(req, path.customer_id);
  return http::json(200, model::toJson(s.connections.get(path.customer_id, path.child_id)));
}

Reply updateConnection(Services& s, const Request& req) {
  const auto path = childPath(req, "connection_id");
  s.auth.requireCustomer(req, path.customer_id);
  const auto body = json::parseObject(req.body());
  const auto input = model::ConnectionUpdate::fromJson(*body);
  const auto updated = s.connections.update(path.customer_id, path.child_id, input);
  return http::json(200, model::toJson(updated));
}

Reply deleteConnection(Services& s, const Request& req) {
  const auto path = childPath(req, "connection_id");
  s.auth.requireCustomer(req, path.customer_id);
  s.connections.remove(path.customer_id, path.child_id);
  return http::noContent();
}

}  // namespace hydra::cp::handlers
