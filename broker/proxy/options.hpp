#pragma once
// The operator's settings for proxied calls (HYDRA_PROXY_*, read in broker/config.cpp).

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "shared/net/address.hpp"

namespace hydra::broker::proxy {

struct ProxyOptions {
  std::chrono::seconds timeout{30};             // HYDRA_PROXY_TIMEOUT_SECONDS: connect to last byte
  std::size_t max_request_bytes = 8 << 20;      // HYDRA_PROXY_MAX_REQUEST_BYTES: larger bodies get 413
  std::size_t max_response_bytes = 16 << 20;    // HYDRA_PROXY_MAX_RESPONSE_BYTES: larger answers get 502
  std::optional<std::string> ca_file;           // HYDRA_PROXY_CA_FILE: trusted beside the system's CAs
  std::vector<net::Cidr> allowed_cidrs;         // HYDRA_PROXY_ALLOWED_CIDRS: ranges opened to calls
  std::size_t threads = 32;                     // HYDRA_PROXY_THREADS: calls waiting on providers at once
  std::size_t max_in_flight_per_grant = 8;      // HYDRA_PROXY_MAX_IN_FLIGHT_PER_GRANT
  std::size_t max_in_flight_per_connection = 16;  // HYDRA_PROXY_MAX_IN_FLIGHT_PER_CONNECTION
  std::chrono::seconds max_retry_after{60};     // HYDRA_PROXY_MAX_RETRY_AFTER_SECONDS: a provider's Retry-After, clamped
};

}  // namespace hydra::broker::proxy
