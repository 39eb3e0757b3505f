#include "shared/crypto/sealed_secret.hpp"

#include <stdexcept>

#include <botan/hash.h>
#include <botan/hex.h>

namespace hydra::crypto {

namespace {

// "hydracore/<purpose>/v1" NUL customer NUL row. NUL separates the fields, so the encoding is
// unambiguous only if no id contains one. UUIDs never do; anything else is a caller bug that
// must not bind to the wrong row.
std::string rowAad(const char* purpose, std::string_view customer_id, std::string_view row_id) {
  if (customer_id.find('\0') != std::string_view::npos || row_id.find('\0') != std::string_view::npos) {
    throw std::invalid_argument(std::string(purpose) + " AAD: id contains a NUL byte");
  }
  std::string aad = std::string("hydracore/") + purpose + "/v1";
  aad.push_back('\0');
  aad.append(customer_id);
  aad.push_back('\0');
  aad.append(row_id);
  return aad;
}

}  // namespace

std::string connectionAad(std::string_view customer_id, std::string_view connection_id) {
  return rowAad("connection", customer_id, connection_id);
}

std::string oauthClientAad(std::string_view customer_id, std::string_view oauth_client_id) {
  return rowAad("oauth-client", customer_id, oauth_client_id);
}

std::string connectSessionAad(std::string_view customer_id, std::string_view session_id) {
  return rowAad("connect-session", customer_id, session_id);
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
