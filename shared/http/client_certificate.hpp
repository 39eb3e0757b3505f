#pragma once
// What a TLS client presented, read once per connection when its handshake completes (the TLS
// acceptor) and kept with the connection, so a route can decide who is asking without parsing a
// certificate per request. Used where the handshake asks for a certificate without requiring
// one (config::TlsSettings::client_certificate_required false: the broker's runtime identity),
// so that a refusal is an HTTP answer the application gives, and audits, with its reason.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace Pistache::Tcp {
class Peer;
}

namespace hydra::http {

struct ClientCertificate {
  enum class Chain { verified, expired, not_yet_valid, untrusted };
  Chain chain = Chain::untrusted;              // OpenSSL's verification against the client CA, at the handshake
  std::string chain_problem;                   // OpenSSL's words for what failed (empty when verified)
  std::vector<std::string> uris;               // the leaf's URI subjectAltNames, in order
  std::int64_t not_before = 0, not_after = 0;  // Unix seconds
  std::string sha256;                          // of the leaf's DER: tells two certificates apart
};

/// Reads the peer certificate of a connection whose handshake just completed (an SSL*) and
/// keeps it with the connection (freed with the SSL). Nothing is kept when there is none.
void recordClientCertificate(void* ssl);

/// The certificate the client of the request being handled on this thread presented, if any
/// (Server sets it around each route's handler: no certificate, or plain HTTP, is nullptr).
/// Copy the pointer to use it after the handler returns.
std::shared_ptr<const ClientCertificate> currentClientCertificate();

/// For Server: the certificate kept with `peer`'s connection, if any.
std::shared_ptr<const ClientCertificate> clientCertificateOf(const Pistache::Tcp::Peer* peer);
void setCurrentClientCertificate(std::shared_ptr<const ClientCertificate> certificate);

}  // namespace hydra::http
