#pragma once
// A map of at most `capacity` entries that, when full, forgets the one used least recently.
// Not synchronized: its owner locks. Each key is stored once: the recency list points at the
// map's own keys (their nodes never move), so a large map costs no second copy of every key.

#include <cstddef>
#include <list>
#include <string>
#include <unordered_map>

namespace hydra::cache {

template <typename Value>
class LruMap {
 public:
  /// `capacity` 0: nothing is kept.
  explicit LruMap(std::size_t capacity) : capacity_(capacity) {}

  /// The value for `key`, now the most recently used; nullptr if there is none.
  Value* find(const std::string& key) {
    const auto it = slots_.find(key);
    if (it == slots_.end()) return nullptr;
    recency_.splice(recency_.begin(), recency_, it->second.recency);
    return &it->second.value;
  }

  /// Keeps `value` for `key` (replacing any), as the most recently used.
  void put(const std::string& key, Value value) {
    if (capacity_ == 0) return;
    if (auto* kept = find(key)) {
      *kept = std::move(value);
      return;
    }
    while (slots_.size() >= capacity_) {
      const auto oldest = slots_.find(*recency_.back());
      recency_.pop_back();
      slots_.erase(oldest);
    }
    const auto it = slots_.emplace(key, Slot{std::move(value), {}}).first;
    recency_.push_front(&it->first);
    it->second.recency = recency_.begin();
  }

  void erase(const std::string& key) {
    const auto it = slots_.find(key);
    if (it == slots_.end()) return;
    recency_.erase(it->second.recency);
    slots_.erase(it);
  }

  void clear() {
    slots_.clear();
    recency_.clear();
  }

  std::size_t size() const { return slots_.size(); }

 private:
  struct Slot {
    Value value;
    typename std::list<const std::string*>::iterator recency;
  };
  const std::size_t capacity_;
  std::unordered_map<std::string, Slot> slots_;
  std::list<const std::string*> recency_;  // most recently used first
};

}  // namespace hydra::cache
