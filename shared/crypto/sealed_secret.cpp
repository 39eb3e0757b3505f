#include "shared/crypto/sealed_secret.hpp"

#include <stdexcept>

#include <botan/hash.h>
#include <botan/hex.h>

namespace hydra::crypto {

std::string connectionAad(std::string_view customer_id, std::string_view connection_id) {
  // NUL separates the fields, so the encoding is unambiguous only if no id contains one.
  // UUIDs never do; anything else is a caller bug that must not bind to the wrong row.
  if (customer_id.find('\0') != std::string_view::npos ||
      connection_id.find('\0') != std::string_view::npos) {
    throw std::invalid_argument("connectionAad: id contains a NUL byte");
  }
  std::string aad("hydracore/connection/v1");
  aad.push_back('\0');
  aad.append(customer_id);
  aad.push_back('\0');
  aad.append(connection_id);
  return aad;
}

std::string keyIdOf(const std::vector<std::uint8_t>& public_key) {
  if (public_key.size() != 32) throw std::invalid_argument("keyIdOf: public key must be 32 bytes");
  auto sha = Botan::HashFunction::create_or_throw("SHA-256");
  const auto digest = sha->process(public_key);
  // 64 bits tell apart the handful of keys a broker holds; the id is a name, not a check:
  // HPKE binds the full public key into every ciphertext.
  return "x25519-" + Botan::hex_encode(digest.data(), 8, false);
}

}  // namespace hydra::crypto
