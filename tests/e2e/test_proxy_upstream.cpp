// The broker's outbound client for proxied calls (issue 19), against hydra-mock-provider: what
// arrives at the provider, what comes back, and every way a call is refused or fails (502/504
// with a detail naming the provider and the cause, never the credential).
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <string>
#include <thread>

#include <Poco/Net/ServerSocket.h>

#include "broker/proxy/upstream_client.hpp"
#include "tests/support/proxy_fixture.hpp"

namespace {

using namespace hydra;
using namespace hydra::test;
using broker::proxy::UpstreamClient;
using broker::proxy::UpstreamFailure;
using broker::proxy::UpstreamRequest;
using broker::proxy::UpstreamResponse;
using broker::proxy::UpstreamSettings;
using namespace std::chrono_literals;

const std::string kToken = "tok_secret_ab12cd34";

/// Loopback allowed (IPv4 and IPv6), the mock's CA trusted, 5 s, 1 MiB.
UpstreamSettings settingsFor(const MockProvider& provider) {
  std::signal(SIGPIPE, SIG_IGN);  // as the broker does: a shut-down socket may be written to
  UpstreamSettings s;
  // localhost may also resolve to ::1 (the mock listens on 127.0.0.1 only: that is tried next).
  s.addresses = net::AddressPolicy({*net::parseCidr("127.0.0.0/8"), *net::parseCidr("::1/128")});
  s.ca_file = provider.caFile();
  s.timeout = 5s;
  s.max_response_bytes = 1024 * 1024;
  return s;
}

UpstreamRequest requestTo(const MockProvider& provider, const std::string& method, const std::string& target,
                          const std::string& host = "localhost", const std::string& scheme = "https") {
  UpstreamRequest r;
  r.provider = "mockapi";
  r.upstream.scheme = scheme;
  r.upstream.host = host;
  r.upstream.port = provider.port();
  r.upstream.base_url = scheme + "://" + host + ":" + std::to_string(provider.port());
  r.method = method;
  r.target = target;
  r.headers = {{"Authorization", "Bearer " + kToken}};
  return r;
}

// By value: the argument is usually a temporary.
UpstreamResponse answered(const broker::proxy::UpstreamResult& result) {
  if (const auto* failure = std::get_if<UpstreamFailure>(&result)) FAIL("failed: " << failure->detail);
  return std::get<UpstreamResponse>(result);
}

UpstreamFailure failed(const broker::proxy::UpstreamResult& result) {
  if (const auto* response = std::get_if<UpstreamResponse>(&result)) FAIL("answered " << response->status);
  const auto& failure = std::get<UpstreamFailure>(result);
  CHECK(failure.detail.rfind("mockapi: ", 0) == 0);
  CHECK(failure.detail.find(kToken) == std::string::npos);
  return failure;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TEST_CASE("proxy upstream: a GET arrives exactly as sent: method, raw target and query, headers in order") {
  MockProvider provider;
  const UpstreamClient client(settingsFor(provider));
  auto request = requestTo(provider, "GET", "/api/v1/items/a%2Fb?q=x%20y&page=2&q=z");
  request.headers = {{"Accept", "application/json"},
                     {"X-Trace-Id", "t-1"},
                     {"Authorization", "Bearer " + kToken},
                     // The client owns these: a caller's never change the framing or the site.
                     {"Host", "evil.example"},
                     {"Content-Length", "999"},
                     {"Transfer-Encoding", "chunked"},
                     {"Connection", "keep-alive"}};
  const auto response = answered(client.call(request));
  CHECK(response.status == 200);

  const auto got = provider.requests();
  REQUIRE(got.size() == 1);
  CHECK(got[0].method == "GET");
  CHECK(got[0].target == "/api/v1/items/a%2Fb?q=x%20y&page=2&q=z");
  const std::vector<std::pair<std::string, std::string>> expected{
      {"Host", "localhost:" + std::to_string(provider.port())},
      {"Accept", "application/json"},
      {"X-Trace-Id", "t-1"},
      {"Authorization", "Bearer " + kToken},
      {"Connection", "Keep-Alive"}};
  CHECK(got[0].headers == expected);
  CHECK(got[0].body.empty());
}

TEST_CASE("proxy upstream: a POST body arrives byte for byte, and status, headers and body come back") {
  MockProvider provider;
  const UpstreamClient client(settingsFor(provider));
  provider.configure(R"({"answers":[{"status":201,"headers":[["Content-Type","application/json"],
    ["X-RateLimit-Remaining","7"],["Set-Cookie","a=1"],["Set-Cookie","b=2"]],"body":"{\"id\":\"m-1\"}"}]})");
  auto request = requestTo(provider, "POST", "/messages");
  request.headers.emplace_back("Content-Type", "application/octet-stream");
  const char body[] = "bytes \0 with a NUL and \xff\xfe";
  request.body = std::string(body, sizeof body - 1);  // 25 bytes: the NUL inside, not the one ending it
  const auto response = answered(client.call(request));
  CHECK(response.status == 201);
  CHECK(response.body == R"({"id":"m-1"})");
  std::vector<std::pair<std::string, std::string>> ours;
  for (const auto& h : response.headers) {
    if (h.first == "Content-Type" || h.first == "X-RateLimit-Remaining" || h.first == "Set-Cookie") ours.push_back(h);
  }
  CHECK(ours == std::vector<std::pair<std::string, std::string>>{{"Content-Type", "application/json"},
                                                                  {"X-RateLimit-Remaining", "7"},
                                                                  {"Set-Cookie", "a=1"},
                                                                  {"Set-Cookie", "b=2"}});

  const auto got = provider.requests();
  REQUIRE(got.size() == 1);
  CHECK(got[0].method == "POST");
  CHECK(got[0].body == request.body);
  CHECK(got[0].header("Content-Length") == "25");
  CHECK(got[0].header("Content-Type") == "application/octet-stream");

  SUBCASE("an empty POST says Content-Length: 0") {
    provider.reset();
    auto empty = requestTo(provider, "POST", "/empty");
    CHECK(answered(client.call(empty)).status == 200);
    const auto again = provider.requests();
    REQUIRE(again.size() == 1);
    CHECK(again[0].header("Content-Length") == "0");
  }
}

TEST_CASE("proxy upstream: TLS is verified: with the CA file trusted, not without it") {
  MockProvider provider;
  SUBCASE("the CA file adds the provider's CA: the call goes through, by name or by its address") {
    const UpstreamClient client(settingsFor(provider));
    CHECK(answered(client.call(requestTo(provider, "GET", "/"))).status == 200);
    CHECK(answered(client.call(requestTo(provider, "GET", "/", "127.0.0.1"))).status == 200);
  }
  SUBCASE("the system's CAs alone do not trust it: 502 naming TLS and the certificate") {
    auto settings = settingsFor(provider);
    settings.ca_file.clear();
    const UpstreamClient client(settings);
    const auto failure = failed(client.call(requestTo(provider, "GET", "/")));
    CHECK(failure.status == 502);
    CHECK(contains(failure.detail, "mockapi: TLS: "));
    CHECK(contains(failure.detail, "certificate verify failed"));
    CHECK(provider.requests().empty());
  }
}

TEST_CASE("proxy upstream: a certificate that does not carry the host name is refused") {
  MockProvider provider({true, "DNS:provider.example"});
  const UpstreamClient client(settingsFor(provider));
  for (const std::string host : {"localhost", "127.0.0.1"}) {
    CAPTURE(host);
    const auto failure = failed(client.call(requestTo(provider, "GET", "/", host)));
    CHECK(failure.status == 502);
    CHECK(contains(failure.detail, "mockapi: TLS: "));
    CHECK(contains(failure.detail, "Unacceptable certificate from " + host));
  }
  CHECK(provider.requests().empty());
}

TEST_CASE("proxy upstream: loopback is refused by the address policy unless the operator allows it") {
  MockProvider provider;
  SUBCASE("nothing allowed: a name resolving to loopback, and a loopback literal") {
    auto settings = settingsFor(provider);
    settings.addresses = net::AddressPolicy();
    const UpstreamClient client(settings);
    const auto by_name = failed(client.call(requestTo(provider, "GET", "/")));
    CHECK(by_name.status == 502);
    // 127.0.0.1 or ::1, as the machine's hosts file lists localhost.
    CHECK(by_name.detail.rfind("mockapi: localhost resolves to ", 0) == 0);
    CHECK(contains(by_name.detail, ", which is loopback: calls may not reach it"));
    const auto literal = failed(client.call(requestTo(provider, "GET", "/", "127.0.0.1")));
    CHECK(literal.detail == "mockapi: 127.0.0.1 is loopback: calls may not reach it");
  }
  SUBCASE("another range allowed does not open loopback") {
    auto settings = settingsFor(provider);
    settings.addresses = net::AddressPolicy({*net::parseCidr("10.0.0.0/8")});
    const UpstreamClient client(settings);
    CHECK(contains(failed(client.call(requestTo(provider, "GET", "/"))).detail, "which is loopback"));
  }
  SUBCASE("metadata and private literals are refused as such") {
    const UpstreamClient client(settingsFor(provider));
    CHECK(failed(client.call(requestTo(provider, "GET", "/", "169.254.169.254"))).detail ==
          "mockapi: 169.254.169.254 is link-local: calls may not reach it");
    CHECK(failed(client.call(requestTo(provider, "GET", "/", "::ffff:10.1.2.3"))).detail ==
          "mockapi: 10.1.2.3 is private: calls may not reach it");
  }
  CHECK(provider.requests().empty());
}

TEST_CASE("proxy upstream: a redirect is returned as it is, never followed") {
  MockProvider provider;
  const UpstreamClient client(settingsFor(provider));
  provider.configure(R"({"answers":[{"status":302,"headers":[["Location","/elsewhere"]],"body":""}]})");
  const auto response = answered(client.call(requestTo(provider, "GET", "/start")));
  CHECK(response.status == 302);
  bool location = false;
  for (const auto& [name, value] : response.headers) location = location || (name == "Location" && value == "/elsewhere");
  CHECK(location);
  std::this_thread::sleep_for(300ms);
  const auto got = provider.requests();
  REQUIRE(got.size() == 1);
  CHECK(got[0].target == "/start");
}

TEST_CASE("proxy upstream: an answer slower than the timeout is a 504 after about the timeout") {
  MockProvider provider;
  auto settings = settingsFor(provider);
  settings.timeout = 2s;
  const UpstreamClient client(settings);
  for (const std::string answer : {R"({"delay_ms":20000})", R"({"body_delay_ms":20000})"}) {
    CAPTURE(answer);
    provider.configure(R"({"answers":[)" + answer + "]}");
    const auto start = std::chrono::steady_clock::now();
    const auto failure = failed(client.call(requestTo(provider, "GET", "/slow")));
    const auto took = secondsSince(start);
    CHECK(failure.status == 504);
    CHECK(failure.detail == "mockapi: no answer within 2 s");
    CHECK(took >= 1.5);
    CHECK(took < 12);
  }
}

TEST_CASE("proxy upstream: a stop abandons a call in flight") {
  MockProvider provider;
  const UpstreamClient client(settingsFor(provider));
  provider.configure(R"({"answers":[{"delay_ms":20000}]})");
  std::atomic<bool> stopping{false};
  auto request = requestTo(provider, "GET", "/slow");
  request.stopping = &stopping;
  std::thread stopper([&] {
    provider.await(1);
    stopping = true;
  });
  const auto start = std::chrono::steady_clock::now();
  const auto result = client.call(request);
  stopper.join();
  const auto failure = failed(result);
  CHECK(failure.status == 502);
  CHECK(contains(failure.detail, "shutting down"));
  CHECK(secondsSince(start) < 4.5);  // well before the 5 s timeout
}

TEST_CASE("proxy upstream: an answer over the limit is refused, whatever its framing") {
  MockProvider provider;
  auto settings = settingsFor(provider);
  settings.max_response_bytes = 1000;
  const UpstreamClient client(settings);
  for (const std::string framing : {"length", "chunked", "close"}) {
    CAPTURE(framing);
    provider.configure(R"({"answers":[{"body_size":1001,"framing":")" + framing + R"("},{"body_size":1000,"framing":")" +
                       framing + R"("}]})");
    const auto failure = failed(client.call(requestTo(provider, "GET", "/big")));
    CHECK(failure.status == 502);
    CHECK(failure.detail == "mockapi: response larger than 1000 bytes");
    const auto response = answered(client.call(requestTo(provider, "GET", "/big")));
    CHECK(response.body == std::string(1000, 'x'));
  }
  SUBCASE("a declared length over the limit is refused before the body is read") {
    provider.configure(R"({"answers":[{"body_size":50000000,"framing":"length"}]})");
    const auto start = std::chrono::steady_clock::now();
    CHECK(failed(client.call(requestTo(provider, "GET", "/huge"))).detail ==
          "mockapi: response larger than 1000 bytes");
    CHECK(secondsSince(start) < 4);
  }
  SUBCASE("a HEAD answer's Content-Length is not a body") {
    provider.configure(R"({"answers":[{"body_size":5000,"framing":"length"}]})");
    const auto response = answered(client.call(requestTo(provider, "HEAD", "/big")));
    CHECK(response.status == 200);
    CHECK(response.body.empty());
  }
}

TEST_CASE("proxy upstream: a closed port, or a provider that hangs up, is a 502 naming the provider and the cause") {
  MockProvider provider;
  const UpstreamClient client(settingsFor(provider));
  SUBCASE("connection refused") {
    std::uint16_t closed_port = 0;
    {
      Poco::Net::ServerSocket probe(Poco::Net::SocketAddress("127.0.0.1", 0));
      closed_port = probe.address().port();
    }
    auto request = requestTo(provider, "GET", "/");
    request.upstream.port = closed_port;
    const auto failure = failed(client.call(request));
    CHECK(failure.status == 502);
    CHECK(contains(failure.detail, "mockapi: cannot connect to 127.0.0.1: "));
    CHECK(contains(failure.detail, "refused"));
  }
  SUBCASE("the connection closed without an answer") {
    provider.configure(R"({"answers":[{"drop":true}]})");
    const auto failure = failed(client.call(requestTo(provider, "GET", "/")));
    CHECK(failure.status == 502);
    CHECK(contains(failure.detail, "mockapi: call to 127.0.0.1 failed: "));
  }
  SUBCASE("a name that does not resolve") {
    const auto failure = failed(client.call(requestTo(provider, "GET", "/", "no-such-host.invalid")));
    CHECK(failure.status == 502);
    CHECK(contains(failure.detail, "mockapi: cannot resolve no-such-host.invalid"));
  }
}

TEST_CASE("proxy upstream: plain http reaches a loopback provider, and no other") {
  MockProvider provider({false});
  const UpstreamClient client(settingsFor(provider));
  CHECK(answered(client.call(requestTo(provider, "GET", "/plain", "127.0.0.1", "http"))).status == 200);
  auto settings = settingsFor(provider);
  settings.addresses = net::AddressPolicy({*net::parseCidr("10.0.0.0/8")});
  const UpstreamClient wide(settings);
  CHECK(failed(wide.call(requestTo(provider, "GET", "/", "10.1.2.3", "http"))).detail ==
        "mockapi: plain http only to loopback, and 10.1.2.3 resolves to 10.1.2.3");
  CHECK(provider.requests().size() == 1);
}

TEST_CASE("proxy upstream: what could rewrite the request is refused before connecting, naming no value") {
  MockProvider provider;
  const UpstreamClient client(settingsFor(provider));
  auto bad_header = requestTo(provider, "GET", "/");
  bad_header.headers.emplace_back("X-Note", "a\r\nX-Injected: " + kToken);
  CHECK(failed(client.call(bad_header)).detail == "mockapi: the value of header X-Note cannot be sent");
  CHECK(failed(client.call(requestTo(provider, "GET", "/a b HTTP/1.1\r\nX: y"))).detail ==
        "mockapi: the request target cannot be sent");
  CHECK(failed(client.call(requestTo(provider, "GE T", "/"))).detail == "mockapi: the method cannot be sent");
  CHECK(provider.requests().empty());
}

TEST_CASE("proxy upstream: calls to one provider reuse a kept connection, and another provider gets its own") {
  MockProvider provider;
  MockProvider other;
  auto settings = settingsFor(provider);
  const UpstreamClient client(settings);
  for (int i = 0; i < 3; ++i) CHECK(answered(client.call(requestTo(provider, "GET", "/a"))).status == 200);
  const auto got = provider.requests();
  REQUIRE(got.size() == 3);
  CHECK(got[1].peer == got[0].peer);  // one connection, one handshake
  CHECK(got[2].peer == got[0].peer);
  // An answer that ends with the connection is never kept.
  provider.configure(R"({"answers":[{"framing":"close","body":"x"}]})");
  CHECK(answered(client.call(requestTo(provider, "GET", "/b"))).body == "x");
  CHECK(answered(client.call(requestTo(provider, "GET", "/c"))).status == 200);
  const auto after = provider.requests();
  REQUIRE(after.size() == 5);
  CHECK(after[4].peer != after[3].peer);
}

TEST_CASE("proxy upstream: a kept connection the provider dropped is replaced for an idempotent call, never for a POST") {
  MockProvider provider;
  const UpstreamClient client(settingsFor(provider));
  CHECK(answered(client.call(requestTo(provider, "GET", "/warm"))).status == 200);
  // The next request on the kept connection finds it closed without an answer.
  provider.configure(R"({"answers":[{"drop":true}]})");
  CHECK(answered(client.call(requestTo(provider, "GET", "/again"))).status == 200);
  auto got = provider.requests();
  REQUIRE(got.size() == 3);
  CHECK(got[1].answered == 0);
  CHECK(got[2].target == "/again");
  CHECK(got[2].peer != got[1].peer);
  // A POST may have been acted on: it is not sent twice.
  provider.configure(R"({"answers":[{"drop":true}]})");
  auto post = requestTo(provider, "POST", "/send");
  post.body = "once";
  const auto failure = failed(client.call(post));
  CHECK(failure.status == 502);
  got = provider.requests();
  REQUIRE(got.size() == 4);
  CHECK(got[3].body == "once");
}
