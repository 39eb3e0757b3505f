#pragma once
// Brokers serve fetches from memory that is proven current only to within B
// (HYDRA_AUTHZ_STALENESS_MS; broker/DESIGN.md). So after a route that removes or narrows a
// runtime's access has done its database work, the control plane waits B before it answers -
// whatever the answer (done, 404 from a concurrent revoke, 500 with the commit's outcome
// unknown): no fetch that starts after the answer, on any broker, is served from the state
// before the change. Additions need no wait: brokers confirm every refusal from the database.
//
// The wait holds no server thread: answers are handed to one thread that runs each when its
// deadline comes (handlers/narrowing.hpp). Each customer may have a bounded number of waits
// pending, so one customer's stream of narrowing changes cannot grow the queue without end.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

namespace hydra::cp {

/// Pending waits one customer may have before further narrowing changes are refused (429).
constexpr std::size_t kMaxRevocationWaitsPerCustomer = 16;

class RevocationDelay {
 public:
  explicit RevocationDelay(std::chrono::milliseconds staleness,
                           std::size_t max_waits_per_customer = kMaxRevocationWaitsPerCustomer);
  /// Runs every pending action, each no earlier than its deadline, then stops.
  ~RevocationDelay();
  RevocationDelay(const RevocationDelay&) = delete;
  RevocationDelay& operator=(const RevocationDelay&) = delete;

  /// One customer's place among its pending waits; freed when the last copy is dropped.
  class Slot;
  /// A place for `customer_id`, or null when it already has the maximum pending.
  std::shared_ptr<Slot> reserve(const std::string& customer_id);
  /// Runs `then` on the delay's thread once B has passed from now.
  void afterWait(std::function<void()> then);
  std::chrono::milliseconds staleness() const { return staleness_; }

 private:
  void release(const std::string& customer_id);
  void run();

  const std::chrono::milliseconds staleness_;
  const std::size_t max_waits_per_customer_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::multimap<std::chrono::steady_clock::time_point, std::function<void()>> due_;
  std::map<std::string, std::size_t> pending_by_customer_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace hydra::cp
