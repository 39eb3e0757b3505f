#include "shared/http/auth_throttle.hpp"

#include <algorithm>
#include <cmath>

namespace hydra::http {

double AuthThrottle::tokensAt(const Bucket& bucket, Clock::time_point now) const {
  const double refilled = std::chrono::duration<double>(now - bucket.updated) / refill_;
  return std::min<double>(burst_, bucket.tokens + refilled);
}

int AuthThrottle::retryAfterSeconds(const std::string& peer, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = buckets_.find(peer);
  if (it == buckets_.end()) return 0;
  const auto tokens = tokensAt(it->second, now);
  if (tokens >= 1) return 0;
  const auto wait = std::chrono::duration<double>(refill_).count() * (1 - tokens);
  return std::max(1, static_cast<int>(std::ceil(wait)));
}

void AuthThrottle::failed(const std::string& peer, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = buckets_.find(peer);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_peers_) {
      // Peers whose bucket has refilled carry no information: forget them first.
      for (auto p = buckets_.begin(); p != buckets_.end();) {
        p = tokensAt(p->second, now) >= burst_ ? buckets_.erase(p) : std::next(p);
      }
      if (buckets_.size() >= max_peers_) buckets_.erase(buckets_.begin());
    }
    it = buckets_.emplace(peer, Bucket{static_cast<double>(burst_), now}).first;
  }
  it->second.tokens = std::max(0.0, tokensAt(it->second, now) - 1);
  it->second.updated = now;
}

}  // namespace hydra::http
