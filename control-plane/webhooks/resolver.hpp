#pragma once
// Host names resolved with a deadline. getaddrinfo cannot be interrupted and the system's
// resolver may take its timeouts times its attempts times its servers (minutes, when a
// receiver's DNS hangs): the lookup runs on a thread of its own and the worker waits for it only
// until the deadline. A lookup given up on finishes in the background and frees what it found;
// at most kMaxLookupsInFlight run at once, so a hanging DNS cannot pile up threads.

#include <chrono>
#include <string>
#include <vector>

#include "shared/net/address.hpp"

namespace hydra::cp::webhooks {

/// Lookups running at once in this process, finished or given up on; beyond it a lookup fails.
constexpr int kMaxLookupsInFlight = 32;

/// Every address `host` resolves to, in the resolver's order, without duplicates; empty with
/// `error` set when it does not resolve, or not within `timeout` (a failed attempt, retried).
std::vector<net::Address> resolveWithin(const std::string& host, std::chrono::milliseconds timeout,
                                        std::string& error);

}  // namespace hydra::cp::webhooks
