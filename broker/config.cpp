#include "broker/config.hpp"

#include <algorithm>
#include <sstream>
#include <thread>

#include "broker/identity/spiffe_id.hpp"
#include "shared/crypto/private_key_file.hpp"
#include "shared/ops/operations.hpp"

namespace hydra::broker {
namespace {

constexpr const char* kKeysVariable = "HYDRA_BROKER_PRIVATE_KEYS";

int integerSetting(const char* name, long fallback, long min, long max) {
  return static_cast<int>(config::parseInteger(name, config::env(name).value_or(std::to_string(fallback)), min, max));
}

// HYDRA_RUNTIME_CA_FILE: the TLS handshake asks for a certificate of the runtime CA, and the
// runtime routes refuse requests without a valid one (identity/runtime_identity.hpp). Returns
// the trust domain when on.
proxy::ProxyOptions proxyOptions() {
  proxy::ProxyOptions p;
  p.timeout = std::chrono::seconds(integerSetting("HYDRA_PROXY_TIMEOUT_SECONDS", 30, 1, 300));
  p.max_request_bytes = static_cast<std::size_t>(integerSetting("HYDRA_PROXY_MAX_REQUEST_BYTES", 8 << 20, 4096, 64 << 20));
  p.max_response_bytes =
      static_cast<std::size_t>(integerSetting("HYDRA_PROXY_MAX_RESPONSE_BYTES", 16 << 20, 1024, 256 << 20));
  p.ca_file = config::env("HYDRA_PROXY_CA_FILE");
  if (p.ca_file && p.ca_file->empty()) throw config::ConfigError("HYDRA_PROXY_CA_FILE is empty");
  p.allowed_cidrs = config::cidrs("HYDRA_PROXY_ALLOWED_CIDRS");
  p.threads = static_cast<std::size_t>(integerSetting("HYDRA_PROXY_THREADS", 32, 1, 1024));
  p.max_in_flight_per_grant = static_cast<std::size_t>(integerSetting("HYDRA_PROXY_MAX_IN_FLIGHT_PER_GRANT", 8, 1, 10000));
  p.max_in_flight_per_connection =
      static_cast<std::size_t>(integerSetting("HYDRA_PROXY_MAX_IN_FLIGHT_PER_CONNECTION", 16, 1, 10000));
  p.max_retry_after = std::chrono::seconds(integerSetting("HYDRA_PROXY_MAX_RETRY_AFTER_SECONDS", 60, 1, 86400));
  return p;
}

std::optional<std::string> runtimeIdentity(std::optional<config::TlsSettings>& tls) {
  const auto ca_file = config::env("HYDRA_RUNTIME_CA_FILE");
  const auto trust_domain = config::env("HYDRA_RUNTIME_TRUST_DOMAIN");
  if (!ca_file) {
    if (trust_domain) throw config::ConfigError("HYDRA_RUNTIME_TRUST_DOMAIN is set without HYDRA_RUNTIME_CA_FILE");
    return std::nullopt;
  }
  if (ca_file->empty()) throw config::ConfigError("HYDRA_RUNTIME_CA_FILE is empty");
  if (!tls) {
    throw config::ConfigError("HYDRA_RUNTIME_CA_FILE needs HTTPS: set HYDRA_TLS_CERT_FILE and HYDRA_TLS_KEY_FILE");
  }
  if (!tls->client_ca_file.empty()) {
    throw config::ConfigError("HYDRA_RUNTIME_CA_FILE and HYDRA_TLS_CLIENT_CA_FILE exclude each other: the runtime "
                              "CA already asks runtimes for their certificate");
  }
  if (!trust_domain) throw config::ConfigError("HYDRA_RUNTIME_TRUST_DOMAIN must be set with HYDRA_RUNTIME_CA_FILE");
  if (!identity::validTrustDomain(*trust_domain)) {
    throw config::ConfigError("HYDRA_RUNTIME_TRUST_DOMAIN must be a SPIFFE trust domain (lower-case letters, digits, "
                              "'.', '-', '_')");
  }
  tls->client_ca_file = *ca_file;
  tls->client_certificate_required = false;
  return trust_domain;
}

}  // namespace

Config Config::fromEnvironment(bool serving) {
  Config c;
  c.database_url = config::databaseUrl("HYDRA_DATABASE_URL");
  std::stringstream paths(config::requireEnv(kKeysVariable));
  for (std::string path; std::getline(paths, path, ',');) {
    if (!path.empty()) c.private_key_paths.push_back(path);
  }
  if (c.private_key_paths.empty()) throw config::ConfigError(std::string(kKeysVariable) + " names no key file");
  c.log_level = config::env("HYDRA_LOG_LEVEL").value_or("information");
  c.log_format = config::jsonLogFormat() ? log::Format::kJson : log::Format::kText;
  if (serving) {
    c.listen = config::parseListen("HYDRA_LISTEN", config::env("HYDRA_LISTEN").value_or("127.0.0.1:8081"));
    c.threads = integerSetting("HYDRA_THREADS", std::max(2u, std::thread::hardware_concurrency()), 1, 256);
    c.db_pool_size = integerSetting("HYDRA_DB_POOL_SIZE", 16, 1, 256);
    c.open_cache_entries = integerSetting("HYDRA_OPEN_CACHE_ENTRIES", 10000, 0, 1000000);
    c.providers_file = config::env("HYDRA_PROVIDERS_FILE");
    c.tls = config::tlsSettings(true);
    c.runtime_trust_domain = runtimeIdentity(c.tls);
    c.plaintext_off_loopback = config::plaintextOffLoopback("HYDRA_LISTEN", c.listen, c.tls.has_value());
    c.max_connections_per_peer = integerSetting("HYDRA_MAX_CONNECTIONS_PER_PEER", 64, 1, 100000);
    c.refresh.skew = std::chrono::seconds(integerSetting("HYDRA_REFRESH_SKEW_SECONDS", 120, 0, 86400));
    c.refresh.ahead = std::chrono::seconds(integerSetting("HYDRA_REFRESH_AHEAD_SECONDS", 900, 0, 86400));
    c.refresh_interval = std::chrono::seconds(integerSetting("HYDRA_REFRESH_INTERVAL_SECONDS", 30, 1, 3600));
    c.journal.dir = config::requireEnv("HYDRA_AUDIT_DIR");
    c.journal.segment_bytes = static_cast<std::uint64_t>(config::parseInteger(
        "HYDRA_AUDIT_SEGMENT_BYTES", config::env("HYDRA_AUDIT_SEGMENT_BYTES").value_or("67108864"), 4096, 1L << 40));
    c.journal.checkpoint_interval =
        std::chrono::seconds(integerSetting("HYDRA_AUDIT_CHECKPOINT_SECONDS", 10, 1, 86400));
    c.journal.retain_segments = static_cast<std::size_t>(integerSetting("HYDRA_AUDIT_RETAIN_SEGMENTS", 0, 0, 1000000));
    c.audit_signing_key_path = config::requireEnv("HYDRA_AUDIT_SIGNING_KEY");
    c.authz_staleness = config::authzStaleness();
    c.trusted_proxies = config::cidrs("HYDRA_TRUSTED_PROXIES");
    c.authz_memory_entries = integerSetting("HYDRA_AUTHZ_MEMORY_ENTRIES", 100000, 0, 10000000);
    c.authz_max_age = std::chrono::seconds(integerSetting("HYDRA_AUTHZ_MAX_AGE_SECONDS", 60, 1, 86400));
    c.metrics_listen = ops::metricsListen();
    c.shutdown_grace = http::shutdownGrace();
    c.refresh.fetch_wait = std::chrono::milliseconds(integerSetting("HYDRA_REFRESH_FETCH_WAIT_MS", 2000, 0, 4000));
    c.proxy = proxyOptions();
  }
  return c;
}

std::vector<Botan::secure_vector<std::uint8_t>> readPrivateKeys(const std::vector<std::string>& paths) {
  std::vector<Botan::secure_vector<std::uint8_t>> keys;
  for (const auto& path : paths) {
    try {
      keys.push_back(crypto::readPrivateKeyPem(path));  // also refuses loose permissions
    } catch (const std::exception& e) {
      throw config::ConfigError(std::string(kKeysVariable) + ": " + e.what());
    }
  }
  return keys;
}

}  // namespace hydra::broker
