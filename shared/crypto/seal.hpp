#pragma once
// Sealing only: linked by the control plane, which must never be able to decrypt.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <botan/secmem.h>

#include "shared/crypto/hpke_suite.hpp"
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

namespace detail {

/// SetupBaseS (RFC 9180 section 5.1.1) state. Exposed for the RFC 9180 test vectors only.
struct SenderContext {
  std::vector<std::uint8_t> enc;
  Botan::secure_vector<std::uint8_t> shared_secret;
  Botan::secure_vector<std::uint8_t> key;
  Botan::secure_vector<std::uint8_t> base_nonce;
};

/// SetupBaseS with a caller-chosen ephemeral private key, so the test vectors can be
/// reproduced. Never call it outside tests: an ephemeral key used twice with the same
/// recipient gives the same AEAD key and nonce. Sealer::seal draws a fresh one each time.
/// Throws std::invalid_argument for a bad-sized or low-order recipient key.
SenderContext setupBaseS(hpke::ByteView recipient_public_key,
                         const Botan::secure_vector<std::uint8_t>& ephemeral_private_key,
                         hpke::ByteView info);

/// ContextS.Seal at sequence number `seq`: AEAD ciphertext followed by the 16-byte tag.
std::vector<std::uint8_t> sealAt(const SenderContext& context, hpke::ByteView aad,
                                 hpke::ByteView plaintext, std::uint64_t seq);

}  // namespace detail

}  // namespace hydra::crypto
