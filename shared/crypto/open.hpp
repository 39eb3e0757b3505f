#pragma once
// Opening: linked by the broker only.

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <botan/secmem.h>

#include "shared/crypto/hpke_suite.hpp"
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
/// can still open what was sealed to them. Thread-safe.
///
/// The X25519 step of an open (~90 us) dominates a credential fetch, and runtimes fetch the
/// same ciphertext over and over. So the Opener keeps a bounded cache of the AEAD key and
/// nonce derived for each encapsulated key (never plaintext, never an authorization
/// decision). Every open still verifies the AEAD tag over the ciphertext and the associated
/// data, so a cached entry cannot open a tampered ciphertext or one moved to another row.
/// Evicted entries are wiped (secure_vector).
class Opener {
 public:
  /// Raw 32-byte X25519 private keys, current first. Throws std::invalid_argument if empty.
  /// `cache_entries` bounds the derived-key cache (0 disables it).
  explicit Opener(std::vector<Botan::secure_vector<std::uint8_t>> private_keys, std::size_t cache_entries = 0);
  ~Opener();

  /// Throws UnknownKeyError or OpenError; never returns unauthenticated plaintext.
  Botan::secure_vector<std::uint8_t> open(const SealedSecret& sealed, std::string_view aad) const;

  const std::string& currentKeyId() const { return current_key_id_; }
  /// Raw public key of the current private key (what the control plane seals to).
  const std::vector<std::uint8_t>& currentPublicKey() const { return current_public_key_; }

 private:
  struct KeyPair {
    Botan::secure_vector<std::uint8_t> private_key;
    std::vector<std::uint8_t> public_key;
  };
  class Cache;

  std::map<std::string, KeyPair> keys_by_id_;
  std::string current_key_id_;
  std::vector<std::uint8_t> current_public_key_;
  std::unique_ptr<Cache> cache_;
};

namespace detail {

/// SetupBaseR (RFC 9180 section 5.1.1) state. Exposed for the RFC 9180 test vectors only.
struct ReceiverContext {
  Botan::secure_vector<std::uint8_t> shared_secret;
  Botan::secure_vector<std::uint8_t> key;
  Botan::secure_vector<std::uint8_t> base_nonce;
};

/// SetupBaseR: Decap(enc, skR) and the key schedule; `recipient_public_key` is pkR (the
/// caller keeps it rather than recompute it per open). Throws OpenError if `enc` is not a
/// usable X25519 public key (wrong size, low order).
ReceiverContext setupBaseR(hpke::ByteView enc,
                           const Botan::secure_vector<std::uint8_t>& recipient_private_key,
                           hpke::ByteView recipient_public_key, hpke::ByteView info);

/// ContextR.Open at sequence number `seq`. Throws OpenError on any authentication failure.
Botan::secure_vector<std::uint8_t> openAt(const ReceiverContext& context, hpke::ByteView aad,
                                          hpke::ByteView ciphertext, std::uint64_t seq);

}  // namespace detail

}  // namespace hydra::crypto
