#pragma once
// Ends a blocked exchange on a socket (an outbound HTTP(S) request) when its deadline passes,
// or the process stops, from a thread of its own. It never touches the session: Poco's abort()
// would shut a TLS session down (SSL_shutdown) from this thread while the exchange thread is
// inside SSL_read on the same SSL object, which OpenSSL does not allow. It only shuts the socket
// down (::shutdown on a duplicate of its descriptor, so the number cannot be reused under us):
// the blocked read or write fails at once, and the exchange thread tears the session down
// itself. Declare it before the session, so the session goes first.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace hydra::net {

class SocketWatchdog {
 public:
  using Clock = std::chrono::steady_clock;

  /// `stopping`, if given, ends the exchange as well once it turns true (looked at every 100 ms).
  explicit SocketWatchdog(Clock::time_point deadline, const std::atomic<bool>* stopping = nullptr);
  ~SocketWatchdog();
  SocketWatchdog(const SocketWatchdog&) = delete;
  SocketWatchdog& operator=(const SocketWatchdog&) = delete;

  /// The exchange's socket, once connected; shut down at once if the watchdog already fired.
  void watch(int socket_fd);
  /// Whether it ended the exchange (the deadline passed, or the process is stopping).
  bool fired();

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool done_ = false;
  bool fired_ = false;
  int fd_ = -1;          // our duplicate of the socket
  std::thread thread_;   // last: starts once the members above exist
};

}  // namespace hydra::net
