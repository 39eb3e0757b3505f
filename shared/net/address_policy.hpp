#pragma once
// Which network addresses an outbound call (a webhook delivery) may connect to. The URL is a
// customer's, the network is ours: loopback, private, link-local (169.254.169.254 above all),
// CGNAT, multicast, unspecified and reserved ranges are refused, IPv4 and IPv6 alike, unless the
// operator allows a range explicitly (HYDRA_WEBHOOK_ALLOWED_CIDRS). Pure functions: no DNS, no
// sockets.
// Addresses and ranges are shared/net's: an IPv4-mapped IPv6 address is the IPv4 address it
// maps, so it falls in the same range and matches the same allow-list entries.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shared/net/address.hpp"

struct sockaddr;

namespace hydra::net {

/// An AF_INET or AF_INET6 socket address (from getaddrinfo); nullopt for other families.
std::optional<Address> socketAddress(const sockaddr* address);

enum class Range { kPublic, kUnspecified, kLoopback, kPrivate, kLinkLocal, kSharedCgnat, kMulticast, kReserved };

/// "loopback", "private", "link-local", "CGNAT (shared address space)", ...
const char* rangeName(Range range);

/// The special-purpose range an address is in (IANA's IPv4 and IPv6 special-purpose registries),
/// or kPublic. NAT64 addresses (64:ff9b::/96) are classified by the IPv4 address they embed.
Range classify(const Address& address);


class AddressPolicy {
 public:
  AddressPolicy() = default;
  explicit AddressPolicy(std::vector<Cidr> allowed) : allowed_(std::move(allowed)) {}

  /// nullopt if an outbound call may connect to `address`, else why not ("127.0.0.1 is
  /// loopback"). Allowed ranges open any refused range except unspecified and multicast
  /// addresses, which are never a receiver (connecting to 0.0.0.0 reaches this host).
  std::optional<std::string> refusal(const Address& address) const;

 private:
  std::vector<Cidr> allowed_;
};

}  // namespace hydra::net
