#pragma once
// Webhook delivery, in every control plane process: a claim loop takes due deliveries from the
// outbox (FOR UPDATE SKIP LOCKED: processes share the work and never wait for each other; one
// at a time per endpoint, a capped number per customer, customers taking turns: the statement
// webhook_delivery_due), leases them in a short transaction, and hands them to worker threads,
// which send outside any transaction and record the result in another short one. The database
// pool is its own: delivery never holds a connection the API's requests need, nor one while a
// receiver takes its time.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "control-plane/webhooks/sender.hpp"
#include "control-plane/webhooks/settings.hpp"
#include "shared/db/pool.hpp"

namespace hydra::cp::webhooks {

class Dispatcher {
 public:
  Dispatcher(const std::string& database_url, const Settings& settings);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  /// Starts settings.workers workers (none when it is 0: this process does not deliver).
  void start();
  /// Returns promptly: attempts in flight are cut short and, like deliveries claimed but not
  /// started, handed back due at once, for another control plane (or this one after a restart).
  void stop();

 private:
  struct Job {
    long long delivery_id = 0;
    int attempt = 0;  // this attempt's number, as counted when it was claimed
    std::string endpoint_id;
    Message message;
  };

  void claimLoop();
  void work();
  std::vector<Job> claim(std::size_t wanted);
  void record(const Job& job, const AttemptResult& result);
  void release(const Job& job);
  void trim();

  const Settings& settings_;
  hydra::db::Pool pool_;
  Sender sender_;

  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable work_ready_;  // workers: a job is queued, or stop
  std::condition_variable claim_due_;   // claim loop: a worker is free, or stop
  std::deque<Job> queue_;
  std::size_t busy_ = 0;
  bool woken_ = false;
  std::thread claimer_;
  std::vector<std::thread> workers_;
};

}  // namespace hydra::cp::webhooks
