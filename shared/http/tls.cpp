#include "shared/http/tls.hpp"

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

}  // namespace hydra::http
