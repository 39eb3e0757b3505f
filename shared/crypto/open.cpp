#include "shared/crypto/open.hpp"

#include <botan/aead.h>
#include <botan/exceptn.h>

#include "shared/crypto/private_key_file.hpp"

namespace hydra::crypto {

namespace detail {

ReceiverContext setupBaseR(hpke::ByteView enc,
                           const Botan::secure_vector<std::uint8_t>& recipient_private_key,
                           hpke::ByteView info) {
  // Decap (RFC 9180 section 4.1). enc comes from storage, so a bad one is an OpenError.
  Botan::secure_vector<std::uint8_t> dh;
  try {
    dh = hpke::x25519(recipient_private_key, enc);
  } catch (const std::invalid_argument&) {
    throw OpenError("sealed secret has an invalid encapsulated key");
  }
  std::vector<std::uint8_t> kem_context(enc.data, enc.data + enc.size);
  const auto recipient_public_key = hpke::x25519PublicKey(recipient_private_key);
  kem_context.insert(kem_context.end(), recipient_public_key.begin(), recipient_public_key.end());
  ReceiverContext context;
  context.shared_secret = hpke::extractAndExpand(dh, kem_context);
  auto schedule = hpke::keyScheduleBase(context.shared_secret, info);
  context.key = std::move(schedule.key);
  context.base_nonce = std::move(schedule.base_nonce);
  return context;
}

Botan::secure_vector<std::uint8_t> openAt(const ReceiverContext& context, hpke::ByteView aad,
                                          hpke::ByteView ciphertext, std::uint64_t seq) {
  // Checked here because Botan rejects a missing tag with an exception of another type.
  if (ciphertext.size < hpke::kNt) throw OpenError("sealed secret is too short");
  const auto nonce = hpke::computeNonce(context.base_nonce, seq);
  const auto aead = Botan::AEAD_Mode::create_or_throw("AES-256/GCM", Botan::DECRYPTION);
  aead->set_key(context.key);
  aead->set_associated_data(aad.data, aad.size);
  aead->start(nonce);
  Botan::secure_vector<std::uint8_t> buffer(ciphertext.data, ciphertext.data + ciphertext.size);
  try {
    aead->finish(buffer);  // verifies the tag before anything is returned
  } catch (const Botan::Invalid_Authentication_Tag&) {
    throw OpenError("sealed secret failed authentication");
  }
  return buffer;
}

}  // namespace detail

Opener::Opener(std::vector<Botan::secure_vector<std::uint8_t>> private_keys) {
  if (private_keys.empty()) throw std::invalid_argument("Opener: no private keys");
  for (auto& private_key : private_keys) {
    const auto public_key = publicKeyOf(private_key);  // throws on a bad-sized key
    const auto key_id = keyIdOf(public_key);
    if (current_key_id_.empty()) {
      current_key_id_ = key_id;
      current_public_key_ = public_key;
    }
    keys_by_id_.emplace(key_id, std::move(private_key));
  }
}

Botan::secure_vector<std::uint8_t> Opener::open(const SealedSecret& sealed,
                                                std::string_view aad) const {
  const auto found = keys_by_id_.find(sealed.key_id);
  // The stored key id is not echoed: it comes from the database and may be anything.
  if (found == keys_by_id_.end()) throw UnknownKeyError("sealed secret names an unknown key id");
  const auto& ciphertext = sealed.ciphertext;
  if (ciphertext.size() < hpke::kNenc + hpke::kNt) throw OpenError("sealed secret is too short");
  const hpke::ByteView enc(ciphertext.data(), hpke::kNenc);
  const hpke::ByteView body(ciphertext.data() + hpke::kNenc, ciphertext.size() - hpke::kNenc);
  const auto context = detail::setupBaseR(enc, found->second, hpke::kInfo);
  return detail::openAt(context, aad, body, 0);
}

}  // namespace hydra::crypto
