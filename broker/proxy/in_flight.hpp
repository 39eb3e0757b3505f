#pragma once
// Bounds on proxied calls in flight at once, per key (a grant's, a connection's: just keys): a
// call holds a Slot for as long as it runs, and beyond a key's maximum is refused (the caller
// answers 429 with Retry-After). Thread-safe; memory is one entry per key with calls in flight.

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace hydra::broker::proxy {

class InFlight {
  struct Counts {
    std::mutex mutex;
    std::unordered_map<std::string, std::size_t> by_key;
  };

 public:
  /// One call in flight under a key, until destroyed (or moved from). May outlive its InFlight.
  class Slot {
   public:
    Slot(Slot&& other) noexcept = default;
    Slot& operator=(Slot&& other) noexcept;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() { release(); }

   private:
    friend class InFlight;
    Slot(std::shared_ptr<Counts> counts, std::string key) : counts_(std::move(counts)), key_(std::move(key)) {}
    void release() noexcept;
    std::shared_ptr<Counts> counts_;  // null once released or moved from
    std::string key_;
  };

  InFlight() : counts_(std::make_shared<Counts>()) {}

  /// A slot if fewer than `max` calls are in flight under `key` (`max` 0: never).
  std::optional<Slot> tryEnter(const std::string& key, std::size_t max);

  /// Calls in flight under `key` now.
  std::size_t count(const std::string& key) const;
  /// Keys with calls in flight now.
  std::size_t keys() const;

 private:
  std::shared_ptr<Counts> counts_;
};

}  // namespace hydra::broker::proxy
