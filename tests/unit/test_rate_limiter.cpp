// Per-grant token buckets (broker/proxy/rate_limiter.hpp): burst, refill, rounding, limit
// changes, the memory bound, threads, and the RateLimit fields.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "broker/proxy/rate_limiter.hpp"

using hydra::broker::GrantRateLimit;
using hydra::broker::proxy::RateDecision;
using hydra::broker::proxy::RateLimiter;
using hydra::broker::proxy::rateLimitHeaders;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {
const RateLimiter::Clock::time_point t0{seconds(1000)};
}

TEST_CASE("rate limiter: a full bucket allows a burst of `requests`, then refuses") {
  RateLimiter limiter;
  const GrantRateLimit limit{600, 60};
  const auto first = limiter.take("g", limit, t0);
  CHECK(first.allowed);
  CHECK(first.remaining == 599);
  CHECK(first.reset_seconds == 0);
  CHECK(first.retry_after_seconds == 0);
  for (int i = 2; i < 600; ++i) REQUIRE(limiter.take("g", limit, t0).allowed);
  const auto last = limiter.take("g", limit, t0);
  CHECK(last.allowed);
  CHECK(last.remaining == 0);
  CHECK(last.reset_seconds == 1);  // one call every 0.1 s, rounded up
  const auto refused = limiter.take("g", limit, t0);
  CHECK_FALSE(refused.allowed);
  CHECK(refused.remaining == 0);
  CHECK(refused.retry_after_seconds == 1);
  CHECK(refused.reset_seconds == 1);
  // 0.1 s later, exactly one more.
  CHECK(limiter.take("g", limit, t0 + milliseconds(100)).allowed);
  CHECK_FALSE(limiter.take("g", limit, t0 + milliseconds(100)).allowed);
}

TEST_CASE("rate limiter: refill at requests/per_seconds, never above capacity") {
  RateLimiter limiter;
  const GrantRateLimit limit{10, 60};  // one every 6 s
  for (int i = 0; i < 10; ++i) REQUIRE(limiter.take("g", limit, t0).allowed);
  CHECK(limiter.take("g", limit, t0).retry_after_seconds == 6);
  const auto almost = limiter.take("g", limit, t0 + milliseconds(5999));
  CHECK_FALSE(almost.allowed);
  CHECK(almost.retry_after_seconds == 1);  // 1 ms, rounded up to a whole second
  const auto refilled = limiter.take("g", limit, t0 + seconds(6));
  CHECK(refilled.allowed);
  CHECK(refilled.remaining == 0);
  CHECK(refilled.reset_seconds == 6);
  // Idle for an hour: full again, no more.
  const auto idle = limiter.take("g", limit, t0 + seconds(3600));
  CHECK(idle.allowed);
  CHECK(idle.remaining == 9);
}

TEST_CASE("rate limiter: Retry-After rounds up, refused calls take nothing, remaining is never negative") {
  RateLimiter limiter;
  const GrantRateLimit limit{1, 7};
  REQUIRE(limiter.take("g", limit, t0).allowed);
  for (int i = 0; i < 100; ++i) {
    const auto d = limiter.take("g", limit, t0 + milliseconds(500));
    CHECK_FALSE(d.allowed);
    CHECK(d.remaining == 0);
    CHECK(d.retry_after_seconds == 7);  // 6.5 s
  }
  // The refusals consumed nothing: the call is allowed when the first one said.
  CHECK(limiter.take("g", limit, t0 + seconds(7)).allowed);
  // A fraction of a call is not a call.
  const GrantRateLimit three{3, 1};
  for (int i = 0; i < 3; ++i) REQUIRE(limiter.take("h", three, t0).allowed);
  const auto partial = limiter.take("h", three, t0 + milliseconds(300));  // 0.9 of a call
  CHECK_FALSE(partial.allowed);
  CHECK(partial.retry_after_seconds == 1);
  CHECK(limiter.take("h", three, t0 + milliseconds(334)).allowed);
}

TEST_CASE("rate limiter: keys are independent, and an earlier time refills nothing") {
  RateLimiter limiter;
  const GrantRateLimit limit{1, 60};
  CHECK(limiter.take("a", limit, t0).allowed);
  CHECK(limiter.take("b", limit, t0).allowed);
  CHECK_FALSE(limiter.take("a", limit, t0 - seconds(100)).allowed);
  CHECK_FALSE(limiter.take("a", limit, t0 + seconds(59)).allowed);
  CHECK(limiter.take("a", limit, t0 + seconds(60)).allowed);
}

TEST_CASE("rate limiter: a changed limit takes effect at once, with at most the calls the bucket held") {
  RateLimiter limiter;
  for (int i = 0; i < 100; ++i) REQUIRE(limiter.take("g", {600, 60}, t0).allowed);
  // Lowered: capacity 10, and 500 held: 10 (this call included).
  const auto lowered = limiter.take("g", {10, 60}, t0);
  CHECK(lowered.allowed);
  CHECK(lowered.remaining == 9);
  for (int i = 0; i < 9; ++i) REQUIRE(limiter.take("g", {10, 60}, t0).allowed);
  CHECK_FALSE(limiter.take("g", {10, 60}, t0).allowed);
  // Raised: nothing held, so no new burst; it fills at the new rate (one per 0.1 s).
  CHECK_FALSE(limiter.take("g", {600, 60}, t0).allowed);
  CHECK(limiter.take("g", {600, 60}, t0 + milliseconds(100)).allowed);
  // A change of period alone is a change too.
  CHECK_FALSE(limiter.take("g", {600, 6000}, t0 + milliseconds(100)).allowed);
}

TEST_CASE("rate limiter: the largest limits stay exact, out-of-range values are clamped") {
  RateLimiter limiter;
  const GrantRateLimit largest{1000000, 86400};
  const auto d = limiter.take("g", largest, t0);
  CHECK(d.allowed);
  CHECK(d.remaining == 999999);
  // A year idle: full, not overflowed.
  CHECK(limiter.take("g", largest, t0 + seconds(365 * 86400)).remaining == 999999);
  CHECK(limiter.take("z", {0, 0}, t0).allowed);  // as 1 per second
  CHECK_FALSE(limiter.take("z", {0, 0}, t0).allowed);
}

TEST_CASE("rate limiter: at most max_keys buckets, the least recently used dropped") {
  RateLimiter limiter(3);
  const GrantRateLimit limit{1, 60};
  for (const char* key : {"a", "b", "c", "d", "e"}) CHECK(limiter.take(key, limit, t0).allowed);
  CHECK(limiter.size() == 3);
  CHECK_FALSE(limiter.take("e", limit, t0).allowed);  // kept: still empty
  CHECK(limiter.take("a", limit, t0).allowed);        // dropped: starts full again
}

TEST_CASE("rate limiter: concurrent takes never allow more than the bucket holds") {
  RateLimiter limiter;
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        if (limiter.take("g", {600, 86400}, t0).allowed) ++allowed;
        limiter.take("other" + std::to_string(i % 7), {5, 1}, t0);
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(allowed.load() == 600);
}

TEST_CASE("rate limiter: the RateLimit-Policy and RateLimit fields, Retry-After only on refusal") {
  const GrantRateLimit limit{600, 60};
  RateDecision ok;
  ok.allowed = true;
  ok.remaining = 599;
  using Headers = std::vector<std::pair<std::string, std::string>>;
  CHECK(rateLimitHeaders(limit, ok) ==
        Headers{{"RateLimit-Policy", "\"grant\";q=600;w=60"}, {"RateLimit", "\"grant\";r=599;t=0"}});
  RateDecision refused;
  refused.reset_seconds = 1;
  refused.retry_after_seconds = 1;
  CHECK(rateLimitHeaders(limit, refused) == Headers{{"RateLimit-Policy", "\"grant\";q=600;w=60"},
                                                    {"RateLimit", "\"grant\";r=0;t=1"},
                                                    {"Retry-After", "1"}});
}
