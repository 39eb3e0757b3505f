// Calls in flight per key (broker/proxy/in_flight.hpp): the bound, release, moves, threads.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "broker/proxy/in_flight.hpp"

using hydra::broker::proxy::InFlight;

TEST_CASE("in flight: at most max slots per key, released on destruction") {
  InFlight in_flight;
  auto a = in_flight.tryEnter("g", 2);
  auto b = in_flight.tryEnter("g", 2);
  REQUIRE(a);
  REQUIRE(b);
  CHECK_FALSE(in_flight.tryEnter("g", 2));
  CHECK(in_flight.count("g") == 2);
  CHECK(in_flight.tryEnter("other", 2));  // another key is bounded on its own
  a.reset();
  CHECK(in_flight.count("g") == 1);
  CHECK(in_flight.tryEnter("g", 2));
  b.reset();
  CHECK(in_flight.count("g") == 0);
  CHECK(in_flight.keys() == 0);  // no memory for keys with nothing in flight
  CHECK_FALSE(in_flight.tryEnter("g", 0));
}

TEST_CASE("in flight: a slot moved releases once, a slot assigned over releases the old one") {
  InFlight in_flight;
  auto a = in_flight.tryEnter("g", 5);
  REQUIRE(a);
  {
    InFlight::Slot moved(std::move(*a));
    a.reset();  // the moved-from slot releases nothing
    CHECK(in_flight.count("g") == 1);
  }
  CHECK(in_flight.count("g") == 0);
  auto x = in_flight.tryEnter("x", 5);
  auto y = in_flight.tryEnter("y", 5);
  REQUIRE(x);
  REQUIRE(y);
  *x = std::move(*y);
  CHECK(in_flight.count("x") == 0);
  CHECK(in_flight.count("y") == 1);
  y.reset();
  CHECK(in_flight.count("y") == 1);
  x.reset();
  CHECK(in_flight.count("y") == 0);
}

TEST_CASE("in flight: a slot may outlive its InFlight") {
  std::optional<InFlight::Slot> slot;
  {
    InFlight in_flight;
    slot = in_flight.tryEnter("g", 1);
    REQUIRE(slot);
  }
  slot.reset();
}

TEST_CASE("in flight: concurrent callers never exceed the maximum") {
  InFlight in_flight;
  std::atomic<int> inside{0}, most{0}, entered{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        if (auto slot = in_flight.tryEnter("g", 3)) {
          ++entered;
          const int now = ++inside;
          int seen = most.load();
          while (now > seen && !most.compare_exchange_weak(seen, now)) {
          }
          --inside;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(most.load() <= 3);
  CHECK(entered.load() > 0);
  CHECK(in_flight.count("g") == 0);
  CHECK(in_flight.keys() == 0);
}
