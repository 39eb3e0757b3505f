#pragma once
// Standard Webhooks 1.0 signatures: the secret a customer sees ("whsec_" + base64 of the key),
// and the webhook-signature header, "v1," + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <botan/secmem.h>

namespace hydra::cp::webhooks {

using SigningKey = Botan::secure_vector<std::uint8_t>;

/// A new key: 32 random bytes.
SigningKey newSigningKey();

/// "whsec_" + base64(key): what the customer's receiver is configured with.
std::string encodeSecret(const SigningKey& key);

/// The key of a "whsec_..." secret; throws std::invalid_argument if it is not one.
SigningKey decodeSecret(std::string_view secret);

/// "v1," + base64(HMAC-SHA256(key, "{webhook_id}.{timestamp}.{body}")).
std::string sign(const SigningKey& key, std::string_view webhook_id, long long timestamp, std::string_view body);

/// The webhook-signature header: one signature per key, space-separated (several during a
/// secret rotation), the current key's first.
std::string signatureHeader(const std::vector<SigningKey>& keys, std::string_view webhook_id, long long timestamp,
                            std::string_view body);

}  // namespace hydra::cp::webhooks
