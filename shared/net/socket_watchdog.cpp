#include "shared/net/socket_watchdog.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

namespace hydra::net {
namespace {

constexpr auto kStoppingPoll = std::chrono::milliseconds(100);

}  // namespace

SocketWatchdog::SocketWatchdog(Clock::time_point deadline, const std::atomic<bool>* stopping)
    : thread_([this, deadline, stopping] {
        std::unique_lock<std::mutex> lock(mutex_);
        while (!done_) {
          if (Clock::now() >= deadline || (stopping != nullptr && stopping->load())) {
            fired_ = true;
            if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
            return;
          }
          changed_.wait_until(lock, stopping != nullptr ? std::min(deadline, Clock::now() + kStoppingPoll) : deadline);
        }
      }) {}

SocketWatchdog::~SocketWatchdog() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    done_ = true;
  }
  changed_.notify_one();
  thread_.join();
  if (fd_ >= 0) ::close(fd_);
}

void SocketWatchdog::watch(int socket_fd) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (fd_ >= 0 || socket_fd < 0) return;
  fd_ = ::fcntl(socket_fd, F_DUPFD_CLOEXEC, 0);
  if (fired_ && fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);  // connecting took the whole time
}

bool SocketWatchdog::fired() {
  std::lock_guard<std::mutex> lock(mutex_);
  return fired_;
}

}  // namespace hydra::net
