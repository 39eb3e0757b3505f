// The control plane's revocation wait (services/revocation.hpp): actions run no earlier than B
// after they were handed over, even when the delay is being destroyed, and each customer has a
// bounded number of places.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "control-plane/services/revocation.hpp"

using hydra::cp::RevocationDelay;
using Clock = std::chrono::steady_clock;

namespace {
// Slot is opaque: doctest cannot print it, so checks name whether a place was given.
bool given(const std::shared_ptr<RevocationDelay::Slot>& slot) { return slot != nullptr; }
}  // namespace

TEST_CASE("revocation delay: a customer has at most its bound of places, freed when dropped, others apart") {
  RevocationDelay delay(std::chrono::milliseconds(10), 3);
  std::vector<std::shared_ptr<RevocationDelay::Slot>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(delay.reserve("a"));
    REQUIRE(given(held.back()));
  }
  CHECK_FALSE(given(delay.reserve("a")));
  CHECK(given(delay.reserve("b")));  // dropped at once
  held.pop_back();
  auto again = delay.reserve("a");
  CHECK(given(again));
  CHECK_FALSE(given(delay.reserve("a")));
}

TEST_CASE("revocation delay: actions run after B, and destroying the delay still waits each out") {
  std::atomic<int> ran{0};
  std::atomic<bool> early{false};
  const auto staleness = std::chrono::milliseconds(150);
  {
    RevocationDelay delay(staleness);
    for (int i = 0; i < 5; ++i) {
      const auto handed = Clock::now();
      auto slot = delay.reserve("c");
      delay.afterWait([&, handed, slot] {
        if (Clock::now() - handed < staleness) early = true;
        ++ran;
      });
    }
    CHECK(ran.load() == 0);
  }  // the destructor returns only once every action ran
  CHECK(ran.load() == 5);
  CHECK_FALSE(early.load());
}

TEST_CASE("revocation delay: a place is freed once its action has run") {
  RevocationDelay delay(std::chrono::milliseconds(500), 1);  // long enough that the check below comes first
  auto slot = delay.reserve("d");
  REQUIRE(given(slot));
  delay.afterWait([slot] {});
  slot.reset();
  CHECK_FALSE(given(delay.reserve("d")));  // still held by the pending action
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  std::shared_ptr<RevocationDelay::Slot> freed;
  while (!freed && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    freed = delay.reserve("d");
  }
  CHECK(given(freed));
}
