#pragma once
// Refreshes ahead: a background thread finds active oauth2 connections whose token expires
// within the ahead window and refreshes them, so a runtime rarely waits on a provider and
// idle connections stay alive. A connection whose refresh fails is left alone for a while
// (exponential backoff) before the next try.

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "broker/services/refresher.hpp"

namespace hydra::broker {

class RefreshLoop {
 public:
  RefreshLoop(hydra::db::Pool& pool, Refresher& refresher, std::chrono::seconds interval);
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

  hydra::db::Pool& pool_;
  Refresher& refresher_;
  const std::chrono::seconds interval_;
  std::map<std::string, Backoff> backoff_;  // by connection id; only the loop's thread uses it

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace hydra::broker
