#include "shared/crypto/hpke_suite.hpp"

#include <array>
#include <stdexcept>

#include <botan/curve25519.h>
#include <botan/kdf.h>
#include <botan/mem_ops.h>

namespace hydra::crypto::hpke {
namespace {

constexpr std::uint8_t kModeBase = 0x00;
constexpr std::size_t kNh = 32;  // HKDF-SHA256 output size
constexpr std::string_view kVersionLabel = "HPKE-v1";

// Labeled inputs can hold secrets (a DH result, a shared secret), so they are built in
// secure_vectors.
void append(Botan::secure_vector<std::uint8_t>& out, ByteView bytes) {
  out.insert(out.end(), bytes.data, bytes.data + bytes.size);
}

void appendU16(std::vector<std::uint8_t>& out, std::uint16_t value) {
  out.push_back(static_cast<std::uint8_t>(value >> 8));
  out.push_back(static_cast<std::uint8_t>(value & 0xff));
}

}  // namespace

std::vector<std::uint8_t> kemSuiteId() {
  std::vector<std::uint8_t> id{'K', 'E', 'M'};
  appendU16(id, kKemId);
  return id;
}

std::vector<std::uint8_t> hpkeSuiteId() {
  std::vector<std::uint8_t> id{'H', 'P', 'K', 'E'};
  appendU16(id, kKemId);
  appendU16(id, kKdfId);
  appendU16(id, kAeadId);
  return id;
}

Botan::secure_vector<std::uint8_t> labeledExtract(ByteView suite_id, ByteView salt,
                                                  std::string_view label, ByteView ikm) {
  Botan::secure_vector<std::uint8_t> labeled_ikm;
  append(labeled_ikm, kVersionLabel);
  append(labeled_ikm, suite_id);
  append(labeled_ikm, label);
  append(labeled_ikm, ikm);
  // Botan uses HashLen zero bytes as the HMAC key for an empty salt, as RFC 5869 says.
  const auto extract = Botan::KDF::create_or_throw("HKDF-Extract(SHA-256)");
  return extract->derive_key(kNh, labeled_ikm.data(), labeled_ikm.size(), salt.data, salt.size);
}

Botan::secure_vector<std::uint8_t> labeledExpand(ByteView suite_id, ByteView prk,
                                                 std::string_view label, ByteView info,
                                                 std::size_t length) {
  // HKDF-Expand cannot give more than 255 blocks; L must also fit in its 2-byte prefix.
  if (length == 0 || length > 255 * kNh) throw std::invalid_argument("HPKE: bad expand length");
  std::vector<std::uint8_t> length_prefix;
  appendU16(length_prefix, static_cast<std::uint16_t>(length));
  Botan::secure_vector<std::uint8_t> labeled_info;
  append(labeled_info, length_prefix);
  append(labeled_info, kVersionLabel);
  append(labeled_info, suite_id);
  append(labeled_info, label);
  append(labeled_info, info);
  const auto expand = Botan::KDF::create_or_throw("HKDF-Expand(SHA-256)");
  // Botan's HKDF-Expand takes the info in its label argument (its salt is appended to it).
  auto out = expand->derive_key(length, prk.data, prk.size, nullptr, 0, labeled_info.data(),
                                labeled_info.size());
  if (out.size() != length) throw std::logic_error("HPKE: HKDF-Expand returned a short output");
  return out;
}

std::vector<std::uint8_t> x25519PublicKey(const Botan::secure_vector<std::uint8_t>& private_key) {
  if (private_key.size() != kNsk) throw std::invalid_argument("X25519: private key must be 32 bytes");
  std::vector<std::uint8_t> public_key(kNpk);
  Botan::curve25519_basepoint(public_key.data(), private_key.data());
  return public_key;
}

Botan::secure_vector<std::uint8_t> x25519(const Botan::secure_vector<std::uint8_t>& private_key,
                                          ByteView public_key) {
  if (private_key.size() != kNsk) throw std::invalid_argument("X25519: private key must be 32 bytes");
  if (public_key.size != kNpk) throw std::invalid_argument("X25519: public key must be 32 bytes");
  Botan::secure_vector<std::uint8_t> shared(32);
  Botan::curve25519_donna(shared.data(), private_key.data(), public_key.data);
  // A low-order public key yields zero whatever our private key is: the result would not be
  // secret. Botan does not check this; RFC 9180 section 7.1.4 requires it.
  const std::array<std::uint8_t, 32> zeros{};
  if (Botan::constant_time_compare(shared.data(), zeros.data(), zeros.size())) {
    throw std::invalid_argument("X25519: low-order public key");
  }
  return shared;
}

Botan::secure_vector<std::uint8_t> extractAndExpand(ByteView dh, ByteView enc, ByteView recipient_public_key) {
  std::vector<std::uint8_t> kem_context(enc.data, enc.data + enc.size);
  kem_context.insert(kem_context.end(), recipient_public_key.data, recipient_public_key.data + recipient_public_key.size);
  const auto suite_id = kemSuiteId();
  const auto eae_prk = labeledExtract(suite_id, ByteView(), "eae_prk", dh);
  return labeledExpand(suite_id, eae_prk, "shared_secret", kem_context, kNsecret);
}

KeyPair deriveKeyPair(ByteView ikm) {
  const auto suite_id = kemSuiteId();
  const auto dkp_prk = labeledExtract(suite_id, ByteView(), "dkp_prk", ikm);
  KeyPair pair;
  pair.private_key = labeledExpand(suite_id, dkp_prk, "sk", ByteView(), kNsk);
  pair.public_key = x25519PublicKey(pair.private_key);
  return pair;
}

KeySchedule keyScheduleBase(ByteView shared_secret, ByteView info) {
  const auto suite_id = hpkeSuiteId();
  // Base mode: psk and psk_id are empty.
  const auto psk_id_hash = labeledExtract(suite_id, ByteView(), "psk_id_hash", ByteView());
  const auto info_hash = labeledExtract(suite_id, ByteView(), "info_hash", info);
  Botan::secure_vector<std::uint8_t> context{kModeBase};
  append(context, psk_id_hash);
  append(context, info_hash);
  const auto secret = labeledExtract(suite_id, shared_secret, "secret", ByteView());
  KeySchedule schedule;
  schedule.key = labeledExpand(suite_id, secret, "key", context, kNk);
  schedule.base_nonce = labeledExpand(suite_id, secret, "base_nonce", context, kNn);
  return schedule;
}

std::vector<std::uint8_t> computeNonce(ByteView base_nonce, std::uint64_t seq) {
  if (base_nonce.size != kNn) throw std::invalid_argument("HPKE: base nonce must be 12 bytes");
  std::vector<std::uint8_t> nonce(base_nonce.data, base_nonce.data + base_nonce.size);
  // seq is big-endian in the last 8 bytes; the first 4 bytes of I2OSP(seq, 12) are zero.
  for (std::size_t i = 0; i < sizeof(seq); ++i) {
    nonce[kNn - 1 - i] ^= static_cast<std::uint8_t>(seq >> (8 * i));
  }
  return nonce;
}

}  // namespace hydra::crypto::hpke
