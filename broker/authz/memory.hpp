#pragma once
// What fetches need, remembered between requests, and the rules that keep it current (see
// broker/DESIGN.md for the argument):
//  - it is used only while the last tick that came back on the change listener's connection was
//    sent less than B (HYDRA_AUTHZ_STALENESS_MS) ago: every change committed before that tick
//    has then been applied here;
//  - each applied change gets a number and marks its customer's stripe; an entry is used only
//    while no change of its customer's stripe came after its database load began, so a load
//    that raced a change is never used for a later request;
//  - the listener's (re)connection, and a TRUNCATE of a table a fetch reads, count as a change
//    of every customer;
//  - an entry is used for at most its maximum age (HYDRA_AUTHZ_MAX_AGE_SECONDS) after its load
//    began: changes that send no notification (triggers disabled, session_replication_role =
//    replica, a restore) are seen by then at the latest.
// It only ever says "allowed": refusals are decided from the database (services/fetch.cpp).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "broker/services/decision.hpp"
#include "shared/cache/lru_map.hpp"

namespace hydra::broker::authz {

/// What a remembered lookup answers: the proxy key (its SHA-256), the request's instance,
/// provider and name (the capability is checked per request) and, with runtime identity, the
/// certificate (an entry never serves another certificate's request).
std::string memoryKey(const std::vector<std::uint8_t>& key_hash, const FetchQuery& query,
                      const identity::RuntimeIdentity* runtime = nullptr);

class Memory {
 public:
  using Clock = std::chrono::steady_clock;

  /// `capacity` 0: nothing is remembered. `max_age`: how long after its load began an entry
  /// may be used.
  Memory(std::size_t capacity, std::chrono::milliseconds staleness, std::chrono::seconds max_age);

  // The change listener (one thread), in the order it receives them.
  void customerChanged(std::string_view customer_id);
  /// A change of every customer (a TRUNCATE): forgets every entry.
  void allCustomersChanged();
  /// The listener's (re)connection: forgets every entry, and memory is unusable until a tick
  /// sent from now on returns.
  void everythingChanged();
  void tickReturned(Clock::time_point sent_at);

  /// Whether memory may be used at `now`.
  bool current(Clock::time_point now) const;

  /// The remembered lookup for `key`, if memory is current, nothing of its customer changed
  /// since it was loaded and it is younger than the maximum age.
  std::shared_ptr<const Lookup> find(const std::string& key, Clock::time_point now);

  /// Read before a database lookup starts; pass it to remember() with its result.
  std::uint64_t loadStarting() const { return changes_.load(); }

  /// Keeps a database lookup that can serve fetches (an unrevoked key with exactly one granted
  /// connection), unless a change of its customer arrived since `load_started`. Its age counts
  /// from `load_began` (the time the database lookup started).
  void remember(const std::string& key, std::shared_ptr<const Lookup> lookup, std::uint64_t load_started,
                Clock::time_point load_began);

  std::size_t size() const;

 private:
  struct Entry {
    std::shared_ptr<const Lookup> lookup;
    std::uint64_t loaded_at;
    Clock::time_point load_began;
  };
  bool unchangedSince(std::string_view customer_id, std::uint64_t load_started) const;

  const Clock::duration staleness_;
  const Clock::duration max_age_;

  std::atomic<std::uint64_t> changes_{0};
  std::vector<std::atomic<std::uint64_t>> stripes_;  // the last change of the customers hashing there
  std::atomic<std::uint64_t> everything_changed_{0};
  std::atomic<Clock::rep> last_tick_sent_;

  mutable std::mutex mutex_;
  cache::LruMap<Entry> entries_;
};

}  // namespace hydra::broker::authz
