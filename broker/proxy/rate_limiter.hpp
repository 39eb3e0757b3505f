#pragma once
// Per-grant rate limits of proxied calls (a grant's optional rate_limit: at most `requests`
// calls per `per_seconds`), enforced by each broker on its own with a token bucket: up to
// `requests` calls at once, then one more every per_seconds/requests. Answered with the IETF
// httpapi RateLimit fields in their structured-field form (draft-ietf-httpapi-ratelimit-headers
// 08 and later): RateLimit-Policy: "grant";q=600;w=60 and RateLimit: "grant";r=599;t=0, and
// Retry-After on a 429.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "broker/services/decision.hpp"
#include "shared/cache/lru_map.hpp"

namespace hydra::broker::proxy {

struct RateDecision {
  bool allowed = false;
  /// Whole calls left now, after this one if it was allowed: never negative.
  std::int64_t remaining = 0;
  /// Seconds until more quota is made available (the RateLimit field's t): 0 while some is
  /// left, else until the next call is allowed, rounded up.
  std::int64_t reset_seconds = 0;
  /// When refused: whole seconds until a call will be allowed (>= 1, rounded up); else 0.
  std::int64_t retry_after_seconds = 0;
};

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  /// At most `max_keys` buckets are kept; when full, the one used least recently is dropped.
  /// A bucket unused for its period is full again, so with more keys than grants calling within
  /// their periods, dropping one changes nothing; below that, a dropped key starts full.
  explicit RateLimiter(std::size_t max_keys = 100000) : buckets_(max_keys) {}

  /// Takes one call from `key`'s bucket (key: whatever identifies a grant, e.g. connection id +
  /// instance id) if it holds one, refilling it first for the time since its last use. A bucket
  /// whose limit changed (the grant was updated) continues with at most the whole calls it held,
  /// and at most the new capacity. The limit's values are clamped to what the control plane
  /// accepts (requests 1..1,000,000, per_seconds 1..86,400), which keeps the arithmetic exact in
  /// 64 bits. `now`: for tests; times earlier than a bucket's last use count as that time.
  RateDecision take(const std::string& key, const GrantRateLimit& limit, Clock::time_point now);
  RateDecision take(const std::string& key, const GrantRateLimit& limit) { return take(key, limit, Clock::now()); }

  /// Buckets kept now.
  std::size_t size() const;

 private:
  struct Bucket {
    std::int64_t requests = 0, period_us = 0;  // the limit it was filled for
    std::int64_t credits = 0;  // one call = period_us credits; refill = requests credits per µs
    Clock::time_point last;
  };
  mutable std::mutex mutex_;
  cache::LruMap<Bucket> buckets_;
};

/// The response fields for a decision under `limit`: RateLimit-Policy and RateLimit, and
/// Retry-After when the call was refused. The policy is named "grant".
std::vector<std::pair<std::string, std::string>> rateLimitHeaders(const GrantRateLimit& limit,
                                                                  const RateDecision& decision);

}  // namespace hydra::broker::proxy
