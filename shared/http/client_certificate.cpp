#include "shared/http/client_certificate.hpp"

#include <ctime>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pistache/peer.h>

#include "shared/crypto/random.hpp"

namespace hydra::http {
namespace {

using Kept = std::shared_ptr<const ClientCertificate>;

void freeKept(void*, void* kept, CRYPTO_EX_DATA*, int, long, void*) { delete static_cast<Kept*>(kept); }

// The slot of the SSL object that holds a connection's certificate, created once.
int slot() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, freeKept);
  return index;
}

std::int64_t unixSeconds(const ASN1_TIME* time) {
  std::tm parts{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &parts) != 1) return 0;
  return static_cast<std::int64_t>(timegm(&parts));
}

ClientCertificate::Chain chainOf(long verify_result) {
  switch (verify_result) {
    case X509_V_OK:
      return ClientCertificate::Chain::verified;
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return ClientCertificate::Chain::expired;
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return ClientCertificate::Chain::not_yet_valid;
    default:
      return ClientCertificate::Chain::untrusted;
  }
}

std::vector<std::string> uriNames(X509* certificate) {
  std::vector<std::string> uris;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return uris;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
    uris.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                      static_cast<std::size_t>(ASN1_STRING_length(uri)));
  }
  GENERAL_NAMES_free(names);
  return uris;
}

thread_local Kept current;

}  // namespace

void recordClientCertificate(void* handle) {
  auto* ssl = static_cast<SSL*>(handle);
  X509* leaf = SSL_get1_peer_certificate(ssl);
  if (leaf == nullptr) return;
  auto certificate = std::make_shared<ClientCertificate>();
  // The handshake's verification ran with a callback that lets it go on (the application
  // refuses with a reason): its result is the first thing that failed, or OK.
  const long verify_result = SSL_get_verify_result(ssl);
  certificate->chain = chainOf(verify_result);
  if (verify_result != X509_V_OK) certificate->chain_problem = X509_verify_cert_error_string(verify_result);
  certificate->uris = uriNames(leaf);
  certificate->not_before = unixSeconds(X509_get0_notBefore(leaf));
  certificate->not_after = unixSeconds(X509_get0_notAfter(leaf));
  unsigned char* der = nullptr;
  const int der_size = i2d_X509(leaf, &der);
  if (der_size > 0) {
    const auto digest = crypto::tokenHash(std::string_view(reinterpret_cast<const char*>(der), der_size));
    certificate->sha256.assign(digest.begin(), digest.end());
  }
  OPENSSL_free(der);
  X509_free(leaf);
  SSL_set_ex_data(ssl, slot(), new Kept(std::move(certificate)));
}

std::shared_ptr<const ClientCertificate> clientCertificateOf(const Pistache::Tcp::Peer* peer) {
  if (peer == nullptr || peer->ssl() == nullptr) return nullptr;
  const auto* kept = static_cast<const Kept*>(SSL_get_ex_data(static_cast<const SSL*>(peer->ssl()), slot()));
  return kept ? *kept : nullptr;
}

std::shared_ptr<const ClientCertificate> currentClientCertificate() { return current; }

void setCurrentClientCertificate(std::shared_ptr<const ClientCertificate> certificate) {
  current = std::move(certificate);
}

}  // namespace hydra::http
