// Failed authentications per peer: a burst, then one per refill interval; other peers unaffected.
#include <doctest/doctest.h>

#include "shared/http/auth_throttle.hpp"

using hydra::http::AuthThrottle;
using namespace std::chrono_literals;

TEST_CASE("auth throttle: a peer may fail a burst of times, then waits, others are unaffected") {
  AuthThrottle throttle(3, 1s);
  const AuthThrottle::Clock::time_point t0{std::chrono::hours(1)};
  for (int i = 0; i < 3; ++i) {
    CHECK(throttle.retryAfterSeconds("10.0.0.1", t0) == 0);
    throttle.failed("10.0.0.1", t0);
  }
  CHECK(throttle.retryAfterSeconds("10.0.0.1", t0) == 1);
  CHECK(throttle.retryAfterSeconds("10.0.0.2", t0) == 0);
  CHECK(throttle.retryAfterSeconds("10.0.0.1", t0 + 1s) == 0);  // one more attempt a second
  throttle.failed("10.0.0.1", t0 + 1s);
  CHECK(throttle.retryAfterSeconds("10.0.0.1", t0 + 1500ms) == 1);
}

TEST_CASE("auth throttle: memory is bounded, forgetting refilled peers first") {
  AuthThrottle throttle(2, 1s, 2);
  const AuthThrottle::Clock::time_point t0{std::chrono::hours(1)};
  throttle.failed("a", t0);
  throttle.failed("a", t0);
  throttle.failed("b", t0);
  throttle.failed("c", t0 + 10s);  // b (and a) have refilled by now
  CHECK(throttle.retryAfterSeconds("c", t0 + 10s) == 0);
  throttle.failed("c", t0 + 10s);
  CHECK(throttle.retryAfterSeconds("c", t0 + 10s) == 1);
}
