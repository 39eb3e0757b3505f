// The broker's memory: used only while a recent tick proves it current (a fake clock here), and
// never with an entry that a change of its customer may have made stale (the raced-load rule).
#include <doctest/doctest.h>

#include "broker/authz/memory.hpp"

using namespace hydra::broker;
using authz::Memory;
using namespace std::chrono_literals;

namespace {

const std::string kCustomer = "0473b088-4267-4c93-bd9f-82b8ef17caa1";
const std::string kOtherCustomer = "9d6c1c6e-1b7e-4b8a-9a57-5b0e6f1c2d3e";
const Memory::Clock::time_point kT0{std::chrono::hours(1000)};

std::shared_ptr<const Lookup> servable(const std::string& customer = kCustomer) {
  auto l = std::make_shared<Lookup>();
  l->key_found = true;
  l->customer_id = customer;
  l->candidates.emplace_back();
  return l;
}

}  // namespace

TEST_CASE("authz memory: used only while the last returned tick was sent less than B ago") {
  Memory memory(100, 200ms);
  CHECK_FALSE(memory.current(kT0));  // no tick yet
  memory.remember("k", servable(), memory.loadStarting());
  CHECK_FALSE(static_cast<bool>(memory.find("k", kT0)));

  memory.tickReturned(kT0);
  CHECK(memory.current(kT0));
  CHECK(memory.current(kT0 + 199ms));
  CHECK(static_cast<bool>(memory.find("k", kT0 + 199ms)));
  CHECK_FALSE(memory.current(kT0 + 200ms));
  CHECK_FALSE(static_cast<bool>(memory.find("k", kT0 + 200ms)));

  memory.tickReturned(kT0 + 150ms);  // a later tick extends it
  CHECK(memory.current(kT0 + 300ms));
  CHECK_FALSE(memory.current(kT0 + 350ms));
}

TEST_CASE("authz memory: a lost listener makes memory unusable at once and forgets everything") {
  Memory memory(100, 200ms);
  memory.tickReturned(kT0);
  memory.remember("k", servable(), memory.loadStarting());
  REQUIRE(static_cast<bool>(memory.find("k", kT0)));
  const auto load_before = memory.loadStarting();
  memory.everythingChanged();
  CHECK_FALSE(memory.current(kT0));
  memory.tickReturned(kT0);  // the new connection's first tick
  CHECK_FALSE(static_cast<bool>(memory.find("k", kT0)));
  CHECK(memory.size() == 0u);
  memory.remember("k", servable(), load_before);  // loaded before the reconnection: not kept
  CHECK_FALSE(static_cast<bool>(memory.find("k", kT0)));
  memory.remember("k", servable(), memory.loadStarting());
  CHECK(static_cast<bool>(memory.find("k", kT0)));
}

TEST_CASE("authz memory: a load that raced a change of its customer is not kept, other customers are") {
  Memory memory(100, 200ms);
  memory.tickReturned(kT0);
  const auto started = memory.loadStarting();
  memory.customerChanged(kCustomer);  // arrives while the load is under way
  memory.remember("raced", servable(), started);
  CHECK_FALSE(static_cast<bool>(memory.find("raced", kT0)));
  memory.remember("other", servable(kOtherCustomer), started);
  CHECK(static_cast<bool>(memory.find("other", kT0)));
  memory.remember("after", servable(), memory.loadStarting());
  CHECK(static_cast<bool>(memory.find("after", kT0)));
}

TEST_CASE("authz memory: a change of its customer after an entry was kept retires it") {
  Memory memory(100, 200ms);
  memory.tickReturned(kT0);
  memory.remember("k", servable(), memory.loadStarting());
  memory.remember("other", servable(kOtherCustomer), memory.loadStarting());
  memory.customerChanged(kCustomer);
  CHECK_FALSE(static_cast<bool>(memory.find("k", kT0)));
  CHECK(static_cast<bool>(memory.find("other", kT0)));
}

TEST_CASE("authz memory: only a live key with exactly one connection is kept, within capacity") {
  Memory memory(2, 200ms);
  memory.tickReturned(kT0);
  auto unknown = std::make_shared<Lookup>();
  memory.remember("unknown", unknown, memory.loadStarting());
  auto ambiguous = std::make_shared<Lookup>(*servable());
  ambiguous->candidates.emplace_back();
  memory.remember("ambiguous", ambiguous, memory.loadStarting());
  auto none = std::make_shared<Lookup>(*servable());
  none->candidates.clear();
  memory.remember("none", none, memory.loadStarting());
  CHECK(memory.size() == 0u);

  memory.remember("a", servable(), memory.loadStarting());
  memory.remember("b", servable(), memory.loadStarting());
  CHECK(static_cast<bool>(memory.find("a", kT0)));  // now the most recently used
  memory.remember("c", servable(), memory.loadStarting());
  CHECK(memory.size() == 2u);
  CHECK_FALSE(static_cast<bool>(memory.find("b", kT0)));  // least recently used went first
  CHECK(static_cast<bool>(memory.find("a", kT0)));
  CHECK(Memory(0, 200ms).size() == 0u);
}

TEST_CASE("authz memory: keys of different requests never collide") {
  const std::vector<std::uint8_t> hash(32, 7);
  FetchQuery a{"i", "x\n=y", std::nullopt, std::nullopt};
  FetchQuery b{"i", "x", std::string("y\n-"), std::nullopt};
  CHECK(authz::memoryKey(hash, a) != authz::memoryKey(hash, b));
  FetchQuery c{"i", "gmail", std::string(""), std::nullopt};
  FetchQuery d{"i", "gmail", std::nullopt, std::nullopt};
  CHECK(authz::memoryKey(hash, c) != authz::memoryKey(hash, d));
}
