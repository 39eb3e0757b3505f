#include "control-plane/webhooks/signature.hpp"

#include <stdexcept>

#include <botan/base64.h>
#include <botan/mac.h>
#include <botan/system_rng.h>

namespace hydra::cp::webhooks {
namespace {

constexpr std::string_view kSecretPrefix = "whsec_";
constexpr std::size_t kKeyBytes = 32;

}  // namespace

SigningKey newSigningKey() {
  SigningKey key(kKeyBytes);
  Botan::system_rng().randomize(key.data(), key.size());
  return key;
}

std::string encodeSecret(const SigningKey& key) { return std::string(kSecretPrefix) + Botan::base64_encode(key); }

SigningKey decodeSecret(std::string_view secret) {
  if (secret.substr(0, kSecretPrefix.size()) != kSecretPrefix) throw std::invalid_argument("not a whsec_ secret");
  const auto encoded = secret.substr(kSecretPrefix.size());
  try {
    auto key = Botan::base64_decode(encoded.data(), encoded.size());
    if (key.empty()) throw std::invalid_argument("empty whsec_ secret");
    return key;
  } catch (const Botan::Exception&) {
    throw std::invalid_argument("whsec_ secret is not base64");
  }
}

std::string sign(const SigningKey& key, std::string_view webhook_id, long long timestamp, std::string_view body) {
  auto hmac = Botan::MessageAuthenticationCode::create_or_throw("HMAC(SHA-256)");
  hmac->set_key(key);
  const auto stamp = std::to_string(timestamp);
  hmac->update(reinterpret_cast<const std::uint8_t*>(webhook_id.data()), webhook_id.size());
  hmac->update('.');
  hmac->update(reinterpret_cast<const std::uint8_t*>(stamp.data()), stamp.size());
  hmac->update('.');
  hmac->update(reinterpret_cast<const std::uint8_t*>(body.data()), body.size());
  return "v1," + Botan::base64_encode(hmac->final());
}

std::string signatureHeader(const std::vector<SigningKey>& keys, std::string_view webhook_id, long long timestamp,
                            std::string_view body) {
  std::string header;
  for (const auto& key : keys) header += (header.empty() ? "" : " ") + sign(key, webhook_id, timestamp, body);
  return header;
}

}  // namespace hydra::cp::webhooks
