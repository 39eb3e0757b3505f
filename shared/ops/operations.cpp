#include "shared/ops/operations.hpp"

#include <mutex>

#include "shared/db/migrate.hpp"
#include "shared/docs/routes.hpp"
#include "shared/http/errors.hpp"
#include "shared/http/openapi.hpp"
#include "shared/metrics/metrics.hpp"

namespace hydra::ops {
namespace {

using Request = Pistache::Rest::Request;

http::Reply metricsReply() {
  http::Reply reply{200, metrics::scrape(), {}};
  reply.headers.emplace_back("Content-Type", metrics::kContentType);
  return reply;
}

const http::RouteDoc kMetricsDoc{"Metrics in the Prometheus text format", "operations", "", {}, "",
                                 {{200, "string"}}, metrics::kContentType};

}  // namespace

std::optional<config::ListenAddress> metricsListen() {
  const auto value = config::env("HYDRA_METRICS_LISTEN");
  if (!value) return std::nullopt;
  return config::parseListen("HYDRA_METRICS_LISTEN", *value);
}

void addOperationsRoutes(http::Server& server, OperationsRoutes routes) {
  server.get("/healthz", [](const Request&) { return http::json(200, R"({"status":"ok"})"); },
             {"Liveness: the process answers", "operations", "", {}, "", {{200, "Health"}}});
  auto checks = std::make_shared<std::vector<http::ReadinessCheck>>(std::move(routes.checks));
  server.get("/readyz",
             [&server, checks](const Request&) {
               return http::readinessReply(*checks, [&server] { return server.draining(); });
             },
             {"Readiness: whether this process should get traffic", "operations", "", {}, "",
              {{200, "Readiness"}, {503, "Readiness"}}});
  if (routes.metrics) server.get("/metrics", [](const Request&) { return metricsReply(); }, kMetricsDoc);
  auto document = std::make_shared<std::pair<std::once_flag, std::string>>();
  server.get("/openapi.json",
             [&server, document, title = routes.title, components = routes.components_json](const Request&) {
               std::call_once(document->first, [&] {
                 document->second = http::openApiDocument(title, "1.0.0", server.routes(), components);
               });
               return http::json(200, document->second);
             },
             {"This document", "operations", "", {}, "", {{200, "OpenAPIDocument"}}});
  docs::addDocsRoutes(server, routes.title);
}

std::unique_ptr<http::Server> metricsServer(const config::ListenAddress& address) {
  http::ServerOptions options;
  options.listen = address;
  options.threads = 1;
  options.max_body_bytes = 0;
  auto server = std::make_unique<http::Server>(options);
  server->get("/metrics", [](const Request&) { return metricsReply(); }, kMetricsDoc);
  return server;
}

std::vector<http::ReadinessCheck> databaseChecks(const std::string& database_url) {
  // One connection, made on demand and kept; a lost one is made again at the next check.
  auto pool = std::make_shared<db::Pool>(database_url, 1, [](pqxx::connection&) {});
  auto pending = std::make_shared<std::vector<std::string>>();
  auto state = std::make_shared<std::string>();
  auto mutex = std::make_shared<std::mutex>();
  // Both checks read one round trip: the database check makes it, the schema check reads it.
  http::ReadinessCheck database{"database", [pool, pending, state, mutex] {
                                  std::lock_guard<std::mutex> lock(*mutex);
                                  try {
                                    *pending = pool->run([](pqxx::connection& c) { return db::pendingMigrations(c); });
                                    *state = "";
                                  } catch (const http::ApiError&) {
                                    *state = "unreachable";
                                  } catch (const std::exception&) {
                                    *state = "cannot read schema_migrations";
                                  }
                                  return *state;
                                }};
  http::ReadinessCheck schema{"schema", [pending, state, mutex]() -> std::string {
                                std::lock_guard<std::mutex> lock(*mutex);
                                if (!state->empty()) return "unknown (database " + *state + ")";
                                if (pending->empty()) return "";
                                std::string names;
                                for (const auto& name : *pending) names += (names.empty() ? "" : ", ") + name;
                                return "migrations not applied: " + names;
                              }};
  return {database, schema};
}

void exportPoolMetrics(const db::Pool& pool, const std::string& name) {
  auto& connections = prometheus::BuildGauge()
                          .Name("db_pool_connections")
                          .Help("PostgreSQL connections of a pool: its size, those open, those leased (in use)")
                          .Register(metrics::registry());
  auto& waiting = prometheus::BuildGauge()
                      .Name("db_pool_waiting")
                      .Help("Requests waiting for a connection of the pool")
                      .Register(metrics::registry());
  auto& size = connections.Add({{"pool", name}, {"state", "size"}});
  auto& open = connections.Add({{"pool", name}, {"state", "open"}});
  auto& in_use = connections.Add({{"pool", name}, {"state", "in_use"}});
  auto& queued = waiting.Add({{"pool", name}});
  metrics::onScrape([&pool, &size, &open, &in_use, &queued] {
    const auto stats = pool.stats();
    size.Set(static_cast<double>(stats.size));
    open.Set(static_cast<double>(stats.open));
    in_use.Set(static_cast<double>(stats.in_use));
    queued.Set(static_cast<double>(stats.waiting));
  });
}

}  // namespace hydra::ops
