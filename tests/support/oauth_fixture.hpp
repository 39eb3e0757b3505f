#pragma once
// The OAuth2 token refresh tests (issue 4): hydra-mock-oauth (tests/support/mock_oauth.cpp)
// as a child process, a provider registry file pointing the broker at it, and OAuthStack,
// the deployment every refresh test starts from.

#include <chrono>
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/broker.hpp"

namespace hydra::test {

std::string mockOAuthBinary();

/// hydra-mock-oauth on a free loopback port, and its admin endpoints (each throws unless
/// the mock answers 200; plain http only).
class MockOAuth {
 public:
  /// `args`: more arguments, e.g. --tls-cert/--tls-key to serve https.
  explicit MockOAuth(const std::vector<std::string>& args = {});

  std::uint16_t port() const { return port_; }
  /// http://127.0.0.1:<port>/token (https with a certificate)
  std::string tokenUrl() const;

  /// POST /admin/config with a JSON object of settings (see mock_oauth.cpp).
  void configure(const std::string& settings) const;
  /// Makes these refresh tokens valid.
  void seed(const std::vector<std::string>& refresh_tokens) const;
  /// Adds an authorization code the token endpoint exchanges once, for `redirect_uri` and, when
  /// `code_challenge` is not empty, only with the verifier whose S256 challenge it is.
  void addCode(const std::string& code, const std::string& redirect_uri, const std::string& code_challenge = "") const;
  /// GET /admin/state.
  Response state() const;
  /// An integer of the state, e.g. "token_calls".
  long long counter(const char* name) const;
  long long calls() const { return counter("token_calls"); }
  /// A string array of the state, e.g. "valid_refresh_tokens".
  std::vector<std::string> list(const char* name) const;

  /// SIGTERM; returns the exit code.
  int stop() { return child_.terminate(); }
  std::string log() const { return child_.out() + child_.err(); }

 private:
  ChildProcess child_;
  std::string scheme_;
  std::uint16_t port_ = 0;
};

/// A self-signed certificate for 127.0.0.1 and its key (openssl), as files in `dir`.
struct TlsFiles {
  std::string certificate, key;
};
TlsFiles selfSignedCertificate(const TempDir& dir);

/// One entry of the broker's provider registry (HYDRA_PROVIDERS_FILE). An empty token_url
/// means the mock's.
struct ProviderEntry {
  explicit ProviderEntry(std::string provider) : name(std::move(provider)) {}

  std::string name;
  std::string client_auth = "post";
  std::string client_id = "hydra-registry-client";
  std::string client_secret;  // empty: a random one
  bool rotates = true;
  std::string token_url;
  std::string extra;  // more members of the entry, as JSON text; "{mock}" stands for the mock's address
};

/// Writes {"providers": {...}} as <dir>/providers.json and each client secret as a file of
/// mode `secret_mode`; fills in empty secrets. Returns the providers file's path.
std::string writeProvidersFile(const TempDir& dir, std::vector<ProviderEntry>& providers,
                               const std::string& default_token_url, unsigned secret_mode = 0600);

/// The mock and the registry: constructed before the broker that reads them.
struct OAuthProvider {
  explicit OAuthProvider(std::vector<ProviderEntry> entries);

  MockOAuth mock;
  TempDir dir;
  std::vector<ProviderEntry> providers;  // secrets filled in
  std::string providers_file;

  const ProviderEntry& provider(const std::string& name) const;
};

/// The name of the provider OAuthStack registers by default ("post" client authentication,
/// rotating refresh tokens); not a built-in one.
extern const char* const kMockProvider;

/// An oauth2 connection granted to a runtime of its own.
struct OAuthConnection {
  std::string id, provider, name;
  Runtime runtime;
  /// "provider=<provider>&name=<name>"
  std::string query() const { return "provider=" + provider + "&name=" + name; }
};

/// The broker's refresh settings the tests start from: the default skew (120 s), a 300 s
/// ahead window (the mock's default 3600 s tokens stay out of it once refreshed) and the
/// registry file. Tests add or replace entries.
Environment refreshSettings(const OAuthProvider& provider, const Environment& extra = {});

/// Settings whose background loop looks rarely (every 600 s): each refresh in a test is one a
/// fetch asked for.
Environment quietLoop();

/// BrokerStack whose broker uses the mock through the registry, and a tenant.
class OAuthStack : public OAuthProvider, public BrokerStack {
 public:
  /// `control_plane_settings`: added to (or replacing) the control plane's environment.
  explicit OAuthStack(const Environment& broker_settings = {},
                      std::vector<ProviderEntry> entries = {ProviderEntry{kMockProvider}},
                      const Environment& control_plane_settings = {});

  Tenant tenant = newTenant();

  /// POST an oauth2 connection with `credentials` (JSON text), grant it to a new runtime.
  OAuthConnection connect(const std::string& credentials, const std::string& name = "inbox",
                          const std::string& provider = kMockProvider) const;
  /// The runtime's fetch of `c`.
  Response fetch(const OAuthConnection& c) const { return BrokerStack::fetch(c.runtime, c.query()); }
  using BrokerStack::fetch;
  /// GET the connection as its tenant (expects 200).
  Response connection(const OAuthConnection& c) const { return BrokerStack::connection(tenant, c.id); }
  using BrokerStack::connection;
  /// PATCH the connection's credentials as its tenant; returns the response.
  Response patchCredentials(const OAuthConnection& c, const std::string& credentials) const;

  /// The credentials stored for `c`, opened with the test private key (JSON text).
  std::string storedCredentials(const OAuthConnection& c) const;
  /// Another broker on the same database with the same settings.
  std::unique_ptr<Broker> anotherBroker() const { return std::make_unique<Broker>(brokerEnvironment()); }
  /// The tenant's audit events with this outcome and connection.
  std::size_t auditCount(const std::string& outcome, const std::string& connection_id) const;
};

/// oauth2 credentials as JSON text; an empty refresh token is left out. `extra`: more members,
/// e.g. R"("client_id":"x")".
std::string oauthCredentials(const std::string& access_token, const std::string& refresh_token,
                             std::time_t expires_at, const std::string& extra = "");

/// Seconds since the epoch, and RFC 3339 UTC text ("2026-11-28T03:00:00Z") both ways.
std::time_t now();
std::string utcText(std::time_t t);
/// Parses RFC 3339 in UTC (a fraction is ignored); throws if it is not that.
std::time_t parseUtc(const std::string& text);

/// The credentials object of a 200 fetch (throws with the body otherwise).
const rapidjson::Value& released(const Response& r);
std::string accessToken(const Response& r);

/// Polls `done` every 100 ms until it is true or `timeout` passes; returns its last value.
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout);

/// Runs `fn(i)` for i in [0, n) on n threads released together; returns when all are done,
/// rethrowing the first exception of any.
void concurrently(std::size_t n, const std::function<void(std::size_t)>& fn);

}  // namespace hydra::test
