#pragma once
// Which network addresses a webhook may be delivered to. The URL is the customer's, the network
// is ours: loopback, private, link-local (169.254.169.254 above all), CGNAT, multicast,
// unspecified and reserved ranges are refused, IPv4 and IPv6 alike, unless the operator allows a
// range explicitly (HYDRA_WEBHOOK_ALLOWED_CIDRS). Pure functions: no DNS, no sockets.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct sockaddr;

namespace hydra::cp::webhooks {

/// An IPv4 or IPv6 address. IPv4 is kept in its IPv4-mapped IPv6 form (::ffff:a.b.c.d), so an
/// IPv4-mapped IPv6 address *is* the IPv4 address it maps: same range, same allow-list entry.
class Address {
 public:
  /// A literal in canonical dotted-quad or RFC 4291 form (no brackets, no zone); nullopt otherwise.
  /// inet_aton's forms ("127.1", "0x7f.1", "2130706433") are not addresses here.
  static std::optional<Address> parse(std::string_view text);
  /// An AF_INET or AF_INET6 socket address (from getaddrinfo); nullopt for other families.
  static std::optional<Address> fromSockaddr(const sockaddr* address);

  bool isV4() const;
  /// The bytes in network order: 16 of them (IPv4 as mapped).
  const std::array<std::uint8_t, 16>& bytes() const { return bytes_; }
  /// Dotted quad for IPv4 (mapped included), RFC 5952 text for IPv6.
  std::string text() const;

 private:
  std::array<std::uint8_t, 16> bytes_{};
};

enum class Range { kPublic, kUnspecified, kLoopback, kPrivate, kLinkLocal, kSharedCgnat, kMulticast, kReserved };

/// "loopback", "private", "link-local", "CGNAT (shared address space)", ...
const char* rangeName(Range range);

/// The special-purpose range an address is in (IANA's IPv4 and IPv6 special-purpose registries),
/// or kPublic. NAT64 addresses (64:ff9b::/96) are classified by the IPv4 address they embed.
Range classify(const Address& address);

/// An address range "a.b.c.d/n" or "x::/n".
struct Cidr {
  Address network;
  int prefix = 0;  // over the 128-bit form: an IPv4 /8 is 96 + 8

  /// Throws std::invalid_argument with a reason for anything but an address, "/" and a prefix
  /// length that fits its family, with no bits set beyond the prefix.
  static Cidr parse(std::string_view text);
  bool contains(const Address& address) const;
};

/// A comma-separated list of ranges (HYDRA_WEBHOOK_ALLOWED_CIDRS); empty text is no ranges.
std::vector<Cidr> parseCidrList(std::string_view text);

class AddressPolicy {
 public:
  AddressPolicy() = default;
  explicit AddressPolicy(std::vector<Cidr> allowed) : allowed_(std::move(allowed)) {}

  /// nullopt if a webhook may connect to `address`, else why not ("127.0.0.1 is loopback").
  /// Allowed ranges open any refused range except unspecified and multicast addresses, which
  /// are never a webhook receiver (connecting to 0.0.0.0 reaches this host).
  std::optional<std::string> refusal(const Address& address) const;

 private:
  std::vector<Cidr> allowed_;
};

}  // namespace hydra::cp::webhooks
