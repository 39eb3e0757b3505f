#pragma once
// Reading HYDRA_* settings. Each binary builds its own Config from these once, in main;
// nothing else reads the environment.

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "shared/net/address.hpp"

namespace hydra::config {

/// A missing or invalid setting. what() is one line naming the variable, never its value
/// (values may be secrets).
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::optional<std::string> env(const char* name);
std::string requireEnv(const char* name);

struct ListenAddress {
  std::string host;
  std::uint16_t port = 0;
  /// "127.0.0.1:8081", "[::]:8081" (for log lines).
  std::string withPort(std::uint16_t actual_port) const {
    return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(actual_port);
  }
};

/// "host:port" (IPv4 or a name; port 0..65535, 0 = any free port).
ListenAddress parseListen(const char* name, const std::string& value);

/// A libpq connection string (URI or keywords) from `name`, checked for syntax only: a
/// service starts while PostgreSQL is down and answers 503 until it is back. Adds connect
/// and TCP keepalive timeouts where the string sets none.
std::string databaseUrl(const char* name);

/// How long a broker may serve fetches from memory without proof that it is current, and how
/// long the control plane waits after a change that narrows access before it answers: the two
/// must be the same (HYDRA_AUTHZ_STALENESS_MS, default 200, 10..60000).
constexpr long kDefaultAuthzStalenessMs = 200;
std::chrono::milliseconds authzStaleness();

/// HTTPS for a server: HYDRA_TLS_CERT_FILE (PEM chain) and HYDRA_TLS_KEY_FILE (PEM key,
/// owner-only like every key file), both or neither; HYDRA_TLS_CLIENT_CA_FILE (PEM CA
/// certificates that clients' certificates must chain to) only where `client_certificates`.
struct TlsSettings {
  std::string cert_file, key_file, client_ca_file;
  /// Whether a client without a certificate that verifies against client_ca_file fails the
  /// handshake (HYDRA_TLS_CLIENT_CA_FILE); when not, the certificate is asked for and what was
  /// presented is left to the application (http/client_certificate.hpp: runtime identity).
  bool client_certificate_required = true;
};
std::optional<TlsSettings> tlsSettings(bool client_certificates);

/// Plain HTTP (`tls` false) on `listen` when it is not a loopback address: API keys, proxy
/// keys and credentials would cross a network in clear. Refused (ConfigError naming `name`)
/// unless HYDRA_ALLOW_PLAINTEXT=1 (TLS ends at a proxy in front); returns true when allowed
/// that way, for main to say so in the log.
bool plaintextOffLoopback(const char* name, const ListenAddress& listen, bool tls);

/// A comma-separated list of CIDR blocks (or single addresses); empty when unset.
std::vector<net::Cidr> cidrs(const char* name);

/// HYDRA_AUTH_FAILURE_BURST: failed authentications one peer address may make in a row before
/// it is throttled to one a second (default 30, 1..1000000).
int authFailureBurst();

/// HYDRA_LOG_FORMAT: "text" (default) or "json"; returns whether it is json.
bool jsonLogFormat();

/// A whole number in [min, max].
long parseInteger(const char* name, const std::string& value, long min, long max);

}  // namespace hydra::config
