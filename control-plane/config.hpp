#pragma once
// The control plane's settings, read once from HYDRA_* in main.

#include <optional>
#include <string>
#include <vector>

#include "control-plane/webhooks/settings.hpp"
#include "shared/config/env.hpp"
#include "shared/log/log.hpp"

namespace hydra::cp {

struct Config {
  std::string database_url;            // HYDRA_DATABASE_URL (libpq URI or keyword string)
  config::ListenAddress listen;        // HYDRA_LISTEN, default 127.0.0.1:8080
  std::string admin_token;             // HYDRA_ADMIN_TOKEN, at least 16 characters
  std::string broker_public_key_path;  // HYDRA_BROKER_PUBLIC_KEY (PEM SubjectPublicKeyInfo)
  int threads = 4;                     // HYDRA_THREADS
  int db_pool_size = 4;                // HYDRA_DB_POOL_SIZE
  std::string log_level;               // HYDRA_LOG_LEVEL, default information
  log::Format log_format = log::Format::kText;  // HYDRA_LOG_FORMAT: text or json
  std::optional<config::ListenAddress> metrics_listen;  // HYDRA_METRICS_LISTEN
  std::chrono::seconds shutdown_grace{20};       // HYDRA_SHUTDOWN_GRACE_SECONDS
  std::chrono::milliseconds authz_staleness{config::kDefaultAuthzStalenessMs};  // HYDRA_AUTHZ_STALENESS_MS
  std::optional<config::TlsSettings> tls;  // HYDRA_TLS_CERT_FILE, HYDRA_TLS_KEY_FILE
  bool plaintext_off_loopback = false;     // plain HTTP off loopback, HYDRA_ALLOW_PLAINTEXT=1
  int max_connections_per_peer = 64;       // HYDRA_MAX_CONNECTIONS_PER_PEER
  std::vector<net::Cidr> trusted_proxies;  // HYDRA_TRUSTED_PROXIES
  webhooks::Settings webhooks;         // HYDRA_WEBHOOK_*
  int exports_max = 4;                     // HYDRA_EXPORTS_MAX: audit exports streamed at once
  std::chrono::seconds export_stall{60};   // HYDRA_EXPORT_STALL_SECONDS: an export's client reading nothing
  /// HYDRA_PUBLIC_URL: where browsers reach this control plane (scheme, host, optional port and
  /// path prefix; no trailing slash). Empty: the connect flow is off (sessions answer 501).
  std::string public_url;
  std::chrono::seconds connect_session_lifetime{1800};  // HYDRA_CONNECT_SESSION_SECONDS

  /// What `serve` needs. Throws config::ConfigError naming the first bad variable.
  static Config forServe();
};

}  // namespace hydra::cp
