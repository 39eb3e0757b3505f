#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hydra::crypto {

/// Reads an X25519 public key from a PEM SubjectPublicKeyInfo file (what
/// `openssl pkey -pubout` writes) and returns the raw 32 bytes.
/// Throws std::runtime_error with a one-line reason (no key material) on any problem.
std::vector<std::uint8_t> readPublicKeyPem(const std::string& path);

/// The parsing half of readPublicKeyPem: `text` is the file's contents, `path` only names it
/// in the errors (std::runtime_error, as there).
std::vector<std::uint8_t> publicKeyFromPem(const std::string& text, const std::string& path);

/// PEM SubjectPublicKeyInfo for a raw 32-byte X25519 public key.
std::string publicKeyPem(const std::vector<std::uint8_t>& public_key);

}  // namespace hydra::crypto
