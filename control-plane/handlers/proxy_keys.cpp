#include "control-plane/handlers/handlers.hpp"
#include "control-plane/handlers/path.hpp"
#include "shared/json/reader.hpp"

namespace hydra::cp::handlers {

Reply createProxyKey(Services& s, const Request& req) {
  const auto path = childPath(req, "instance_id");
  s.auth.requireCustomer(req, path.customer_id);
  // The body is optional here: {"expires_in_seconds"?}.
  const auto body = req.body();
  const auto input = body.empty() ? model::ProxyKeyCreate{} : model::ProxyKeyCreate::fromJson(*json::parseObject(body));
  const auto key = s.identity.createProxyKey(path.customer_id, path.child_id, input.expires_in_seconds);
  return http::json(201, model::toJson(key));
}

Reply listProxyKeys(Services& s, const Request& req) {
  const auto path = childPath(req, "instance_id");
  s.auth.requireCustomer(req, path.customer_id);
  return http::json(200, model::toJson(s.identity.listProxyKeys(path.customer_id, path.child_id)));
}

Reply revokeProxyKey(Services& s, const Request& req) {
  const auto path = proxyKeyPath(req);
  s.auth.requireCustomer(req, path.customer_id);
  s.identity.revokeProxyKey(path.customer_id, path.instance_id, path.key_id);
  return http::noContent();
}

}  // namespace hydra::cp::handlers
