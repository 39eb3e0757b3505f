#include "control-plane/handlers/handlers.hpp"
#include "shared/json/reader.hpp"

namespace hydra::cp::handlers {

Reply createCustomer(Services& s, const Request& req) {
  s.auth.requireAdmin(req);
  const auto body = json::parseObject(req.body());
  const auto input = model::NameInput::fromJson(*body, true);
  const auto customer = s.identity.createCustomer(input.name);
  return http::json(201, model::toJson(customer));
}

}  // namespace hydra::cp::handlers
