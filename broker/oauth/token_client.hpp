#pragma once
// A provider's token endpoint, with timeouts: a refresh (RFC 6749 section 6) and an
// authorization code's exchange (section 4.1.3, the connect flow of issue 20).

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

#include "broker/providers/registry.hpp"

namespace hydra::broker::oauth {

struct TokenGrant {
  std::string access_token, token_type;
  std::optional<double> expires_in;
  std::optional<std::string> refresh_token;  // absent: keep the old one
};

/// The provider refused the refresh token (invalid_grant, or a 400/401 that names no other
/// cause): the customer's grant is dead, and retrying cannot help.
struct RefreshRejected : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The provider refused the request for another reason it named (invalid_client,
/// unauthorized_client, ...): the OAuth client's configuration, not the customer's grant, is
/// wrong. Retrying cannot help, and the connection is not to blame.
struct ClientRejected : std::runtime_error {
  ClientRejected(const std::string& what, std::string error) : std::runtime_error(what), error(std::move(error)) {}
  std::string error;  // the provider's error code ("invalid_client", ...), empty if none
};

/// Timeouts, refused connections, 5xx, 429: worth another try later. `maybe_consumed` is set
/// when the request may have reached the provider without its answer reaching us: a provider
/// that rotates refresh tokens may then have used the token up.
struct RefreshUnavailable : std::runtime_error {
  RefreshUnavailable(const std::string& what, bool maybe_consumed)
      : std::runtime_error(what), maybe_consumed(maybe_consumed) {}
  bool maybe_consumed;
};

struct ClientCredentials {
  std::string client_id, client_secret;
};

/// Sets up TLS for token requests (certificate verification against the system's CAs, an
/// invalid certificate is refused). Call once before the first request.
void initializeTls();

/// Posts grant_type=refresh_token within `timeout` (connect, send and each receive). The
/// provider's own words in the exceptions' what() are escaped and bounded (log::escape): they
/// go to logs and to the connection's error_message.
TokenGrant requestRefresh(const providers::Provider& provider, const ClientCredentials& client, const std::string& refresh_token,
                          std::chrono::milliseconds timeout);

/// Posts grant_type=authorization_code (code, redirect_uri, code_verifier when given) with the
/// same request, rules and exceptions as requestRefresh: an invalid_grant (code used, expired,
/// or its verifier or redirect_uri wrong) is RefreshRejected, a refused client ClientRejected,
/// anything worth another try RefreshUnavailable.
TokenGrant requestAuthorizationCode(const providers::Provider& provider, const ClientCredentials& client,
                                    const std::string& code, const std::optional<std::string>& code_verifier,
                                    const std::string& redirect_uri, std::chrono::milliseconds timeout);

/// What a token endpoint's answer means: the grant for a 200 with a JSON object holding a
/// non-empty access_token; otherwise throws RefreshRejected or ClientRejected (400, 401) or
/// RefreshUnavailable (anything else), as requestRefresh does. `body` is the provider's text,
/// already bounded by the caller (requestRefresh reads at most 64 KiB).
TokenGrant tokenGrantFromResponse(int status, const std::string& body);

}  // namespace hydra::broker::oauth
