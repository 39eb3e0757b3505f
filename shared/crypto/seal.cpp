#include "shared/crypto/seal.hpp"

#include <stdexcept>

#include <botan/aead.h>
#include <botan/system_rng.h>

namespace hydra::crypto {

namespace detail {

SenderContext setupBaseS(hpke::ByteView recipient_public_key,
                         const Botan::secure_vector<std::uint8_t>& ephemeral_private_key,
                         hpke::ByteView info) {
  SenderContext context;
  // Encap (RFC 9180 section 4.1): enc is the ephemeral public key.
  context.enc = hpke::x25519PublicKey(ephemeral_private_key);
  const auto dh = hpke::x25519(ephemeral_private_key, recipient_public_key);
  context.shared_secret = hpke::extractAndExpand(dh, context.enc, recipient_public_key);
  auto schedule = hpke::keyScheduleBase(context.shared_secret, info);
  context.key = std::move(schedule.key);
  context.base_nonce = std::move(schedule.base_nonce);
  return context;
}

std::vector<std::uint8_t> sealAt(const SenderContext& context, hpke::ByteView aad,
                                 hpke::ByteView plaintext, std::uint64_t seq) {
  const auto nonce = hpke::computeNonce(context.base_nonce, seq);
  const auto aead = Botan::AEAD_Mode::create_or_throw("AES-256/GCM", Botan::ENCRYPTION);
  aead->set_key(context.key);
  aead->set_associated_data(aad.data, aad.size);
  aead->start(nonce);
  // The plaintext is a credential: it stays in locked, wiped memory while being encrypted.
  Botan::secure_vector<std::uint8_t> buffer(plaintext.data, plaintext.data + plaintext.size);
  aead->finish(buffer);
  return {buffer.begin(), buffer.end()};
}

}  // namespace detail

Sealer::Sealer(std::vector<std::uint8_t> public_key) : public_key_(std::move(public_key)) {
  if (public_key_.size() != hpke::kNpk) {
    throw std::invalid_argument("Sealer: public key must be 32 bytes");
  }
  key_id_ = keyIdOf(public_key_);
}

SealedSecret Sealer::seal(std::string_view plaintext, std::string_view aad) const {
  // A fresh ephemeral key per seal makes every (key, nonce) pair unique, so the single
  // message can use sequence number 0.
  const auto ephemeral = Botan::system_rng().random_vec(hpke::kNsk);
  const auto context = detail::setupBaseS(public_key_, ephemeral, hpke::kInfo);
  SealedSecret sealed;
  sealed.key_id = key_id_;
  sealed.ciphertext = context.enc;
  const auto body = detail::sealAt(context, aad, plaintext, 0);
  sealed.ciphertext.insert(sealed.ciphertext.end(), body.begin(), body.end());
  return sealed;
}

}  // namespace hydra::crypto
