// The connect flow's pure parts: URLs (HYDRA_PUBLIC_URL, redirect allow-list entries, origins for
// the pages' policy, query building), the PKCE verifier derived from cookie and state (RFC 7636
// appendix B's S256 vector), the cookie header, the stored form of a session's grants, and
// the pages' HTML escaping.
#include <doctest/doctest.h>

#include <algorithm>

#include "control-plane/connect/pages.hpp"
#include "control-plane/connect/secrets.hpp"
#include "control-plane/connect/urls.hpp"
#include "control-plane/model/connect.hpp"
#include "shared/config/env.hpp"
#include "shared/json/reader.hpp"
#include "shared/text/html_escape.hpp"

namespace connect_flow = hydra::cp::connect;
using hydra::config::ConfigError;

TEST_CASE("connect: page text is escaped for HTML, both quotes included (text::escapeHtml)") {
  CHECK(hydra::text::escapeHtml("a<b>&\"c'd") == "a&lt;b&gt;&amp;&quot;c&#39;d");
  CHECK(hydra::text::escapeHtml("plain text") == "plain text");
}

TEST_CASE("connect: HYDRA_PUBLIC_URL is https (http only to loopback), without query, fragment or user info") {
  CHECK(connect_flow::publicUrl("V", std::nullopt).empty());
  CHECK(connect_flow::publicUrl("V", std::string("")).empty());
  CHECK(connect_flow::publicUrl("V", std::string("https://connect.example.com/")) == "https://connect.example.com");
  CHECK(connect_flow::publicUrl("V", std::string("https://example.com/hydra")) == "https://example.com/hydra");
  CHECK(connect_flow::publicUrl("V", std::string("http://127.0.0.1:8080")) == "http://127.0.0.1:8080");
  CHECK(connect_flow::publicUrl("V", std::string("http://localhost:8080")) == "http://localhost:8080");
  for (const char* bad : {"http://example.com", "example.com", "ftp://example.com", "https://example.com/?a=1",
                          "https://example.com/#x", "https://user@example.com", "https://", "https://exa mple.com"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(connect_flow::publicUrl("V", std::string(bad)), ConfigError);
  }
}

TEST_CASE("connect: redirect URLs are absolute http(s), printable, without fragment or user info") {
  CHECK_FALSE(connect_flow::redirectUrlProblem("https://app.example.com/done?x=1"));
  CHECK_FALSE(connect_flow::redirectUrlProblem("http://localhost:3000/cb"));
  for (const char* bad : {"/done", "app.example.com/done", "javascript:alert(1)", "https://a.example/#f",
                          "https://u:p@a.example/", "https://a.example/\xc3\xa9", "https://a.example/a b", "https:///x"}) {
    CAPTURE(bad);
    CHECK(connect_flow::redirectUrlProblem(bad));
  }
  CHECK(connect_flow::redirectUrlProblem("https://a.example/" + std::string(2048, 'a')));
}

TEST_CASE("connect: origins for form-action, and nothing that could break out of the header") {
  CHECK(connect_flow::origin("https://accounts.google.com/o/oauth2/v2/auth?x=1") == "https://accounts.google.com");
  CHECK(connect_flow::origin("HTTP://127.0.0.1:8443/a") == "http://127.0.0.1:8443");
  CHECK(connect_flow::origin("https://[::1]:9/a") == "https://[::1]:9");
  CHECK(connect_flow::origin("https://a.example;script-src*/x").empty());
  CHECK(connect_flow::origin("https://a.example,b/x").empty());
  CHECK(connect_flow::origin("not a url").empty());
}

TEST_CASE("connect: query parameters are percent-encoded and appended before any fragment") {
  CHECK(connect_flow::withQuery("https://p.example/auth", {{"scope", "a b/c"}, {"state", "x&y=z"}}) ==
        "https://p.example/auth?scope=a%20b%2Fc&state=x%26y%3Dz");
  CHECK(connect_flow::withQuery("https://p.example/auth?hl=en", {{"a", "1"}}) == "https://p.example/auth?hl=en&a=1");
  CHECK(connect_flow::withQuery("https://p.example/auth?", {{"a", "1"}}) == "https://p.example/auth?a=1");
  CHECK(connect_flow::withQuery("https://p.example/auth#frag", {{"a", "1"}}) == "https://p.example/auth?a=1#frag");
  CHECK(connect_flow::percentEncode("AZaz09-._~ \xc3\xa9") == "AZaz09-._~%20%C3%A9");
}

TEST_CASE("connect: PKCE: S256 as RFC 7636 appendix B, the verifier derived from cookie and state") {
  CHECK(connect_flow::pkceChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") ==
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  const auto v = connect_flow::pkceVerifier("cookie-one", "state-one");
  CHECK(v.size() == 43);  // RFC 7636: 43..128 characters of [A-Za-z0-9-._~]
  CHECK(std::all_of(v.begin(), v.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; }));
  CHECK(connect_flow::pkceVerifier("cookie-one", "state-one") == v);
  CHECK(connect_flow::pkceVerifier("cookie-two", "state-one") != v);
  CHECK(connect_flow::pkceVerifier("cookie-one", "state-two") != v);
  const auto a = connect_flow::newRandomValue();
  CHECK(a.size() == 43);
  CHECK(connect_flow::newRandomValue() != a);
}

TEST_CASE("connect: the cookie is HttpOnly and SameSite=Lax, Secure on https, and cleared with Max-Age=0") {
  CHECK(connect_flow::cookieHeader("v", "/connect", true) == "hydra_connect=v; Path=/connect; HttpOnly; SameSite=Lax; Secure");
  CHECK(connect_flow::cookieHeader("v", "/p/connect", false) == "hydra_connect=v; Path=/p/connect; HttpOnly; SameSite=Lax");
  CHECK(connect_flow::cookiePath("https://connect.example.com") == "/connect");
  CHECK(connect_flow::cookiePath("https://example.com/hydra") == "/hydra/connect");
  CHECK(connect_flow::cookieHeader("", "/connect", true) ==
        "hydra_connect=; Path=/connect; HttpOnly; SameSite=Lax; Max-Age=0; Secure");
}

TEST_CASE("connect: a session's grants are stored and read back as they were given") {
  const auto doc = hydra::json::parseObject(
      R"({"provider":"gmail","name":"n","grants":[{"instance_id":"11111111-1111-4111-8111-111111111111",)"
      R"("capabilities":["a"],"expires_in_seconds":3600,"rate_limit":{"requests":5,"per_seconds":60}},)"
      R"({"instance_id":"22222222-2222-4222-8222-222222222222","capabilities":[],"proxy_only":true,)"
      R"("expires_at":"2999-01-01T00:00:00+02:00"}]})");
  const auto input = hydra::cp::model::ConnectSessionCreate::fromJson(*doc);
  const auto stored = hydra::cp::model::grantsToJson(input.grants);
  const auto back = hydra::cp::model::grantsFromJson(stored);
  REQUIRE(back.size() == 2);
  CHECK(back[0].instance_id == "11111111-1111-4111-8111-111111111111");
  CHECK(back[0].capabilities_json == R"(["a"])");
  CHECK(back[0].expiry.in_seconds == 3600);
  CHECK_FALSE(back[0].expiry.at);
  CHECK(back[0].rate_limit->requests == 5);
  CHECK(back[0].rate_limit->per_seconds == 60);
  CHECK_FALSE(back[0].proxy_only);
  CHECK(back[1].proxy_only);
  CHECK(back[1].expiry.at == "2998-12-31T22:00:00Z");  // UTC, as POST .../grants stores it
  CHECK_FALSE(back[1].rate_limit);
  CHECK(hydra::cp::model::grantsToJson(back) == stored);
  CHECK_THROWS(hydra::cp::model::grantsFromJson(R"([{"instance_id":1}])"));
  CHECK_THROWS(hydra::cp::model::grantsFromJson("{}"));
}
