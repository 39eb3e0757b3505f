#include "control-plane/handlers/handlers.hpp"
#include "control-plane/handlers/narrowing.hpp"
#include "shared/http/request.hpp"
#include "shared/json/reader.hpp"

namespace hydra::cp::handlers {

Reply createProxyKey(Services& s, const Request& req) {
  const auto [customer_id, instance_id] = http::pathUuids(req, {"customer_id", "instance_id"});
  s.auth.requireCustomer(req, customer_id);
  // The body is optional here: {"expires_in_seconds"?, "allowed_cidrs"?}.
  const auto body = req.body();
  const auto input = body.empty() ? model::ProxyKeyCreate{} : model::ProxyKeyCreate::fromJson(*json::parseObject(body));
  const auto key = s.identity.createProxyKey(customer_id, instance_id, input);
  auto reply = http::json(201, model::toJson(key));
  reply.headers.emplace_back("Cache-Control", "no-store");  // the secret is in this response only
  return reply;
}

Reply listProxyKeys(Services& s, const Request& req) {
  const auto [customer_id, instance_id] = http::pathUuids(req, {"customer_id", "instance_id"});
  s.auth.requireCustomer(req, customer_id);
  return http::json(200, model::toJson(s.identity.listProxyKeys(customer_id, instance_id)));
}

Reply revokeProxyKey(Services& s, const Request& req, RevocationWait& wait) {
  const auto [customer_id, instance_id, key_id] =
      http::pathUuids(req, {"customer_id", "instance_id", "key_id"});
  s.auth.requireCustomer(req, customer_id);
  wait.reserve(customer_id);  // then no broker serves the key from memory any more
  s.identity.revokeProxyKey(customer_id, instance_id, key_id);
  return http::noContent();
}

}  // namespace hydra::cp::handlers
