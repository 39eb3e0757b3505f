#include "control-plane/handlers/handlers.hpp"
#include "shared/http/request.hpp"
#include "shared/json/reader.hpp"

namespace hydra::cp::handlers {

Reply getConnectSettings(Services& s, const Request& req) {
  const auto [customer_id] = http::pathUuids(req, {"customer_id"});
  s.auth.requireCustomer(req, customer_id);
  return http::json(200, model::toJson(s.connect_sessions.settings(customer_id)));
}

Reply putConnectSettings(Services& s, const Request& req) {
  const auto [customer_id] = http::pathUuids(req, {"customer_id"});
  s.auth.requireCustomer(req, customer_id);
  const auto body = json::parseObject(req.body());
  const auto input = model::ConnectSettings::fromJson(*body);
  return http::json(200, model::toJson(s.connect_sessions.putSettings(customer_id, input)));
}

Reply createConnectSession(Services& s, const Request& req) {
  const auto [customer_id] = http::pathUuids(req, {"customer_id"});
  s.auth.requireCustomer(req, customer_id);
  const auto body = json::parseObject(req.body());
  const auto input = model::ConnectSessionCreate::fromJson(*body);
  auto reply = http::json(201, model::toJson(s.connect_sessions.create(customer_id, input)));
  reply.headers.emplace_back("Cache-Control", "no-store");  // the link is a credential, shown only here
  return reply;
}

Reply getConnectSession(Services& s, const Request& req) {
  const auto [customer_id, session_id] = http::pathUuids(req, {"customer_id", "session_id"});
  s.auth.requireCustomer(req, customer_id);
  return http::json(200, model::toJson(s.connect_sessions.get(customer_id, session_id)));
}

}  // namespace hydra::cp::handlers
