#pragma once
// Reading a peer's Retry-After (a webhook receiver's, a provider's answer to a proxied call).

#include <ctime>
#include <optional>
#include <string_view>

namespace hydra::http {

/// A value too long to be meant: what parseRetryAfter returns for one, more than any caller
/// honours (each clamps to its own maximum).
inline constexpr long long kRetryAfterTooLong = 999999999;

/// A Retry-After value: delay-seconds or an HTTP-date in IMF-fixdate form (RFC 9110 sections
/// 10.2.3 and 5.6.7), as seconds from `now` (0 for a date in the past); nullopt otherwise.
std::optional<long long> parseRetryAfter(std::string_view value, std::time_t now);

}  // namespace hydra::http
