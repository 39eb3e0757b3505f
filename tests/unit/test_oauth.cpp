#include <doctest/doctest.h>

#include "broker/providers/registry.hpp"
#include "broker/services/refresher.hpp"
#include "shared/http/errors.hpp"
#include "shared/oauth/token_fields.hpp"

using hydra::oauth::formatTime;
using hydra::oauth::normalizeCredentials;
using hydra::oauth::parseTime;

TEST_CASE("RFC 3339 times: formatted in UTC, parsed with any offset") {
  CHECK(formatTime(0) == "1970-01-01T00:00:00Z");
  CHECK(formatTime(1795831200) == "2026-11-28T02:00:00Z");
  CHECK(parseTime("2026-11-28T02:00:00Z") == 1795831200);
  CHECK(parseTime("2026-11-28T03:30:00+01:30") == 1795831200);
  CHECK(parseTime("2026-11-28T02:00:00.250Z") == 1795831200);
  CHECK_FALSE(parseTime("tomorrow").has_value());
  CHECK_FALSE(parseTime("").has_value());
}

// Found by tests/fuzz/fuzz_rfc3339.cpp on its seed "2026-01-01T00:00:00+99:99": Poco reads any
// two digits as an offset's hours and minutes, RFC 3339 allows 00:00 to 23:59.
TEST_CASE("RFC 3339 times: an offset beyond 23:59 is not a time") {
  CHECK_FALSE(parseTime("2026-01-01T00:00:00+99:99").has_value());
  CHECK_FALSE(parseTime("2026-01-01T00:00:00+24:00").has_value());
  CHECK_FALSE(parseTime("2026-01-01T00:00:00-00:60").has_value());
  CHECK(parseTime("2026-01-01T23:59:00+23:59") == 1767225600);
  CHECK(parseTime("2025-12-31T00:01:00-23:59") == 1767225600);
}

// Found by tests/fuzz/fuzz_rfc3339.cpp ("0000-00-01T00:00:00Z", as is): Poco takes a month or
// day of 00 for 01, so "2027-00-15" was read as January 15 (and passed on, as given, to
// PostgreSQL, which refuses it).
TEST_CASE("RFC 3339 times: a month or day of 00 is not a date") {
  CHECK_FALSE(parseTime("0000-00-01T00:00:00Z").has_value());
  CHECK_FALSE(parseTime("2027-00-15T00:00:00Z").has_value());
  CHECK_FALSE(parseTime("2027-01-00T00:00:00Z").has_value());
  CHECK_FALSE(parseTime("2027-13-01T00:00:00Z").has_value());
  CHECK_FALSE(parseTime("2027-02-29T00:00:00Z").has_value());
  CHECK(parseTime("2028-02-29T00:00:00Z") == 1835395200);
}

TEST_CASE("normalizeCredentials turns expires_in and numeric expires_at into RFC 3339 expires_at") {
  const std::time_t now = 1795831200;
  auto n = normalizeCredentials(R"({"access_token":"a","expires_in":3600,"refresh_token":"r"})", now);
  CHECK(n.expires_at == now + 3600);
  CHECK(n.credentials_json == R"({"access_token":"a","refresh_token":"r","expires_at":"2026-11-28T03:00:00Z"})");

  n = normalizeCredentials(R"({"access_token":"a","expires_at":1795834800})", now);
  CHECK(n.credentials_json == R"({"access_token":"a","expires_at":"2026-11-28T03:00:00Z"})");

  n = normalizeCredentials(R"({"access_token":"a","expires_at":"2026-11-28T04:00:00+01:00"})", now);
  CHECK(n.expires_at == now + 3600);

  n = normalizeCredentials(R"({"api_key":"k","ratio":0.30000000000000004})", now);
  CHECK_FALSE(n.expires_at.has_value());
  CHECK(n.credentials_json == R"({"api_key":"k","ratio":0.30000000000000004})");
}

TEST_CASE("normalizeCredentials refuses an expiry it cannot read, at its location") {
  for (const char* credentials : {R"({"expires_in":"soon"})", R"({"expires_in":-5})", R"({"expires_at":"next week"})",
                                  R"({"expires_at":true})"}) {
    CAPTURE(credentials);
    try {
      normalizeCredentials(credentials, 0);
      FAIL("accepted");
    } catch (const hydra::http::ValidationError& e) {
      REQUIRE(e.problems().size() == 1);
      CHECK(std::get<std::string>(e.problems()[0].loc[1]) == "credentials");
    }
  }
}

TEST_CASE("normalizeCredentials refuses an access token expiry before 2000 (it would look due for ever)") {
  const std::time_t now = 1795831200;
  for (const char* credentials : {R"({"expires_at":0})", R"({"expires_at":946684799})",
                                  R"({"expires_at":"1999-12-31T23:59:59Z"})", R"({"expires_at":"1970-01-01T00:00:00Z"})"}) {
    CAPTURE(credentials);
    try {
      normalizeCredentials(credentials, now);
      FAIL("accepted");
    } catch (const hydra::http::ValidationError& e) {
      REQUIRE(e.problems().size() == 1);
      CHECK(std::get<std::string>(e.problems()[0].loc[1]) == "credentials");
      CHECK(std::get<std::string>(e.problems()[0].loc[2]) == "expires_at");
    }
  }
  CHECK(normalizeCredentials(R"({"expires_at":"2000-01-01T00:00:00Z"})", now).expires_at == 946684800);
  CHECK(normalizeCredentials(R"({"expires_in":0})", now).expires_at == now);
}

// Found by tests/fuzz/fuzz_json_request.cpp on its seed credentials {"expires_in":253402300799}:
// now + expires_in went past 9999-12-31, and the expires_at stored ("10000-...") was one the
// broker's parseTime cannot read back.
TEST_CASE("normalizeCredentials refuses an expiry past 9999-12-31T23:59:59Z") {
  const std::time_t now = 1767225600;  // 2026-01-01T00:00:00Z, the fuzz target's "now"
  for (const char* credentials : {R"({"access_token":"a","expires_in":253402300799})",
                                  R"({"access_token":"a","expires_in":251635075200})",
                                  R"({"access_token":"a","expires_at":"9999-12-31T23:59:59-00:01"})"}) {
    CAPTURE(credentials);
    try {
      normalizeCredentials(credentials, now);
      FAIL("accepted");
    } catch (const hydra::http::ValidationError& e) {
      REQUIRE(e.problems().size() == 1);
      CHECK(std::get<std::string>(e.problems()[0].loc[2]).rfind("expires_", 0) == 0);
    }
  }
  const auto last = normalizeCredentials(R"({"expires_in":251635075199})", now);  // to the last second
  CHECK(last.credentials_json == R"({"expires_at":"9999-12-31T23:59:59Z"})");
  CHECK(parseTime(hydra::oauth::formatTime(*last.expires_at)) == last.expires_at);
}

TEST_CASE("what a runtime may see of oauth2 credentials: no refresh token, no client secret") {
  CHECK(hydra::broker::releasableCredentials(
            R"({"access_token":"a","refresh_token":"r","client_id":"c","client_secret":"s","token_type":"Bearer"})") ==
        R"({"access_token":"a","client_id":"c","token_type":"Bearer"})");
}

TEST_CASE("token URLs: https anywhere, plain http only to loopback") {
  using hydra::broker::providers::isAllowedTokenUrl;
  CHECK(isAllowedTokenUrl("https://oauth2.googleapis.com/token"));
  CHECK(isAllowedTokenUrl("http://127.0.0.1:8999/token"));
  CHECK(isAllowedTokenUrl("http://127.5.6.7/token"));
  CHECK(isAllowedTokenUrl("http://localhost:1234/token"));
  CHECK(isAllowedTokenUrl("http://[::1]:1234/token"));
  CHECK_FALSE(isAllowedTokenUrl("http://example.com/token"));
  CHECK_FALSE(isAllowedTokenUrl("http://10.1.2.3/token"));
  CHECK_FALSE(isAllowedTokenUrl("http://169.254.169.254/latest/meta-data"));
  CHECK_FALSE(isAllowedTokenUrl("ftp://127.0.0.1/token"));
  CHECK_FALSE(isAllowedTokenUrl("not a url"));
}

TEST_CASE("the built-in providers are there without a file") {
  const auto registry = hydra::broker::providers::ProviderRegistry::load(std::nullopt);
  for (const char* name : {"google", "gmail", "google_calendar", "microsoft", "xero", "deputy"}) {
    CAPTURE(name);
    const auto* provider = registry.find(name);
    REQUIRE(provider != nullptr);
    CHECK(provider->token_url.rfind("https://", 0) == 0);
  }
  CHECK(registry.find("xero")->client_auth == hydra::broker::providers::Provider::ClientAuth::kBasic);
  CHECK(registry.find("xero")->rotates_refresh_tokens);
  CHECK(registry.find("acme") == nullptr);
}
