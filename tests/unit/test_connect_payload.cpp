// The connect flow's texts (broker/services/connect_payload.hpp): the sealed code the control
// plane stores, the credentials the exchange seals, and the bound on a session's error.
#include <doctest/doctest.h>

#include <rapidjson/document.h>

#include "broker/services/connect_payload.hpp"

using namespace hydra::broker;

namespace {

std::string refusal(const std::string& text) {
  try {
    parseSealedCode(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}

}  // namespace

TEST_CASE("connect payload: the sealed code is read with or without a PKCE verifier, and nothing else is") {
  const auto pkce = parseSealedCode(R"({"code":"c","code_verifier":"v","redirect_uri":"https://cp.example/connect/callback"})");
  CHECK(pkce.code == "c");
  CHECK(pkce.code_verifier == std::optional<std::string>("v"));
  CHECK(pkce.redirect_uri == "https://cp.example/connect/callback");
  CHECK_FALSE(parseSealedCode(R"({"code":"c","redirect_uri":"r"})").code_verifier.has_value());
  CHECK_FALSE(parseSealedCode(R"({"code":"c","code_verifier":"","redirect_uri":"r"})").code_verifier.has_value());
  for (const auto* bad : {"", "[]", "\"c\"", "{", "{\"code\":\"\\xff\"}"}) {
    CAPTURE(bad);
    CHECK(refusal(bad) == "the session's sealed code is not a JSON object");
  }
  for (const auto* bad : {R"({"redirect_uri":"r"})", R"({"code":"c"})", R"({"code":1,"redirect_uri":"r"})",
                          R"({"code":"","redirect_uri":"r"})"}) {
    CAPTURE(bad);
    CHECK(refusal(bad) == "the session's sealed code lacks code or redirect_uri");
  }
  // The message names no value: it becomes the session's error.
  CHECK(refusal(R"({"code":"secret-code"})").find("secret-code") == std::string::npos);
}

TEST_CASE("connect payload: the exchanged credentials are an API-made oauth2 connection's, the own client's pair included") {
  hydra::broker::oauth::TokenGrant grant;
  grant.access_token = "at";
  grant.token_type = "Bearer";
  grant.expires_in = 3600;
  grant.refresh_token = "rt";
  std::optional<std::string> expires_at;
  const auto shared = exchangedCredentials(grant, std::nullopt, 1'800'000'000, expires_at);
  CHECK(shared == R"({"access_token":"at","token_type":"Bearer","refresh_token":"rt","expires_at":"2027-01-15T09:00:00Z"})");
  CHECK(expires_at == std::optional<std::string>("2027-01-15T09:00:00Z"));

  const auto own = exchangedCredentials(grant, hydra::broker::oauth::ClientCredentials{"app", "s3cret"}, 1'800'000'000,
                                        expires_at);
  rapidjson::Document doc;
  doc.Parse(own.c_str());
  CHECK(std::string(doc["client_id"].GetString()) == "app");
  CHECK(std::string(doc["client_secret"].GetString()) == "s3cret");

  hydra::broker::oauth::TokenGrant bare;
  bare.access_token = "only";
  CHECK(exchangedCredentials(bare, std::nullopt, 1'800'000'000, expires_at) == R"({"access_token":"only"})");
  CHECK_FALSE(expires_at.has_value());  // no expiry given: the connection's expires_at is cleared
}

TEST_CASE("connect payload: a session's error is at most 1024 bytes, cut between characters") {
  CHECK(boundedSessionError("short") == "short");
  CHECK(boundedSessionError(std::string(1024, 'x')) == std::string(1024, 'x'));
  const auto cut = boundedSessionError(std::string(2000, 'x'));
  CHECK(cut.size() == 1024);
  CHECK(cut.substr(1021) == "...");
  // Two-byte characters: the cut never splits one.
  std::string accents;
  for (int i = 0; i < 1000; ++i) accents += "\xc3\xa9";
  const auto text = boundedSessionError(accents);
  CHECK(text.size() <= 1024);
  const auto body = text.substr(0, text.size() - 3);
  CHECK(body.size() % 2 == 0);
  CHECK(body.back() == '\xa9');
}
