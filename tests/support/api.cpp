#include "tests/support/api.hpp"

#include <stdexcept>

namespace hydra::test {

std::string connectionBody(const std::string& provider, const std::string& name, const std::string& credentials) {
  return R"({"provider":")" + provider + R"(","name":")" + name + R"(","credentials":)" + credentials + "}";
}

const Response& expectStatus(const Response& r, int status, const std::string& what) {
  if (r.status != status) {
    throw std::runtime_error(what + ": expected " + std::to_string(status) + ", got " + std::to_string(r.status) +
                             " " + r.body);
  }
  return r;
}

std::vector<Endpoint> customerEndpoints(const std::string& customer_id, const PathIds& ids) {
  const auto customer = "/v1/customers/" + customer_id;
  const auto connection = customer + "/connections/" + ids.connection;
  const auto webhook_endpoint = customer + "/webhook-endpoints/" + ids.webhook_endpoint;
  return {
      {"POST", customer + "/api-keys", R"({"name":"k"})"},
      {"GET", customer + "/api-keys", ""},
      {"DELETE", customer + "/api-keys/" + ids.api_key, ""},
      {"POST", customer + "/instances", R"({"name":"i"})"},
      {"GET", customer + "/instances", ""},
      {"PATCH", customer + "/instances/" + ids.instance, R"({"disabled":true})"},
      {"DELETE", customer + "/instances/" + ids.instance, ""},
      {"GET", customer + "/audit-events", ""},
      {"GET", customer + "/audit-events/export?since=2026-01-01T00:00:00Z", ""},
      {"GET", customer + "/connections", ""},
      {"POST", customer + "/connections", connectionBody("gmail", "intruder")},
      {"GET", connection, ""},
      {"PATCH", connection, R"({"name":"renamed","credentials":{"x":"y"}})"},
      {"DELETE", connection, ""},
      {"POST", connection + "/grants", R"({"capabilities":[],"instance_id":")" + ids.instance + R"("})"},
      {"GET", connection + "/grants", ""},
      {"PATCH", connection + "/grants/" + ids.grant, R"({"capabilities":[]})"},
      {"DELETE", connection + "/grants/" + ids.grant, ""},
      {"POST", customer + "/webhook-endpoints", R"({"url":"https://example.com/hooks"})"},
      {"GET", customer + "/webhook-endpoints", ""},
      {"GET", webhook_endpoint, ""},
      {"PATCH", webhook_endpoint, R"({"description":"renamed"})"},
      {"DELETE", webhook_endpoint, ""},
      {"POST", webhook_endpoint + "/rotate-secret", ""},
      {"GET", webhook_endpoint + "/deliveries", ""},
      // The connect flow's (issue 20): every check here comes before the id is looked up.
      {"POST", customer + "/oauth-clients", R"({"provider":"gmail","client_id":"c","client_secret":"s"})"},
      {"GET", customer + "/oauth-clients", ""},
      {"GET", customer + "/oauth-clients/" + randomUuid(), ""},
      {"DELETE", customer + "/oauth-clients/" + randomUuid(), ""},
      {"GET", customer + "/connect-settings", ""},
      {"PUT", customer + "/connect-settings", R"({"allowed_redirect_urls":["https://example.com/done"]})"},
      {"POST", customer + "/connect-sessions", R"({"provider":"gmail","name":"intruder"})"},
      {"GET", customer + "/connect-sessions/" + randomUuid(), ""},
  };
}

Response Stack::admin(const std::string& method, const std::string& path, const std::string& body) const {
  return http.request(method, path, body, bearer(server.adminToken()));
}

Response Stack::as(const Tenant& tenant, const std::string& method, const std::string& path,
                   const std::string& body) const {
  return http.request(method, path, body, tenant.auth());
}

Tenant Stack::newTenant(const std::string& name) const {
  Tenant t;
  const auto customer = admin("POST", "/v1/admin/customers", R"({"name":")" + name + R"("})");
  t.id = text(expectStatus(customer, 201, "create customer").json, "id");
  const auto key = admin("POST", t.path() + "/api-keys", R"({"name":"setup"})");
  t.api_key = text(expectStatus(key, 201, "create API key").json, "api_key");
  return t;
}

std::string Stack::createConnection(const Tenant& tenant, const std::string& body) const {
  const auto r = as(tenant, "POST", tenant.path() + "/connections", body);
  return text(expectStatus(r, 201, "create connection").json, "id");
}

std::string Stack::createConnection(const Tenant& tenant, const std::string& provider, const std::string& name) const {
  return createConnection(tenant, connectionBody(provider, name));
}

std::string Stack::createInstance(const Tenant& tenant, const std::string& name) const {
  const auto r = as(tenant, "POST", tenant.path() + "/instances", R"({"name":")" + name + R"("})");
  return text(expectStatus(r, 201, "create instance").json, "id");
}

std::string Stack::createGrant(const Tenant& tenant, const std::string& connection_id, const std::string& instance_id,
                               const std::string& capabilities) const {
  const auto r = as(tenant, "POST", tenant.path() + "/connections/" + connection_id + "/grants",
                    R"({"instance_id":")" + instance_id + R"(","capabilities":)" + capabilities + "}");
  return text(expectStatus(r, 201, "create grant").json, "id");
}

}  // namespace hydra::test
