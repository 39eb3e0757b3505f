#pragma once

#include "control-plane/handlers/handlers.hpp"
#include "shared/http/server.hpp"

namespace hydra::cp {

/// The control plane's route table.
void addRoutes(http::Server& server, Services& services);

}  // namespace hydra::cp
