#pragma once
// What both binaries serve for operators, beside their API: GET /healthz (liveness: the
// process answers), GET /readyz (readiness: http/readiness.hpp), GET /metrics (Prometheus
// text format, unless HYDRA_METRICS_LISTEN moves it to a listener of its own) and
// GET /openapi.json (the document of exactly the routes served, built from the route table),
// and over it GET /docs (Swagger UI) and GET /redoc (shared/docs).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "shared/config/env.hpp"
#include "shared/db/pool.hpp"
#include "shared/http/readiness.hpp"
#include "shared/http/server.hpp"

namespace hydra::ops {

/// HYDRA_METRICS_LISTEN: HOST:PORT of a listener serving only /metrics; unset: /metrics is
/// served with the API.
std::optional<config::ListenAddress> metricsListen();

struct OperationsRoutes {
  std::string title;            // the OpenAPI document's title
  std::string components_json;  // the binary's schemas (openapi.hpp)
  std::vector<http::ReadinessCheck> checks;
  bool metrics = true;          // serve /metrics here
};

/// Adds the operations routes to `server`. Call after every other route: /openapi.json
/// documents server.routes() as they are when it is first asked for.
void addOperationsRoutes(http::Server& server, OperationsRoutes routes);

/// A server on `address` serving only GET /metrics (and its own 404s), unauthenticated: put
/// it on an address only the metrics collector reaches.
std::unique_ptr<http::Server> metricsServer(const config::ListenAddress& address);

/// "database" (PostgreSQL answers) and "schema" (every migration compiled into this binary is
/// applied), checked on a connection of their own, so a busy service pool cannot make a
/// healthy process look unready.
std::vector<http::ReadinessCheck> databaseChecks(const std::string& database_url);

/// db_pool_connections{pool,state="in_use"|"open"|"size"} and db_pool_waiting{pool}, read at
/// each scrape. `pool` must outlive the process's metrics (main's lifetime).
void exportPoolMetrics(const db::Pool& pool, const std::string& name);

}  // namespace hydra::ops
