#pragma once
// Opening: linked by the broker only.

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <botan/secmem.h>

#include "shared/crypto/sealed_secret.hpp"

namespace hydra::crypto {

/// The ciphertext names a key this process does not hold.
struct UnknownKeyError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
/// Authentication failed: tampered ciphertext, wrong row (associated data) or wrong key.
struct OpenError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Holds the broker's private keys: the first is current, the others are older keys that
/// can still open what was sealed to them.
class Opener {
 public:
  /// Raw 32-byte X25519 private keys, current first. Throws std::invalid_argument if empty.
  explicit Opener(std::vector<Botan::secure_vector<std::uint8_t>> private_keys);

  /// Throws UnknownKeyError or OpenError; never returns unauthenticated plaintext.
  Botan::secure_vector<std::uint8_t> open(const SealedSecret& sealed, std::string_view aad) const;

  const std::string& currentKeyId() const { return current_key_id_; }
  /// Raw public key of the current private key (what the control plane seals to).
  const std::vector<std::uint8_t>& currentPublicKey() const { return current_public_key_; }

 private:
  std::map<std::string, Botan::secure_vector<std::uint8_t>> keys_by_id_;
  std::string current_key_id_;
  std::vector<std::uint8_t> current_public_key_;
};

}  // namespace hydra::crypto
