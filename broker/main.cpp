// hydracore-broker: the isolated credential endpoint for agent runtimes.
//   hydracore-broker [serve]                                   serve the fetch endpoint (default)
//   hydracore-broker keygen --private-key PATH --public-key PATH [--force]
//   hydracore-broker keygen --audit-key PATH --verifier-key PATH [--force]
//   hydracore-broker rewrap                                    re-encrypt to the current key
//   hydracore-broker providers check FILE                      validate a HYDRA_PROVIDERS_FILE, print the registry
// The audit trail is verified by hydracore-audit (audit/), a binary built apart from this one.
#include <algorithm>
#include <csignal>
#include <iostream>
#include <map>
#include <set>
#include <vector>

#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/OptionSet.h>

#include "broker/audit/journal.hpp"
#include "broker/audit/shipper.hpp"
#include "broker/audit/signing_key.hpp"
#include "broker/authz/change_listener.hpp"
#include "broker/config.hpp"
#include "broker/db/statements.hpp"
#include "broker/keygen.hpp"
#include "broker/metrics.hpp"
#include "broker/openapi.hpp"
#include "broker/oauth/token_client.hpp"
#include "broker/providers/check.hpp"
#include "broker/proxy/service.hpp"
#include "broker/routes.hpp"
#include "broker/services/connect_exchange.hpp"
#include "broker/services/refresh_loop.hpp"
#include "broker/services/rewrap.hpp"
#include "shared/crypto/open.hpp"
#include "shared/crypto/seal.hpp"
#include "shared/db/pool.hpp"
#include "shared/http/auth_throttle.hpp"
#include "shared/log/log.hpp"
#include "shared/ops/non_dumpable.hpp"
#include "shared/ops/operations.hpp"

namespace {

using namespace hydra;
using Poco::Util::Option;
// Each option's values in the order given: a single-valued option takes its last.
struct Options {
  std::map<std::string, std::vector<std::string>> values;

  std::size_t count(const std::string& name) const { return values.count(name); }
  const std::string& at(const std::string& name) const { return values.at(name).back(); }
};

constexpr std::size_t kRefreshPoolSize = 4;
constexpr std::size_t kConnectPoolSize = 1;
constexpr std::size_t kMaxQueuedLookups = 10000;
// Two refresh waits (HYDRA_REFRESH_FETCH_WAIT_MS, at most 4 s each) and the journal.
constexpr auto kProxyAnswerMargin = std::chrono::seconds(10);
// A peer may fail to authenticate HYDRA_AUTH_FAILURE_BURST (30) times in a row, then once a second.
constexpr auto kAuthFailureRefill = std::chrono::seconds(1);

constexpr const char* kEnvironmentHelp =
    "Environment:\n"
    "  HYDRA_DATABASE_URL         PostgreSQL connection (libpq URI), required for serve and rewrap\n"
    "  HYDRA_BROKER_PRIVATE_KEYS  comma-separated PEM private key files, current key first; older keys\n"
    "                             still open what was sealed to them. Files must be mode 0600.\n"
    "  HYDRA_AUDIT_DIR            the audit journal's folder (serve; created 0700; one broker per folder)\n"
    "  HYDRA_AUDIT_SIGNING_KEY    PEM Ed25519 key file signing the journal's checkpoints (mode 0600)\n"
    "  HYDRA_AUDIT_CHECKPOINT_SECONDS  how often a checkpoint is signed while records are added (default 10)\n"
    "  HYDRA_AUDIT_SEGMENT_BYTES  journal segment size before rolling over (default 67108864)\n"
    "  HYDRA_AUDIT_RETAIN_SEGMENTS  keep only this many newest journal segments, removing older ones once\n"
    "                           PostgreSQL holds them (default 0: keep every segment)\n"
    "  HYDRA_AUTHZ_STALENESS_MS   memory is used only while proven current within this (default 200; the\n"
    "                             control plane must use the same value)\n"
    "  HYDRA_AUTHZ_MEMORY_ENTRIES lookups remembered (default 100000; 0: every fetch asks the database)\n"
    "  HYDRA_AUTHZ_MAX_AGE_SECONDS  a remembered lookup is used for at most this long (default 60): the bound\n"
    "                             on changes made without notifications (replication role replica, restores)\n"
    "  HYDRA_LISTEN               address to serve on (default 127.0.0.1:8081)\n"
    "  HYDRA_TRUSTED_PROXIES      comma-separated CIDRs of proxies whose X-Forwarded-For is believed (default none)\n"
    "  HYDRA_THREADS              HTTP threads (default: one per core)\n"
    "  HYDRA_DB_POOL_SIZE         PostgreSQL connections and database workers (default 16)\n"
    "  HYDRA_OPEN_CACHE_ENTRIES   derived-key cache size (default 10000, 0 disables)\n"
    "  HYDRA_PROVIDERS_FILE       JSON file extending the built-in providers (token_url, client_auth,\n"
    "                             client_id, client_secret_file, rotates_refresh_tokens, proxy, capabilities,\n"
    "                             authorization_url, pkce, default_scopes, scope_descriptions);\n"
    "                             see README; `providers check FILE` validates one\n"
    "  HYDRA_REFRESH_SKEW_SECONDS    a fetch refreshes a token expiring within this (default 120)\n"
    "  HYDRA_REFRESH_AHEAD_SECONDS   the background loop refreshes tokens expiring within this (default 900)\n"
    "  HYDRA_REFRESH_INTERVAL_SECONDS  how often the background loop looks (default 30)\n"
    "  HYDRA_LOG_LEVEL            error, warning, information (default), debug\n"
    "  HYDRA_LOG_FORMAT           text (default) or json (one JSON object per line)\n"
    "  HYDRA_METRICS_LISTEN       serve /metrics on this HOST:PORT only, not on the runtime address\n"
    "  HYDRA_SHUTDOWN_GRACE_SECONDS  on SIGTERM, how long answers in flight may take (default 20)\n"
    "  HYDRA_AUTH_FAILURE_BURST   failed authentications one address may make before 429s (default 30)\n"
    "  HYDRA_TLS_CERT_FILE, HYDRA_TLS_KEY_FILE  serve HTTPS (TLS 1.2+) with this PEM chain and key (key: mode 0600)\n"
    "  HYDRA_TLS_CLIENT_CA_FILE   runtimes must also present a client certificate from this CA (no identity)\n"
    "  HYDRA_RUNTIME_CA_FILE      runtime identity: runtimes present a certificate of this CA naming their\n"
    "                             customer and instance (SPIFFE id); exclusive with HYDRA_TLS_CLIENT_CA_FILE\n"
    "  HYDRA_RUNTIME_TRUST_DOMAIN the SPIFFE trust domain of runtime certificates (with HYDRA_RUNTIME_CA_FILE)\n"
    "  HYDRA_PROXY_TIMEOUT_SECONDS  a proxied call, connect to last byte (default 30; over: 504)\n"
    "  HYDRA_PROXY_MAX_REQUEST_BYTES, HYDRA_PROXY_MAX_RESPONSE_BYTES  body limits of proxied calls\n"
    "                             (default 8 MiB: 413; 16 MiB: 502)\n"
    "  HYDRA_PROXY_CA_FILE        PEM CA trusted for providers beside the system's CAs\n"
    "  HYDRA_PROXY_ALLOWED_CIDRS  ranges proxied calls may reach although private or loopback (default none)\n"
    "  HYDRA_PROXY_THREADS        proxied calls waiting on providers at once (default 32)\n"
    "  HYDRA_PROXY_MAX_IN_FLIGHT_PER_GRANT, HYDRA_PROXY_MAX_IN_FLIGHT_PER_CONNECTION  (default 8, 16; over: 429)\n"
    "  HYDRA_PROXY_MAX_RETRY_AFTER_SECONDS  a provider's Retry-After passed on at most this (default 60)\n"
    "  HYDRA_ALLOW_PLAINTEXT      1: serve plain HTTP on an address other than loopback (TLS ends at a proxy)\n"
    "  HYDRA_MAX_CONNECTIONS_PER_PEER  open connections one address may hold (default 64)\n"
    "  HYDRA_REFRESH_FETCH_WAIT_MS  how long a fetch waits for a refresh (default 2000)\n";

// The options each command takes: name -> whether it takes a value.
const std::map<std::string, std::map<std::string, bool>> kCommandOptions = {
    {"serve", {}},
    {"rewrap", {}},
    {"keygen", {{"--private-key", true}, {"--public-key", true}, {"--audit-key", true}, {"--verifier-key", true},
                {"--force", false}}},
    {"providers check", {}},
};
// Commands that take one operand after their options' names, and what it is called.
const std::map<std::string, std::string> kCommandOperand = {{"providers check", "FILE"}};

void printHelp(const std::string& command) {
  Poco::Util::OptionSet options;
  options.addOption(Option("help", "h", "show this help and exit"));
  std::string usage = "[serve | keygen | rewrap | providers check] [--help]";
  std::string header = "The HydraCore Connections broker: runtimes fetch the credentials they were granted. Its "
                       "audit trail is verified with hydracore-audit, a binary of its own.";
  if (command == "keygen") {
    options.addOption(Option("private-key", "", "where to write the decryption private key (mode 0600)").argument("PATH"));
    options.addOption(Option("public-key", "", "where to write its public key").argument("PATH"));
    options.addOption(Option("audit-key", "", "where to write the audit signing key (mode 0600)").argument("PATH"));
    options.addOption(Option("verifier-key", "", "where to write its verifier key").argument("PATH"));
    options.addOption(Option("force", "", "replace existing files"));
    usage = "keygen (--private-key PATH --public-key PATH | --audit-key PATH --verifier-key PATH) [--force]";
    header = "Writes new keys. --private-key/--public-key: an X25519 pair as PEM (PKCS#8 and SubjectPublicKeyInfo, as "
             "openssl does); give the public key to the control plane (HYDRA_BROKER_PUBLIC_KEY). "
             "--audit-key/--verifier-key: an Ed25519 key that signs the audit journal's checkpoints "
             "(HYDRA_AUDIT_SIGNING_KEY) and its C2SP verifier key for security teams. Either pair or both.";
  } else if (command == "rewrap") {
    usage = "rewrap";
    header = "Re-encrypts every stored credential that is not under the current key (the first of "
             "HYDRA_BROKER_PRIVATE_KEYS), in batches, safe while the services run. Exits 1 if some could "
             "not be re-encrypted. After a clean run, older key files can be removed.";
  } else if (command == "providers check") {
    usage = "providers check FILE";
    header = "Validates FILE as serve validates HYDRA_PROVIDERS_FILE (client secret files included, never printed) "
             "and prints every provider, the built-ins merged with FILE: token endpoint, base URL rule, where the "
             "credential goes, headers passed, and each capability's allow and deny rules. Exits 0 when valid, "
             "else 2 with the problem (provider, field, capability, rule).";
  }
  Poco::Util::HelpFormatter help(options);
  help.setCommand("hydracore-broker");
  help.setUsage(usage);
  help.setHeader(header);
  help.setFooter(kEnvironmentHelp);
  help.format(std::cout);
}

int serve() {
  const auto config = broker::Config::fromEnvironment(true);
  log::init(config.log_level, config.log_format);
  const crypto::Opener opener(broker::readPrivateKeys(config.private_key_paths),
                              static_cast<std::size_t>(config.open_cache_entries));
  const crypto::Sealer sealer(opener.currentPublicKey());  // refreshed tokens: under the current key
  broker::oauth::initializeTls();
  const auto providers = broker::providers::ProviderRegistry::load(config.providers_file);
  std::unique_ptr<Botan::Ed25519_PrivateKey> signing_key;
  try {
    signing_key = broker::audit::readSigningKey(config.audit_signing_key_path);
  } catch (const std::exception& e) {
    throw config::ConfigError(std::string("HYDRA_AUDIT_SIGNING_KEY: ") + e.what());
  }

  // A journal write past a file size limit must fail (and answer 503), not kill the broker.
  std::signal(SIGXFSZ, SIG_IGN);
  http::blockTerminationSignals();
  std::unique_ptr<broker::audit::Journal> journal;
  try {
    auto journal_options = config.journal;
    journal_options.on_commit = broker::metrics::journalObserver();
    journal = std::make_unique<broker::audit::Journal>(journal_options, std::move(signing_key));
  } catch (const std::exception& e) {
    throw config::ConfigError(std::string("HYDRA_AUDIT_DIR: ") + e.what());
  }
  broker::audit::Shipper shipper(config.database_url, *journal, config.journal.dir,
                                 broker::metrics::shipRefusedObserver());
  broker::authz::Memory memory(static_cast<std::size_t>(config.authz_memory_entries), config.authz_staleness,
                               config.authz_max_age);
  http::AuthThrottle throttle(config::authFailureBurst(), kAuthFailureRefill);
  const broker::authz::ChangeListener listener(config.database_url, memory, config.authz_staleness,
                                               [&throttle] { throttle.keysChanged(); });

  db::Pool pool(config.database_url, static_cast<std::size_t>(config.db_pool_size), broker::db::prepareStatements);
  // A refresh holds its connection while the provider answers (seconds, when it is slow):
  // refreshes get a pool of their own so they can never starve the fetches' lookups.
  db::Pool refresh_pool(config.database_url, kRefreshPoolSize, broker::db::prepareStatements);
  broker::Refresher refresher(refresh_pool, opener, sealer, providers, *journal, config.refresh);
  broker::WorkQueue workers(static_cast<std::size_t>(config.db_pool_size), kMaxQueuedLookups);
  broker::FetchService fetch(pool, workers, memory, opener, refresher, *journal, throttle);
  std::unique_ptr<broker::proxy::ProxyService> proxy;
  try {
    proxy = std::make_unique<broker::proxy::ProxyService>(fetch, refresher, providers, *journal, config.proxy);
  } catch (const Poco::Exception& e) {
    throw config::ConfigError("HYDRA_PROXY_CA_FILE: cannot be loaded: " + e.displayText());
  }
  const broker::RefreshLoop refresh_loop(refresh_pool, refresher, providers.names(), config.refresh_interval);
  // The connect flow's code exchanges (issue 20) hold a connection while the provider answers,
  // one at a time: a pool of their own, so they never take one from fetches or refreshes.
  db::Pool connect_pool(config.database_url, kConnectPoolSize, broker::db::prepareStatements);
  const broker::ConnectExchange connect_exchange(config.database_url, connect_pool, opener, sealer, providers, *journal);

  http::ServerOptions server_options;
  server_options.listen = config.listen;
  server_options.threads = config.threads;
  // A proxied call's body is the largest a runtime sends (over: 413 before any route).
  server_options.max_body_bytes = config.proxy.max_request_bytes;
  // Pistache times a pending answer with the request-head timer: a proxied call's answer may
  // take the proxy's timeout, plus a refresh wait before it and another before its replay.
  server_options.header_timeout =
      std::max<std::chrono::milliseconds>(server_options.header_timeout, config.proxy.timeout + kProxyAnswerMargin);
  server_options.tls = config.tls;
  server_options.max_connections_per_peer = static_cast<std::size_t>(config.max_connections_per_peer);
  http::Server server(server_options);
  std::optional<broker::identity::RuntimeIdentityPolicy> runtime_identity;
  if (config.runtime_trust_domain) runtime_identity.emplace(*config.runtime_trust_domain);
  broker::addRoutes(server, fetch, *proxy, config.trusted_proxies, runtime_identity);
  ops::exportPoolMetrics(pool, "main");
  ops::exportPoolMetrics(refresh_pool, "refresh");
  ops::exportPoolMetrics(connect_pool, "connect");
  broker::metrics::exportRefreshMetrics(refresher);
  broker::metrics::registerDecisionMetrics();
  auto checks = ops::databaseChecks(config.database_url);
  checks.push_back({"keys", [&opener] { return opener.currentKeyId().empty() ? "no decryption key loaded" : ""; }});
  checks.push_back({"audit_journal", [&journal] {
                      return journal->writable() ? "" : "the last write or sync failed";
                    }});
  ops::addOperationsRoutes(server, {"HydraCore Connections broker", broker::docs::schemas(), std::move(checks),
                                    !config.metrics_listen});
  std::unique_ptr<http::Server> metrics_server;
  if (config.metrics_listen) metrics_server = ops::metricsServer(*config.metrics_listen);
  server.start();
  if (metrics_server) metrics_server->start("HYDRA_METRICS_LISTEN");
  // Before "listening on": whoever waits for that line (an operator's script, the tests) has
  // this one too.
  if (config.plaintext_off_loopback) {
    log::app().warning("serving plain HTTP on " + config.listen.withPort(server.port()) +
                       ", not a loopback address (HYDRA_ALLOW_PLAINTEXT=1): keys and credentials cross the "
                       "network in clear unless TLS ends at a proxy in front");
  }
  log::app().information("broker listening on " + config.listen.withPort(server.port()) +
                         ", current key " + opener.currentKeyId() + ", " +
                         std::to_string(config.private_key_paths.size()) + " key(s), audit journal " +
                         journal->origin());
  if (metrics_server) {
    log::app().information("metrics listening on " + config.metrics_listen->withPort(metrics_server->port()));
  }
  if (runtime_identity) {
    log::app().information("runtime identity on: runtimes must present a certificate of HYDRA_RUNTIME_CA_FILE "
                           "naming their customer and instance (trust domain " + *config.runtime_trust_domain + ")");
  }
  http::waitForTerminationSignal();
  log::app().information("shutting down: not ready, no new connections, answering those in flight");
  server.stop(config.shutdown_grace);
  if (metrics_server) metrics_server->stop(std::chrono::seconds(1));
  // PostgreSQL gets every record and a checkpoint of them all, if it can take them in time.
  journal->checkpointNow();
  shipper.finish(std::chrono::seconds(3));
  log::app().information("stopped");
  return 0;
}

int rewrap() {
  const auto config = broker::Config::fromEnvironment(false);
  const crypto::Opener opener(broker::readPrivateKeys(config.private_key_paths));
  const crypto::Sealer sealer(opener.currentPublicKey());
  const auto counts = broker::rewrap(config.database_url, opener, sealer);
  std::cout << "rewrap: " << counts.rewrapped << " rewrapped to " << opener.currentKeyId() << ", "
            << counts.changed_meanwhile << " changed meanwhile, " << counts.unknown_key << " under an unknown key, "
            << counts.failed_to_open << " failed to open, " << counts.left_over << " still not under the current key\n";
  // The old key may be dropped only when nothing needs it any more.
  return counts.left_over == 0 ? 0 : 1;
}

int usageError(const std::string& message) {
  std::cerr << "hydracore-broker: " << message << " (see --help)\n";
  return 2;
}

int keygen(const Options& options) {
  const bool decryption = options.count("--private-key") + options.count("--public-key") > 0;
  const bool audit = options.count("--audit-key") + options.count("--verifier-key") > 0;
  if ((decryption && (options.count("--private-key") == 0 || options.count("--public-key") == 0)) ||
      (audit && (options.count("--audit-key") == 0 || options.count("--verifier-key") == 0)) || (!decryption && !audit)) {
    std::cerr << "hydracore-broker keygen: --private-key PATH and --public-key PATH, or --audit-key PATH and "
                 "--verifier-key PATH, are required\n";
    return 2;
  }
  const bool force = options.count("--force") != 0;
  if (decryption) {
    broker::keygen(options.at("--private-key"), options.at("--public-key"), force);
    std::cout << "wrote " << options.at("--private-key") << " (mode 0600) and " << options.at("--public-key") << "\n";
  }
  if (audit) {
    broker::keygenAudit(options.at("--audit-key"), options.at("--verifier-key"), force);
    std::cout << "wrote " << options.at("--audit-key") << " (mode 0600) and " << options.at("--verifier-key") << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  ops::makeNonDumpable("hydracore-broker");
  std::string command = "serve";
  int first = 1;
  if (argc > 1 && argv[1][0] != '-') {
    command = argv[1];
    first = 2;
    // `audit verify|proof` were commands of this binary before hydracore-audit.
    if (command == "audit") return usageError("audit verify and audit proof moved to hydracore-audit");
    if (command == "providers" && argc > 2 && argv[2][0] != '-') {
      command += std::string(" ") + argv[2];
      first = 3;
    }
  }
  const auto known = kCommandOptions.find(command);
  if (known == kCommandOptions.end()) return usageError("unknown command '" + command + "'");
  Options options;
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      printHelp(command);
      return 0;
    }
    if (const auto operand = kCommandOperand.find(command);
        operand != kCommandOperand.end() && !arg.empty() && arg[0] != '-' && options.count(operand->second) == 0) {
      options.values[operand->second].push_back(arg);
      continue;
    }
    const auto equals = arg.find('=');
    const auto name = arg.substr(0, equals);
    const auto option = known->second.find(name);
    if (option == known->second.end() || (!option->second && equals != std::string::npos)) {
      return usageError("unknown argument '" + arg + "'");
    }
    if (!option->second) {
      options.values[name].push_back("");
    } else if (equals != std::string::npos) {
      options.values[name].push_back(arg.substr(equals + 1));
    } else if (i + 1 < argc) {
      options.values[name].push_back(argv[++i]);
    } else {
      return usageError(name + " needs a value");
    }
  }
  hydra::log::init("information");
  try {
    if (command == "keygen") return keygen(options);
    if (command == "providers check") {
      if (options.count("FILE") == 0) return usageError("providers check takes FILE, the providers file to check");
      return broker::providers::checkProvidersFile(options.at("FILE"), std::cout);
    }
    return command == "rewrap" ? rewrap() : serve();
  } catch (const hydra::config::ConfigError& e) {
    std::cerr << "hydracore-broker: configuration error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "hydracore-broker: " << command << " failed: " << e.what() << "\n";
    return 1;
  }
}
