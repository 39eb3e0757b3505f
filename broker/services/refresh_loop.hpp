#pragma once
// Refreshes ahead: a background thread finds active oauth2 connections whose token expires
// within the ahead window and refreshes them, so a runtime rarely waits on a provider and
// idle connections stay alive. A connection whose refresh fails is left alone for a while
// (exponential backoff) before the next try. A pass is fair across customers and providers,
// runs a few attempts at once, and bounds the time any one provider gets
// (refresh_schedule.hpp).

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "broker/services/refresher.hpp"

namespace hydra::broker {

class RefreshLoop {
 public:
  /// `providers`: the names the registry can refresh (others are never asked for).
  RefreshLoop(hydra::db::Pool& pool, Refresher& refresher, const std::vector<std::string>& providers,
              std::chrono::seconds interval);
  ~RefreshLoop();
  RefreshLoop(const RefreshLoop&) = delete;
  RefreshLoop& operator=(const RefreshLoop&) = delete;

 private:
  struct Backoff {
    int failures = 0;
    std::chrono::steady_clock::time_point next_try;
  };
  void run();
  void pass();
  /// Backoff bookkeeping after one attempt (the pass's mutex held).
  void recordOutcome(const std::string& connection_id, const RefreshOutcome& outcome,
                     std::chrono::steady_clock::time_point now);
  bool stopping();
  /// The connections still backing off, as a uuid[] literal.
  std::string backingOff(std::chrono::steady_clock::time_point now);

  hydra::db::Pool& pool_;
  Refresher& refresher_;
  const std::string providers_;  // text[] literal
  const std::chrono::seconds interval_;
  std::map<std::string, Backoff> backoff_;  // by connection id; the loop's thread, or a pass's workers under its mutex

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace hydra::broker
