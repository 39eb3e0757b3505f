// The broker's memory: used only while a recent tick proves it current (a fake clock here), and
// never with an entry that a change of its customer may have made stale (the raced-load rule),
// nor with one older than the maximum age.
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
  Memory memory(100, 200ms, 60s);
  CHECK_FALSE(memory.current(kT0));  // no tick yet
  memory.remember("k", servable(), memory.loadStarting(), kT0);
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
  Memory memory(100, 200ms, 60s);
  memory.tickReturned(kT0);
  memory.remember("k", servable(), memory.loadStarting(), kT0);
  REQUIRE(static_cast<bool>(memory.find("k", kT0)));
  const auto load_before = memory.loadStarting();
  memory.everythingChanged();
  CHECK_FALSE(memory.current(kT0));
  memory.tickReturned(kT0);  // the new connection's first tick
  CHECK_FALSE(static_cast<bool>(memory.find("k", kT0)));
  CHECK(memory.size() == 0u);
  memory.remember("k", servable(), load_before, kT0);  // loaded before the reconnection: not kept
  CHECK_FALSE(static_cast<bool>(memory.find("k", kT0)));
  memory.remember("k", servable(), memory.loadStarting(), kT0);
  CHECK(static_cast<bool>(memory.find("k", kT0)));
}

TEST_CASE("authz memory: a load that raced a change of its customer is not kept, other customers are") {
  Memory memory(100, 200ms, 60s);
  memory.tickReturned(kT0);
  const auto started = memory.loadStarting();
  memory.customerChanged(kCustomer);  // arrives while the load is under way
  memory.remember("raced", servable(), started, kT0);
  CHECK_FALSE(static_cast<bool>(memory.find("raced", kT0)));
  memory.remember("other", servable(kOtherCustomer), started, kT0);
  CHECK(static_cast<bool>(memory.find("other", kT0)));
  memory.remember("after", servable(), memory.loadStarting(), kT0);
  CHECK(static_cast<bool>(memory.find("after", kT0)));
}

TEST_CASE("authz memory: a change of its customer after an entry was kept retires it") {
  Memory memory(100, 200ms, 60s);
  memory.tickReturned(kT0);
  memory.remember("k", servable(), memory.loadStarting(), kT0);
  memory.remember("other", servable(kOtherCustomer), memory.loadStarting(), kT0);
  memory.customerChanged(kCustomer);
  CHECK_FALSE(static_cast<bool>(memory.find("k", kT0)));
  CHECK(static_cast<bool>(memory.find("other", kT0)));
}

TEST_CASE("authz memory: an entry is used for at most its maximum age after its load began") {
  // Changes that send no notification (session_replication_role = replica, a restore) are seen
  // by the next load at the latest: memory stays current all along here, only the age retires it.
  Memory memory(100, 200ms, 60s);
  memory.remember("k", servable(), memory.loadStarting(), kT0);
  memory.remember("slow", servable(), memory.loadStarting(), kT0 - 5s);  // a load that took 5 s
  memory.tickReturned(kT0 + 59s);
  CHECK(static_cast<bool>(memory.find("k", kT0 + 59s)));
  CHECK_FALSE(static_cast<bool>(memory.find("slow", kT0 + 59s)));  // its age counts from the load's start
  memory.tickReturned(kT0 + 60s);
  CHECK_FALSE(static_cast<bool>(memory.find("k", kT0 + 60s)));
  CHECK(memory.size() == 0);  // retired, not merely skipped
  memory.remember("k", servable(), memory.loadStarting(), kT0 + 60s);  // loaded again: used again
  CHECK(static_cast<bool>(memory.find("k", kT0 + 60s)));
}

TEST_CASE("authz memory: only a live key with exactly one connection is kept, within capacity") {
  Memory memory(2, 200ms, 60s);
  memory.tickReturned(kT0);
  auto unknown = std::make_shared<Lookup>();
  memory.remember("unknown", unknown, memory.loadStarting(), kT0);
  auto ambiguous = std::make_shared<Lookup>(*servable());
  ambiguous->candidates.emplace_back();
  memory.remember("ambiguous", ambiguous, memory.loadStarting(), kT0);
  auto none = std::make_shared<Lookup>(*servable());
  none->candidates.clear();
  memory.remember("none", none, memory.loadStarting(), kT0);
  CHECK(memory.size() == 0u);

  memory.remember("a", servable(), memory.loadStarting(), kT0);
  memory.remember("b", servable(), memory.loadStarting(), kT0);
  CHECK(static_cast<bool>(memory.find("a", kT0)));  // now the most recently used
  memory.remember("c", servable(), memory.loadStarting(), kT0);
  CHECK(memory.size() == 2u);
  CHECK_FALSE(static_cast<bool>(memory.find("b", kT0)));  // least recently used went first
  CHECK(static_cast<bool>(memory.find("a", kT0)));
  CHECK(Memory(0, 200ms, 60s).size() == 0u);
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

TEST_CASE("authz memory: with runtime identity an entry is its certificate's alone") {
  const std::vector<std::uint8_t> hash(32, 7);
  const FetchQuery q{"i", "gmail", std::nullopt, std::nullopt};
  const hydra::broker::identity::RuntimeIdentity first{"c", "i", std::string(32, '\x01')};
  auto second = first;
  second.certificate_sha256 = std::string(32, '\x02');  // the same identity, another certificate
  CHECK(authz::memoryKey(hash, q, &first) != authz::memoryKey(hash, q, &second));
  CHECK(authz::memoryKey(hash, q, &first) != authz::memoryKey(hash, q));
  CHECK(authz::memoryKey(hash, q, &first) == authz::memoryKey(hash, q, &first));
}
