#include "shared/config/env.hpp"

#include <cstdlib>

#include <libpq-fe.h>
#include <netdb.h>
#include <sys/socket.h>

namespace hydra::config {

std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

std::string requireEnv(const char* name) {
  auto value = env(name);
  if (!value) throw ConfigError(std::string(name) + " is not set");
  return *value;
}

std::string databaseUrl(const char* name) {
  auto url = requireEnv(name);
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (options == nullptr) {
    PQfreemem(error);  // libpq's message may quote the string, password included
    throw ConfigError(std::string(name) + " is not a valid libpq connection string");
  }
  // A database that stops answering (rather than refusing) must not hang requests: bound the
  // connect and let TCP notice a dead peer, unless the operator chose other values.
  const std::pair<const char*, const char*> defaults[] = {
      {"connect_timeout", "5"}, {"keepalives_idle", "30"}, {"keepalives_interval", "10"},
      {"keepalives_count", "3"}, {"tcp_user_timeout", "30000"}};
  const bool uri = url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
  for (const auto& [keyword, value] : defaults) {
    bool set = false;
    for (auto* o = options; o->keyword != nullptr; ++o) set = set || (o->val != nullptr && keyword == std::string(o->keyword));
    if (set) continue;
    if (uri) {
      url += (url.find('?') == std::string::npos ? "?" : "&") + std::string(keyword) + "=" + value;
    } else {
      url += " " + std::string(keyword) + "=" + value;
    }
  }
  PQconninfoFree(options);
  return url;
}

int authFailureBurst() {
  const char* name = "HYDRA_AUTH_FAILURE_BURST";
  return static_cast<int>(parseInteger(name, env(name).value_or("30"), 1, 1000000));
}

bool jsonLogFormat() {
  const auto value = env("HYDRA_LOG_FORMAT").value_or("text");
  if (value != "text" && value != "json") throw ConfigError("HYDRA_LOG_FORMAT must be text or json");
  return value == "json";
}

long parseInteger(const char* name, const std::string& value, long min, long max) {
  std::size_t used = 0;
  long n = 0;
  try {
    n = std::stol(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != value.size() || n < min || n > max) {
    throw ConfigError(std::string(name) + " must be a whole number from " + std::to_string(min) + " to " +
                      std::to_string(max));
  }
  return n;
}

ListenAddress parseListen(const char* name, const std::string& value) {
  const auto colon = value.rfind(':');
  if (colon == std::string::npos || colon == 0) throw ConfigError(std::string(name) + " must be HOST:PORT or [IPv6]:PORT");
  ListenAddress address;
  address.host = value.substr(0, colon);
  // An IPv6 address is written in brackets, as in URLs: [::1]:8081, [::]:8081.
  const bool bracketed = address.host.size() > 2 && address.host.front() == '[' && address.host.back() == ']';
  if (bracketed) address.host = address.host.substr(1, address.host.size() - 2);
  address.port = static_cast<std::uint16_t>(parseInteger(name, value.substr(colon + 1), 0, 65535));
  addrinfo hints{};
  hints.ai_family = bracketed ? AF_INET6 : AF_INET;
  addrinfo* found = nullptr;
  if (getaddrinfo(address.host.c_str(), nullptr, &hints, &found) != 0) {
    throw ConfigError(std::string(name) + ": cannot resolve host '" + address.host + "' to an " +
                      (bracketed ? "IPv6" : "IPv4") + " address");
  }
  freeaddrinfo(found);
  return address;
}

std::chrono::milliseconds authzStaleness() {
  const char* name = "HYDRA_AUTHZ_STALENESS_MS";
  return std::chrono::milliseconds(parseInteger(name, env(name).value_or(std::to_string(kDefaultAuthzStalenessMs)), 10, 60000));
}

std::optional<TlsSettings> tlsSettings(bool client_certificates) {
  const auto cert = env("HYDRA_TLS_CERT_FILE"), key = env("HYDRA_TLS_KEY_FILE");
  const auto client_ca = env("HYDRA_TLS_CLIENT_CA_FILE");
  if (client_ca && !client_certificates) {
    throw ConfigError("HYDRA_TLS_CLIENT_CA_FILE: only the broker asks for client certificates");
  }
  if (!cert && !key) {
    if (client_ca) throw ConfigError("HYDRA_TLS_CLIENT_CA_FILE needs HYDRA_TLS_CERT_FILE and HYDRA_TLS_KEY_FILE");
    return std::nullopt;
  }
  if (!cert || cert->empty()) throw ConfigError("HYDRA_TLS_CERT_FILE must be set with HYDRA_TLS_KEY_FILE");
  if (!key || key->empty()) throw ConfigError("HYDRA_TLS_KEY_FILE must be set with HYDRA_TLS_CERT_FILE");
  return TlsSettings{*cert, *key, client_ca.value_or("")};
}

bool plaintextOffLoopback(const char* name, const ListenAddress& listen, bool tls) {
  const auto allow = env("HYDRA_ALLOW_PLAINTEXT").value_or("0");
  if (allow != "0" && allow != "1") throw ConfigError("HYDRA_ALLOW_PLAINTEXT must be 0 or 1");
  if (tls) return false;
  // Loopback when every address the host stands for is: a name resolving to one loopback and
  // one public address would listen on the public one too.
  addrinfo hints{};
  hints.ai_family = listen.host.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  const auto loopbacks = net::parseCidrList("127.0.0.0/8, ::1/128");
  addrinfo* found = nullptr;
  bool loopback = getaddrinfo(listen.host.c_str(), nullptr, &hints, &found) == 0;
  for (const auto* a = found; loopback && a != nullptr; a = a->ai_next) {
    char text[NI_MAXHOST] = {};
    const bool numeric = getnameinfo(a->ai_addr, a->ai_addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST) == 0;
    const auto address = numeric ? net::parseAddress(text) : std::nullopt;
    loopback = address && net::containsAny(loopbacks, *address);
  }
  if (found != nullptr) freeaddrinfo(found);
  if (loopback) return false;
  if (allow != "1") {
    throw ConfigError(std::string(name) + " is not a loopback address and TLS is off (HYDRA_TLS_CERT_FILE, "
                      "HYDRA_TLS_KEY_FILE): set HYDRA_ALLOW_PLAINTEXT=1 to serve plain HTTP on it anyway");
  }
  return true;
}

std::vector<net::Cidr> cidrs(const char* name) {
  try {
    return net::parseCidrList(env(name).value_or(""));
  } catch (const std::invalid_argument& e) {
    throw ConfigError(std::string(name) + ": " + e.what());
  }
}

}  // namespace hydra::config
