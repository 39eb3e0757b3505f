#include "shared/crypto/open.hpp"

#include <botan/aead.h>
#include <botan/exceptn.h>

#include <mutex>

#include "shared/cache/lru_map.hpp"
#include "shared/crypto/private_key_file.hpp"

namespace hydra::crypto {

namespace detail {

ReceiverContext setupBaseR(hpke::ByteView enc,
                           const Botan::secure_vector<std::uint8_t>& recipient_private_key,
                           hpke::ByteView recipient_public_key, hpke::ByteView info) {
  // Decap (RFC 9180 section 4.1). enc comes from storage, so a bad one is an OpenError.
  Botan::secure_vector<std::uint8_t> dh;
  try {
    dh = hpke::x25519(recipient_private_key, enc);
  } catch (const std::invalid_argument&) {
    throw OpenError("sealed secret has an invalid encapsulated key");
  }
  ReceiverContext context;
  context.shared_secret = hpke::extractAndExpand(dh, enc, recipient_public_key);
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

// The derived receiver contexts of the most recently opened (key id, encapsulated key) pairs.
class Opener::Cache {
 public:
  explicit Cache(std::size_t capacity) : contexts_(capacity) {}

  // Shared, not copied: a copy would be two secure allocations per open.
  std::shared_ptr<const detail::ReceiverContext> find(const std::string& id) {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto* found = contexts_.find(id);
    return found != nullptr ? *found : nullptr;
  }

  void insert(const std::string& id, detail::ReceiverContext context) {
    // Open needs only the key and the base nonce; the swap frees (and so wipes) the secret.
    Botan::secure_vector<std::uint8_t>().swap(context.shared_secret);
    std::lock_guard<std::mutex> lock(mutex_);
    // A context forgotten here is wiped (secure_vector) once no open still uses it.
    contexts_.put(id, std::make_shared<const detail::ReceiverContext>(std::move(context)));
  }

 private:
  std::mutex mutex_;
  cache::LruMap<std::shared_ptr<const detail::ReceiverContext>> contexts_;
};

Opener::Opener(std::vector<Botan::secure_vector<std::uint8_t>> private_keys, std::size_t cache_entries)
    : cache_(cache_entries > 0 ? std::make_unique<Cache>(cache_entries) : nullptr) {
  if (private_keys.empty()) throw std::invalid_argument("Opener: no private keys");
  for (auto& private_key : private_keys) {
    auto public_key = publicKeyOf(private_key);  // throws on a bad-sized key
    const auto key_id = keyIdOf(public_key);
    if (keys_by_id_.count(key_id) != 0) continue;  // the same key listed twice
    if (current_key_id_.empty()) {
      current_key_id_ = key_id;
      current_public_key_ = public_key;
    }
    keys_by_id_.emplace(key_id, KeyPair{std::move(private_key), std::move(public_key)});
  }
}

Opener::~Opener() = default;

Botan::secure_vector<std::uint8_t> Opener::open(const SealedSecret& sealed,
                                                std::string_view aad) const {
  const auto found = keys_by_id_.find(sealed.key_id);
  // The stored key id is not echoed: it comes from the database and may be anything.
  if (found == keys_by_id_.end()) throw UnknownKeyError("sealed secret names an unknown key id");
  const auto& ciphertext = sealed.ciphertext;
  if (ciphertext.size() < hpke::kNenc + hpke::kNt) throw OpenError("sealed secret is too short");
  const hpke::ByteView enc(ciphertext.data(), hpke::kNenc);
  const hpke::ByteView body(ciphertext.data() + hpke::kNenc, ciphertext.size() - hpke::kNenc);
  if (!cache_) {
    return detail::openAt(detail::setupBaseR(enc, found->second.private_key, found->second.public_key, hpke::kInfo),
                          aad, body, 0);
  }
  const std::string cache_id = sealed.key_id + '/' + std::string(ciphertext.begin(), ciphertext.begin() + hpke::kNenc);
  if (const auto cached = cache_->find(cache_id)) return detail::openAt(*cached, aad, body, 0);
  auto context = detail::setupBaseR(enc, found->second.private_key, found->second.public_key, hpke::kInfo);
  // Cached only once the tag verified, so garbage cannot fill the cache.
  auto plaintext = detail::openAt(context, aad, body, 0);
  cache_->insert(cache_id, std::move(context));
  return plaintext;
}

}  // namespace hydra::crypto
