#include "tests/support/oauth_fixture.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <fstream>
#include <mutex>
#include <regex>
#include <stdexcept>
#include <thread>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "shared/crypto/open.hpp"
#include "shared/crypto/private_key_file.hpp"
#include "shared/crypto/sealed_secret.hpp"

namespace hydra::test {
namespace {

using namespace std::chrono_literals;

/// A JSON string literal (quotes included).
std::string quoted(const std::string& s) {
  rapidjson::StringBuffer out;
  rapidjson::Writer<rapidjson::StringBuffer> w(out);
  w.String(s);
  return out.GetString();
}

std::vector<std::uint8_t> fromHex(const std::string& hex) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

}  // namespace

const char* const kMockProvider = "mockprov";

std::string mockOAuthBinary() { return HYDRA_MOCK_OAUTH_BIN; }

MockOAuth::MockOAuth(const std::vector<std::string>& args)
    : child_(mockOAuthBinary(), args, {}),
      scheme_(std::find(args.begin(), args.end(), "--tls-cert") == args.end() ? "http" : "https") {
  static const std::regex listening(R"(^listening on 127\.0\.0\.1:(\d+)\n)");
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  for (;;) {
    // The match points into `out`: read the port before `out` goes out of scope.
    const auto out = child_.out();
    std::smatch match;
    if (std::regex_search(out, match, listening)) {
      port_ = static_cast<std::uint16_t>(std::stoi(match[1].str()));
      break;
    }
    if (std::chrono::steady_clock::now() > deadline || !child_.running()) {
      child_.terminate();
      throw std::runtime_error("hydra-mock-oauth did not start; its output:\n" + log());
    }
    std::this_thread::sleep_for(10ms);
  }
}

std::string MockOAuth::tokenUrl() const { return scheme_ + "://127.0.0.1:" + std::to_string(port_) + "/token"; }

void MockOAuth::configure(const std::string& settings) const {
  expectStatus(HttpClient(port_).request("POST", "/admin/config", settings), 200, "mock config " + settings);
}

void MockOAuth::seed(const std::vector<std::string>& refresh_tokens) const {
  std::string tokens;
  for (const auto& t : refresh_tokens) tokens += (tokens.empty() ? "" : ",") + quoted(t);
  expectStatus(HttpClient(port_).request("POST", "/admin/refresh-tokens", R"({"tokens":[)" + tokens + "]}"), 200,
               "mock seed");
}

void MockOAuth::addCode(const std::string& code, const std::string& redirect_uri, const std::string& code_challenge) const {
  const auto entry = R"({"code":)" + quoted(code) + R"(,"redirect_uri":)" + quoted(redirect_uri) +
                     (code_challenge.empty() ? "" : R"(,"code_challenge":)" + quoted(code_challenge)) + "}";
  expectStatus(HttpClient(port_).request("POST", "/admin/codes", R"({"codes":[)" + entry + "]}"), 200, "mock codes");
}

Response MockOAuth::state() const {
  auto r = HttpClient(port_).request("GET", "/admin/state");
  expectStatus(r, 200, "mock state");
  return r;
}

long long MockOAuth::counter(const char* name) const {
  const auto r = state();
  const auto& value = member(r.json, name);
  if (!value.IsInt64()) throw std::runtime_error(std::string("mock state: ") + name + " is not an integer");
  return value.GetInt64();
}

std::vector<std::string> MockOAuth::list(const char* name) const {
  const auto r = state();
  std::vector<std::string> out;
  for (const auto* v : items(member(r.json, name))) {
    if (!v->IsString()) throw std::runtime_error(std::string("mock state: ") + name + " holds a non-string");
    out.emplace_back(v->GetString());
  }
  return out;
}

TlsFiles selfSignedCertificate(const TempDir& dir) {
  TlsFiles files{dir.path("tls-cert.pem"), dir.path("tls-key.pem")};
  const auto made = run("/usr/bin/openssl",
                        {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", files.key, "-out", files.certificate},
                        {});
  if (made.exit_code != 0) throw std::runtime_error("openssl req failed: " + made.err);
  return files;
}

std::string writeProvidersFile(const TempDir& dir, std::vector<ProviderEntry>& providers,
                               const std::string& default_token_url, unsigned secret_mode) {
  std::string entries;
  // "{mock}" in an entry's extra members: the mock's address (its authorization endpoint).
  const auto mock_base = default_token_url.substr(0, default_token_url.rfind("/token"));
  for (auto& p : providers) {
    for (auto at = p.extra.find("{mock}"); at != std::string::npos; at = p.extra.find("{mock}", at)) {
      p.extra.replace(at, 6, mock_base);
    }
    if (p.client_secret.empty()) p.client_secret = "registry-secret-" + randomToken(24);
    const auto secret_file = dir.path(p.name + "-client-secret");
    std::ofstream(secret_file) << p.client_secret << "\n";
    if (chmod(secret_file.c_str(), secret_mode) != 0) throw std::runtime_error("chmod " + secret_file);
    entries += (entries.empty() ? "" : ",") + quoted(p.name) + ":{" +                              //
               R"("token_url":)" + quoted(p.token_url.empty() ? default_token_url : p.token_url) +  //
               R"(,"client_auth":)" + quoted(p.client_auth) +                                         //
               R"(,"client_id":)" + quoted(p.client_id) +                                             //
               R"(,"client_secret_file":)" + quoted(secret_file) +                                    //
               R"(,"rotates_refresh_tokens":)" + (p.rotates ? "true" : "false") +               //
               (p.extra.empty() ? "" : "," + p.extra) + "}";
  }
  const auto path = dir.path("providers.json");
  std::ofstream(path) << R"({"providers":{)" << entries << "}}\n";
  return path;
}

OAuthProvider::OAuthProvider(std::vector<ProviderEntry> entries)
    : providers(std::move(entries)), providers_file(writeProvidersFile(dir, providers, mock.tokenUrl())) {}

const ProviderEntry& OAuthProvider::provider(const std::string& name) const {
  for (const auto& p : providers) {
    if (p.name == name) return p;
  }
  throw std::runtime_error("no provider " + name + " in the test registry");
}

Environment refreshSettings(const OAuthProvider& provider, const Environment& extra) {
  Environment env{
      {"HYDRA_PROVIDERS_FILE", provider.providers_file},
      {"HYDRA_REFRESH_SKEW_SECONDS", "120"},
      {"HYDRA_REFRESH_AHEAD_SECONDS", "300"},
  };
  for (const auto& [name, value] : extra) env[name] = value;
  return env;
}

Environment quietLoop() { return {{"HYDRA_REFRESH_INTERVAL_SECONDS", "600"}}; }

OAuthStack::OAuthStack(const Environment& broker_settings, std::vector<ProviderEntry> entries,
                       const Environment& control_plane_settings)
    : OAuthProvider(std::move(entries)),
      BrokerStack(refreshSettings(static_cast<const OAuthProvider&>(*this), broker_settings), control_plane_settings) {}

OAuthConnection OAuthStack::connect(const std::string& credentials, const std::string& name,
                                    const std::string& provider) const {
  const auto body = R"({"provider":)" + quoted(provider) + R"(,"name":)" + quoted(name) +
                    R"(,"auth_type":"oauth2","credentials":)" + credentials + "}";
  OAuthConnection c{createConnection(tenant, body), provider, name, {}};
  c.runtime = grantedRuntime(tenant, c.id);
  return c;
}

Response OAuthStack::patchCredentials(const OAuthConnection& c, const std::string& credentials) const {
  return as(tenant, "PATCH", tenant.path() + "/connections/" + c.id, R"({"credentials":)" + credentials + "}");
}

std::string OAuthStack::storedCredentials(const OAuthConnection& c) const {
  std::vector<Botan::secure_vector<std::uint8_t>> private_keys;
  private_keys.push_back(crypto::readPrivateKeyPem(keys.private_key));
  const crypto::Opener opener(std::move(private_keys));
  const auto stored = storedSecret(db, c.id);
  const auto plaintext =
      opener.open({stored.key_id, fromHex(stored.ciphertext_hex)}, crypto::connectionAad(tenant.id, c.id));
  return std::string(plaintext.begin(), plaintext.end());
}

std::size_t OAuthStack::auditCount(const std::string& outcome, const std::string& connection_id) const {
  const auto events = auditEvents(tenant);
  std::size_t n = 0;
  for (const auto* e : items(member(events.json, "events"))) {
    if (text(*e, "outcome") == outcome && textOrNull(*e, "connection_id") == connection_id) ++n;
  }
  return n;
}

std::string oauthCredentials(const std::string& access_token, const std::string& refresh_token, std::time_t expires_at,
                             const std::string& extra) {
  std::string out = R"({"access_token":)" + quoted(access_token) + R"(,"token_type":"Bearer","expires_at":)" +
                    quoted(utcText(expires_at));
  if (!refresh_token.empty()) out += R"(,"refresh_token":)" + quoted(refresh_token);
  if (!extra.empty()) out += "," + extra;
  return out + "}";
}

std::time_t now() { return std::time(nullptr); }

std::string utcText(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

std::time_t parseUtc(const std::string& text) {
  static const std::regex rfc3339(R"((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|\+00:00))");
  std::smatch m;
  if (!std::regex_match(text, m, rfc3339)) throw std::runtime_error("not an RFC 3339 UTC time: " + text);
  std::tm tm{};
  tm.tm_year = std::stoi(m[1]) - 1900;
  tm.tm_mon = std::stoi(m[2]) - 1;
  tm.tm_mday = std::stoi(m[3]);
  tm.tm_hour = std::stoi(m[4]);
  tm.tm_min = std::stoi(m[5]);
  tm.tm_sec = std::stoi(m[6]);
  return timegm(&tm);
}

const rapidjson::Value& released(const Response& r) {
  if (r.status != 200) throw std::runtime_error("expected a 200 fetch, got " + std::to_string(r.status) + " " + r.body);
  return member(r.json, "credentials");
}

std::string accessToken(const Response& r) { return text(released(r), "access_token"); }

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return done();
    std::this_thread::sleep_for(100ms);
  }
  return true;
}

void concurrently(std::size_t n, const std::function<void(std::size_t)>& fn) {
  std::mutex mutex;
  std::condition_variable go;
  bool started = false;
  std::exception_ptr failure;
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      {
        std::unique_lock<std::mutex> lock(mutex);
        go.wait(lock, [&] { return started; });
      }
      try {
        fn(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!failure) failure = std::current_exception();
      }
    });
  }
  {
    std::lock_guard<std::mutex> lock(mutex);
    started = true;
  }
  go.notify_all();
  for (auto& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace hydra::test
