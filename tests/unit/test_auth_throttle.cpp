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

TEST_CASE("auth throttle: a key found bad counts once, a key found valid never waits for others' failures") {
  AuthThrottle throttle(3, 1s);
  const AuthThrottle::Clock::time_point t0{std::chrono::hours(1)};
  CHECK(throttle.verdict("revoked") == AuthThrottle::Verdict::unknown);
  throttle.valid("live");
  for (int i = 0; i < 1000; ++i) throttle.failed("10.0.0.1", "revoked", t0);
  CHECK(throttle.verdict("revoked") == AuthThrottle::Verdict::bad);
  CHECK(throttle.retryAfterSeconds("10.0.0.1", t0) == 0);  // two new keys may still be tried
  throttle.failed("10.0.0.1", "garbage1", t0);
  throttle.failed("10.0.0.1", "garbage2", t0);
  CHECK(throttle.retryAfterSeconds("10.0.0.1", t0) == 1);  // new keys wait
  CHECK(throttle.verdict("live") == AuthThrottle::Verdict::valid);
  CHECK(throttle.keyRetryAfterSeconds("live", t0) == 0);  // the valid key does not
}

TEST_CASE("auth throttle: refusals of a valid key have a budget per key") {
  AuthThrottle throttle(2, 1s);
  const AuthThrottle::Clock::time_point t0{std::chrono::hours(1)};
  throttle.refused("k1", t0);
  throttle.refused("k1", t0);
  CHECK(throttle.keyRetryAfterSeconds("k1", t0) == 1);
  CHECK(throttle.keyRetryAfterSeconds("k2", t0) == 0);
  CHECK(throttle.retryAfterSeconds("k1", t0) == 0);  // not an address's budget
  CHECK(throttle.keyRetryAfterSeconds("k1", t0 + 1s) == 0);
  throttle.refused("k1", t0);
  throttle.refused("k1", t0);
  throttle.keysChanged();  // a grant made may allow it now
  CHECK(throttle.keyRetryAfterSeconds("k1", t0) == 0);
}

TEST_CASE("auth throttle: verdicts are bounded and forgotten when keys change") {
  AuthThrottle throttle(3, 1s, 10, 2);
  const AuthThrottle::Clock::time_point t0{std::chrono::hours(1)};
  throttle.failed("p", "a", t0);
  throttle.valid("b");
  throttle.failed("p", "c", t0);  // forgets a, the least recently used
  CHECK(throttle.verdict("a") == AuthThrottle::Verdict::unknown);
  CHECK(throttle.verdict("c") == AuthThrottle::Verdict::bad);
  throttle.keysChanged();
  CHECK(throttle.verdict("b") == AuthThrottle::Verdict::unknown);
  CHECK(throttle.verdict("c") == AuthThrottle::Verdict::unknown);
  throttle.failed("p", "c", t0);  // found bad again: counts again
  CHECK(throttle.retryAfterSeconds("p", t0) == 1);
}

TEST_CASE("auth throttle: admit applies the rules in order: known bad, a valid key's own budget, the address's") {
  const auto t0 = AuthThrottle::Clock::now();
  AuthThrottle throttle(1, 1s);
  using Admission = AuthThrottle::Admission;
  const std::string bad = "bad", live = "live", fresh = "fresh";
  CHECK(throttle.admit("p", &fresh, t0).kind == Admission::look_up);
  throttle.failed("p", bad, t0);  // the address's one unit spent
  CHECK(throttle.admit("p", &bad, t0).kind == Admission::known_bad);
  const auto waits = throttle.admit("p", &fresh, t0);
  CHECK(waits.kind == Admission::peer_waits);
  CHECK(waits.retry_after_seconds == 1);
  CHECK(throttle.admit("p", nullptr, t0).kind == Admission::peer_waits);
  throttle.valid(live);
  CHECK(throttle.admit("p", &live, t0).kind == Admission::look_up);  // others' failures do not count
  throttle.refused(live, t0);
  const auto own = throttle.admit("p", &live, t0);
  CHECK(own.kind == Admission::key_waits);
  CHECK(own.retry_after_seconds == 1);
  CHECK(throttle.admit("p", &live, t0 + 1s).kind == Admission::look_up);
}
