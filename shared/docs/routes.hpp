#pragma once
// GET /docs, /redoc and /docs/assets/:name on a server: both binaries add them with their
// operations routes (shared/ops), beside the /openapi.json the pages render, so they are
// served wherever that is and under the same listener rules.

#include <string>

#include "shared/http/server.hpp"

namespace hydra::docs {

/// `title`: the API's (the OpenAPI document's title), for the pages' <title>.
void addDocsRoutes(http::Server& server, const std::string& title);

}  // namespace hydra::docs
