#pragma once
// The fields of oauth2 credentials both binaries agree on: `expires_at` is stored as RFC 3339
// UTC text; `expires_in` (seconds, as token endpoints answer) is turned into it on the way in.

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace hydra::oauth {

/// "2026-11-28T03:00:00Z"
std::string formatTime(std::time_t t);
/// RFC 3339 text (any offset) to Unix seconds.
std::optional<std::time_t> parseTime(std::string_view text);

struct NormalizedCredentials {
  std::string credentials_json;
  std::optional<std::time_t> expires_at;  // of the access token, when known
};

/// For oauth2 credentials (a JSON object): `expires_in` becomes `expires_at` = now +
/// expires_in, and a numeric `expires_at` (Unix seconds) becomes RFC 3339 text. Throws
/// http::ValidationError at ["body", "credentials", <field>] for a value of the wrong kind.
NormalizedCredentials normalizeCredentials(const std::string& credentials_json, std::time_t now);

}  // namespace hydra::oauth
