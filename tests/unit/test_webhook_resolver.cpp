// Name resolution for webhook deliveries has a deadline (issue 18): a lookup that hangs (a
// receiver's DNS that never answers) costs a worker the deadline, not the resolver's minutes,
// and lookups given up on cannot pile up threads. A slow DNS server is not available offline, so
// the lookup here is one the test makes slow; the system's lookup is checked on localhost.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "shared/net/resolver.hpp"

using namespace hydra::net;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

/// A lookup that answers only once released (or after 30 s), like a DNS server that hangs.
struct Gate {
  std::mutex mutex;
  std::condition_variable cv;
  bool open = false;
  void release() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      open = true;
    }
    cv.notify_all();
  }
};

Lookup hangingUntil(const std::shared_ptr<Gate>& gate) {
  return [gate](const std::string&, std::string& error) {
    std::unique_lock<std::mutex> lock(gate->mutex);
    gate->cv.wait_for(lock, 30s, [&] { return gate->open; });
    error = "late";
    return std::vector<hydra::net::Address>{};
  };
}

}  // namespace

TEST_CASE("resolveWithin: a lookup that hangs is given up on at the deadline, as a failure") {
  auto gate = std::make_shared<Gate>();
  std::string error;
  const auto started = Clock::now();
  const auto found = resolveWithin("hangs.example", 300ms, error, nullptr, hangingUntil(gate));
  const auto took = Clock::now() - started;
  gate->release();
  CHECK(found.empty());
  CHECK(error == "cannot resolve hangs.example: no answer within 300 ms");
  CHECK(took >= 300ms);
  CHECK(took < 5s);  // generous under load; the lookup itself would take 30 s
}

TEST_CASE("resolveWithin: lookups still hanging are bounded, and beyond the bound a lookup fails at once") {
  auto gate = std::make_shared<Gate>();
  for (int i = 0; i < kMaxLookupsInFlight; ++i) {
    std::string error;
    CHECK(resolveWithin("hangs.example", 1ms, error, nullptr, hangingUntil(gate)).empty());
  }
  std::string error;
  const auto started = Clock::now();
  CHECK(resolveWithin("localhost", 5s, error).empty());
  CHECK(Clock::now() - started < 1s);
  CHECK(error.find("too many lookups still running") != std::string::npos);
  gate->release();
  // Released lookups end and free their places: the system's lookup runs again.
  const auto until = Clock::now() + 10s;
  std::vector<hydra::net::Address> found;
  while (found.empty() && Clock::now() < until) {
    found = resolveWithin("localhost", 5s, error);
    if (found.empty()) std::this_thread::sleep_for(20ms);
  }
  REQUIRE_FALSE(found.empty());
  bool loopback = false;
  for (const auto& a : found)
    loopback = loopback || hydra::net::toString(a) == "127.0.0.1" || hydra::net::toString(a) == "::1";
  CHECK(loopback);
}

TEST_CASE("resolveWithin: a stop ends the wait before the deadline") {
  auto gate = std::make_shared<Gate>();
  std::atomic<bool> stopping{false};
  std::thread stopper([&] {
    std::this_thread::sleep_for(200ms);
    stopping = true;
  });
  std::string error;
  const auto started = Clock::now();
  const auto found = resolveWithin("hangs.example", 30s, error, &stopping, hangingUntil(gate));
  const auto took = Clock::now() - started;
  stopper.join();
  gate->release();
  CHECK(found.empty());
  CHECK(error == "cannot resolve hangs.example: stopped (shutting down)");
  CHECK(took < 5s);
}
