#include "control-plane/connect/secrets.hpp"

#include <botan/base64.h>
#include <botan/hash.h>
#include <botan/mac.h>

#include "shared/crypto/random.hpp"

namespace hydra::cp::connect {

std::string base64Url(const unsigned char* data, std::size_t size) {
  std::string encoded = Botan::base64_encode(data, size);
  for (char& c : encoded) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!encoded.empty() && encoded.back() == '=') encoded.pop_back();
  return encoded;
}

std::string newRandomValue() {
  const auto bytes = crypto::randomBytes(32);
  return base64Url(bytes.data(), bytes.size());
}

std::string pkceVerifier(std::string_view cookie, std::string_view state) {
  auto hmac = Botan::MessageAuthenticationCode::create_or_throw("HMAC(SHA-256)");
  hmac->set_key(reinterpret_cast<const std::uint8_t*>(cookie.data()), cookie.size());
  static constexpr std::string_view kLabel = "hydra-connect-pkce-v1\n";
  hmac->update(reinterpret_cast<const std::uint8_t*>(kLabel.data()), kLabel.size());
  hmac->update(reinterpret_cast<const std::uint8_t*>(state.data()), state.size());
  const auto mac = hmac->final();
  return base64Url(mac.data(), mac.size());
}

std::string pkceChallenge(std::string_view verifier) {
  auto sha = Botan::HashFunction::create_or_throw("SHA-256");
  sha->update(reinterpret_cast<const std::uint8_t*>(verifier.data()), verifier.size());
  const auto digest = sha->final();
  return base64Url(digest.data(), digest.size());
}

}  // namespace hydra::cp::connect
