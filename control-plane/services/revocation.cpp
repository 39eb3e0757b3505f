#include "control-plane/services/revocation.hpp"

#include "shared/log/log.hpp"

namespace hydra::cp {

class RevocationDelay::Slot {
 public:
  Slot(RevocationDelay& owner, std::string customer_id) : owner_(owner), customer_id_(std::move(customer_id)) {}
  ~Slot() { owner_.release(customer_id_); }
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;

 private:
  RevocationDelay& owner_;
  const std::string customer_id_;
};

RevocationDelay::RevocationDelay(std::chrono::milliseconds staleness, std::size_t max_waits_per_customer)
    : staleness_(staleness), max_waits_per_customer_(max_waits_per_customer), thread_([this] { run(); }) {}

RevocationDelay::~RevocationDelay() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

std::shared_ptr<RevocationDelay::Slot> RevocationDelay::reserve(const std::string& customer_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& pending = pending_by_customer_[customer_id];
  if (pending >= max_waits_per_customer_) return nullptr;
  ++pending;
  return std::make_shared<Slot>(*this, customer_id);
}

void RevocationDelay::release(const std::string& customer_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = pending_by_customer_.find(customer_id);
  if (it != pending_by_customer_.end() && --it->second == 0) pending_by_customer_.erase(it);
}

void RevocationDelay::afterWait(std::function<void()> then) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    due_.emplace(std::chrono::steady_clock::now() + staleness_, std::move(then));
  }
  changed_.notify_all();
}

void RevocationDelay::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    if (due_.empty()) {
      if (stopping_) return;  // stopping still waits out what is pending: answering early breaks the promise
      changed_.wait(lock);
      continue;
    }
    const auto deadline = due_.begin()->first;
    if (std::chrono::steady_clock::now() < deadline) {
      changed_.wait_until(lock, deadline);
      continue;
    }
    auto action = std::move(due_.begin()->second);
    due_.erase(due_.begin());
    lock.unlock();
    try {
      action();  // drops its slot (and takes the mutex) when it is destroyed, outside our lock
    } catch (const std::exception& e) {
      log::app().error(std::string("an answer after the revocation wait failed: ") + e.what());
    } catch (...) {
      log::app().error("an answer after the revocation wait failed");
    }
    action = nullptr;
    lock.lock();
  }
}

}  // namespace hydra::cp
