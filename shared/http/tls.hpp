#pragma once
// TLS for the servers (OpenSSL; handshakes in tls_acceptor.hpp): protocol limits, key file checks.

#include <cstdint>
#include <string>

namespace hydra::http {

/// Restricts every OpenSSL context the process creates from now on to TLS 1.2 and 1.3, and
/// TLS 1.2 to ECDHE key exchange with AEAD ciphers (the acceptor's context, and any other).
/// OpenSSL applies the "system_default" section of its configuration to every new context,
/// so this loads such a section (from memory, not a file an operator could get wrong).
/// Idempotent; throws std::runtime_error if OpenSSL refuses it.
void restrictTlsProtocols();

/// Checks a TLS private key file as other key files are (crypto/secret_file.hpp: no
/// symbolic link, a regular file owned by this user and readable by no one else); throws
/// std::runtime_error with a one-line reason.
void checkTlsKeyFile(const std::string& path);

}  // namespace hydra::http
