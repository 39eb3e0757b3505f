#pragma once
// Sealing only: linked by the control plane, which must never be able to decrypt.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "shared/crypto/sealed_secret.hpp"

namespace hydra::crypto {

/// Encrypts to one broker public key. Thread-safe: seal() keeps no state between calls.
class Sealer {
 public:
  /// `public_key` is the raw 32-byte X25519 public key.
  explicit Sealer(std::vector<std::uint8_t> public_key);

  /// Single-shot HPKE seal with a fresh ephemeral key from the system RNG.
  SealedSecret seal(std::string_view plaintext, std::string_view aad) const;

  const std::string& keyId() const { return key_id_; }

 private:
  std::vector<std::uint8_t> public_key_;
  std::string key_id_;
};

}  // namespace hydra::crypto
