#pragma once
// `hydracore-broker providers check FILE`: the registry serve would load, described for review.

#include <ostream>
#include <string>

#include "broker/providers/registry.hpp"

namespace hydra::broker::providers {

/// Writes every provider of `registry`: token endpoint, connect flow, base URL rule, credential placement,
/// headers passed, and each capability's allow and deny rules. Never a client secret.
void describe(const ProviderRegistry& registry, std::ostream& out);

/// Loads `path` as serve would (HYDRA_PROVIDERS_FILE's rules, client secret files included) and
/// describes the result; throws config::ConfigError naming the problem.
int checkProvidersFile(const std::string& path, std::ostream& out);

}  // namespace hydra::broker::providers
