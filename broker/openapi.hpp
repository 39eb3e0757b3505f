#pragma once
// What the broker's OpenAPI document says of its fetch route, and its schemas.

#include "shared/http/route_doc.hpp"

namespace hydra::broker::docs {

const char* schemas();
http::RouteDoc fetchConnection();

}  // namespace hydra::broker::docs
