#include "control-plane/handlers/handlers.hpp"
#include "control-plane/handlers/narrowing.hpp"
#include "shared/http/request.hpp"
#include "shared/json/reader.hpp"

namespace hydra::cp::handlers {

Reply createInstance(Services& s, const Request& req) {
  const auto [customer_id] = http::pathUuids(req, {"customer_id"});
  s.auth.requireCustomer(req, customer_id);
  const auto body = json::parseObject(req.body());
  const auto input = model::NameInput::fromJson(*body, true);
  const auto instance = s.identity.createInstance(customer_id, input.name);
  return http::json(201, model::toJson(instance));
}

Reply listInstances(Services& s, const Request& req) {
  const auto [customer_id] = http::pathUuids(req, {"customer_id"});
  s.auth.requireCustomer(req, customer_id);
  return http::json(200, model::toJson(s.identity.listInstances(customer_id)));
}

Reply updateInstance(Services& s, const Request& req, RevocationWait& wait) {
  const auto [customer_id, instance_id] = http::pathUuids(req, {"customer_id", "instance_id"});
  s.auth.requireCustomer(req, customer_id);
  const auto body = json::parseObject(req.body());
  const auto input = model::InstanceUpdate::fromJson(*body);
  if (input.disabled.value_or(false)) wait.reserve(customer_id);  // the kill switch is a revocation
  return http::json(200, model::toJson(s.identity.updateInstance(customer_id, instance_id, input)));
}

Reply deleteInstance(Services& s, const Request& req, RevocationWait& wait) {
  const auto [customer_id, instance_id] = http::pathUuids(req, {"customer_id", "instance_id"});
  s.auth.requireCustomer(req, customer_id);
  wait.reserve(customer_id);
  s.identity.deleteInstance(customer_id, instance_id);
  return http::noContent();
}

}  // namespace hydra::cp::handlers
