#include "broker/proxy/in_flight.hpp"

namespace hydra::broker::proxy {

InFlight::Slot& InFlight::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    release();
    counts_ = std::move(other.counts_);
    key_ = std::move(other.key_);
  }
  return *this;
}

void InFlight::Slot::release() noexcept {
  if (!counts_) return;
  {
    std::lock_guard<std::mutex> lock(counts_->mutex);
    const auto it = counts_->by_key.find(key_);
    // Erased at zero: only keys with calls in flight take memory.
    if (it != counts_->by_key.end() && --it->second == 0) counts_->by_key.erase(it);
  }
  counts_.reset();
}

std::optional<InFlight::Slot> InFlight::tryEnter(const std::string& key, std::size_t max) {
  std::lock_guard<std::mutex> lock(counts_->mutex);
  auto it = counts_->by_key.find(key);
  const std::size_t current = it == counts_->by_key.end() ? 0 : it->second;
  if (current >= max) return std::nullopt;
  if (it == counts_->by_key.end()) {
    counts_->by_key.emplace(key, 1);
  } else {
    ++it->second;
  }
  return Slot(counts_, key);
}

std::size_t InFlight::count(const std::string& key) const {
  std::lock_guard<std::mutex> lock(counts_->mutex);
  const auto it = counts_->by_key.find(key);
  return it == counts_->by_key.end() ? 0 : it->second;
}

std::size_t InFlight::keys() const {
  std::lock_guard<std::mutex> lock(counts_->mutex);
  return counts_->by_key.size();
}

}  // namespace hydra::broker::proxy
