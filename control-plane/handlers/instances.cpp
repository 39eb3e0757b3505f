#include "control-plane/handlers/handlers.hpp"
#include "control-plane/handlers/path.hpp"
#include "shared/json/reader.hpp"

namespace hydra::cp::handlers {

Reply createInstance(Services& s, const Request& req) {
  const auto path = customerPath(req);
  s.auth.requireCustomer(req, path.customer_id);
  const auto body = json::parseObject(req.body());
  const auto input = model::NameInput::fromJson(*body, true);
  const auto instance = s.identity.createInstance(path.customer_id, input.name);
  return http::json(201, model::toJson(instance));
}

Reply listInstances(Services& s, const Request& req) {
  const auto path = customerPath(req);
  s.auth.requireCustomer(req, path.customer_id);
  return http::json(200, model::toJson(s.identity.listInstances(path.customer_id)));
}

Reply deleteInstance(Services& s, const Request& req) {
  const auto path = childPath(req, "instance_id");
  s.auth.requireCustomer(req, path.customer_id);
  s.identity.deleteInstance(path.customer_id, path.child_id);
  return http::noContent();
}

}  // namespace hydra::cp::handlers
