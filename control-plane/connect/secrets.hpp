#pragma once
// The connect flow's secrets: the link's token, the OAuth state, the browser's cookie and the
// PKCE verifier. Each is 32 random bytes in base64url (no padding) from the system RNG; the
// database holds SHA-256 hashes of the first three (crypto::tokenHash) and nothing of the
// verifier, which is derived again at the callback (pkceVerifier).

#include <string>
#include <string_view>

namespace hydra::cp::connect {

/// 32 random bytes, base64url without padding (43 characters).
std::string newRandomValue();

/// The PKCE code_verifier for a flow: base64url(HMAC-SHA256(key = the browser's cookie value,
/// "hydra-connect-pkce-v1\n" + state)), 43 characters of RFC 7636's alphabet. Nothing stores it:
/// the callback has the cookie (from the browser) and the state (from the provider's redirect)
/// and derives it again. The database holds only hashes of both, so reading it (or the
/// control plane's role) gives no verifier, and the provider sees only the challenge.
std::string pkceVerifier(std::string_view cookie, std::string_view state);

/// RFC 7636 S256: base64url(SHA-256(verifier)) without padding.
std::string pkceChallenge(std::string_view verifier);

/// Unpadded base64url.
std::string base64Url(const unsigned char* data, std::size_t size);

}  // namespace hydra::cp::connect
