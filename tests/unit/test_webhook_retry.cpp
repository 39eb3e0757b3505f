// Webhook retries: the schedule (Standard Webhooks' example, or the operator's), jitter,
// Retry-After, and what each answer means.
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

#include "control-plane/webhooks/retry_policy.hpp"
#include "shared/http/retry_after.hpp"

using namespace hydra::cp::webhooks;
using hydra::http::parseRetryAfter;  // shared/http: webhooks and the proxy read it alike

TEST_CASE("webhook retries: the default schedule is the specification's example") {
  CHECK(defaultRetrySchedule() == std::vector<int>{0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400});
}

TEST_CASE("webhook retries: HYDRA_WEBHOOK_RETRY_SCHEDULE syntax") {
  CHECK(parseRetrySchedule("0,1,1") == std::vector<int>{0, 1, 1});
  CHECK(parseRetrySchedule(" 0, 5 ,300") == std::vector<int>{0, 5, 300});
  CHECK(parseRetrySchedule("0") == std::vector<int>{0});
  CHECK(parseRetrySchedule("0,604800") == std::vector<int>{0, 604800});
  for (const char* bad : {"", ",", "0,,1", "-1", "1.5", "0,5s", "0,604801", "0,1,x", "0,9999999", "5,10", "1"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(parseRetrySchedule(bad), std::invalid_argument);
  }
  std::string fifty = "0";
  for (int i = 1; i < 50; ++i) fifty += ",1";
  CHECK(parseRetrySchedule(fifty).size() == 50);
  CHECK_THROWS_AS(parseRetrySchedule(fifty + ",1"), std::invalid_argument);
}

TEST_CASE("webhook retries: the next attempt follows the schedule within +-10% jitter, then none") {
  const auto& schedule = defaultRetrySchedule();
  CHECK(nextDelay(schedule, 1, 0.5) == doctest::Approx(5.0));
  CHECK(nextDelay(schedule, 1, 0.0) == doctest::Approx(4.5));
  CHECK(nextDelay(schedule, 1, 0.999999) == doctest::Approx(5.5).epsilon(0.001));
  CHECK(nextDelay(schedule, 2, 0.5) == doctest::Approx(300.0));
  CHECK(nextDelay(schedule, 9, 0.5) == doctest::Approx(86400.0));
  CHECK_FALSE(nextDelay(schedule, 10, 0.5).has_value());  // ten attempts made: no more
  CHECK_FALSE(nextDelay({0, 1, 1}, 3, 0.5).has_value());
  CHECK(nextDelay({0, 1, 1}, 2, 0.5) == doctest::Approx(1.0));
}

TEST_CASE("webhook retries: Retry-After is a floor, capped at a day") {
  CHECK(nextDelay({0, 1, 1}, 1, 0.5, 30) == doctest::Approx(30.0));
  CHECK(nextDelay({0, 300}, 1, 0.5, 2) == doctest::Approx(300.0));  // never sooner than the schedule
  CHECK(nextDelay({0, 1}, 1, 0.5, 10LL * 24 * 3600) == doctest::Approx(86400.0));
  CHECK_FALSE(nextDelay({0, 1}, 2, 0.5, 5).has_value());  // it does not add attempts
}

TEST_CASE("webhook retries: Retry-After values") {
  const std::time_t now = 1614265330;  // 2021-02-25T15:02:10Z
  CHECK(parseRetryAfter("120", now) == 120);
  CHECK(parseRetryAfter(" 0 ", now) == 0);
  CHECK(parseRetryAfter("Thu, 25 Feb 2021 15:03:10 GMT", now) == 60);
  CHECK(parseRetryAfter("Thu, 25 Feb 2021 15:00:00 GMT", now) == 0);  // in the past: now
  CHECK_FALSE(parseRetryAfter("", now).has_value());
  CHECK_FALSE(parseRetryAfter("soon", now).has_value());
  CHECK_FALSE(parseRetryAfter("-5", now).has_value());
}

TEST_CASE("webhook retries: what an answer means") {
  for (const int s : {200, 201, 202, 204, 299}) CHECK(verdictFor(s) == Verdict::kDelivered);
  for (const int s : {429, 500, 502, 503, 504, 599}) CHECK(verdictFor(s) == Verdict::kRetry);
  CHECK(verdictFor(410) == Verdict::kDisable);
  for (const int s : {100, 301, 302, 307, 308, 400, 401, 403, 404, 405, 413, 422}) {
    CAPTURE(s);
    CHECK(verdictFor(s) == Verdict::kFail);
  }
}
