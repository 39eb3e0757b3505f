#include "shared/http/auth_throttle.hpp"

#include <algorithm>
#include <cmath>

namespace hydra::http {

double AuthThrottle::tokensAt(const Bucket& bucket, Clock::time_point now) const {
  const double refilled = std::chrono::duration<double>(now - bucket.updated) / refill_;
  return std::min<double>(burst_, bucket.tokens + refilled);
}

int AuthThrottle::waitLocked(const Buckets& buckets, const std::string& id, Clock::time_point now) const {
  const auto it = buckets.find(id);
  if (it == buckets.end()) return 0;
  const auto tokens = tokensAt(it->second, now);
  if (tokens >= 1) return 0;
  const auto wait = std::chrono::duration<double>(refill_).count() * (1 - tokens);
  return std::max(1, static_cast<int>(std::ceil(wait)));
}

void AuthThrottle::takeLocked(Buckets& buckets, const std::string& id, Clock::time_point now) {
  auto it = buckets.find(id);
  if (it == buckets.end()) {
    if (buckets.size() >= max_peers_) {
      // Buckets that have refilled carry no information: forget them first.
      for (auto p = buckets.begin(); p != buckets.end();) {
        p = tokensAt(p->second, now) >= burst_ ? buckets.erase(p) : std::next(p);
      }
      if (buckets.size() >= max_peers_) buckets.erase(buckets.begin());
    }
    it = buckets.emplace(id, Bucket{static_cast<double>(burst_), now}).first;
  }
  it->second.tokens = std::max(0.0, tokensAt(it->second, now) - 1);
  it->second.updated = now;
}

AuthThrottle::Admission AuthThrottle::admit(const std::string& peer, const std::string* key_hash,
                                           Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (key_hash) {
    if (const auto* known = verdicts_.find(*key_hash)) {
      if (*known == Verdict::bad) return {Admission::known_bad};
      // A valid key never waits for others' failures, only for its own refusals.
      const int wait = waitLocked(keys_, *key_hash, now);
      return {wait ? Admission::key_waits : Admission::look_up, wait};
    }
  }
  const int wait = waitLocked(peers_, peer, now);
  return {wait ? Admission::peer_waits : Admission::look_up, wait};
}

AuthThrottle::Verdict AuthThrottle::verdict(const std::string& key_hash) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto* found = verdicts_.find(key_hash);
  return found ? *found : Verdict::unknown;
}

int AuthThrottle::retryAfterSeconds(const std::string& peer, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mutex_);
  return waitLocked(peers_, peer, now);
}

void AuthThrottle::failed(const std::string& peer, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mutex_);
  takeLocked(peers_, peer, now);
}

void AuthThrottle::failed(const std::string& peer, const std::string& key_hash, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto* known = verdicts_.find(key_hash);
  if (known && *known == Verdict::bad) return;  // counted when it was first found bad
  verdicts_.put(key_hash, Verdict::bad);
  takeLocked(peers_, peer, now);
}

void AuthThrottle::valid(const std::string& key_hash) {
  std::lock_guard<std::mutex> lock(mutex_);
  verdicts_.put(key_hash, Verdict::valid);
}

int AuthThrottle::keyRetryAfterSeconds(const std::string& key_hash, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mutex_);
  return waitLocked(keys_, key_hash, now);
}

void AuthThrottle::refused(const std::string& key_hash, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mutex_);
  takeLocked(keys_, key_hash, now);
}

void AuthThrottle::keysChanged() {
  std::lock_guard<std::mutex> lock(mutex_);
  verdicts_.clear();
  keys_.clear();  // a refused key may be allowed now (a grant made, an instance re-enabled)
}

}  // namespace hydra::http
