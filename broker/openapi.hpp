#pragma once
// What the broker's OpenAPI document says of its routes, and their schemas.

#include "shared/http/route_doc.hpp"

namespace hydra::broker::docs {

const char* schemas();
http::RouteDoc fetchConnection();
http::RouteDoc proxyCall();

}  // namespace hydra::broker::docs
