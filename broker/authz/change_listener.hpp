#pragma once
// Keeps the broker's memory (memory.hpp) in step with PostgreSQL: LISTENs on one dedicated
// connection for the triggers' `hydra_authz` notifications, applies them in the order received,
// and sends itself a tick on the same connection every B/4; a tick that comes back proves that
// every change committed before it was sent has been applied. The connection never reconnects
// behind our back (libpqxx's automatic reactivation is off): a lost connection makes memory
// unusable at once, and a new one starts with memory cleared, since missed notifications are not
// replayed.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "broker/authz/memory.hpp"

namespace hydra::broker::authz {

class ChangeListener {
 public:
  /// `changed`, if set, is called on every change notification and when notifications may have
  /// been missed (the throttle forgets which keys it found bad or valid).
  ChangeListener(std::string database_url, Memory& memory, std::chrono::milliseconds staleness,
                 std::function<void()> changed = {});
  ~ChangeListener();
  ChangeListener(const ChangeListener&) = delete;
  ChangeListener& operator=(const ChangeListener&) = delete;

 private:
  void run();
  /// One connection's life: returns when stopping, throws when the connection fails;
  /// `listened` is set once it listens.
  void listen(bool& listened);
  bool stopping();

  const std::string url_;
  Memory& memory_;
  const std::function<void()> changed_;
  const std::chrono::milliseconds tick_interval_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace hydra::broker::authz
