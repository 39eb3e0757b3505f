#include "control-plane/handlers/handlers.hpp"
#include "control-plane/handlers/narrowing.hpp"
#include "shared/http/request.hpp"
#include "shared/json/reader.hpp"

namespace hydra::cp::handlers {

Reply listConnections(Services& s, const Request& req) {
  http::Problems problems;
  const auto customer_id = http::pathUuid(req, "customer_id", problems);
  ConnectionFilter filter;
  filter.provider = http::queryString(req, "provider", false, 50, problems);
  filter.status = http::queryOneOf(req, "status", {"pending", "active", "expired", "error"}, problems);
  filter.limit = http::queryInteger(req, "limit", 50, 1, 500, problems);
  filter.offset = http::queryInteger(req, "offset", 0, 0, std::numeric_limits<std::int32_t>::max(), problems);
  problems.throwIfAny();
  s.auth.requireCustomer(req, customer_id);
  const auto page = s.connections.list(customer_id, filter);
  return http::json(200, model::toJson(page.connections, page.total));
}

Reply createConnection(Services& s, const Request& req) {
  const auto [customer_id] = http::pathUuids(req, {"customer_id"});
  s.auth.requireCustomer(req, customer_id);
  const auto body = json::parseObject(req.body());
  const auto input = model::ConnectionCreate::fromJson(*body);
  const auto created = s.connections.create(customer_id, input);
  return http::json(201, model::toJson(created));
}

Reply getConnection(Services& s, const Request& req) {
  const auto [customer_id, connection_id] = http::pathUuids(req, {"customer_id", "connection_id"});
  s.auth.requireCustomer(req, customer_id);
  return http::json(200, model::toJson(s.connections.get(customer_id, connection_id)));
}

Reply updateConnection(Services& s, const Request& req, RevocationWait& wait) {
  const auto [customer_id, connection_id] = http::pathUuids(req, {"customer_id", "connection_id"});
  s.auth.requireCustomer(req, customer_id);
  const auto body = json::parseObject(req.body());
  const auto input = model::ConnectionUpdate::fromJson(*body);
  wait.reserve(customer_id);  // credentials or anything a fetch returns may change
  const auto updated = s.connections.update(customer_id, connection_id, input);
  return http::json(200, model::toJson(updated));
}

Reply deleteConnection(Services& s, const Request& req, RevocationWait& wait) {
  const auto [customer_id, connection_id] = http::pathUuids(req, {"customer_id", "connection_id"});
  s.auth.requireCustomer(req, customer_id);
  wait.reserve(customer_id);
  s.connections.remove(customer_id, connection_id);
  return http::noContent();
}

}  // namespace hydra::cp::handlers
