#pragma once

#include <pistache/router.h>

#include "broker/services/fetch.hpp"
#include "shared/http/response.hpp"

namespace hydra::broker::handlers {

/// GET /internal/v1/instances/{instance_id}/connections?provider=&name=&capability=
http::Reply fetchConnection(FetchService& fetch, const Pistache::Rest::Request& req);

}  // namespace hydra::broker::handlers
