#pragma once
// What the OpenAPI document (openapi.hpp) says about one route, registered beside the route
// itself (Server::get(route, handler, doc)), so the document lists exactly the routes served.
// Schemas are named components of the binary's document (its components file).

#include <string>
#include <utility>
#include <vector>

namespace hydra::http {

struct QueryParameter {
  std::string name;
  bool required = false;
  std::string schema = R"({"type":"string"})";  // a JSON Schema, as JSON text
  std::string description;
};

/// A path parameter that is not a UUID (the default for every `:name` of a route).
struct PathParameter {
  std::string name;
  std::string schema = R"({"type":"string"})";  // a JSON Schema, as JSON text
  std::string description;
};

struct RouteDoc {
  std::string summary;
  std::string tag;
  /// Who may call: "" (anyone), "api_key" (a customer's API key: Bearer or X-Api-Key),
  /// "admin" (the operator's token), "admin_or_api_key", "proxy_key" (a runtime's, Bearer).
  std::string auth;
  std::vector<QueryParameter> query;
  /// The component schema of the JSON request body; empty for none.
  std::string request_body;
  /// Status -> component schema of the body ("" for no body). Error statuses whose schema is
  /// left empty get HTTPError ({"detail": "..."}); 422 always gets HTTPValidationError.
  std::vector<std::pair<int, std::string>> responses;
  /// The media type of 2xx bodies.
  std::string media_type = "application/json";
  /// Path parameters whose schema is not {"type":"string","format":"uuid"}, by name (last:
  /// route tables initialise the members above in order).
  std::vector<PathParameter> path = {};
};

}  // namespace hydra::http
