#include "control-plane/config.hpp"

#include "shared/ops/operations.hpp"

namespace hydra::cp {

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
  c.max_connections_per_peer = static_cast<int>(config::parseInteger(
      "HYDRA_MAX_CONNECTIONS_PER_PEER", config::env("HYDRA_MAX_CONNECTIONS_PER_PEER").value_or("64"), 1, 100000));
  return c;
}

}  // namespace hydra::cp
