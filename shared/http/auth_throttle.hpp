#pragma once
// Failed authentications per peer address, as a token bucket: a peer may fail `burst` times in a
// row, then once per `refill` interval; past that it is refused (429, Retry-After) before anything
// is looked up, so garbage keys cannot flood the database or the audit trail. Other peers are
// unaffected; so are the broker's fetches this peer makes with keys its memory holds (no lookup).
// Its other requests wait with the rest: callers behind one address (a NAT, a proxy not in
// HYDRA_TRUSTED_PROXIES) share one budget. Memory is bounded (`max_peers`).

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace hydra::http {

class AuthThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  AuthThrottle(int burst, Clock::duration refill, std::size_t max_peers = 100000)
      : burst_(burst), refill_(refill), max_peers_(max_peers) {}

  /// Seconds `peer` must wait before its next attempt, or 0 if it may try now.
  int retryAfterSeconds(const std::string& peer, Clock::time_point now);
  /// Counts a failed authentication of `peer`.
  void failed(const std::string& peer, Clock::time_point now);

 private:
  struct Bucket {
    double tokens;
    Clock::time_point updated;
  };
  double tokensAt(const Bucket& bucket, Clock::time_point now) const;

  const int burst_;
  const Clock::duration refill_;
  const std::size_t max_peers_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace hydra::http
