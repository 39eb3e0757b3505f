#pragma once
// The order and pace of one pass of the background refresh (refresh_loop.hpp), as pure logic.
// A customer may create thousands of connections that are always due and never refresh (a
// bogus client, a stalled provider): a pass must not spend itself on them while others'
// tokens expire. So a pass takes customers in turn, and each customer's providers in turn;
// a provider gets a bounded number of concurrent attempts and a bounded share of the pass.

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hydra::broker {

struct DueConnection {
  std::string id, customer_id, provider;
};

/// `due`, most urgent first, reordered round robin: the first connection of every customer
/// (customers in the order of their most urgent one), then the second of every customer, and
/// so on; within one customer, its providers take turns likewise.
std::vector<DueConnection> fairOrder(const std::vector<DueConnection>& due);

/// What is left of one pass: hands out connections in order, skipping (for now) those whose
/// provider has `per_provider` attempts running, and dropping (until the next pass) those whose
/// provider started its first attempt of the pass more than `provider_budget` ago.
class RefreshSchedule {
 public:
  using Clock = std::chrono::steady_clock;
  RefreshSchedule(std::vector<DueConnection> ordered, std::size_t per_provider, Clock::duration provider_budget);

  /// The next connection to refresh now, if any may start now.
  std::optional<DueConnection> next(Clock::time_point now);
  /// An attempt handed out by next() has ended.
  void finished(const std::string& provider);
  /// Nothing is left to hand out (attempts may still be running).
  bool empty() const { return left_.empty(); }
  /// Connections dropped because their provider had used its share of the pass.
  std::size_t dropped() const { return dropped_; }

 private:
  struct Provider {
    std::size_t running = 0;
    std::optional<Clock::time_point> first_start;
  };
  std::deque<DueConnection> left_;
  std::map<std::string, Provider> providers_;
  const std::size_t per_provider_;
  const Clock::duration provider_budget_;
  std::size_t dropped_ = 0;
};

}  // namespace hydra::broker
