#pragma once

#include <string>

namespace hydra::broker {

/// Writes a new X25519 key pair: the private key as PEM PKCS#8 with mode 0600, the public
/// key as PEM SubjectPublicKeyInfo (what the control plane's HYDRA_BROKER_PUBLIC_KEY names).
/// Refuses to replace an existing file unless `force`. Throws std::runtime_error.
void keygen(const std::string& private_key_path, const std::string& public_key_path, bool force);

/// Writes a new Ed25519 audit signing key (PEM PKCS#8, mode 0600) and its C2SP verifier key,
/// the text security teams verify checkpoints with. Same rules as keygen().
void keygenAudit(const std::string& signing_key_path, const std::string& verifier_key_path, bool force);

}  // namespace hydra::broker
