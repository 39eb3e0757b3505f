#pragma once
// HPKE (RFC 9180) building blocks for our single suite: base mode, KEM 0x0020
// DHKEM(X25519, HKDF-SHA256), KDF 0x0001 HKDF-SHA256, AEAD 0x0002 AES-256-GCM.
// The control plane links this file too, so it must hold no decryption path: Decap and
// the AEAD open are in open.cpp only, Encap and the AEAD seal in seal.cpp.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <botan/secmem.h>

namespace hydra::crypto::hpke {

/// The HPKE `info` of every seal and open. It is bound into the key schedule: changing it
/// makes every stored ciphertext unopenable, so a new value means a new ciphertext format.
inline constexpr std::string_view kInfo = "hydracore-connections/v1";

inline constexpr std::uint16_t kKemId = 0x0020;
inline constexpr std::uint16_t kKdfId = 0x0001;
inline constexpr std::uint16_t kAeadId = 0x0002;

// Sizes from RFC 9180 section 7.
inline constexpr std::size_t kNsecret = 32;  // DHKEM shared secret
inline constexpr std::size_t kNenc = 32;     // encapsulated key (the ephemeral public key)
inline constexpr std::size_t kNpk = 32;
inline constexpr std::size_t kNsk = 32;
inline constexpr std::size_t kNk = 32;  // AES-256 key
inline constexpr std::size_t kNn = 12;  // GCM nonce
inline constexpr std::size_t kNt = 16;  // GCM tag

/// Read-only bytes (C++17 has no std::span), so one function accepts vectors,
/// secure_vectors and strings without copying key material. Never store one.
struct ByteView {
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;

  ByteView() = default;
  ByteView(const std::uint8_t* d, std::size_t n) : data(d), size(n) {}
  template <typename Alloc>
  ByteView(const std::vector<std::uint8_t, Alloc>& v) : data(v.data()), size(v.size()) {}
  ByteView(std::string_view s)
      : data(reinterpret_cast<const std::uint8_t*>(s.data())), size(s.size()) {}
  ByteView(const std::string& s) : ByteView(std::string_view(s)) {}
};

/// "KEM" || I2OSP(kem_id, 2): the suite id of the DHKEM steps.
std::vector<std::uint8_t> kemSuiteId();
/// "HPKE" || I2OSP(kem_id, 2) || I2OSP(kdf_id, 2) || I2OSP(aead_id, 2): the key schedule's.
std::vector<std::uint8_t> hpkeSuiteId();

/// RFC 9180 section 4: HKDF-Extract(salt, "HPKE-v1" || suite_id || label || ikm).
Botan::secure_vector<std::uint8_t> labeledExtract(ByteView suite_id, ByteView salt,
                                                  std::string_view label, ByteView ikm);
/// RFC 9180 section 4: HKDF-Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite_id || label || info, L).
Botan::secure_vector<std::uint8_t> labeledExpand(ByteView suite_id, ByteView prk,
                                                 std::string_view label, ByteView info,
                                                 std::size_t length);

/// X25519 public key of a raw 32-byte private key.
std::vector<std::uint8_t> x25519PublicKey(const Botan::secure_vector<std::uint8_t>& private_key);
/// DH() of RFC 9180 section 4.1 for X25519. Throws std::invalid_argument for a public key of
/// the wrong size or of low order (all-zero result, which section 7.1.4 requires us to reject).
Botan::secure_vector<std::uint8_t> x25519(const Botan::secure_vector<std::uint8_t>& private_key,
                                          ByteView public_key);

/// DHKEM ExtractAndExpand (RFC 9180 section 4.1) with kem_context = enc || pkR: the KEM shared
/// secret, the step Encap and Decap share.
Botan::secure_vector<std::uint8_t> extractAndExpand(ByteView dh, ByteView enc, ByteView recipient_public_key);

struct KeyPair {
  Botan::secure_vector<std::uint8_t> private_key;
  std::vector<std::uint8_t> public_key;
};
/// DeriveKeyPair(ikm) for X25519 (RFC 9180 section 7.1.3). Used by the test vectors; real
/// keys come from the system RNG.
KeyPair deriveKeyPair(ByteView ikm);

/// What the base-mode key schedule gives a single-shot context. The exporter secret is not
/// derived: we never export.
struct KeySchedule {
  Botan::secure_vector<std::uint8_t> key;
  Botan::secure_vector<std::uint8_t> base_nonce;
};
/// KeyScheduleS/R for mode_base (RFC 9180 section 5.1): empty psk and psk_id.
KeySchedule keyScheduleBase(ByteView shared_secret, ByteView info);

/// ComputeNonce (RFC 9180 section 5.2): base_nonce XOR I2OSP(seq, Nn).
std::vector<std::uint8_t> computeNonce(ByteView base_nonce, std::uint64_t seq);

}  // namespace hydra::crypto::hpke
