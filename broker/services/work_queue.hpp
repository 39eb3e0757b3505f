#pragma once
// A fixed set of threads for work that blocks (database lookups, token refreshes), so that the
// HTTP server's threads never do. Bounded: when the queue is full, post() refuses and the caller
// answers 503 at once rather than queueing without limit.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace hydra::broker {

class WorkQueue {
 public:
  WorkQueue(std::size_t threads, std::size_t max_queued);
  /// Runs what is queued, then joins the threads.
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  /// False (and `job` not run) when the queue is full or stopping.
  bool post(std::function<void()> job);

 private:
  void run();

  const std::size_t max_queued_;
  std::mutex mutex_;
  std::condition_variable queued_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace hydra::broker
