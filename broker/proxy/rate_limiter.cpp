#include "broker/proxy/rate_limiter.hpp"

#include <algorithm>

namespace hydra::broker::proxy {
namespace {

constexpr std::int64_t kMaxRequests = 1000000;
constexpr std::int64_t kMaxPeriodSeconds = 86400;
constexpr std::int64_t kMicrosPerSecond = 1000000;

// Credits are integers: one call costs period_us credits and the bucket gains `requests` credits
// per microsecond, so a full bucket (requests * period_us <= 10^6 * 8.64 * 10^10) fits in 64 bits
// and no rounding ever grants a call early.
std::int64_t ceilDiv(std::int64_t a, std::int64_t b) { return a <= 0 ? 0 : (a + b - 1) / b; }

}  // namespace

RateDecision RateLimiter::take(const std::string& key, const GrantRateLimit& limit, Clock::time_point now) {
  const auto requests = std::clamp<std::int64_t>(limit.requests, 1, kMaxRequests);
  const auto period_us = std::clamp<std::int64_t>(limit.per_seconds, 1, kMaxPeriodSeconds) * kMicrosPerSecond;
  const auto capacity = requests * period_us;

  std::lock_guard<std::mutex> lock(mutex_);
  auto* bucket = buckets_.find(key);
  if (bucket == nullptr) {
    buckets_.put(key, Bucket{requests, period_us, capacity, now});
    bucket = buckets_.find(key);
  } else if (bucket->requests != requests || bucket->period_us != period_us) {
    // The whole calls it held, never more than the new capacity: a lowered limit gives no new
    // burst, a raised one fills at its own rate.
    const auto calls = bucket->credits / bucket->period_us;
    bucket->credits = std::min(capacity, calls * period_us);
    bucket->requests = requests;
    bucket->period_us = period_us;
  }
  if (now > bucket->last) {
    // Capped at one period: by then the bucket is full, and the product stays in range.
    const auto elapsed_us = std::min<std::int64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(now - bucket->last).count(), period_us);
    bucket->credits = std::min(capacity, bucket->credits + elapsed_us * requests);
    bucket->last = now;
  }

  RateDecision decision;
  decision.allowed = bucket->credits >= period_us;
  if (decision.allowed) bucket->credits -= period_us;
  decision.remaining = bucket->credits / period_us;
  if (decision.remaining == 0) {
    const auto wait_us = ceilDiv(period_us - bucket->credits, requests);
    decision.reset_seconds = std::max<std::int64_t>(1, ceilDiv(wait_us, kMicrosPerSecond));
  }
  if (!decision.allowed) decision.retry_after_seconds = decision.reset_seconds;
  return decision;
}

std::size_t RateLimiter::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return buckets_.size();
}

std::vector<std::pair<std::string, std::string>> rateLimitHeaders(const GrantRateLimit& limit,
                                                                  const RateDecision& decision) {
  std::vector<std::pair<std::string, std::string>> headers{
      {"RateLimit-Policy", "\"grant\";q=" + std::to_string(limit.requests) + ";w=" + std::to_string(limit.per_seconds)},
      {"RateLimit", "\"grant\";r=" + std::to_string(decision.remaining) + ";t=" + std::to_string(decision.reset_seconds)}};
  if (!decision.allowed) headers.emplace_back("Retry-After", std::to_string(decision.retry_after_seconds));
  return headers;
}

}  // namespace hydra::broker::proxy
