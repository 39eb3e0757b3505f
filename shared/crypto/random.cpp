#include "shared/crypto/random.hpp"

#include <botan/base64.h>
#include <botan/hash.h>
#include <botan/hex.h>
#include <botan/mem_ops.h>
#include <botan/system_rng.h>

namespace hydra::crypto {

std::vector<std::uint8_t> randomBytes(std::size_t n) {
  std::vector<std::uint8_t> out(n);
  Botan::system_rng().randomize(out.data(), out.size());
  return out;
}

std::string newSecretToken(std::string_view prefix) {
  const auto secret = randomBytes(32);
  std::string encoded = Botan::base64_encode(secret);
  // base64url without padding: the token must survive URLs, headers and shell quoting.
  for (char& c : encoded) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!encoded.empty() && encoded.back() == '=') encoded.pop_back();
  return std::string(prefix) + encoded;
}

std::vector<std::uint8_t> tokenHash(std::string_view token) {
  auto sha = Botan::HashFunction::create_or_throw("SHA-256");
  sha->update(reinterpret_cast<const std::uint8_t*>(token.data()), token.size());
  const auto digest = sha->final();
  return {digest.begin(), digest.end()};
}

bool constantTimeEquals(std::string_view a, std::string_view b) {
  // The length of a secret is not secret here (tokens have a fixed format).
  if (a.size() != b.size()) return false;
  return Botan::constant_time_compare(reinterpret_cast<const std::uint8_t*>(a.data()),
                                      reinterpret_cast<const std::uint8_t*>(b.data()), a.size());
}

std::string hex(const std::uint8_t* data, std::size_t size) {
  return Botan::hex_encode(data, size, false);
}

}  // namespace hydra::crypto
