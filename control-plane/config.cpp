#include "control-plane/config.hpp"

#include <unistd.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "control-plane/connect/urls.hpp"
#include "shared/ops/operations.hpp"

namespace hydra::cp {
namespace {

webhooks::Settings webhookSettings() {
  webhooks::Settings w;
  w.workers = static_cast<int>(
      config::parseInteger("HYDRA_WEBHOOK_WORKERS", config::env("HYDRA_WEBHOOK_WORKERS").value_or("4"), 0, 64));
  w.max_per_customer = static_cast<int>(config::parseInteger(
      "HYDRA_WEBHOOK_MAX_PER_CUSTOMER",
      config::env("HYDRA_WEBHOOK_MAX_PER_CUSTOMER").value_or(std::to_string(std::max(1, w.workers / 2))), 1, 64));
  w.resolve_timeout_seconds =
      static_cast<int>(config::parseInteger("HYDRA_WEBHOOK_RESOLVE_TIMEOUT_SECONDS",
                                            config::env("HYDRA_WEBHOOK_RESOLVE_TIMEOUT_SECONDS").value_or("5"), 1, 10));
  w.timeout_seconds = static_cast<int>(config::parseInteger(
      "HYDRA_WEBHOOK_TIMEOUT_SECONDS", config::env("HYDRA_WEBHOOK_TIMEOUT_SECONDS").value_or("15"), 1, 60));
  if (const auto schedule = config::env("HYDRA_WEBHOOK_RETRY_SCHEDULE")) {
    try {
      w.retry_schedule = webhooks::parseRetrySchedule(*schedule);
    } catch (const std::invalid_argument& e) {
      throw config::ConfigError(std::string("HYDRA_WEBHOOK_RETRY_SCHEDULE ") + e.what());
    }
  }
  const auto loopback = config::env("HYDRA_WEBHOOK_ALLOW_LOOPBACK").value_or("0");
  if (loopback != "0" && loopback != "1") throw config::ConfigError("HYDRA_WEBHOOK_ALLOW_LOOPBACK must be 0 or 1");
  w.url_rules.allow_loopback_http = loopback == "1";
  w.url_rules.addresses = net::AddressPolicy(config::cidrs("HYDRA_WEBHOOK_ALLOWED_CIDRS"));
  w.ca_file = config::env("HYDRA_WEBHOOK_CA_FILE").value_or("");
  if (!w.ca_file.empty() && access(w.ca_file.c_str(), R_OK) != 0) {
    throw config::ConfigError("HYDRA_WEBHOOK_CA_FILE: cannot read " + w.ca_file);
  }
  return w;
}

}  // namespace

Config Config::forServe() {
  Config c;
  c.database_url = config::databaseUrl("HYDRA_DATABASE_URL");
  c.listen = config::parseListen("HYDRA_LISTEN", config::env("HYDRA_LISTEN").value_or("127.0.0.1:8080"));
  c.admin_token = config::requireEnv("HYDRA_ADMIN_TOKEN");
  if (c.admin_token.size() < 16) throw config::ConfigError("HYDRA_ADMIN_TOKEN must be at least 16 characters");
  c.broker_public_key_path = config::requireEnv("HYDRA_BROKER_PUBLIC_KEY");
  c.threads = static_cast<int>(config::parseInteger("HYDRA_THREADS", config::env("HYDRA_THREADS").value_or("4"), 1, 64));
  c.db_pool_size = static_cast<int>(config::parseInteger(
      "HYDRA_DB_POOL_SIZE", config::env("HYDRA_DB_POOL_SIZE").value_or(std::to_string(c.threads)), 1, 256));
  c.log_level = config::env("HYDRA_LOG_LEVEL").value_or("information");
  c.log_format = config::jsonLogFormat() ? log::Format::kJson : log::Format::kText;
  c.metrics_listen = ops::metricsListen();
  c.shutdown_grace = http::shutdownGrace();
  c.authz_staleness = config::authzStaleness();
  c.tls = config::tlsSettings(false);
  c.plaintext_off_loopback = config::plaintextOffLoopback("HYDRA_LISTEN", c.listen, c.tls.has_value());
  c.max_connections_per_peer = static_cast<int>(config::parseInteger(
      "HYDRA_MAX_CONNECTIONS_PER_PEER", config::env("HYDRA_MAX_CONNECTIONS_PER_PEER").value_or("64"), 1, 100000));
  c.trusted_proxies = config::cidrs("HYDRA_TRUSTED_PROXIES");
  c.webhooks = webhookSettings();
  c.exports_max = static_cast<int>(
      config::parseInteger("HYDRA_EXPORTS_MAX", config::env("HYDRA_EXPORTS_MAX").value_or("4"), 1, 64));
  c.export_stall = std::chrono::seconds(config::parseInteger(
      "HYDRA_EXPORT_STALL_SECONDS", config::env("HYDRA_EXPORT_STALL_SECONDS").value_or("60"), 1, 3600));
  c.public_url = connect::publicUrl("HYDRA_PUBLIC_URL", config::env("HYDRA_PUBLIC_URL"));
  c.connect_session_lifetime = std::chrono::seconds(config::parseInteger(
      "HYDRA_CONNECT_SESSION_SECONDS", config::env("HYDRA_CONNECT_SESSION_SECONDS").value_or("1800"), 60, 86400));
  return c;
}

}  // namespace hydra::cp
