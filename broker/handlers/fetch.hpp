#pragma once

#include <pistache/router.h>

#include "broker/services/fetch.hpp"
#include "shared/http/server.hpp"

namespace hydra::broker::handlers {

/// GET /internal/v1/instances/{instance_id}/connections?provider=&name=&capability=
/// Answers once the decision's audit record is durable (services/fetch.hpp).
void fetchConnection(FetchService& fetch, const Pistache::Rest::Request& req, const http::Responder& respond);

}  // namespace hydra::broker::handlers
