// hydracore-broker: the isolated credential endpoint for agent runtimes.
//   hydracore-broker [serve]                                   serve the fetch endpoint (default)
//   hydracore-broker keygen --private-key PATH --public-key PATH [--force]
//   hydracore-broker rewrap                                    re-encrypt to the current key
#include <iostream>
#include <map>

#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/OptionSet.h>

#include "broker/config.hpp"
#include "broker/db/statements.hpp"
#include "broker/keygen.hpp"
#include "broker/routes.hpp"
#include "broker/oauth/token_client.hpp"
#include "broker/services/refresh_loop.hpp"
#include "broker/services/rewrap.hpp"
#include "shared/crypto/open.hpp"
#include "shared/crypto/seal.hpp"
#include "shared/db/pool.hpp"
#include "shared/log/log.hpp"

namespace {

using namespace hydra;
using Poco::Util::Option;

constexpr std::size_t kRefreshPoolSize = 4;

constexpr const char* kEnvironmentHelp =
    "Environment:\n"
    "  HYDRA_DATABASE_URL         PostgreSQL connection (libpq URI), required for serve and rewrap\n"
    "  HYDRA_BROKER_PRIVATE_KEYS  comma-separated PEM private key files, current key first; older keys\n"
    "                             still open what was sealed to them. Files must be mode 0600.\n"
    "  HYDRA_LISTEN               address to serve on (default 127.0.0.1:8081)\n"
    "  HYDRA_THREADS              HTTP threads (default 16); HYDRA_DB_POOL_SIZE (default HYDRA_THREADS)\n"
    "  HYDRA_OPEN_CACHE_ENTRIES   derived-key cache size (default 10000, 0 disables)\n"
    "  HYDRA_PROVIDERS_FILE       JSON file extending the built-in OAuth providers (token_url, client_auth,\n"
    "                             client_id, client_secret_file, rotates_refresh_tokens); see README\n"
    "  HYDRA_REFRESH_SKEW_SECONDS    a fetch refreshes a token expiring within this (default 120)\n"
    "  HYDRA_REFRESH_AHEAD_SECONDS   the background loop refreshes tokens expiring within this (default 900)\n"
    "  HYDRA_REFRESH_INTERVAL_SECONDS  how often the background loop looks (default 30)\n"
    "  HYDRA_LOG_LEVEL            error, warning, information (default), debug\n"
    "  HYDRA_TLS_CERT_FILE, HYDRA_TLS_KEY_FILE  serve HTTPS (TLS 1.2+) with this PEM chain and key (key: mode 0600)\n"
    "  HYDRA_TLS_CLIENT_CA_FILE   runtimes must also present a client certificate from this CA\n"
    "  HYDRA_MAX_CONNECTIONS_PER_PEER  open connections one address may hold (default 64)\n"
    "  HYDRA_REFRESH_FETCH_WAIT_MS  how long a fetch waits for a refresh (default 2000)\n"
    "  HYDRA_REFRESH_MAX_WAITING_FETCHES  fetches waiting on refreshes at once (default HYDRA_THREADS / 4)\n";

void printHelp(const std::string& command) {
  Poco::Util::OptionSet options;
  options.addOption(Option("help", "h", "show this help and exit"));
  std::string usage = "[serve | keygen | rewrap] [--help]";
  std::string header = "The HydraCore Connections broker: runtimes fetch the credentials they were granted.";
  if (command == "keygen") {
    options.addOption(Option("private-key", "", "where to write the private key (mode 0600)").argument("PATH"));
    options.addOption(Option("public-key", "", "where to write the public key").argument("PATH"));
    options.addOption(Option("force", "", "replace existing files"));
    usage = "keygen --private-key PATH --public-key PATH [--force]";
    header = "Writes a new X25519 key pair as PEM (PKCS#8 and SubjectPublicKeyInfo, as openssl does). "
             "Give the public key to the control plane (HYDRA_BROKER_PUBLIC_KEY).";
  } else if (command == "rewrap") {
    usage = "rewrap";
    header = "Re-encrypts every stored credential that is not under the current key (the first of "
             "HYDRA_BROKER_PRIVATE_KEYS), in batches, safe while the services run. Exits 1 if some could "
             "not be re-encrypted. After a clean run, older key files can be removed.";
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
  log::init(config.log_level);
  const crypto::Opener opener(broker::readPrivateKeys(config.private_key_paths),
                              static_cast<std::size_t>(config.open_cache_entries));

  const crypto::Sealer sealer(opener.currentPublicKey());  // refreshed tokens: under the current key
  broker::oauth::initializeTls();
  const auto providers = broker::oauth::ProviderRegistry::load(config.providers_file);

  db::Pool pool(config.database_url, static_cast<std::size_t>(config.db_pool_size), broker::db::prepareStatements);
  http::blockTerminationSignals();
  broker::AuditTrail audit(config.database_url);
  // A refresh holds its connection while the provider answers (seconds, when it is slow):
  // refreshes get a pool of their own so they can never starve the fetches' lookups.
  db::Pool refresh_pool(config.database_url, kRefreshPoolSize, broker::db::prepareStatements);
  broker::Refresher refresher(refresh_pool, opener, sealer, providers, audit, config.refresh);
  broker::FetchService fetch(pool, opener, audit, refresher);
  const broker::RefreshLoop refresh_loop(refresh_pool, refresher, providers.names(), config.refresh_interval);

  // A fetch request has no body: Pistache buffers the headers and little more.
  http::ServerOptions server_options;
  server_options.listen = config.listen;
  server_options.threads = config.threads;
  server_options.max_body_bytes = 4096;  // over: 413 (a body under it reaches the route: 404, 405)
  server_options.max_request_bytes = http::ServerOptions::kHeaderAllowance;
  server_options.tls = config.tls;
  server_options.max_connections_per_peer = static_cast<std::size_t>(config.max_connections_per_peer);
  http::Server server(server_options);
  broker::addRoutes(server, fetch);
  server.start();
  log::app().information("broker listening on " + config.listen.host + ":" + std::to_string(server.port()) +
                         ", current key " + opener.currentKeyId() + ", " +
                         std::to_string(config.private_key_paths.size()) + " key(s)");
  http::waitForTerminationSignal();
  log::app().information("shutting down");
  server.stop();
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

int keygen(const std::map<std::string, std::string>& options) {
  const auto private_key = options.find("--private-key");
  const auto public_key = options.find("--public-key");
  if (private_key == options.end() || public_key == options.end()) {
    std::cerr << "hydracore-broker keygen: --private-key PATH and --public-key PATH are required\n";
    return 2;
  }
  broker::keygen(private_key->second, public_key->second, options.count("--force") != 0);
  std::cout << "wrote " << private_key->second << " (mode 0600) and " << public_key->second << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string command = "serve";
  std::map<std::string, std::string> options;
  int first = 1;
  if (argc > 1 && argv[1][0] != '-') {
    command = argv[1];
    first = 2;
  }
  if (command != "serve" && command != "keygen" && command != "rewrap") {
    std::cerr << "hydracore-broker: unknown command '" << command << "' (see --help)\n";
    return 2;
  }
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    const auto equals = arg.find('=');
    if (arg == "--help" || arg == "-h") {
      options["--help"] = "";
    } else if (arg == "--force") {
      options[arg] = "";
    } else if (command == "keygen" && (arg.rfind("--private-key", 0) == 0 || arg.rfind("--public-key", 0) == 0)) {
      if (equals != std::string::npos) {
        options[arg.substr(0, equals)] = arg.substr(equals + 1);
      } else if (i + 1 < argc) {
        options[arg] = argv[++i];
      } else {
        std::cerr << "hydracore-broker: " << arg << " needs a PATH\n";
        return 2;
      }
    } else {
      std::cerr << "hydracore-broker: unknown argument '" << arg << "' (see --help)\n";
      return 2;
    }
  }
  if (options.count("--help") != 0) {
    printHelp(command);
    return 0;
  }
  hydra::log::init("information");
  try {
    if (command == "keygen") return keygen(options);
    return command == "rewrap" ? rewrap() : serve();
  } catch (const hydra::config::ConfigError& e) {
    std::cerr << "hydracore-broker: configuration error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "hydracore-broker: " << command << " failed: " << e.what() << "\n";
    return 1;
  }
}
