#pragma once
// What the connect flow's end-to-end tests share: the control plane as its own database role
// with HYDRA_PUBLIC_URL set, the connect_providers rows a broker would publish (written here as
// the owner, so these tests need no broker), the sealed payloads opened with the test broker
// key, and reading redirects and cookies. The browser is the HTTP client: it sends the cookie
// it was given and follows no redirect by itself.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <botan/base64.h>
#include <botan/hash.h>
#include <botan/hex.h>

#include "shared/crypto/open.hpp"
#include "shared/crypto/private_key_file.hpp"
#include "tests/support/api.hpp"
#include "tests/support/broker.hpp"

namespace hydra::test {

inline constexpr const char* kPublicUrl = "https://connect.example.test";
inline constexpr const char* kAuthorizationUrl = "https://accounts.provider.test/o/authorize?hl=en";

struct ConnectStack : Stack {
  explicit ConnectStack(const Environment& settings = {})
      : Stack("hydracore_control_plane", withSettings({{"HYDRA_PUBLIC_URL", kPublicUrl}}, settings)) {}

  /// A connect_providers row, as a broker publishes it.
  void addProvider(const std::string& provider, bool pkce, const std::optional<std::string>& shared_client_id,
                   const std::string& default_scopes = "[]", const std::string& descriptions = "{}") const {
    db.exec("INSERT INTO connect_providers (provider, authorization_url, pkce, shared_client_id, default_scopes,"
            " scope_descriptions) VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb)",
            provider, std::string(kAuthorizationUrl), pkce, shared_client_id, default_scopes, descriptions);
  }

  void allowRedirects(const Tenant& t, const std::vector<std::string>& urls) const {
    std::string body = R"({"allowed_redirect_urls":[)";
    for (std::size_t i = 0; i < urls.size(); ++i) body += (i ? ",\"" : "\"") + urls[i] + "\"";
    expectStatus(as(t, "PUT", t.path() + "/connect-settings", body + "]}"), 200, "PUT connect-settings");
  }

  /// A client of the customer's own for `provider`; returns its id.
  std::string oauthClient(const Tenant& t, const std::string& provider, const std::string& extra = "") const {
    const auto r = as(t, "POST", t.path() + "/oauth-clients",
                      R"({"provider":")" + provider + R"(","client_id":"own-)" + provider +
                          R"(","client_secret":"own-secret")" + extra + "}");
    return text(expectStatus(r, 201, "POST oauth-clients").json, "id");
  }

  /// POST connect-sessions; returns the answer (expects 201).
  Response session(const Tenant& t, const std::string& body) const {
    auto r = as(t, "POST", t.path() + "/connect-sessions", body);
    expectStatus(r, 201, "POST connect-sessions");
    return r;
  }
};

/// The link's path on this server (/connect/<token>) from a session's connect_url.
inline std::string linkPath(const Response& created) {
  return text(created.json, "connect_url").substr(std::string(kPublicUrl).size());
}

inline std::string percentDecode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

/// The query parameters of a URL, decoded (the last of a repeated name).
inline std::map<std::string, std::string> queryOf(const std::string& url) {
  std::map<std::string, std::string> out;
  const auto q = url.find('?');
  if (q == std::string::npos) return out;
  std::size_t at = q + 1;
  while (at < url.size()) {
    auto end = url.find('&', at);
    if (end == std::string::npos) end = url.size();
    const auto pair = url.substr(at, end - at);
    const auto eq = pair.find('=');
    out[percentDecode(pair.substr(0, eq))] = eq == std::string::npos ? "" : percentDecode(pair.substr(eq + 1));
    at = end + 1;
  }
  return out;
}

/// The value a Set-Cookie header gives hydra_connect ("" when it clears it).
inline std::string cookieValue(const Response& r) {
  const auto set = r.header("Set-Cookie").value_or("");
  const std::string prefix = "hydra_connect=";
  if (set.rfind(prefix, 0) != 0) throw std::runtime_error("no hydra_connect cookie set: " + set);
  return set.substr(prefix.size(), set.find(';') - prefix.size());
}

inline Headers cookie(const std::string& value) { return {{"Cookie", "hydra_connect=" + value}}; }

/// Opens a sealed value (hex ciphertext) with the committed test broker private key.
inline std::string openSealed(const std::string& key_id, const std::string& ciphertext_hex, const std::string& aad) {
  TempDir dir;
  const auto keys = testKeyFiles(dir);
  std::vector<Botan::secure_vector<std::uint8_t>> private_keys;
  private_keys.push_back(crypto::readPrivateKeyPem(keys.private_key));
  const crypto::Opener opener(std::move(private_keys));
  const auto bytes = Botan::hex_decode(ciphertext_hex);
  const auto plain = opener.open({key_id, std::vector<std::uint8_t>(bytes.begin(), bytes.end())}, aad);
  return std::string(plain.begin(), plain.end());
}

/// RFC 7636 S256, computed here independently of the service.
inline std::string s256(const std::string& verifier) {
  auto sha = Botan::HashFunction::create_or_throw("SHA-256");
  sha->update(verifier);
  const auto digest = sha->final();
  auto b64 = Botan::base64_encode(digest.data(), digest.size());
  for (auto& c : b64) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  return b64;
}

/// Every security header each connect page and answer must carry.
inline void checkPageHeaders(const Response& r) {
  INFO(r.status);
  const auto csp = r.header("Content-Security-Policy").value_or("");
  CHECK(csp.find("default-src 'none'") != std::string::npos);
  CHECK(csp.find("frame-ancestors 'none'") != std::string::npos);
  CHECK(csp.find("unsafe-inline") == std::string::npos);
  CHECK(r.header("Referrer-Policy") == "no-referrer");
  CHECK(r.header("Cache-Control") == "no-store");
  CHECK(r.header("X-Content-Type-Options") == "nosniff");
}

}  // namespace hydra::test
