#include "shared/http/tls.hpp"

#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cstdlib>
#include <memory>
#include <mutex>
#include <stdexcept>

#include <openssl/bio.h>
#include <openssl/conf.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "shared/crypto/secret_file.hpp"

namespace hydra::http {
namespace {

// TLS 1.2 suites: forward secrecy (ECDHE) and AEAD only; TLS 1.3's suites are all of that kind.
constexpr const char* kOpenSslConfig =
    "hydra_tls_conf = hydra_tls_init\n"
    "[hydra_tls_init]\n"
    "ssl_conf = hydra_tls_ssl\n"
    "[hydra_tls_ssl]\n"
    "system_default = hydra_tls_defaults\n"
    "[hydra_tls_defaults]\n"
    "MinProtocol = TLSv1.2\n"
    "CipherString = ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL:@SECLEVEL=2\n"
    "Options = ServerPreference,NoRenegotiation\n";

std::string openSslError() {
  const auto code = ERR_get_error();
  if (code == 0) return "unknown OpenSSL error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  ERR_clear_error();
  return text;
}

}  // namespace

void restrictTlsProtocols() {
  static std::once_flag once;
  std::call_once(once, [] {
    OPENSSL_init_ssl(0, nullptr);
    SSL_add_ssl_module();  // the "ssl_conf" module, which holds system_default
    std::unique_ptr<CONF, decltype(&NCONF_free)> conf(NCONF_new(nullptr), &NCONF_free);
    std::unique_ptr<BIO, decltype(&BIO_free)> text(BIO_new_mem_buf(kOpenSslConfig, -1), &BIO_free);
    long line = 0;
    if (!conf || !text || NCONF_load_bio(conf.get(), text.get(), &line) <= 0 ||
        CONF_modules_load(conf.get(), "hydra_tls_conf", 0) <= 0) {
      throw std::runtime_error("cannot apply the TLS protocol settings: " + openSslError());
    }
  });
}

void checkTlsKeyFile(const std::string& path) { crypto::readOwnerOnlyFile(path, "TLS key file"); }

void boundTlsHandshakes(std::uint16_t port, int timeout_seconds) {
  // Pistache keeps its listening descriptor to itself: find it by what it is.
  struct DirCloser {
    void operator()(DIR* dir) const { closedir(dir); }
  };
  std::unique_ptr<DIR, DirCloser> fds(opendir("/proc/self/fd"));
  if (!fds) throw std::runtime_error("cannot list /proc/self/fd");
  int listening = -1;
  while (const auto* entry = readdir(fds.get())) {
    char* end = nullptr;
    const long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == dirfd(fds.get())) continue;
    int accepting = 0;
    socklen_t size = sizeof accepting;
    if (getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_ACCEPTCONN, &accepting, &size) != 0 || !accepting) continue;
    sockaddr_in address{};
    socklen_t address_size = sizeof address;
    if (getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&address), &address_size) != 0 ||
        address.sin_family != AF_INET || ntohs(address.sin_port) != port) {
      continue;
    }
    listening = static_cast<int>(fd);
    break;
  }
  if (listening < 0) throw std::runtime_error("cannot find the listening socket of port " + std::to_string(port));
  const timeval timeout{timeout_seconds, 0};
  if (setsockopt(listening, IPPROTO_TCP, TCP_DEFER_ACCEPT, &timeout_seconds, sizeof timeout_seconds) != 0 ||
      setsockopt(listening, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) != 0 ||
      setsockopt(listening, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout) != 0) {
    throw std::runtime_error("cannot set handshake timeouts on the listening socket");
  }
}

}  // namespace hydra::http
