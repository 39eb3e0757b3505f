#include "control-plane/config.hpp"

#include <libpq-fe.h>

namespace hydra::cp {

std::string databaseUrlFromEnvironment() {
  auto url = config::requireEnv("HYDRA_DATABASE_URL");
  // Only the syntax is checked here: the service starts while PostgreSQL is down and
  // answers 503 until it is back.
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (options == nullptr) {
    PQfreemem(error);
    throw config::ConfigError("HYDRA_DATABASE_URL is not a valid libpq connection string");
  }
  PQconninfoFree(options);
  return url;
}

Config Config::forServe() {
  Config c;
  c.database_url = databaseUrlFromEnvironment();
  c.listen = config::parseListen("HYDRA_LISTEN", config::env("HYDRA_LISTEN").value_or("127.0.0.1:8080"));
  c.admin_token = config::requireEnv("HYDRA_ADMIN_TOKEN");
  if (c.admin_token.size() < 16) throw config::ConfigError("HYDRA_ADMIN_TOKEN must be at least 16 characters");
  c.broker_public_key_path = config::requireEnv("HYDRA_BROKER_PUBLIC_KEY");
  c.threads = static_cast<int>(config::parseInteger("HYDRA_THREADS", config::env("HYDRA_THREADS").value_or("4"), 1, 64));
  c.db_pool_size = static_cast<int>(config::parseInteger(
      "HYDRA_DB_POOL_SIZE", config::env("HYDRA_DB_POOL_SIZE").value_or(std::to_string(c.threads)), 1, 256));
  c.log_level = config::env("HYDRA_LOG_LEVEL").value_or("information");
  return c;
}

}  // namespace hydra::cp
