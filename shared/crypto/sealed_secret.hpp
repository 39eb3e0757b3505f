#pragma once
// What the control plane stores and the broker opens: credentials encrypted with HPKE
// (RFC 9180, base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM) to one
// broker public key.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::crypto {

/// One encrypted credential blob. `key_id` names the recipient key so keys can be rotated;
/// `ciphertext` is the HPKE encapsulated key (32 bytes) followed by the AEAD ciphertext.
struct SealedSecret {
  std::string key_id;
  std::vector<std::uint8_t> ciphertext;
};

/// The associated data that binds a credential ciphertext to its database row: a ciphertext
/// copied onto another connection or customer no longer opens.
std::string connectionAad(std::string_view customer_id, std::string_view connection_id);
/// The same for a customer's OAuth client secret (oauth_clients) and for a connect session's
/// authorization code and PKCE verifier (connect_sessions): each its own purpose, so no
/// ciphertext of one kind opens as another.
std::string oauthClientAad(std::string_view customer_id, std::string_view oauth_client_id);
std::string connectSessionAad(std::string_view customer_id, std::string_view session_id);

/// A stable identifier of an X25519 public key (raw 32 bytes), stored beside each ciphertext.
std::string keyIdOf(const std::vector<std::uint8_t>& public_key);

}  // namespace hydra::crypto
