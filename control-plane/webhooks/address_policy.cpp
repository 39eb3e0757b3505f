#include "control-plane/webhooks/address_policy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <stdexcept>

namespace hydra::cp::webhooks {
namespace {

constexpr std::array<std::uint8_t, 12> kMappedPrefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

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

const std::vector<std::pair<Cidr, Range>>& table(bool v4) {
  static const auto build = [](const auto& specials) {
    std::vector<std::pair<Cidr, Range>> out;
    for (const auto& s : specials) out.emplace_back(Cidr::parse(s.cidr), s.range);
    return out;
  };
  static const auto ipv4 = build(kIpv4);
  static const auto ipv6 = build(kIpv6);
  return v4 ? ipv4 : ipv6;
}

std::optional<Range> lookup(const Address& address) {
  for (const auto& [cidr, range] : table(address.isV4())) {
    if (cidr.contains(address)) return range;
  }
  return std::nullopt;
}

/// The IPv4 address in the last 32 bits of an IPv6 one.
Address embeddedV4(const Address& address) {
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  std::memcpy(&v4.sin_addr, address.bytes().data() + 12, 4);
  return *Address::fromSockaddr(reinterpret_cast<const sockaddr*>(&v4));
}

}  // namespace

std::optional<Address> Address::parse(std::string_view text) {
  // inet_pton needs a terminated string and accepts only the canonical forms we want.
  const std::string s(text);
  if (s.empty() || s.size() > INET6_ADDRSTRLEN) return std::nullopt;
  Address out;
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    std::memcpy(out.bytes_.data(), kMappedPrefix.data(), kMappedPrefix.size());
    std::memcpy(out.bytes_.data() + 12, &v4, 4);
    return out;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    std::memcpy(out.bytes_.data(), &v6, 16);
    return out;
  }
  return std::nullopt;
}

std::optional<Address> Address::fromSockaddr(const sockaddr* address) {
  if (address == nullptr) return std::nullopt;
  Address out;
  if (address->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    std::memcpy(out.bytes_.data(), kMappedPrefix.data(), kMappedPrefix.size());
    std::memcpy(out.bytes_.data() + 12, &v4->sin_addr, 4);
    return out;
  }
  if (address->sa_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
    std::memcpy(out.bytes_.data(), &v6->sin6_addr, 16);
    return out;
  }
  return std::nullopt;
}

bool Address::isV4() const { return std::memcmp(bytes_.data(), kMappedPrefix.data(), kMappedPrefix.size()) == 0; }

std::string Address::text() const {
  char out[INET6_ADDRSTRLEN];
  if (isV4()) {
    inet_ntop(AF_INET, bytes_.data() + 12, out, sizeof out);
  } else {
    inet_ntop(AF_INET6, bytes_.data(), out, sizeof out);
  }
  return out;
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
  if (const auto special = lookup(address)) return *special;
  if (address.isV4()) return Range::kPublic;
  // NAT64 (RFC 6052 well-known prefix 64:ff9b::/96): the gateway would connect to the IPv4
  // address in the last 32 bits, so that address decides.
  static const Cidr nat64 = Cidr::parse("64:ff9b::/96");
  if (nat64.contains(address)) return classify(embeddedV4(address));
  // Global unicast is 2000::/3; everything else not listed above is not routable to a receiver.
  if ((address.bytes()[0] & 0xe0) != 0x20) return Range::kReserved;
  return Range::kPublic;
}

Cidr Cidr::parse(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) throw std::invalid_argument("'" + std::string(text) + "' has no /prefix length");
  const auto address = Address::parse(text.substr(0, slash));
  if (!address) throw std::invalid_argument("'" + std::string(text) + "' is not an IPv4 or IPv6 address range");
  const auto digits = text.substr(slash + 1);
  const int max = address->isV4() ? 32 : 128;
  int prefix = 0;
  if (digits.empty() || digits.size() > 3)
    throw std::invalid_argument("'" + std::string(text) + "' has a bad prefix length");
  for (const char c : digits) {
    if (c < '0' || c > '9') throw std::invalid_argument("'" + std::string(text) + "' has a bad prefix length");
    prefix = prefix * 10 + (c - '0');
  }
  if (prefix > max)
    throw std::invalid_argument("'" + std::string(text) + "' has a prefix longer than " + std::to_string(max));
  Cidr out{*address, prefix + (address->isV4() ? 96 : 0)};
  // "10.1.0.0/8" is ambiguous (did the operator mean 10.0.0.0/8 or 10.1.0.0/16?): refuse it.
  const auto& bytes = address->bytes();
  for (int bit = out.prefix; bit < 128; ++bit) {
    if ((bytes[static_cast<std::size_t>(bit / 8)] >> (7 - bit % 8)) & 1) {
      throw std::invalid_argument("'" + std::string(text) + "' has address bits set beyond the prefix length");
    }
  }
  return out;
}

bool Cidr::contains(const Address& address) const {
  const auto& a = address.bytes();
  const auto& n = network.bytes();
  const int whole = prefix / 8;
  if (std::memcmp(a.data(), n.data(), static_cast<std::size_t>(whole)) != 0) return false;
  const int rest = prefix % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (a[static_cast<std::size_t>(whole)] & mask) == (n[static_cast<std::size_t>(whole)] & mask);
}

std::vector<Cidr> parseCidrList(std::string_view text) {
  std::vector<Cidr> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto end = std::min(text.find(',', start), text.size());
    auto item = text.substr(start, end - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.push_back(Cidr::parse(item));
    start = end + 1;
  }
  return out;
}

std::optional<std::string> AddressPolicy::refusal(const Address& address) const {
  const auto range = classify(address);
  if (range == Range::kPublic) return std::nullopt;
  if (range != Range::kUnspecified && range != Range::kMulticast) {
    for (const auto& cidr : allowed_) {
      if (cidr.contains(address)) return std::nullopt;
    }
  }
  return address.text() + " is " + rangeName(range);
}

}  // namespace hydra::cp::webhooks
