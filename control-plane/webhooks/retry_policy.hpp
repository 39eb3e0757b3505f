#pragma once
// When a delivery is tried again, and what an answer means. Pure functions (unit-tested).

#include <optional>
#include <string_view>
#include <vector>

namespace hydra::cp::webhooks {

/// Standard Webhooks' example schedule, in seconds before each attempt: immediately, 5 s,
/// 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h (ten attempts over about 3 days).
const std::vector<int>& defaultRetrySchedule();

/// HYDRA_WEBHOOK_RETRY_SCHEDULE: comma-separated whole seconds, 1 to 50 entries of 0..604800,
/// the first 0 (the first attempt is immediate). Throws std::invalid_argument.
std::vector<int> parseRetrySchedule(std::string_view text);

/// What an HTTP answer means for a delivery.
enum class Verdict {
  kDelivered,  // any 2xx
  kRetry,      // 5xx, 429 (and every failure without an answer: timeouts, network, refused addresses)
  kFail,       // anything else (other 4xx, 3xx: redirects are not followed): the receiver said no
  kDisable,    // 410 Gone: the endpoint is disabled
};
Verdict verdictFor(int status);

/// Seconds from now until the attempt after `attempts_made` attempts, or nullopt when the
/// schedule is used up. `jitter` in [0, 1) spreads retries by up to +-10% so that many
/// deliveries failing together do not come back together; `retry_after` (seconds, from a 429
/// or 503) is a floor: never earlier than the receiver asked, at most 24 h.
std::optional<double> nextDelay(const std::vector<int>& schedule, int attempts_made, double jitter,
                                std::optional<long long> retry_after = std::nullopt);

}  // namespace hydra::cp::webhooks
