#include <doctest/doctest.h>

#include "shared/cache/lru_map.hpp"

using hydra::cache::LruMap;

TEST_CASE("lru map: when full, the entry used least recently is forgotten") {
  LruMap<int> map(2);
  map.put("a", 1);
  map.put("b", 2);
  REQUIRE(map.find("a") != nullptr);  // a is now the most recently used
  map.put("c", 3);
  CHECK(map.size() == 2);
  CHECK(map.find("b") == nullptr);
  CHECK(*map.find("a") == 1);
  CHECK(*map.find("c") == 3);
}

TEST_CASE("lru map: put replaces the value and counts as a use") {
  LruMap<int> map(2);
  map.put("a", 1);
  map.put("b", 2);
  map.put("a", 10);
  map.put("c", 3);
  CHECK(map.size() == 2);
  CHECK(*map.find("a") == 10);
  CHECK(map.find("b") == nullptr);
}

TEST_CASE("lru map: erase, clear, and capacity 0 keeps nothing") {
  LruMap<int> map(3);
  map.put("a", 1);
  map.put("b", 2);
  map.erase("a");
  map.erase("missing");
  CHECK(map.find("a") == nullptr);
  CHECK(map.size() == 1);
  map.put("c", 3);
  map.put("d", 4);
  map.put("e", 5);  // b is the oldest left
  CHECK(map.find("b") == nullptr);
  map.clear();
  CHECK(map.size() == 0);
  map.put("f", 6);
  CHECK(*map.find("f") == 6);

  LruMap<int> none(0);
  none.put("a", 1);
  CHECK(none.size() == 0);
  CHECK(none.find("a") == nullptr);
}
