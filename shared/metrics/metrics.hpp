#pragma once
// Metrics in the Prometheus text format (version 0.0.4), from prometheus-cpp's core library
// (its Registry and TextSerializer) and served by our own HTTP server at GET /metrics.
// Labels are a small fixed set of values: route templates, methods, status codes, outcomes,
// reason classes, pool names. Never a customer, instance, connection or key id, never a raw
// path, never free text.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace hydra::metrics {

/// The process's registry (one exposition per process).
prometheus::Registry& registry();

/// Runs `update` at every scrape, before collecting: gauges of state read on demand (pool
/// sizes), and counters of components that only count (RefreshCounters), via Delta.
void onScrape(std::function<void()> update);

/// The exposition text of everything registered.
std::string scrape();

/// The content type of scrape().
constexpr const char* kContentType = "text/plain; version=0.0.4";

/// A counter fed from a monotonic total read at scrape time: adds what the total grew by.
class Delta {
 public:
  explicit Delta(prometheus::Counter& counter) : counter_(counter) {}
  void update(std::uint64_t total);

 private:
  prometheus::Counter& counter_;
  std::uint64_t last_ = 0;
};

/// The HTTP layer's metrics of one route and method: http_requests_total{method,route,status}
/// and http_request_duration_seconds{method,route}. Cheap to observe (the route's histogram and
/// its counters per status are found once).
class RouteMetrics {
 public:
  RouteMetrics(std::string method, std::string route);
  void observe(int status, double seconds);

 private:
  const std::string method_, route_;
  std::atomic<prometheus::Histogram*> duration_{nullptr};  // made at the first answer
  std::mutex mutex_;  // guards adding a status the route has not answered before
  std::atomic<prometheus::Counter*> by_status_[600] = {};
};

}  // namespace hydra::metrics
