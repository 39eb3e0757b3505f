#include "shared/net/address_policy.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace hydra::net {
namespace {

constexpr std::uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/// A range of the special-purpose tables below.
struct Special {
  const char* cidr;
  Range range;
};

// IANA IPv4 Special-Purpose Address Registry (RFC 6890 and updates), as ranges a webhook must
// not reach. Global-unicast special ranges (AS112, AMT, ...) are left out: they are public.
constexpr Special kIpv4[] = {
    {"0.0.0.0/32", Range::kUnspecified},   {"0.0.0.0/8", Range::kReserved},         // "this network"
    {"10.0.0.0/8", Range::kPrivate},       {"100.64.0.0/10", Range::kSharedCgnat},  // RFC 6598
    {"127.0.0.0/8", Range::kLoopback},     {"169.254.0.0/16", Range::kLinkLocal},   // cloud metadata lives here
    {"172.16.0.0/12", Range::kPrivate},    {"192.0.0.0/24", Range::kReserved},      // IETF protocol assignments
    {"192.0.2.0/24", Range::kReserved},    {"192.88.99.0/24", Range::kReserved},    // TEST-NET-1, 6to4 relay
    {"192.168.0.0/16", Range::kPrivate},   {"198.18.0.0/15", Range::kReserved},     // benchmarking
    {"198.51.100.0/24", Range::kReserved}, {"203.0.113.0/24", Range::kReserved},    // TEST-NET-2, -3
    {"224.0.0.0/4", Range::kMulticast},    {"240.0.0.0/4", Range::kReserved},       // and 255.255.255.255
};

// IANA IPv6 Special-Purpose Address Registry. Anything outside 2000::/3 (global unicast) that is
// not listed here is reserved too (see classify).
constexpr Special kIpv6[] = {
    {"::/128", Range::kUnspecified},     {"::1/128", Range::kLoopback},
    {"64:ff9b:1::/48", Range::kPrivate},  // local-use NAT64
    {"100::/64", Range::kReserved},       // discard-only
    {"2001::/23", Range::kReserved},      // IETF protocol assignments (Teredo, ORCHID, ...)
    {"2001:db8::/32", Range::kReserved},  // documentation
    {"2002::/16", Range::kReserved},      // 6to4: would reach any IPv4 address, private ones included
    {"3fff::/20", Range::kReserved},      // documentation (RFC 9637)
    {"fc00::/7", Range::kPrivate},        // unique local
    {"fe80::/10", Range::kLinkLocal},    {"fec0::/10", Range::kPrivate},  // site-local (deprecated)
    {"ff00::/8", Range::kMulticast},
};

Cidr cidr(const char* text) {
  const auto parsed = parseCidr(text);
  if (!parsed) throw std::logic_error(std::string("bad built-in range ") + text);
  return *parsed;
}

const std::vector<std::pair<Cidr, Range>>& table(bool v4) {
  static const auto build = [](const auto& specials) {
    std::vector<std::pair<Cidr, Range>> out;
    for (const auto& s : specials) out.emplace_back(cidr(s.cidr), s.range);
    return out;
  };
  static const auto ipv4 = build(kIpv4);
  static const auto ipv6 = build(kIpv6);
  return v4 ? ipv4 : ipv6;
}

/// The IPv4 address in the last 32 bits of an IPv6 one.
Address embeddedV4(const Address& address) {
  Address v4;
  v4.v4 = true;
  std::copy(address.bytes.begin() + 12, address.bytes.end(), v4.bytes.begin());
  return v4;
}

}  // namespace

std::optional<Address> socketAddress(const sockaddr* address) {
  if (address == nullptr) return std::nullopt;
  Address out;
  if (address->sa_family == AF_INET) {
    out.v4 = true;
    std::memcpy(out.bytes.data(), &reinterpret_cast<const sockaddr_in*>(address)->sin_addr, 4);
    return out;
  }
  if (address->sa_family == AF_INET6) {
    std::memcpy(out.bytes.data(), &reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr, 16);
    if (std::equal(std::begin(kMappedPrefix), std::end(kMappedPrefix), out.bytes.begin())) return embeddedV4(out);
    return out;
  }
  return std::nullopt;
}

const char* rangeName(Range range) {
  switch (range) {
    case Range::kPublic:
      return "public";
    case Range::kUnspecified:
      return "unspecified";
    case Range::kLoopback:
      return "loopback";
    case Range::kPrivate:
      return "private";
    case Range::kLinkLocal:
      return "link-local";
    case Range::kSharedCgnat:
      return "CGNAT (shared address space)";
    case Range::kMulticast:
      return "multicast";
    case Range::kReserved:
      return "reserved";
  }
  return "reserved";
}

Range classify(const Address& address) {
  for (const auto& [range_cidr, range] : table(address.v4)) {
    if (contains(range_cidr, address)) return range;
  }
  if (address.v4) return Range::kPublic;
  // NAT64 (RFC 6052 well-known prefix 64:ff9b::/96): the gateway would connect to the IPv4
  // address in the last 32 bits, so that address decides.
  static const Cidr nat64 = cidr("64:ff9b::/96");
  if (contains(nat64, address)) return classify(embeddedV4(address));
  // Global unicast is 2000::/3; everything else not listed above is not routable to a receiver.
  if ((address.bytes[0] & 0xe0) != 0x20) return Range::kReserved;
  return Range::kPublic;
}

std::optional<std::string> AddressPolicy::refusal(const Address& address) const {
  const auto range = classify(address);
  if (range == Range::kPublic) return std::nullopt;
  if (range != Range::kUnspecified && range != Range::kMulticast && containsAny(allowed_, address)) {
    return std::nullopt;
  }
  return toString(address) + " is " + rangeName(range);
}

}  // namespace hydra::net
