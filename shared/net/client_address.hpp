#pragma once
// Who sent a request: the TCP peer, unless that peer is one of the operator's trusted proxies
// (HYDRA_TRUSTED_PROXIES), in which case the right-most address of X-Forwarded-For that is not
// a trusted proxy. Without trusted proxies, X-Forwarded-For is ignored: anyone can write it.

#include <optional>
#include <string>
#include <vector>

#include "shared/net/address.hpp"

namespace hydra::net {

/// What `text` starts with when the client is not an address.
inline constexpr const char* kNotAnAddress = "invalid:";

struct ClientAddress {
  std::optional<Address> address;  // nullopt when what stands there is not an address
  /// For the audit trail and the throttle: the canonical address, or kNotAnAddress and what
  /// stood there, escaped (log::escape) and cut to 64 bytes: valid UTF-8 without NUL, always.
  std::string text;
};

/// `forwarded_for`: the X-Forwarded-For header, if the request had one (several headers
/// joined with commas).
ClientAddress clientAddress(const std::string& tcp_peer, const std::optional<std::string>& forwarded_for,
                            const std::vector<Cidr>& trusted_proxies);

}  // namespace hydra::net
