#include "broker/authz/memory.hpp"

#include <functional>

namespace hydra::broker::authz {
namespace {

constexpr std::size_t kStripes = 4096;

void append(std::string& out, std::string_view part) {
  out += std::to_string(part.size());
  out += ':';
  out += part;
}

}  // namespace

std::string memoryKey(const std::vector<std::uint8_t>& key_hash, const FetchQuery& query,
                      const identity::RuntimeIdentity* runtime) {
  // Length-prefixed parts: no two requests share a key, whatever bytes their values hold.
  std::string key;
  append(key, std::string_view(reinterpret_cast<const char*>(key_hash.data()), key_hash.size()));
  append(key, query.instance_id);
  append(key, query.provider);
  key += query.name ? '=' : '-';
  if (query.name) append(key, *query.name);
  key += runtime ? '=' : '-';
  if (runtime) append(key, runtime->certificate_sha256);
  return key;
}

Memory::Memory(std::size_t capacity, std::chrono::milliseconds staleness, std::chrono::seconds max_age)
    : staleness_(staleness),
      max_age_(max_age),
      stripes_(kStripes),
      last_tick_sent_(Clock::time_point::min().time_since_epoch().count()),
      entries_(capacity) {}

void Memory::customerChanged(std::string_view customer_id) {
  const auto change = ++changes_;
  stripes_[std::hash<std::string_view>{}(customer_id) % kStripes].store(change);
}

void Memory::allCustomersChanged() {
  everything_changed_.store(++changes_);
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.clear();
}

void Memory::everythingChanged() {
  last_tick_sent_.store(Clock::time_point::min().time_since_epoch().count());
  everything_changed_.store(++changes_);
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.clear();
}

void Memory::tickReturned(Clock::time_point sent_at) { last_tick_sent_.store(sent_at.time_since_epoch().count()); }

bool Memory::current(Clock::time_point now) const {
  const Clock::time_point sent{Clock::duration(last_tick_sent_.load())};
  return sent != Clock::time_point::min() && now - sent < staleness_;
}

bool Memory::unchangedSince(std::string_view customer_id, std::uint64_t load_started) const {
  return everything_changed_.load() <= load_started &&
         stripes_[std::hash<std::string_view>{}(customer_id) % kStripes].load() <= load_started;
}

std::shared_ptr<const Lookup> Memory::find(const std::string& key, Clock::time_point now) {
  if (!current(now)) return nullptr;
  std::lock_guard<std::mutex> lock(mutex_);
  const auto* entry = entries_.find(key);
  if (entry == nullptr) return nullptr;
  if (!unchangedSince(entry->lookup->customer_id, entry->loaded_at) || now - entry->load_began >= max_age_) {
    entries_.erase(key);
    return nullptr;
  }
  return entry->lookup;
}

void Memory::remember(const std::string& key, std::shared_ptr<const Lookup> lookup, std::uint64_t load_started,
                      Clock::time_point load_began) {
  const bool servable = lookup->key_found && lookup->candidates.size() == 1;
  if (!servable || !unchangedSince(lookup->customer_id, load_started)) return;
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.put(key, Entry{std::move(lookup), load_started, load_began});
}

std::size_t Memory::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return entries_.size();
}

}  // namespace hydra::broker::authz
