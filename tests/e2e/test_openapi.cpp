// GET /openapi.json (issue 9): each binary documents exactly the routes it serves, with the
// vendor contract's field names and FastAPI's validation error schemas; the answers the
// services give match what the document says (status codes per route, and the schemas of a
// representative set of bodies, checked by a small JSON Schema subset: $ref, type, required,
// properties, items, enum, anyOf).
#include <doctest/doctest.h>

#include <map>
#include <regex>
#include <set>

#include "control-plane/routes.hpp"
#include "shared/crypto/public_key_file.hpp"
#include "shared/http/openapi.hpp"
#include "shared/ops/operations.hpp"
#include "control-plane/openapi.hpp"
#include "tests/support/broker.hpp"

using namespace hydra::test;

namespace {

using Doc = rapidjson::Document;
using rapidjson::Value;

std::set<std::string> documented(const Value& doc) {
  std::set<std::string> out;
  for (const auto& path : member(doc, "paths").GetObject()) {
    for (const auto& op : path.value.GetObject()) {
      std::string method = op.name.GetString();
      for (auto& c : method) c = static_cast<char>(std::toupper(c));
      out.insert(method + " " + path.name.GetString());
    }
  }
  return out;
}

// What main.cpp serves: the route table and the operations routes, built without serving.
std::set<std::string> controlPlaneRouteTable() {
  using namespace hydra;
  hydra::db::Pool pool("postgresql://unused@127.0.0.1:1/unused", 1, [](pqxx::connection&) {});
  http::AuthThrottle throttle(1, std::chrono::seconds(1));
  cp::Authenticator auth(pool, "unused-admin-token-0123", throttle, {});
  cp::RevocationDelay revocation(std::chrono::milliseconds(200));
  cp::IdentityService identity(pool);
  crypto::Sealer sealer(crypto::readPublicKeyPem(testDataPath("test-broker-public.pem")));
  cp::ConnectionService connections(pool, sealer);
  cp::WebhookEndpointService webhook_endpoints(pool, {});
  cp::AuditEventService audit(pool);
  cp::OAuthClientService oauth_clients(pool, sealer);
  cp::ConnectSessionService connect_sessions(pool, {});
  cp::ConnectFlow connect_flow(pool, sealer, "");
  cp::Services services{auth, identity, connections, webhook_endpoints, revocation, audit, oauth_clients, connect_sessions,
                        connect_flow};
  http::ServerOptions options;
  http::Server server(options);
  cp::addRoutes(server, services);
  ops::addOperationsRoutes(server, {"", cp::docs::schemas(), {}, true});
  std::set<std::string> out;
  for (const auto& r : server.routes()) out.insert(r.method + " " + http::openApiPath(r.route));
  return out;
}

// Every documented path, asked with a method it does not document, is a 405 whose Allow lists
// exactly the documented ones: nothing more is served there.
void checkAllow(const HttpClient& http, const Value& doc) {
  for (const auto& path : member(doc, "paths").GetObject()) {
    std::set<std::string> methods;
    for (const auto& op : path.value.GetObject()) {
      std::string method = op.name.GetString();
      for (auto& c : method) c = static_cast<char>(std::toupper(c));
      methods.insert(method);
    }
    const auto concrete = std::regex_replace(std::string(path.name.GetString()), std::regex(R"(\{[a-z_]+\})"), randomUuid());
    for (const char* other : {"PUT", "PATCH", "DELETE", "POST", "GET"}) {
      if (methods.count(other) != 0) continue;
      const auto r = http.request(other, concrete, other == std::string("GET") ? "" : "{}");
      CAPTURE(path.name.GetString());
      CHECK(r.status == 405);
      std::set<std::string> allowed;
      std::stringstream list(r.header("Allow").value_or(""));
      for (std::string m; std::getline(list, m, ',');) allowed.insert(std::regex_replace(m, std::regex(" "), ""));
      CHECK(allowed == methods);
      break;
    }
  }
}

const Value& resolve(const Value& doc, const Value& schema) {
  if (schema.IsObject() && schema.HasMember("$ref")) {
    const std::string ref = schema["$ref"].GetString();
    const auto name = ref.substr(ref.rfind('/') + 1);
    return member(member(member(doc, "components"), "schemas"), name.c_str());
  }
  return schema;
}

bool hasType(const Value& value, const std::string& type) {
  if (type == "object") return value.IsObject();
  if (type == "array") return value.IsArray();
  if (type == "string") return value.IsString();
  if (type == "integer") return value.IsInt64() || value.IsUint64();
  if (type == "number") return value.IsNumber();
  if (type == "boolean") return value.IsBool();
  if (type == "null") return value.IsNull();
  return false;
}

// "" if `value` matches `schema`, else where it does not.
std::string validate(const Value& doc, const Value& raw_schema, const Value& value, const std::string& at = "$") {
  const auto& schema = resolve(doc, raw_schema);
  if (!schema.IsObject()) return "";
  if (schema.HasMember("anyOf")) {
    for (const auto& option : schema["anyOf"].GetArray()) {
      if (validate(doc, option, value, at).empty()) return "";
    }
    return at + ": matches no anyOf option";
  }
  if (schema.HasMember("type")) {
    const auto& type = schema["type"];
    bool ok = false;
    if (type.IsString()) ok = hasType(value, type.GetString());
    if (type.IsArray()) {
      for (const auto& t : type.GetArray()) ok = ok || hasType(value, t.GetString());
    }
    if (!ok) return at + ": not of type " + jsonText(type) + ": " + jsonText(value);
  }
  if (schema.HasMember("enum")) {
    bool found = false;
    for (const auto& e : schema["enum"].GetArray()) found = found || e == value;
    if (!found) return at + ": not one of " + jsonText(schema["enum"]);
  }
  if (value.IsObject()) {
    if (schema.HasMember("required")) {
      for (const auto& name : schema["required"].GetArray()) {
        if (!value.HasMember(name.GetString())) return at + ": missing " + name.GetString();
      }
    }
    if (schema.HasMember("properties")) {
      for (const auto& property : schema["properties"].GetObject()) {
        const auto it = value.FindMember(property.name);
        if (it == value.MemberEnd()) continue;
        auto problem = validate(doc, property.value, it->value, at + "." + property.name.GetString());
        if (!problem.empty()) return problem;
      }
    }
  }
  if (value.IsArray() && schema.HasMember("items")) {
    int i = 0;
    for (const auto& item : value.GetArray()) {
      auto problem = validate(doc, schema["items"], item, at + "[" + std::to_string(i++) + "]");
      if (!problem.empty()) return problem;
    }
  }
  return "";
}

// Checks observed responses against a document: the operation exists, the status is
// documented for it, and a JSON body matches the documented schema.
class Conformance {
 public:
  explicit Conformance(const Response& document) {
    REQUIRE(document.status == 200);
    doc_.CopyFrom(document.json, doc_.GetAllocator());
  }
  const Doc& doc() const { return doc_; }

  void check(const std::string& method, const std::string& path, const Response& r) {
    CAPTURE(method);
    CAPTURE(path);
    CAPTURE(r.body);
    const auto* op = operation(method, path.substr(0, path.find('?')));
    REQUIRE_MESSAGE(op != nullptr, "undocumented operation " << method << " " << path);
    const auto& responses = member(*op, "responses");
    const auto code = std::to_string(r.status);
    REQUIRE_MESSAGE(responses.HasMember(code.c_str()), "status " << code << " not documented");
    const auto& response = responses[code.c_str()];
    ++checked_;
    if (response.HasMember("content") && response["content"].HasMember("application/x-ndjson")) {
      // JSON lines: each line against the schema.
      std::stringstream lines(r.body);
      for (std::string line; std::getline(lines, line);) {
        Doc parsed;
        parsed.Parse(line.data(), line.size());
        REQUIRE_FALSE(parsed.HasParseError());
        CHECK(validate(doc_, response["content"]["application/x-ndjson"]["schema"], parsed) == "");
        ++bodies_;
      }
      return;
    }
    if (!response.HasMember("content") || !r.is_json) {
      CHECK((r.body.empty() || !response.HasMember("content") || !response["content"].HasMember("application/json")));
      return;
    }
    const auto& content = response["content"];
    REQUIRE(content.HasMember("application/json"));
    CHECK(validate(doc_, content["application/json"]["schema"], r.json) == "");
    ++bodies_;
  }
  int checked() const { return checked_; }
  int bodies() const { return bodies_; }

 private:
  const Value* operation(std::string method, const std::string& path) const {
    for (auto& c : method) c = static_cast<char>(std::tolower(c));
    for (const auto& p : member(doc_, "paths").GetObject()) {
      const auto pattern = std::regex_replace(std::string(p.name.GetString()), std::regex(R"(\{[a-z_]+\})"), "[^/]+");
      if (!std::regex_match(path, std::regex(pattern))) continue;
      if (p.value.HasMember(method.c_str())) return &p.value[method.c_str()];
    }
    return nullptr;
  }
  Doc doc_;
  int checked_ = 0, bodies_ = 0;
};

}  // namespace

TEST_CASE("openapi: the control plane documents exactly the routes it serves, in OpenAPI 3.1 with FastAPI's errors") {
  Stack s;
  const auto r = s.http.request("GET", "/openapi.json");
  REQUIRE(r.status == 200);
  CHECK(text(r.json, "openapi") == "3.1.0");
  CHECK(documented(r.json) == controlPlaneRouteTable());
  checkAllow(s.http, r.json);
  const auto& schemas = member(member(r.json, "components"), "schemas");
  CHECK(sameJson(member(member(member(schemas, "HTTPValidationError"), "properties"), "detail"),
                 R"({"title":"Detail","type":"array","items":{"$ref":"#/components/schemas/ValidationError"}})"));
  CHECK(sameJson(member(member(schemas, "ValidationError"), "required"), R"(["loc","msg","type"])"));
  // The vendor contract's fields (connections-api).
  CHECK(keys(member(member(schemas, "ConnectionCreate"), "properties")) ==
        std::set<std::string>{"auth_type", "credentials", "metadata_json", "name", "provider", "scopes"});
  CHECK(keys(member(member(schemas, "Grant"), "properties")) ==
        std::set<std::string>{"capabilities", "connection_id", "expires_at", "granted_at", "id", "instance_id",
                              "proxy_only", "rate_limit"});
  CHECK(keys(member(member(schemas, "GrantCreate"), "properties")) ==
        std::set<std::string>{"capabilities", "instance_id", "expires_at", "expires_in_seconds", "proxy_only",
                              "rate_limit"});
  CHECK(keys(member(member(schemas, "GrantUpdate"), "properties")) ==
        std::set<std::string>{"capabilities", "expires_at", "expires_in_seconds", "proxy_only", "rate_limit"});
  const auto& create = member(member(member(r.json, "paths"), "/v1/customers/{customer_id}/connections"), "post");
  CHECK(member(member(create, "responses"), "422").IsObject());
}

TEST_CASE("openapi: the broker documents exactly the routes it serves") {
  BrokerStack s;
  const auto r = s.runtime.request("GET", "/openapi.json");
  REQUIRE(r.status == 200);
  std::set<std::string> served{"GET /healthz", "GET /readyz", "GET /metrics", "GET /openapi.json",
                               "GET /docs", "GET /redoc", "GET /docs/assets/{name}",
                               "GET /internal/v1/instances/{instance_id}/connections"};
  for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
    served.insert(std::string(method) + " /internal/v1/instances/{instance_id}/proxy/{provider}/{path}");
  }
  CHECK(documented(r.json) == served);
  checkAllow(s.runtime, r.json);
  // The proxy's path parameters: the instance a UUID, the provider a registry name, the path the rest.
  const auto& proxy =
      member(member(member(r.json, "paths"), "/internal/v1/instances/{instance_id}/proxy/{provider}/{path}"), "post");
  std::set<std::string> path_parameters;
  for (const auto* p : items(member(proxy, "parameters"))) path_parameters.insert(text(*p, "name"));
  CHECK(path_parameters == std::set<std::string>{"instance_id", "provider", "path"});
  const auto& fetch = member(member(member(r.json, "paths"), "/internal/v1/instances/{instance_id}/connections"), "get");
  std::set<std::string> query;
  for (const auto* p : items(member(fetch, "parameters"))) query.insert(text(*p, "name"));
  CHECK(query == std::set<std::string>{"instance_id", "provider", "name", "capability"});
}

TEST_CASE("openapi: what the services answer matches their documents: status codes and bodies") {
  BrokerStack s;
  Conformance cp(s.http.request("GET", "/openapi.json"));
  Conformance broker(s.runtime.request("GET", "/openapi.json"));
  const auto call = [&](const std::string& method, const std::string& path, const std::string& body,
                        const Headers& headers) {
    auto r = s.http.request(method, path, body, headers);
    cp.check(method, path, r);
    return r;
  };
  const auto admin = bearer(s.server.adminToken());
  const auto customer = call("POST", "/v1/admin/customers", R"({"name":"acme"})", admin);
  call("POST", "/v1/admin/customers", R"({"nam":"x"})", admin);           // 422
  call("POST", "/v1/admin/customers", R"({"name":"x"})", bearer("nope"));  // 401
  const auto c = "/v1/customers/" + text(customer.json, "id");
  const auto key = call("POST", c + "/api-keys", R"({"name":"ops"})", admin);
  const auto auth = bearer(text(key.json, "api_key"));
  const auto other = call("POST", "/v1/admin/customers", R"({"name":"other"})", admin);
  const auto other_key = call("POST", "/v1/customers/" + text(other.json, "id") + "/api-keys", "{}", admin);
  call("GET", c + "/api-keys", "", auth);
  call("GET", c + "/api-keys", "", bearer(text(other_key.json, "api_key")));  // 403
  const auto instance = call("POST", c + "/instances", R"({"name":"rt"})", auth);
  call("GET", c + "/instances", "", auth);
  const auto i = c + "/instances/" + text(instance.json, "id");
  const auto proxy = call("POST", i + "/proxy-keys", R"({"expires_in_seconds":3600})", auth);
  call("GET", i + "/proxy-keys", "", auth);
  call("POST", i + "/proxy-keys", R"({"expires_in_seconds":1})", auth);  // 422
  const auto connection = call("POST", c + "/connections",
                               R"({"provider":"gmail","name":"inbox","auth_type":"api_key","credentials":{"api_key":"k"},)"
                               R"("scopes":["a"],"metadata_json":{"team":"x"}})",
                               auth);
  call("POST", c + "/connections", R"({"provider":"gmail","name":"inbox","credentials":{}})", auth);  // 409
  call("POST", c + "/connections", "{\"provider\":", auth);                                          // 422
  call("POST", c + "/connections", R"({"provider":"gmail","name":"x","credentials":{"k":")" + std::string(1100000, 'x') +
                                       "\"}}",
       auth);  // 413
  const auto conn = c + "/connections/" + text(connection.json, "id");
  call("GET", c + "/connections?provider=gmail&limit=10", "", auth);
  call("GET", c + "/connections?limit=0", "", auth);  // 422
  call("GET", conn, "", auth);
  call("GET", c + "/connections/" + randomUuid(), "", auth);  // 404
  call("GET", c + "/connections/not-a-uuid", "", auth);       // 422
  call("PATCH", conn, R"({"name":"renamed","credentials":{"api_key":"k2"}})", auth);
  const auto grant = call("POST", conn + "/grants",
                          R"({"instance_id":")" + text(instance.json, "id") + R"(","capabilities":["send_mail"]})", auth);
  call("POST", conn + "/grants", R"({"instance_id":")" + text(instance.json, "id") + R"(","capabilities":["x"]})",
       auth);  // 409
  call("GET", conn + "/grants", "", auth);
  const auto grant_path = conn + "/grants/" + text(grant.json, "id");
  call("PATCH", grant_path, R"({"rate_limit":{"requests":600,"per_seconds":60}})", auth);  // rate_limit an object
  call("PATCH", grant_path, R"({"rate_limit":{"requests":600}})", auth);                   // 422
  call("GET", conn + "/grants", "", auth);
  call("PATCH", grant_path, R"({"rate_limit":null})", auth);

  // The runtime's fetches, and the broker's own routes.
  const auto fetch = [&](const std::string& query, const std::string& token) {
    const auto path = "/internal/v1/instances/" + text(instance.json, "id") + "/connections?" + query;
    broker.check("GET", path, s.runtime.request("GET", path, "", token.empty() ? Headers{} : bearer(token)));
  };
  const auto proxy_key = text(proxy.json, "proxy_key");
  fetch("provider=gmail&capability=send_mail", proxy_key);  // 200
  fetch("provider=gmail&capability=delete", proxy_key);     // 403
  fetch("provider=xero", proxy_key);                        // 404
  fetch("provider=gmail", "");                              // 401
  fetch("name=x", proxy_key);                               // 422
  for (const char* path : {"/healthz", "/readyz", "/metrics", "/openapi.json"}) {
    broker.check("GET", path, s.runtime.request("GET", path));
    cp.check("GET", path, s.http.request("GET", path));
  }

  call("GET", c + "/audit-events?limit=5", "", auth);
  call("GET", c + "/audit-events?limit=5&outcome=allowed&since=2000-01-01T00:00:00Z&connection_id=" +
                  text(connection.json, "id"),
       "", auth);
  call("GET", c + "/audit-events?outcome=maybe", "", auth);  // 422
  call("GET", c + "/audit-events/export?since=2000-01-01T00:00:00Z", "", auth);
  call("GET", c + "/audit-events/export", "", auth);  // 422
  call("DELETE", conn + "/grants/" + text(grant.json, "id"), "", auth);
  call("DELETE", i + "/proxy-keys/" + text(proxy.json, "id"), "", auth);
  call("DELETE", conn, "", auth);
  call("DELETE", i, "", auth);
  call("DELETE", c + "/api-keys/" + text(other_key.json, "id"), "", auth);  // 404: another customer's key
  call("DELETE", c + "/api-keys/" + text(key.json, "id"), "", auth);
  MESSAGE(cp.checked() << " control plane answers checked (" << cp.bodies() << " bodies against their schema), "
                       << broker.checked() << " broker answers");
  CHECK(cp.bodies() >= 25);
}
