#pragma once
// The broker's audit signing key: Ed25519, as PEM PKCS#8 (what `openssl genpkey -algorithm
// ed25519` writes), under the same file rules as the decryption keys. It signs checkpoints only;
// security teams hold its public half as a C2SP verifier key.

#include <memory>
#include <string>

#include <botan/ed25519.h>
#include <botan/secmem.h>

namespace hydra::broker::audit {

/// Throws std::runtime_error naming the file and the problem (never its contents).
std::unique_ptr<Botan::Ed25519_PrivateKey> readSigningKey(const std::string& path);
/// The parsing half of readSigningKey: `text` is the file's contents, `path` only names it in
/// the errors.
std::unique_ptr<Botan::Ed25519_PrivateKey> signingKeyFromPem(const Botan::secure_vector<std::uint8_t>& text,
                                                             const std::string& path);

std::unique_ptr<Botan::Ed25519_PrivateKey> generateSigningKey();
std::string signingKeyPem(const Botan::Ed25519_PrivateKey& key);

/// The name keygen gives the verifier key. Checkpoints are signed under each journal's origin;
/// `hydracore-audit verify` accepts every origin signed by the verifier key's public key.
constexpr const char* kVerifierKeyName = "hydracore-broker-audit";

}  // namespace hydra::broker::audit
