#pragma once
// TLS for the servers (Pistache's own, on OpenSSL): what Pistache 0.0.5 does not set itself.

#include <cstdint>
#include <string>

namespace hydra::http {

/// Restricts every OpenSSL context the process creates from now on to TLS 1.2 and 1.3, and
/// TLS 1.2 to ECDHE key exchange with AEAD ciphers. Pistache 0.0.5 creates its context with
/// SSLv23_server_method() and sets neither versions nor ciphers, and gives no access to it;
/// OpenSSL applies the "system_default" section of its configuration to every new context,
/// so this loads such a section (from memory, not a file an operator could get wrong).
/// Idempotent; throws std::runtime_error if OpenSSL refuses it.
void restrictTlsProtocols();

/// Checks a TLS private key file as other key files are (crypto/secret_file.hpp: no
/// symbolic link, a regular file owned by this user and readable by no one else); throws
/// std::runtime_error with a one-line reason.
void checkTlsKeyFile(const std::string& path);

/// Sets, on the listening socket bound to `port`, what bounds Pistache's TLS handshake: it
/// runs SSL_accept on its one accepting thread on a blocking socket, so a client that
/// connects and stalls would stop every other connection. TCP_DEFER_ACCEPT hands over only
/// connections that sent something; receive/send timeouts (inherited by accepted sockets on
/// Linux) end a handshake that stalls after `timeout_seconds`. Throws std::runtime_error if
/// the socket cannot be found or set.
void boundTlsHandshakes(std::uint16_t port, int timeout_seconds);

}  // namespace hydra::http
