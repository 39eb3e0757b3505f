#pragma once
// Private key files: broker only.

#include <cstdint>
#include <string>
#include <vector>

#include <botan/secmem.h>

namespace hydra::crypto {

/// Reads an X25519 private key from an unencrypted PEM PKCS#8 file (what
/// `openssl genpkey -algorithm X25519` writes) and returns the raw 32 bytes. Like OpenSSH,
/// refuses a symbolic link, a file group or others may access, or one owned by another user.
/// Throws std::runtime_error with a one-line reason (no key material) on any problem.
Botan::secure_vector<std::uint8_t> readPrivateKeyPem(const std::string& path);

/// The parsing half of readPrivateKeyPem: `text` is the file's contents, `path` only names it
/// in the errors (std::runtime_error, as there).
Botan::secure_vector<std::uint8_t> privateKeyFromPem(const Botan::secure_vector<std::uint8_t>& text,
                                                     const std::string& path);

/// PEM PKCS#8 for a raw 32-byte X25519 private key.
std::string privateKeyPem(const Botan::secure_vector<std::uint8_t>& private_key);

/// A new X25519 key pair from the system RNG: {private raw 32 bytes, public raw 32 bytes}.
std::pair<Botan::secure_vector<std::uint8_t>, std::vector<std::uint8_t>> generateKeyPair();

/// The raw public key that belongs to a raw private key.
std::vector<std::uint8_t> publicKeyOf(const Botan::secure_vector<std::uint8_t>& private_key);

}  // namespace hydra::crypto
