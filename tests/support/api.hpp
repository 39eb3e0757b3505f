#pragma once
// What every end-to-end test starts from: its own migrated database, the real control plane
// serving on it, a client, and shortcuts for the setup calls (which throw, failing the test
// with the response, when the service does not answer as expected).

#include <string>
#include <vector>

#include "tests/support/control_plane.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/pg.hpp"

namespace hydra::test {

/// A customer and an API key of theirs.
struct Tenant {
  std::string id, api_key;
  Headers auth() const { return bearer(api_key); }
  /// "/v1/customers/<id>"
  std::string path() const { return "/v1/customers/" + id; }
};

/// A Connection create body with the given credentials object (JSON text).
std::string connectionBody(const std::string& provider, const std::string& name,
                           const std::string& credentials = R"({"access_token":"tok"})");

class Stack {
 public:
  /// `role`: the database role the control plane logs in as (default: the superuser);
  /// `settings`: added to (or replacing) the control plane's environment.
  explicit Stack(const std::string& role = "", const Environment& settings = {})
      : server(withSettings(ControlPlane::environment(role.empty() ? db.url() : db.urlAs(role)), settings)),
        http(server.port()) {}

  TestDatabase db;
  ControlPlane server;
  HttpClient http;

  Response admin(const std::string& method, const std::string& path, const std::string& body = "") const;
  Response as(const Tenant& tenant, const std::string& method, const std::string& path,
              const std::string& body = "") const;

  /// POST /v1/admin/customers, then an API key for it with the admin token.
  Tenant newTenant(const std::string& name = "acme") const;
  /// Each returns the new object's id.
  std::string createConnection(const Tenant& tenant, const std::string& body) const;
  std::string createConnection(const Tenant& tenant, const std::string& provider, const std::string& name) const;
  std::string createInstance(const Tenant& tenant, const std::string& name = "runtime") const;
  std::string createGrant(const Tenant& tenant, const std::string& connection_id, const std::string& instance_id,
                          const std::string& capabilities = R"(["send_mail"])") const;
};

/// One route of routes.cpp with concrete ids and a valid body.
struct Endpoint {
  std::string method, path, body;
};
/// Every customer-scoped endpoint (all but /healthz and /v1/admin/customers) under `customer_id`,
/// using the given ids for the objects in the path.
struct PathIds {
  std::string connection, instance, grant, api_key, webhook_endpoint;
};
std::vector<Endpoint> customerEndpoints(const std::string& customer_id, const PathIds& ids);

/// Throws with the request and the response body unless `r.status == status`.
const Response& expectStatus(const Response& r, int status, const std::string& what);

}  // namespace hydra::test
