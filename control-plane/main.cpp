// hydracore-control-plane: the public Connections API.
//   hydracore-control-plane [serve]   serve the API (default)
//   hydracore-control-plane migrate   apply schema migrations and exit
//   hydracore-control-plane audit-retention --older-than DAYS [--dry-run]
//                                     drop the audit trail's weeks that ended DAYS ago
//   hydracore-control-plane audit-index
//                                     index the audit trail's weeks that have ended
#include <iostream>
#include <optional>
#include <string>

#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/OptionException.h>
#include <Poco/Util/OptionProcessor.h>
#include <Poco/Util/OptionSet.h>

#include "control-plane/config.hpp"
#include "control-plane/db/statements.hpp"
#include "control-plane/openapi.hpp"
#include "control-plane/retention/audit_retention.hpp"
#include "control-plane/retention/audit_week_indexes.hpp"
#include "control-plane/routes.hpp"
#include "control-plane/webhooks/dispatcher.hpp"
#include "shared/crypto/public_key_file.hpp"
#include "shared/db/migrate.hpp"
#include "shared/db/pool.hpp"
#include "shared/http/auth_throttle.hpp"
#include "shared/log/log.hpp"
#include "shared/ops/non_dumpable.hpp"
#include "shared/ops/operations.hpp"

namespace {

using namespace hydra;

// A peer may fail to authenticate (API key or admin token) HYDRA_AUTH_FAILURE_BURST times in a
// row, then once a second; past that it gets 429 before anything is looked up (as on the broker).
constexpr auto kAuthFailureRefill = std::chrono::seconds(1);

constexpr const char* kEnvironmentHelp =
    "Environment:\n"
    "  HYDRA_DATABASE_URL       PostgreSQL connection (libpq URI), required\n"
    "  HYDRA_LISTEN             address to serve on (default 127.0.0.1:8080)\n"
    "  HYDRA_ADMIN_TOKEN        operator token for bootstrap endpoints (>= 16 characters), serve only\n"
    "  HYDRA_BROKER_PUBLIC_KEY  broker's X25519 public key, PEM file, serve only\n"
    "  HYDRA_THREADS            HTTP threads (default 4)\n"
    "  HYDRA_DB_POOL_SIZE       PostgreSQL connections (default HYDRA_THREADS)\n"
    "  HYDRA_LOG_LEVEL          error, warning, information (default), debug\n"
    "  HYDRA_LOG_FORMAT         text (default) or json (one JSON object per line)\n"
    "  HYDRA_METRICS_LISTEN     serve /metrics on this HOST:PORT only, not with the API\n"
    "  HYDRA_SHUTDOWN_GRACE_SECONDS  on SIGTERM, how long answers in flight may take (default 20)\n"
    "  HYDRA_AUTH_FAILURE_BURST failed authentications one address may make before 429s (default 30)\n"
    "  HYDRA_AUTHZ_STALENESS_MS after a change that narrows access, wait this long before answering, so\n"
    "                           no broker serves the old access from memory (default 200; same as the brokers)\n"

    "  HYDRA_TLS_CERT_FILE, HYDRA_TLS_KEY_FILE  serve HTTPS (TLS 1.2+) with this PEM chain and key (key: mode 0600)\n"
    "  HYDRA_ALLOW_PLAINTEXT    1: serve plain HTTP on an address other than loopback (TLS ends at a proxy)\n"
    "  HYDRA_MAX_CONNECTIONS_PER_PEER  open connections one address may hold (default 64)\n"
    "  HYDRA_TRUSTED_PROXIES    comma-separated CIDRs of proxies whose X-Forwarded-For is believed by the\n"
    "                           authentication throttle (default none)\n"
    "  HYDRA_EXPORTS_MAX        audit exports streamed at once, each on a thread of its own (default 4; more: 503)\n"
    "  HYDRA_EXPORT_STALL_SECONDS  an audit export whose client takes in nothing this long is cut off (default 60)\n"
    "  HYDRA_PUBLIC_URL         where browsers reach this service (https; http only to loopback), for the\n"
    "                           connect flow's links and its redirect URI <url>/connect/callback (default: off)\n"
    "  HYDRA_CONNECT_SESSION_SECONDS  how long a connect link lives (default 1800, 60..86400)\n"
    "  HYDRA_WEBHOOK_WORKERS    webhook deliveries in flight at once (default 4; 0: this process does not deliver)\n"
    "  HYDRA_WEBHOOK_RETRY_SCHEDULE   seconds before each attempt, comma-separated, the first 0\n"
    "                           (default 0,5,300,1800,7200,18000,36000,50400,72000,86400)\n"
    "  HYDRA_WEBHOOK_TIMEOUT_SECONDS  one delivery attempt, connect to last byte (default 15)\n"
    "  HYDRA_WEBHOOK_ALLOW_LOOPBACK   1: plain http webhook URLs to loopback hosts (development, tests)\n"
    "  HYDRA_WEBHOOK_ALLOWED_CIDRS    comma-separated ranges webhooks may reach although refused by default\n"
    "                           (private, loopback, ...), e.g. 10.20.0.0/16\n"
    "  HYDRA_WEBHOOK_CA_FILE    PEM bundle trusted for webhook receivers instead of the system CAs\n";

void printHelp(const std::string& command) {
  Poco::Util::OptionSet options;
  options.addOption(Poco::Util::Option("help", "h", "show this help and exit"));
  Poco::Util::HelpFormatter help(options);
  help.setCommand("hydracore-control-plane");
  if (command == "migrate") {
    help.setUsage("migrate [--help]");
    help.setHeader("Applies the schema migrations that are not applied yet, then exits. Safe to run twice, and "
                   "from several processes at once. Needs only HYDRA_DATABASE_URL.");
  } else if (command == "audit-retention") {
    help.setUsage("audit-retention --older-than DAYS [--dry-run] [--help]");
    help.setHeader(
        "Drops the weeks of the audit trail (audit_events partitions) that ended more than DAYS days ago, "
        "as the schema owner (HYDRA_DATABASE_URL must log in as the role that ran migrate). For each "
        "broker journal with records in them, a signed checkpoint must cover those records and match "
        "them; a retention record then says where `hydracore-audit verify --database` starts. Exits 1, "
        "dropping nothing, if a check fails; --dry-run says what would be dropped.");
  } else if (command == "audit-index") {
    help.setUsage("audit-index [--help]");
    help.setHeader(
        "Builds the connection and instance indexes of each week of the audit trail (audit_events partition) "
        "that has ended and lacks them, CONCURRENTLY, as the schema owner (HYDRA_DATABASE_URL must log in as "
        "the role that ran migrate). The week being written has none, so that shipping pays nothing for them; "
        "run daily, with audit-retention. Safe to run again after a failure.");
  } else {
    help.setUsage("[serve | migrate | audit-retention | audit-index] [--help]");
    help.setHeader("The HydraCore Connections control plane: the customer-facing API. 'serve' (the default) "
                   "serves it; 'migrate' applies schema migrations; 'audit-retention' drops old audit weeks; "
                   "'audit-index' indexes the audit weeks that have ended.");
  }
  help.setFooter(kEnvironmentHelp);
  help.format(std::cout);
}

int migrate() {
  const auto url = config::databaseUrl("HYDRA_DATABASE_URL");
  const int applied = db::migrate(url);
  log::app().information("migrations applied: " + std::to_string(applied));
  return 0;
}

int auditRetention(const cp::retention::RetentionOptions& options) {
  const auto url = config::databaseUrl("HYDRA_DATABASE_URL");
  return cp::retention::dropOldAuditWeeks(url, options, std::cout);
}

int auditIndex() {
  const auto url = config::databaseUrl("HYDRA_DATABASE_URL");
  return cp::retention::indexEndedAuditWeeks(url, std::cout);
}

int serve() {
  const auto config = cp::Config::forServe();
  log::init(config.log_level, config.log_format);
  crypto::Sealer sealer([&] {
    try {
      return crypto::readPublicKeyPem(config.broker_public_key_path);
    } catch (const std::exception& e) {
      throw config::ConfigError(std::string("HYDRA_BROKER_PUBLIC_KEY: ") + e.what());
    }
  }());

  db::Pool pool(config.database_url, static_cast<std::size_t>(config.db_pool_size), cp::db::prepareStatements);
  http::AuthThrottle throttle(config::authFailureBurst(), kAuthFailureRefill);
  cp::Authenticator auth(pool, config.admin_token, throttle, config.trusted_proxies);
  // Declared before the server: it outlives server.stop(), so answers still waiting are sent
  // while the shutdown grace lasts (one held past it is dropped with its connection: never early).
  cp::RevocationDelay revocation(config.authz_staleness);
  cp::IdentityService identity(pool);
  cp::ConnectionService connections(pool, sealer);
  cp::WebhookEndpointService webhook_endpoints(pool, config.webhooks.url_rules);
  cp::AuditEventService audit(pool);
  cp::OAuthClientService oauth_clients(pool, sealer);
  cp::ConnectSessionService connect_sessions(pool, {config.public_url, config.connect_session_lifetime});
  cp::ConnectFlow connect_flow(pool, sealer, config.public_url);
  cp::Services services{auth,  identity,      connections,      webhook_endpoints,
                        revocation, audit, oauth_clients, connect_sessions, connect_flow};

  http::blockTerminationSignals();
  // Delivery has a database pool of its own, so a slow receiver never holds the API's.
  cp::webhooks::Dispatcher webhook_delivery(config.database_url, config.webhooks);
  http::ServerOptions server_options;
  server_options.listen = config.listen;
  server_options.threads = config.threads;
  server_options.tls = config.tls;
  server_options.max_connections_per_peer = static_cast<std::size_t>(config.max_connections_per_peer);
  server_options.max_streams = static_cast<std::size_t>(config.exports_max);
  server_options.stream_stall_timeout = config.export_stall;
  // Pistache's header timeout also runs while an answer waits out B (it would send a 408
  // instead): the request's own time plus B.
  server_options.header_timeout += config.authz_staleness;
  http::Server server(server_options);
  cp::addRoutes(server, services);
  ops::exportPoolMetrics(pool, "main");
  ops::addOperationsRoutes(server, {"HydraCore Connections control plane", cp::docs::schemas(),
                                    ops::databaseChecks(config.database_url), !config.metrics_listen});
  std::unique_ptr<http::Server> metrics_server;
  if (config.metrics_listen) metrics_server = ops::metricsServer(*config.metrics_listen);
  server.start();
  if (metrics_server) metrics_server->start("HYDRA_METRICS_LISTEN");
  webhook_delivery.start();
  // Before "listening on": whoever waits for that line (an operator's script, the tests) has
  // this one too.
  if (config.plaintext_off_loopback) {
    log::app().warning("serving plain HTTP on " + config.listen.withPort(server.port()) +
                       ", not a loopback address (HYDRA_ALLOW_PLAINTEXT=1): keys and credentials cross the "
                       "network in clear unless TLS ends at a proxy in front");
  }
  log::app().information("control plane listening on " + config.listen.withPort(server.port()) +
                         ", sealing to broker key " + sealer.keyId());
  if (metrics_server) {
    log::app().information("metrics listening on " + config.metrics_listen->withPort(metrics_server->port()));
  }
  http::waitForTerminationSignal();
  log::app().information("shutting down: not ready, no new connections, answering those in flight");
  server.stop(config.shutdown_grace);
  webhook_delivery.stop();
  if (metrics_server) metrics_server->stop(std::chrono::seconds(1));
  log::app().information("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  ops::makeNonDumpable("hydracore-control-plane");
  std::string command = "serve";
  bool help = false;
  std::optional<int> older_than_days;
  hydra::cp::retention::RetentionOptions retention;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      help = true;
    } else if ((arg == "serve" || arg == "migrate" || arg == "audit-retention" || arg == "audit-index") && i == 1) {
      command = arg;
    } else if (command == "audit-retention" && arg == "--older-than" && i + 1 < argc) {
      try {
        older_than_days = static_cast<int>(hydra::config::parseInteger("--older-than", argv[++i], 0, 36500));
      } catch (const hydra::config::ConfigError& e) {
        std::cerr << "hydracore-control-plane: " << e.what() << "\n";
        return 2;
      }
    } else if (command == "audit-retention" && arg == "--dry-run") {
      retention.dry_run = true;
    } else {
      std::cerr << "hydracore-control-plane: unknown argument '" << arg << "' (see --help)\n";
      return 2;
    }
  }
  if (help) {
    printHelp(command);
    return 0;
  }
  if (command == "audit-retention" && !older_than_days) {
    std::cerr << "hydracore-control-plane: audit-retention needs --older-than DAYS (see --help)\n";
    return 2;
  }
  hydra::log::init("information");
  try {
    if (command == "audit-retention") {
      retention.older_than_days = *older_than_days;
      return auditRetention(retention);
    }
    if (command == "audit-index") return auditIndex();
    return command == "migrate" ? migrate() : serve();
  } catch (const hydra::config::ConfigError& e) {
    std::cerr << "hydracore-control-plane: configuration error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "hydracore-control-plane: " << command << " failed: " << e.what() << "\n";
    return 1;
  }
}
