#pragma once
// The connect flow's texts, as pure functions (unit-tested without a database): the sealed code
// the control plane stores at the callback (docs: interface 3), the credentials JSON the
// exchange seals into the connection, and the bound on a session's error.

#include <ctime>
#include <optional>
#include <stdexcept>
#include <string>

#include "broker/oauth/token_client.hpp"

namespace hydra::broker {

/// {"code", "code_verifier"?, "redirect_uri"} as the control plane seals it.
struct SealedCode {
  std::string code, redirect_uri;
  std::optional<std::string> code_verifier;  // none: the provider takes no PKCE
};

/// Throws std::invalid_argument (a message naming no value) unless `text` is a JSON object with
/// non-empty `code` and `redirect_uri` strings; an empty `code_verifier` is none.
SealedCode parseSealedCode(const std::string& text);

/// The credentials JSON an oauth2 connection made through the API holds (README, "oauth2
/// credentials"), so that the refresher and the fetch read it as any other: access_token,
/// token_type, refresh_token, expires_at (RFC 3339, from expires_in at `now`, also returned in
/// `expires_at`) and, with the customer's own client, its client_id and client_secret (the
/// refresher then uses that client; a fetch never releases the secret or the refresh token).
std::string exchangedCredentials(const oauth::TokenGrant& grant, const std::optional<oauth::ClientCredentials>& own_client,
                                 std::time_t now, std::optional<std::string>& expires_at);

/// connect_sessions.error holds at most 1024 characters: `text` (valid UTF-8, e.g. log::escape's
/// output) cut at a character boundary and marked "..." when longer.
std::string boundedSessionError(std::string text);

}  // namespace hydra::broker
