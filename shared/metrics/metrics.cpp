#include "shared/metrics/metrics.hpp"

#include <vector>

#include <prometheus/text_serializer.h>

namespace hydra::metrics {
namespace {

struct Scrapers {
  std::mutex mutex;
  std::vector<std::function<void()>> updates;
};

Scrapers& scrapers() {
  static Scrapers instance;
  return instance;
}

prometheus::Family<prometheus::Counter>& requestsFamily() {
  static auto& family = prometheus::BuildCounter()
                            .Name("http_requests_total")
                            .Help("HTTP requests answered, by method, route template and status")
                            .Register(registry());
  return family;
}

prometheus::Family<prometheus::Histogram>& durationFamily() {
  static auto& family = prometheus::BuildHistogram()
                            .Name("http_request_duration_seconds")
                            .Help("Time from a request's arrival at its route to its answer being queued")
                            .Register(registry());
  return family;
}

}  // namespace

prometheus::Registry& registry() {
  static prometheus::Registry instance;
  return instance;
}

void onScrape(std::function<void()> update) {
  std::lock_guard<std::mutex> lock(scrapers().mutex);
  scrapers().updates.push_back(std::move(update));
}

std::string scrape() {
  {
    std::lock_guard<std::mutex> lock(scrapers().mutex);
    for (const auto& update : scrapers().updates) update();
  }
  return prometheus::TextSerializer().Serialize(registry().Collect());
}

void Delta::update(std::uint64_t total) {
  if (total > last_) counter_.Increment(static_cast<double>(total - last_));
  last_ = total;
}

RouteMetrics::RouteMetrics(std::string method, std::string route)
    : method_(std::move(method)), route_(std::move(route)) {}

void RouteMetrics::observe(int status, double seconds) {
  if (status < 0 || status >= 600) status = 0;
  auto* duration = duration_.load(std::memory_order_acquire);
  auto* counter = by_status_[status].load(std::memory_order_acquire);
  if (duration == nullptr || counter == nullptr) {
    // The family's Add takes a lock and hashes the labels: done once per route and status.
    std::lock_guard<std::mutex> lock(mutex_);
    if (duration_.load() == nullptr) {
      duration_ = &durationFamily().Add({{"method", method_}, {"route", route_}},
                                        prometheus::Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                                                0.1, 0.25, 0.5, 1, 2.5, 5, 10});
    }
    if (by_status_[status].load() == nullptr) {
      by_status_[status] = &requestsFamily().Add({{"method", method_}, {"route", route_}, {"status", std::to_string(status)}});
    }
    duration = duration_.load();
    counter = by_status_[status].load();
  }
  duration->Observe(seconds);
  counter->Increment();
}

}  // namespace hydra::metrics
