#pragma once
// HTTPS handshakes off Pistache's accepting thread. Pistache 0.0.5 runs SSL_accept on its one
// accepting thread on a blocking socket, so a few clients dripping a ClientHello stop every
// new connection. This acceptor owns the public listening socket, runs each handshake
// non-blocking on a thread of its own with an absolute deadline, and hands each connection
// whose handshake completed to Pistache, which then reads and writes it through its SSL*.

#include <chrono>
#include <cstddef>
#include <string>
#include <thread>

#include <cstdint>

#include "shared/config/env.hpp"

namespace Pistache::Http {
class Endpoint;
}

namespace hydra::http {

struct TlsAcceptorLimits {
  std::chrono::milliseconds handshake_deadline{5000};  // from accept() to the handshake's end
  std::size_t max_per_peer = 16;                       // handshakes under way from one address
  std::size_t max_total = 512;                         // handshakes under way in all
};

class TlsAcceptor {
 public:
  /// Builds the TLS context from `tls` (certificate chain, key, client CA if set; the protocol
  /// restrictions of tls.hpp apply to it), listens on `host`:`port` (0: any free port) and
  /// starts handing connections to `endpoint`, which must be serving already. Throws
  /// std::runtime_error (OpenSSL's or the system's reason; no secret in it).
  TlsAcceptor(const config::TlsSettings& tls, const std::string& host, std::uint16_t port,
              Pistache::Http::Endpoint& endpoint, TlsAcceptorLimits limits = {});
  /// Stops the thread; handshakes under way are dropped.
  ~TlsAcceptor();
  TlsAcceptor(const TlsAcceptor&) = delete;
  TlsAcceptor& operator=(const TlsAcceptor&) = delete;

  /// The listening socket (for a graceful stop: listener.hpp's stopListening) and its port.
  int listeningSocket() const { return listening_; }
  std::uint16_t port() const { return port_; }

 private:
  void run();
  void* ctx_ = nullptr;  // SSL_CTX*
  int listening_ = -1;
  int wake_ = -1;   // eventfd: stop
  int epoll_ = -1;  // the acceptor thread's event set
  std::uint16_t port_ = 0;
  Pistache::Http::Endpoint& endpoint_;
  TlsAcceptorLimits limits_;
  std::thread thread_;
};

}  // namespace hydra::http
