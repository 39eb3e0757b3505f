#pragma once
// The OpenAPI 3.1 document of a server, built from its route table (Server::routes()): every
// route served, and nothing else, each described by the RouteDoc registered beside it.

#include <string>
#include <vector>

#include "shared/http/server.hpp"

namespace hydra::http {

/// `components_json`: the binary's own schemas, as the JSON text of an object of named JSON
/// Schemas (e.g. {"Connection": {...}}). Added to them: HTTPError ({"detail": string}),
/// FastAPI's HTTPValidationError and ValidationError, and the security schemes.
std::string openApiDocument(const std::string& title, const std::string& version,
                            const std::vector<RouteInfo>& routes, const std::string& components_json);

/// "/v1/customers/:customer_id" -> "/v1/customers/{customer_id}"
std::string openApiPath(const std::string& route);

}  // namespace hydra::http
