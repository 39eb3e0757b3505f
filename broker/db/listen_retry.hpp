#pragma once
// How a thread LISTENing on a PostgreSQL connection of its own (the authz change listener, the
// connect exchange) goes on after losing it: it tries again after a wait that doubles from
// 100 ms up to a cap, and back at 100 ms once a connection that had been listening is lost; a
// failure is news, worth a log line, only as the first of a run (failed reconnections in a row
// are quiet).

#include <algorithm>
#include <chrono>

namespace hydra::broker::db {

class ListenRetry {
 public:
  explicit ListenRetry(std::chrono::milliseconds cap) : cap_(cap) {}

  /// A try to listen failed; `had_listened`: its connection had been listening. True when this
  /// failure is news.
  bool failed(bool had_listened) {
    if (had_listened) {
      failing_ = false;
      wait_ = kFirstWait;
    }
    const bool news = !failing_;
    failing_ = true;
    return news;
  }

  /// The wait before the next try; the one after it is twice as long, up to the cap.
  std::chrono::milliseconds nextWait() {
    const auto wait = wait_;
    wait_ = std::min<std::chrono::milliseconds>(wait_ * 2, cap_);
    return wait;
  }

 private:
  static constexpr std::chrono::milliseconds kFirstWait{100};
  const std::chrono::milliseconds cap_;
  std::chrono::milliseconds wait_ = kFirstWait;
  bool failing_ = false;
};

}  // namespace hydra::broker::db
