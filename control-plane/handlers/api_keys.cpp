#include "control-plane/handlers/handlers.hpp"
#include "shared/http/request.hpp"
#include "shared/json/reader.hpp"

namespace hydra::cp::handlers {

Reply createApiKey(Services& s, const Request& req) {
  const auto [customer_id] = http::pathUuids(req, {"customer_id"});
  s.auth.requireAdminOrCustomer(req, customer_id);
  // The body is optional here: {"name"?}.
  const auto body = req.body();
  const auto input = body.empty() ? model::NameInput{} : model::NameInput::fromJson(*json::parseObject(body), false);
  const auto key = s.identity.createApiKey(customer_id, input.name);
  auto reply = http::json(201, model::toJson(key));
  reply.headers.emplace_back("Cache-Control", "no-store");  // the secret is in this response only
  return reply;
}

Reply listApiKeys(Services& s, const Request& req) {
  const auto [customer_id] = http::pathUuids(req, {"customer_id"});
  s.auth.requireAdminOrCustomer(req, customer_id);
  return http::json(200, model::toJson(s.identity.listApiKeys(customer_id)));
}

Reply revokeApiKey(Services& s, const Request& req) {
  const auto [customer_id, key_id] = http::pathUuids(req, {"customer_id", "key_id"});
  s.auth.requireAdminOrCustomer(req, customer_id);
  s.identity.revokeApiKey(customer_id, key_id);
  return http::noContent();
}

}  // namespace hydra::cp::handlers
