#include "shared/net/address.hpp"
#include "shared/text/comma_list.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace hydra::net {
namespace {

constexpr std::uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int bitsOf(const Address& a) { return a.v4 ? 32 : 128; }

bool bitSet(const Address& a, int bit) { return (a.bytes[static_cast<std::size_t>(bit / 8)] >> (7 - bit % 8)) & 1; }

}  // namespace

std::optional<Address> parseAddress(std::string_view text) {
  // inet_pton reads a C string: a NUL would end the address early and hide what follows it.
  if (text.empty() || text.size() > 45 || text.find('\0') != std::string_view::npos) return std::nullopt;
  const std::string copy(text);
  Address a;
  if (inet_pton(AF_INET, copy.c_str(), a.bytes.data()) == 1) {
    a.v4 = true;
    return a;
  }
  if (inet_pton(AF_INET6, copy.c_str(), a.bytes.data()) != 1) return std::nullopt;
  if (std::equal(std::begin(kMappedPrefix), std::end(kMappedPrefix), a.bytes.begin())) {
    Address v4;
    v4.v4 = true;
    std::copy(a.bytes.begin() + 12, a.bytes.end(), v4.bytes.begin());
    return v4;
  }
  return a;
}

std::string toString(const Address& a) {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(a.v4 ? AF_INET : AF_INET6, a.bytes.data(), text, sizeof text);
  return text;
}

std::optional<Cidr> parseCidr(std::string_view text) {
  const auto slash = text.find('/');
  const auto address = parseAddress(text.substr(0, slash));
  if (!address) return std::nullopt;
  Cidr cidr{*address, bitsOf(*address)};
  if (slash != std::string_view::npos) {
    const auto digits = text.substr(slash + 1);
    const auto parsed = std::from_chars(digits.data(), digits.data() + digits.size(), cidr.prefix);
    if (digits.empty() || digits.size() > 3 || (digits.size() > 1 && digits[0] == '0') || parsed.ec != std::errc() || parsed.ptr != digits.data() + digits.size() ||
        cidr.prefix < 0 || cidr.prefix > bitsOf(*address)) {
      return std::nullopt;
    }
  }
  for (int bit = cidr.prefix; bit < bitsOf(*address); ++bit) {
    if (bitSet(*address, bit)) return std::nullopt;
  }
  return cidr;
}

std::string toString(const Cidr& cidr) { return toString(cidr.network) + "/" + std::to_string(cidr.prefix); }

std::vector<Cidr> parseCidrList(std::string_view text) {
  std::vector<Cidr> out;
  for (const auto item : hydra::text::commaSeparated(text)) {
    if (!item.empty()) {
      const auto parsed = parseCidr(item);
      // "10.1.0.0/8" is refused too: did the operator mean 10.0.0.0/8 or 10.1.0.0/16?
      if (!parsed) {
        throw std::invalid_argument("'" + std::string(item) +
                                    "' is not an address or an address range with no bits set past its prefix");
      }
      out.push_back(*parsed);
    }
  }
  return out;
}

bool contains(const Cidr& cidr, const Address& address) {
  if (cidr.network.v4 != address.v4) return false;
  for (int bit = 0; bit < cidr.prefix; ++bit) {
    if (bitSet(cidr.network, bit) != bitSet(address, bit)) return false;
  }
  return true;
}

bool containsAny(const std::vector<Cidr>& cidrs, const Address& address) {
  return std::any_of(cidrs.begin(), cidrs.end(), [&](const Cidr& c) { return contains(c, address); });
}

}  // namespace hydra::net
