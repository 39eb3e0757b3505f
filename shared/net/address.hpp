#pragma once
// IP addresses and CIDR blocks, IPv4 and IPv6, for rules about where a request comes from.
// An IPv4-mapped IPv6 address (::ffff:10.0.0.1) is the IPv4 address it maps: it matches IPv4
// blocks and never IPv6 ones, so a dual-stack socket cannot slip past an IPv4 rule.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::net {

struct Address {
  bool v4 = false;
  std::array<std::uint8_t, 16> bytes{};  // v4: the first 4 bytes
};

/// "10.1.2.3", "::1", "::ffff:10.1.2.3" (read as IPv4); nullopt for anything else.
std::optional<Address> parseAddress(std::string_view text);
std::string toString(const Address& address);

struct Cidr {
  Address network;  // host bits zero
  int prefix = 0;   // 0..32 (v4) or 0..128 (v6)
};

/// "10.0.0.0/8", "2001:db8::/32", or a bare address (a block of one). nullopt when malformed
/// or when bits are set past the prefix ("10.0.0.1/8": which was meant?).
std::optional<Cidr> parseCidr(std::string_view text);
std::string toString(const Cidr& cidr);

/// A comma-separated list of blocks (spaces around each allowed, empty items skipped). Throws
/// std::invalid_argument naming the first bad one.
std::vector<Cidr> parseCidrList(std::string_view text);

bool contains(const Cidr& cidr, const Address& address);
bool containsAny(const std::vector<Cidr>& cidrs, const Address& address);

}  // namespace hydra::net
