// The background refresh's pass order and pacing (broker/services/refresh_schedule.hpp).
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "broker/services/refresh_schedule.hpp"

using hydra::broker::DueConnection;
using hydra::broker::fairOrder;
using hydra::broker::RefreshSchedule;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> ids(const std::vector<DueConnection>& connections) {
  std::vector<std::string> out;
  for (const auto& c : connections) out.push_back(c.id);
  return out;
}

}  // namespace

TEST_CASE("fairOrder: a customer with thousands of due connections does not push others back") {
  std::vector<DueConnection> due;
  for (int i = 0; i < 1000; ++i) due.push_back({"a" + std::to_string(i), "flooder", "gmail"});  // most urgent
  due.push_back({"b0", "bob", "gmail"});
  due.push_back({"c0", "carol", "xero"});
  due.push_back({"b1", "bob", "gmail"});
  const auto order = fairOrder(due);
  REQUIRE(order.size() == due.size());
  CHECK(ids({order.begin(), order.begin() + 6}) == std::vector<std::string>{"a0", "b0", "c0", "a1", "b1", "a2"});
  CHECK(order.back().id == "a999");
}

TEST_CASE("fairOrder: a customer's providers take turns, and order within a provider is kept") {
  const std::vector<DueConnection> due{{"g1", "c", "gmail"}, {"g2", "c", "gmail"}, {"g3", "c", "gmail"},
                                       {"x1", "c", "xero"}, {"d1", "c", "deputy"}};
  CHECK(ids(fairOrder(due)) == std::vector<std::string>{"g1", "x1", "d1", "g2", "g3"});
  CHECK(fairOrder({}).empty());
}

TEST_CASE("RefreshSchedule: at most per_provider attempts of one provider run at once, others go ahead") {
  const auto t0 = RefreshSchedule::Clock::now();
  RefreshSchedule s({{"s1", "a", "stalled"}, {"s2", "b", "stalled"}, {"s3", "c", "stalled"}, {"g1", "d", "gmail"}}, 2, 60s);
  CHECK(s.next(t0)->id == "s1");
  CHECK(s.next(t0)->id == "s2");
  CHECK(s.next(t0)->id == "g1");  // s3 waits: its provider is at its limit
  CHECK_FALSE(s.next(t0).has_value());
  CHECK_FALSE(s.empty());
  s.finished("stalled");
  CHECK(s.next(t0 + 1s)->id == "s3");
  CHECK(s.empty());
}

TEST_CASE("RefreshSchedule: a provider that used its share of the pass is dropped until the next pass") {
  const auto t0 = RefreshSchedule::Clock::now();
  RefreshSchedule s({{"s1", "a", "slow"}, {"s2", "a", "slow"}, {"s3", "a", "slow"}, {"g1", "b", "gmail"}}, 1, 60s);
  CHECK(s.next(t0)->id == "s1");
  CHECK(s.next(t0)->id == "g1");
  s.finished("slow");
  CHECK(s.next(t0 + 30s)->id == "s2");  // within its budget
  s.finished("slow");
  CHECK_FALSE(s.next(t0 + 61s).has_value());  // budget spent: s3 is dropped
  CHECK(s.empty());
  CHECK(s.dropped() == 1);
}
