#pragma once
// The broker's settings, read once from HYDRA_* in main.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <botan/secmem.h>

#include "broker/audit/journal.hpp"
#include "broker/proxy/options.hpp"
#include "broker/services/refresher.hpp"
#include "shared/config/env.hpp"
#include "shared/log/log.hpp"

namespace hydra::broker {

struct Config {
  std::string database_url;                  // HYDRA_DATABASE_URL
  config::ListenAddress listen;              // HYDRA_LISTEN, default 127.0.0.1:8081
  std::vector<std::string> private_key_paths;  // HYDRA_BROKER_PRIVATE_KEYS, current first
  int threads = 2;                           // HYDRA_THREADS (default: one per core)
  int db_pool_size = 16;                     // HYDRA_DB_POOL_SIZE: connections and database workers
  int open_cache_entries = 10000;            // HYDRA_OPEN_CACHE_ENTRIES (0 disables)
  std::optional<std::string> providers_file;  // HYDRA_PROVIDERS_FILE
  RefreshSettings refresh;                    // HYDRA_REFRESH_SKEW_SECONDS, HYDRA_REFRESH_AHEAD_SECONDS,
                                              // HYDRA_REFRESH_FETCH_WAIT_MS, HYDRA_REFRESH_MAX_WAITING_FETCHES
  std::chrono::seconds refresh_interval{30};  // HYDRA_REFRESH_INTERVAL_SECONDS
  std::string log_level;                     // HYDRA_LOG_LEVEL
  log::Format log_format = log::Format::kText;  // HYDRA_LOG_FORMAT
  std::optional<config::ListenAddress> metrics_listen;  // HYDRA_METRICS_LISTEN
  std::chrono::seconds shutdown_grace{20};   // HYDRA_SHUTDOWN_GRACE_SECONDS
  audit::JournalOptions journal;             // HYDRA_AUDIT_DIR, _SEGMENT_BYTES, _CHECKPOINT_SECONDS
  std::string audit_signing_key_path;        // HYDRA_AUDIT_SIGNING_KEY
  std::chrono::milliseconds authz_staleness{config::kDefaultAuthzStalenessMs};  // HYDRA_AUTHZ_STALENESS_MS
  std::vector<net::Cidr> trusted_proxies;   // HYDRA_TRUSTED_PROXIES
  int authz_memory_entries = 100000;         // HYDRA_AUTHZ_MEMORY_ENTRIES (0: every fetch asks the database)
  std::chrono::seconds authz_max_age{60};     // HYDRA_AUTHZ_MAX_AGE_SECONDS
  std::optional<config::TlsSettings> tls;     // HYDRA_TLS_CERT_FILE, _KEY_FILE, _CLIENT_CA_FILE or HYDRA_RUNTIME_CA_FILE
  std::optional<std::string> runtime_trust_domain;  // HYDRA_RUNTIME_TRUST_DOMAIN: runtime identity on
  bool plaintext_off_loopback = false;        // plain HTTP off loopback, HYDRA_ALLOW_PLAINTEXT=1
  int max_connections_per_peer = 64;          // HYDRA_MAX_CONNECTIONS_PER_PEER
  proxy::ProxyOptions proxy;                  // HYDRA_PROXY_*

  /// Throws config::ConfigError naming the first bad variable. `serving`: also the HTTP settings.
  static Config fromEnvironment(bool serving);
};

/// Reads the private key files, current first (see crypto::readPrivateKeyPem for what is
/// refused). Throws config::ConfigError naming HYDRA_BROKER_PRIVATE_KEYS.
std::vector<Botan::secure_vector<std::uint8_t>> readPrivateKeys(const std::vector<std::string>& paths);

}  // namespace hydra::broker
