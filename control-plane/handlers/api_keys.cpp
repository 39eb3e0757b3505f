#include "control-plane/handlers/handlers.hpp"
#include "control-plane/handlers/path.hpp"
#include "shared/json/reader.hpp"

namespace hydra::cp::handlers {

Reply createApiKey(Services& s, const Request& req) {
  const auto path = customerPath(req);
  s.auth.requireAdminOrCustomer(req, path.customer_id);
  // The body is optional here: {"name"?}.
  const auto body = req.body();
  const auto input = body.empty() ? model::NameInput{} : model::NameInput::fromJson(*json::parseObject(body), false);
  const auto key = s.identity.createApiKey(path.customer_id, input.name);
  return http::json(201, model::toJson(key));
}

Reply listApiKeys(Services& s, const Request& req) {
  const auto path = customerPath(req);
  s.auth.requireAdminOrCustomer(req, path.customer_id);
  return http::json(200, model::toJson(s.identity.listApiKeys(path.customer_id)));
}

Reply revokeApiKey(Services& s, const Request& req) {
  const auto path = childPath(req, "key_id");
  s.auth.requireAdminOrCustomer(req, path.customer_id);
  s.identity.revokeApiKey(path.customer_id, path.child_id);
  return http::noContent();
}

}  // namespace hydra::cp::handlers
