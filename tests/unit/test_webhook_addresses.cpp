// SSRF rules for webhook URLs without the network: every refused range, IPv4 and IPv6 and
// IPv4-mapped IPv6, the operator's allow-list, and the URL checks made at creation.
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "shared/net/address_policy.hpp"
#include "control-plane/webhooks/endpoint_url.hpp"

using namespace hydra::cp::webhooks;
using namespace hydra::net;

namespace {

/// A literal the tests know to be valid.
hydra::net::Address addr(const char* text) {
  const auto address = hydra::net::parseAddress(text);
  REQUIRE_MESSAGE(address.has_value(), text);
  return *address;
}

Range rangeOf(const char* text) {
  const auto address = hydra::net::parseAddress(text);
  REQUIRE_MESSAGE(address.has_value(), text);
  return classify(*address);
}

/// "" when checkEndpointUrl accepts `url`, else its reason.
std::string refusal(const std::string& url, const UrlRules& rules = {}) {
  try {
    checkEndpointUrl(url, rules);
    return "";
  } catch (const UrlRefused& e) {
    return e.what();
  }
}

UrlRules loopbackRules() {
  UrlRules rules;
  rules.allow_loopback_http = true;
  rules.addresses = AddressPolicy(hydra::net::parseCidrList("127.0.0.0/8,::1/128"));
  return rules;
}

}  // namespace

TEST_CASE("webhook addresses: every refused IPv4 range, at its edges") {
  const std::vector<std::pair<const char*, Range>> cases{
      {"0.0.0.0", Range::kUnspecified},         {"0.1.2.3", Range::kReserved},
      {"0.255.255.255", Range::kReserved},      {"10.0.0.0", Range::kPrivate},
      {"10.255.255.255", Range::kPrivate},      {"100.64.0.0", Range::kSharedCgnat},
      {"100.127.255.255", Range::kSharedCgnat}, {"127.0.0.1", Range::kLoopback},
      {"127.255.255.254", Range::kLoopback},    {"169.254.169.254", Range::kLinkLocal},
      {"169.254.0.1", Range::kLinkLocal},       {"172.16.0.1", Range::kPrivate},
      {"172.31.255.255", Range::kPrivate},      {"192.0.0.8", Range::kReserved},
      {"192.0.2.1", Range::kReserved},          {"192.88.99.1", Range::kReserved},
      {"192.168.1.1", Range::kPrivate},         {"198.18.0.1", Range::kReserved},
      {"198.19.255.255", Range::kReserved},     {"198.51.100.7", Range::kReserved},
      {"203.0.113.9", Range::kReserved},        {"224.0.0.1", Range::kMulticast},
      {"239.255.255.255", Range::kMulticast},   {"240.0.0.1", Range::kReserved},
      {"255.255.255.255", Range::kReserved},
  };
  for (const auto& entry : cases) {
    const char* text = entry.first;
    const Range range = entry.second;
    CAPTURE(text);
    CHECK(rangeOf(text) == range);
  }
  // Just outside the ranges: public.
  for (const char* text :
       {"1.1.1.1", "8.8.8.8", "9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0", "126.255.255.255",
        "128.0.0.0", "169.253.255.255", "169.255.0.0", "172.15.255.255", "172.32.0.0", "192.0.1.0", "192.167.255.255",
        "192.169.0.0", "198.17.255.255", "198.20.0.0", "223.255.255.255", "93.184.216.34"}) {
    CAPTURE(text);
    CHECK(rangeOf(text) == Range::kPublic);
  }
}

TEST_CASE("webhook addresses: every refused IPv6 range, and only global unicast is public") {
  const std::vector<std::pair<const char*, Range>> cases{
      {"::", Range::kUnspecified},       {"::1", Range::kLoopback},
      {"::2", Range::kReserved},         {"::127.0.0.1", Range::kReserved},  // IPv4-compatible (deprecated)
      {"64:ff9b:1::1", Range::kPrivate}, {"100::1", Range::kReserved},
      {"2001::1", Range::kReserved},     {"2001:1ff:ffff::1", Range::kReserved},
      {"2001:db8::1", Range::kReserved}, {"2002:7f00:1::1", Range::kReserved},
      {"3fff::1", Range::kReserved},     {"fc00::1", Range::kPrivate},
      {"fd12:3456::1", Range::kPrivate}, {"fe80::1", Range::kLinkLocal},
      {"febf::1", Range::kLinkLocal},    {"fec0::1", Range::kPrivate},
      {"ff02::1", Range::kMulticast},    {"ff05::2", Range::kMulticast},
      {"4000::1", Range::kReserved},     {"1::1", Range::kReserved},
      {"5f00::1", Range::kReserved},
  };
  for (const auto& entry : cases) {
    const char* text = entry.first;
    const Range range = entry.second;
    CAPTURE(text);
    CHECK(rangeOf(text) == range);
  }
  for (const char* text : {"2606:4700:4700::1111", "2a00:1450:4001:80b::200e", "2001:200::1", "2400:cb00::1"}) {
    CAPTURE(text);
    CHECK(rangeOf(text) == Range::kPublic);
  }
}

TEST_CASE("webhook addresses: IPv4-mapped and NAT64 IPv6 addresses are their IPv4 address") {
  CHECK(rangeOf("::ffff:127.0.0.1") == Range::kLoopback);
  CHECK(rangeOf("::ffff:7f00:1") == Range::kLoopback);
  CHECK(rangeOf("::ffff:169.254.169.254") == Range::kLinkLocal);
  CHECK(rangeOf("::ffff:10.1.2.3") == Range::kPrivate);
  CHECK(rangeOf("::ffff:100.64.0.1") == Range::kSharedCgnat);
  CHECK(rangeOf("::ffff:0.0.0.0") == Range::kUnspecified);
  CHECK(rangeOf("::ffff:8.8.8.8") == Range::kPublic);
  CHECK(hydra::net::toString(addr("::ffff:127.0.0.1")) == "127.0.0.1");
  CHECK(addr("::ffff:127.0.0.1").v4);
  CHECK(rangeOf("64:ff9b::127.0.0.1") == Range::kLoopback);
  CHECK(rangeOf("64:ff9b::a9fe:a9fe") == Range::kLinkLocal);  // 169.254.169.254
  CHECK(rangeOf("64:ff9b::8.8.8.8") == Range::kPublic);
}

TEST_CASE("webhook addresses: only canonical literals are addresses") {
  for (const char* text : {"127.1", "0x7f.0.0.1", "2130706433", "017700000001", "127.0.0.1.", " 127.0.0.1", "[::1]",
                           "fe80::1%eth0", "localhost", ""}) {
    CAPTURE(text);
    CHECK_FALSE(hydra::net::parseAddress(text).has_value());
  }
}

TEST_CASE("webhook addresses: the operator's allow-list opens ranges, never unspecified or multicast") {
  const AddressPolicy none;
  CHECK(none.refusal(addr("8.8.8.8")) == std::nullopt);
  CHECK(none.refusal(addr("127.0.0.1")) == std::optional<std::string>("127.0.0.1 is loopback"));
  CHECK(none.refusal(addr("::ffff:169.254.169.254")) == std::optional<std::string>("169.254.169.254 is link-local"));
  CHECK(none.refusal(addr("::1")) == std::optional<std::string>("::1 is loopback"));

  const AddressPolicy allowed(hydra::net::parseCidrList("127.0.0.0/8, ::1/128,10.20.0.0/16"));
  CHECK(allowed.refusal(addr("127.0.0.1")) == std::nullopt);
  CHECK(allowed.refusal(addr("::ffff:127.0.0.1")) == std::nullopt);  // mapped: the same address
  CHECK(allowed.refusal(addr("::1")) == std::nullopt);
  CHECK(allowed.refusal(addr("10.20.255.1")) == std::nullopt);
  CHECK(allowed.refusal(addr("10.21.0.1")).has_value());
  CHECK(allowed.refusal(addr("169.254.169.254")).has_value());

  const AddressPolicy everything(hydra::net::parseCidrList("0.0.0.0/0,::/0"));
  CHECK(everything.refusal(addr("10.0.0.1")) == std::nullopt);
  CHECK(everything.refusal(addr("0.0.0.0")).has_value());
  CHECK(everything.refusal(addr("::")).has_value());
  CHECK(everything.refusal(addr("224.0.0.1")).has_value());
  CHECK(everything.refusal(addr("ff02::1")).has_value());
}

TEST_CASE("webhook addresses: allow-list syntax") {
  CHECK(hydra::net::parseCidrList("").empty());
  CHECK(hydra::net::parseCidrList(" , ").empty());
  CHECK(hydra::net::parseCidrList("10.0.0.0/8").size() == 1);
  CHECK(hydra::net::parseCidrList("10.0.0.1/32,fd00::/8").size() == 2);
  CHECK(hydra::net::parseCidrList("10.0.0.7").size() == 1);  // one address
  for (const char* bad : {"10.0.0.0/33", "::/129", "10.1.0.0/8", "fd00::1/8", "10.0.0.0/x", "10.0.0.0/",
                          "example.com/8", "10.0.0.0/8,nonsense"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(hydra::net::parseCidrList(bad), std::invalid_argument);
  }
}

TEST_CASE("webhook URLs: https only, plain http only to loopback hosts and only when allowed") {
  CHECK(refusal("https://example.com/webhooks") == "");
  CHECK(refusal("HTTPS://Example.COM:8443/a/b?c=d#frag") == "");
  CHECK(refusal("http://example.com/webhooks") == "URL must use https");
  CHECK(refusal("http://localhost:8080/hook") == "URL must use https");
  CHECK(refusal("ftp://example.com/") == "URL must use https");
  CHECK(refusal("http://localhost:8080/hook", loopbackRules()) == "");
  CHECK(refusal("http://127.0.0.1:8080/hook", loopbackRules()) == "");
  CHECK(refusal("http://[::1]:8080/hook", loopbackRules()) == "");
  CHECK(refusal("http://api.localhost/hook", loopbackRules()) == "");
  CHECK(refusal("http://example.com/hook", loopbackRules()) ==
        "URL must use https (plain http is allowed only to loopback hosts)");
  // Allowing plain http to loopback does not allow loopback addresses: that is the allow-list's.
  UrlRules http_only;
  http_only.allow_loopback_http = true;
  CHECK(refusal("http://127.0.0.1:8080/hook", http_only) ==
        "URL host 127.0.0.1 is loopback, which webhooks may not reach");
  CHECK(refusal("http://localhost:8080/hook", http_only) == "");  // a name: checked when delivering
}

TEST_CASE("webhook URLs: length, credentials, hosts, ports, characters") {
  const std::string base = "https://example.com/";
  CHECK(refusal(base + std::string(2048 - base.size(), 'a')) == "");
  CHECK(refusal(base + std::string(2049 - base.size(), 'a')) == "URL is longer than 2048 characters");
  CHECK(refusal("https://user:pass@example.com/") == "URL must not contain credentials");
  CHECK(refusal("https://user@example.com/") == "URL must not contain credentials");
  CHECK(refusal("https://:secret@example.com/") == "URL must not contain credentials");
  CHECK(refusal("https://example.com/a b") == "URL must be printable ASCII without spaces (percent-encode the rest)");
  CHECK(refusal("https://exämple.com/") == "URL must be printable ASCII without spaces (percent-encode the rest)");
  CHECK(refusal("https://example.com/\n") == "URL must be printable ASCII without spaces (percent-encode the rest)");
  CHECK(refusal("example.com/hook") == "URL must be absolute, e.g. https://example.com/webhooks");
  CHECK(refusal("https:///hook") == "URL has no host");
  CHECK(refusal("https://example.com:0/") == "URL port must be a number from 1 to 65535");
  CHECK(refusal("https://example.com:65536/") == "URL port must be a number from 1 to 65535");
  CHECK(refusal("https://example.com:/") == "URL port must be a number from 1 to 65535");
  CHECK(refusal("https://example.com:443x/") == "URL port must be a number from 1 to 65535");
  CHECK(refusal("https://-bad-.example.com/") == "URL host is not a valid host name");
  CHECK(refusal("https://exa%6dple.com/") == "URL host is not a valid host name");
  CHECK(refusal("https://[1.2.3.4]/") == "URL host is not a valid IPv6 address");
  CHECK(refusal("https://[::1/") == "URL host is not a valid IPv6 address");
  for (const char* sneaky : {"https://127.1/", "https://0x7f.0.0.1/", "https://2130706433/", "https://017700000001/"}) {
    CAPTURE(sneaky);
    CHECK(refusal(sneaky) == "URL host looks like an IP address but is not one in standard form");
  }
}

TEST_CASE("webhook URLs: a literal address in a refused range is refused at creation") {
  for (const char* url : {"https://127.0.0.1/", "https://10.0.0.5/hook", "https://169.254.169.254/latest/meta-data",
                          "https://100.64.1.1/", "https://192.168.0.1:8443/", "https://172.16.5.4/", "https://0.0.0.0/",
                          "https://224.0.0.1/", "https://240.0.0.1/", "https://[::1]/", "https://[fe80::1]/",
                          "https://[fd00::1]/", "https://[::ffff:127.0.0.1]/", "https://[::ffff:a9fe:a9fe]/",
                          "https://[ff02::1]/", "https://[::]/", "https://[2001:db8::1]/", "https://192.0.2.1/"}) {
    const std::string text = url;
    CAPTURE(text);
    CAPTURE(refusal(url));
    CHECK(refusal(url).find("which webhooks may not reach") != std::string::npos);
  }
  CHECK(refusal("https://93.184.216.34/hook") == "");
  CHECK(refusal("https://[2606:4700:4700::1111]/hook") == "");
  UrlRules internal;
  internal.addresses = AddressPolicy(hydra::net::parseCidrList("10.0.0.0/8"));
  CHECK(refusal("https://10.0.0.5/hook", internal) == "");
}

TEST_CASE("webhook URLs: the parts a delivery uses") {
  const auto u = checkEndpointUrl("https://Hooks.Example.com:8443/in/bound?x=1&y=%2F#frag", {});
  CHECK(u.scheme == "https");
  CHECK(u.host == "hooks.example.com");
  CHECK(u.port == 8443);
  CHECK(u.target == "/in/bound?x=1&y=%2F");  // exactly as written, fragment dropped
  CHECK_FALSE(u.literal.has_value());
  CHECK(u.hostHeader() == "hooks.example.com:8443");
  const auto bare = checkEndpointUrl("https://example.com", {});
  CHECK(bare.port == 443);
  CHECK(bare.target == "/");
  CHECK(bare.hostHeader() == "example.com");
  const auto query = checkEndpointUrl("https://example.com?a=b", {});
  CHECK(query.target == "/?a=b");
  const auto v6 = checkEndpointUrl("http://[::1]:9000/h", loopbackRules());
  CHECK(v6.host == "::1");
  CHECK(v6.hostHeader() == "[::1]:9000");
  CHECK(v6.loopbackHost());
}
