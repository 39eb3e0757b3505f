#pragma once
// Host names resolved with a deadline, for outbound calls. getaddrinfo cannot be interrupted and
// the system's resolver may take its timeouts times its attempts times its servers (minutes, when
// a receiver's DNS hangs): the lookup runs on a thread of its own and the worker waits for it only
// until the deadline. A lookup given up on finishes in the background and frees what it found;
// at most kMaxLookupsInFlight run at once, so a hanging DNS cannot pile up threads.

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "shared/net/address.hpp"

namespace hydra::net {

/// Lookups running at once in this process, those given up on included; beyond it a lookup
/// fails at once.
constexpr int kMaxLookupsInFlight = 32;

/// A blocking lookup: the addresses, or none and `error` set.
using Lookup = std::function<std::vector<Address>(const std::string& host, std::string& error)>;

/// getaddrinfo: every address `host` resolves to, in the resolver's order, without duplicates.
std::vector<Address> systemLookup(const std::string& host, std::string& error);

/// `lookup` of `host` (the system's unless a test gives its own), given up on after `timeout`
/// or as soon as `stopping` is set: empty with `error` set when the name does not resolve, or
/// not in time (a failed attempt, retried).
std::vector<Address> resolveWithin(const std::string& host, std::chrono::milliseconds timeout, std::string& error,
                                        const std::atomic<bool>* stopping = nullptr,
                                        const Lookup& lookup = systemLookup);

}  // namespace hydra::net
