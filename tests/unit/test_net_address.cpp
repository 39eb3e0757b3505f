// Addresses and CIDR blocks (IPv4, IPv6, IPv4-mapped IPv6), and who a request came from.
#include <doctest/doctest.h>

#include "shared/net/client_address.hpp"

using namespace hydra::net;

namespace {

bool in(const char* cidr, const char* address) { return contains(*parseCidr(cidr), *parseAddress(address)); }

std::vector<Cidr> cidrs(std::initializer_list<const char*> texts) {
  std::vector<Cidr> out;
  for (const auto* t : texts) out.push_back(*parseCidr(t));
  return out;
}

}  // namespace

TEST_CASE("net: CIDR blocks are parsed strictly and printed canonically") {
  CHECK(toString(*parseCidr("10.0.0.0/8")) == "10.0.0.0/8");
  CHECK(toString(*parseCidr("10.1.2.3")) == "10.1.2.3/32");
  CHECK(toString(*parseCidr("2001:DB8:0:0::/32")) == "2001:db8::/32");
  CHECK(toString(*parseCidr("::1")) == "::1/128");
  CHECK(toString(*parseCidr("::ffff:10.0.0.0/8")) == "10.0.0.0/8");  // an IPv4-mapped block is IPv4
  CHECK(toString(*parseCidr("0.0.0.0/0")) == "0.0.0.0/0");
  for (const auto* bad : {"", "10.0.0.1/8", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8x",
                          "10.0.0/8", "example.com", "10.0.0.0/ 8", " 10.0.0.0/8", "1.2.3.4/032", "2001:db8::g/32"}) {
    CAPTURE(bad);
    CHECK_FALSE(parseCidr(bad).has_value());
  }
}

TEST_CASE("net: matching keeps IPv4 and IPv6 apart, except that IPv4-mapped IPv6 is IPv4") {
  CHECK(in("127.0.0.0/8", "127.0.0.2"));
  CHECK(in("127.0.0.0/8", "::ffff:127.0.0.1"));
  CHECK_FALSE(in("127.0.0.0/8", "128.0.0.1"));
  CHECK(in("::1/128", "::1"));
  CHECK_FALSE(in("::1/128", "127.0.0.1"));
  CHECK_FALSE(in("::/0", "10.0.0.1"));      // all of IPv6 is not IPv4
  CHECK_FALSE(in("0.0.0.0/0", "2001:db8::1"));
  CHECK(in("0.0.0.0/0", "::ffff:8.8.8.8"));
  CHECK(in("10.128.0.0/9", "10.200.1.1"));
  CHECK_FALSE(in("10.128.0.0/9", "10.127.255.255"));
  CHECK(in("2001:db8::/33", "2001:db8:7fff::1"));
  CHECK_FALSE(in("2001:db8::/33", "2001:db8:8000::1"));
}

TEST_CASE("net: X-Forwarded-For counts only behind a trusted proxy, read from the right") {
  const auto trusted = cidrs({"10.0.0.0/8"});
  // No trusted proxies, or a peer that is not one: the TCP peer, whatever the header says.
  CHECK(clientAddress("192.0.2.7", "203.0.113.9", {}).text == "192.0.2.7");
  CHECK(clientAddress("192.0.2.7", "203.0.113.9", trusted).text == "192.0.2.7");
  // Behind a trusted proxy: the right-most address that is not a trusted proxy.
  CHECK(clientAddress("10.0.0.5", "203.0.113.9", trusted).text == "203.0.113.9");
  CHECK(clientAddress("10.0.0.5", "198.51.100.1, 203.0.113.9, 10.0.0.4", trusted).text == "203.0.113.9");
  // A client cannot choose its address by writing the header itself: it is to the left.
  CHECK(clientAddress("10.0.0.5", "1.1.1.1,203.0.113.9", trusted).text == "203.0.113.9");
  CHECK(clientAddress("10.0.0.5", "10.0.0.9, 10.0.0.4", trusted).text == "10.0.0.9");
  CHECK(clientAddress("10.0.0.5", std::nullopt, trusted).text == "10.0.0.5");
  const auto garbled = clientAddress("10.0.0.5", "203.0.113.9, not-an-address", trusted);
  CHECK(garbled.text == "invalid:not-an-address");
  CHECK_FALSE(garbled.address.has_value());
  CHECK(clientAddress("10.0.0.5", "::ffff:203.0.113.9", trusted).address->v4);
}

// Found by tests/fuzz/fuzz_net_address.cpp (its crashing input's X-Forwarded-For, as is):
// inet_pton reads a C string, so "1.0.0.0\0<anything>" was taken for 1.0.0.0.
TEST_CASE("net: nothing may hide after a NUL in an address or a block") {
  const std::string forwarded("1.0.0.0\0\0\0\0\0\0\0\x1an", 16);
  CHECK_FALSE(parseAddress(forwarded).has_value());
  CHECK_FALSE(parseAddress(std::string("10.0.0.1\0", 9)).has_value());
  CHECK_FALSE(parseCidr(std::string("10.0.0.0\0/8", 11)).has_value());
  CHECK_FALSE(parseCidr(std::string("2001:db8::\0x/32", 15)).has_value());
  const auto client = clientAddress("10.0.0.1", forwarded, cidrs({"10.0.0.1"}));
  CHECK_FALSE(client.address.has_value());
  CHECK(client.text == "invalid:1.0.0.0\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x1an");  // escaped, for the audit trail
}

// Issue 18: the text goes into the audit record as `peer`, which PostgreSQL must store and no
// reader may take for an address.
TEST_CASE("net: an entry that is not an address is marked, escaped and cut, whatever its bytes") {
  const auto trusted = cidrs({"10.0.0.0/8"});
  const auto garbage = clientAddress("10.0.0.5", "\xff\xfe garbage", trusted);
  CHECK_FALSE(garbage.address.has_value());
  CHECK(garbage.text == "invalid:\\xff\\xfe garbage");
  CHECK(clientAddress("10.0.0.5", "a\nb\\c", trusted).text == "invalid:a\\x0ab\\\\c");
  const auto long_entry = clientAddress("10.0.0.5", std::string(1000, 'x'), trusted);
  CHECK(long_entry.text == "invalid:" + std::string(64, 'x') + "...");
  CHECK(clientAddress("10.0.0.5", "203.0.113.9", trusted).text == "203.0.113.9");
}
