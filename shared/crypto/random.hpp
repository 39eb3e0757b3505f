#pragma once
// Randomness and secret tokens (API keys, proxy keys), all from Botan's System_RNG.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::crypto {

std::vector<std::uint8_t> randomBytes(std::size_t n);

/// A new bearer secret: `prefix` followed by 256 random bits in unpadded base64url, so
/// secret scanners can recognise it by its prefix (e.g. "hck_").
std::string newSecretToken(std::string_view prefix);

/// What is stored instead of a secret token: SHA-256 of it. The token carries 256 bits of
/// entropy, so a fast hash is enough; a slow password hash would add nothing.
std::vector<std::uint8_t> tokenHash(std::string_view token);

/// Compares two secrets in time independent of where they differ.
bool constantTimeEquals(std::string_view a, std::string_view b);

/// Lower-case hex, for request ids and key ids.
std::string hex(const std::uint8_t* data, std::size_t size);

}  // namespace hydra::crypto
