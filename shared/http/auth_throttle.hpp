#pragma once
// Failed authentications per peer address, as a token bucket: a peer may present `burst` keys
// that fail, then one per `refill` interval; past that a key never seen is refused (429,
// Retry-After) before anything is looked up, so garbage keys cannot flood the database or the
// audit trail. Keys already looked up are remembered by their hash (never the key), bounded
// (`max_keys`, least recently used forgotten): one known bad is refused (401) at once and counts
// no more, so a revoked runtime retrying in a loop costs nothing and spends one unit of its
// address's budget; one known valid is never refused because others failed from its address,
// but its refusals (403/404, each a lookup) have a budget of their own. Callers behind one
// address (a NAT, a proxy not in HYDRA_TRUSTED_PROXIES) share one budget for new keys. Verdicts
// and refusals are forgotten when keys may have changed (keysChanged). Memory is bounded (`max_peers`).

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

#include "shared/cache/lru_map.hpp"

namespace hydra::http {

class AuthThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Verdict { unknown, bad, valid };

  AuthThrottle(int burst, Clock::duration refill, std::size_t max_peers = 100000, std::size_t max_keys = 100000)
      : burst_(burst), refill_(refill), max_peers_(max_peers), verdicts_(max_keys) {}

  /// What may happen before a key is looked up, by the rules above in their order.
  struct Admission {
    enum Kind { look_up, known_bad, key_waits, peer_waits } kind;
    int retry_after_seconds = 0;  // key_waits, peer_waits
  };
  /// For a request from `peer` presenting the key with hash `key_hash` (null: no key).
  Admission admit(const std::string& peer, const std::string* key_hash, Clock::time_point now);

  /// What the last lookup of the key with this hash found (`key_hash`: its SHA-256, raw bytes).
  Verdict verdict(const std::string& key_hash);
  /// Seconds `peer` must wait before presenting a key never seen, or 0 if it may try now.
  int retryAfterSeconds(const std::string& peer, Clock::time_point now);
  /// Counts a failed authentication of `peer` that presented no key.
  void failed(const std::string& peer, Clock::time_point now);
  /// The key failed: remembered as bad; counts against `peer` unless it was known bad already.
  void failed(const std::string& peer, const std::string& key_hash, Clock::time_point now);
  /// The key was found live.
  void valid(const std::string& key_hash);
  /// Seconds the valid key must wait before its next lookup, after too many refusals.
  int keyRetryAfterSeconds(const std::string& key_hash, Clock::time_point now);
  /// Counts a refusal (403/404) of a valid key.
  void refused(const std::string& key_hash, Clock::time_point now);
  /// Keys or what they may reach may have changed (revoked, expiry moved, a grant made): forget
  /// every verdict and every valid key's refusals.
  void keysChanged();

 private:
  struct Bucket {
    double tokens;
    Clock::time_point updated;
  };
  using Buckets = std::unordered_map<std::string, Bucket>;
  double tokensAt(const Bucket& bucket, Clock::time_point now) const;
  int waitLocked(const Buckets& buckets, const std::string& id, Clock::time_point now) const;
  void takeLocked(Buckets& buckets, const std::string& id, Clock::time_point now);

  const int burst_;
  const Clock::duration refill_;
  const std::size_t max_peers_;
  std::mutex mutex_;
  Buckets peers_;
  Buckets keys_;  // refusals of valid keys
  cache::LruMap<Verdict> verdicts_;
};

}  // namespace hydra::http
