#pragma once
// The provider registry moved to broker/providers/registry.hpp (it now also describes proxied
// calls). These names keep the token refresh's includes working; new code uses the new header.

#include "broker/providers/registry.hpp"

namespace hydra::broker::oauth {

using providers::isAllowedTokenUrl;
using providers::Provider;
using providers::ProviderRegistry;

}  // namespace hydra::broker::oauth
