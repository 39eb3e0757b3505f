// Addresses and CIDR blocks (shared/net): proxy keys' allowed_cidrs, HYDRA_TRUSTED_PROXIES, and
// the client address from the TCP peer and X-Forwarded-For. Whatever parses must print in a
// canonical form that parses back to the same thing.
//   byte 0     where the input splits: the first part is read as a CIDR (a trusted proxy
//              block), the second as X-Forwarded-For behind the trusted peer 10.0.0.1
#include "shared/net/address.hpp"
#include "shared/net/client_address.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace net = hydra::net;

namespace {

bool same(const net::Address& a, const net::Address& b) { return a.v4 == b.v4 && a.bytes == b.bytes; }

void checkAddress(const std::string& text) {
  const auto address = net::parseAddress(text);
  if (!address) return;
  // An address is the whole text: nothing may hide after a NUL (inet_pton reads C strings).
  FUZZ_CHECK(text.find('\0') == std::string::npos);
  const auto again = net::parseAddress(net::toString(*address));
  FUZZ_CHECK(again && same(*again, *address));
}

std::optional<net::Cidr> checkCidr(const std::string& text) {
  const auto cidr = net::parseCidr(text);
  if (!cidr) return std::nullopt;
  FUZZ_CHECK(text.find('\0') == std::string::npos);
  const auto again = net::parseCidr(net::toString(*cidr));
  FUZZ_CHECK(again && same(again->network, cidr->network) && again->prefix == cidr->prefix);
  FUZZ_CHECK(net::contains(*cidr, cidr->network));
  return cidr;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t split = std::min<std::size_t>(data[0], size - 1);
  const auto first = hydra::fuzz::text(data + 1, split);
  const auto second = hydra::fuzz::text(data + 1 + split, size - 1 - split);
  checkAddress(first);
  checkAddress(second);
  checkCidr(second);

  std::vector<net::Cidr> trusted{*net::parseCidr("10.0.0.1")};
  if (const auto cidr = checkCidr(first)) trusted.push_back(*cidr);
  const auto client = net::clientAddress("10.0.0.1", second, trusted);
  if (client.address) {
    FUZZ_CHECK(client.text == net::toString(*client.address));
  } else {
    // Goes into the audit record: marked, and printable ASCII or valid UTF-8 only (escaped).
    FUZZ_CHECK(client.text.rfind(net::kNotAnAddress, 0) == 0);
    FUZZ_CHECK(client.text.find_first_of(std::string("\0\n\r", 3)) == std::string::npos);
  }
  // Without trusted proxies, X-Forwarded-For is never read.
  const auto direct = net::clientAddress("192.0.2.7", second, {});
  FUZZ_CHECK(direct.address && direct.text == "192.0.2.7");
  return 0;
}
