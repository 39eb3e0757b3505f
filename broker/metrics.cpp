#include "broker/metrics.hpp"

#include <array>

#include "shared/metrics/metrics.hpp"

namespace hydra::broker::metrics {
namespace {

using hydra::metrics::registry;

// The reason class of a refusal, by its status: the detail is free text (ids, names).
const char* reasonClass(int status) {
  switch (status) {
    case 401: return "unauthenticated";
    case 403: return "capability_not_granted";
    case 404: return "not_granted";
    case 409: return "conflict";
    case 429: return "throttled";
    case 503: return "unavailable";
    case 500: return "internal";
    default: return "other";
  }
}

prometheus::Family<prometheus::Counter>& decisions() {
  static auto& family = prometheus::BuildCounter()
                            .Name("broker_decisions_total")
                            .Help("Credential fetches answered, by outcome and reason class")
                            .Register(registry());
  return family;
}

// Every (outcome, reason) series, made once: the family's lookup takes a lock.
struct Decisions {
  Decisions() {
    for (const int status : {401, 403, 404, 409, 429, 500, 503}) {
      by_status[static_cast<std::size_t>(status)] =
          &decisions().Add({{"outcome", status >= 500 ? "error" : "denied"}, {"reason", reasonClass(status)}});
    }
  }
  prometheus::Counter& granted = decisions().Add({{"outcome", "allowed"}, {"reason", "granted"}});
  prometheus::Counter& other_denied = decisions().Add({{"outcome", "denied"}, {"reason", "other"}});
  prometheus::Counter& other_error = decisions().Add({{"outcome", "error"}, {"reason", "other"}});
  std::array<prometheus::Counter*, 600> by_status{};
};

Decisions& decisionCounters() {
  static Decisions instance;
  return instance;
}

}  // namespace

void registerDecisionMetrics() { decisionCounters(); }

void decision(const FetchResult& result) {
  auto& counters = decisionCounters();
  const auto* refusal = std::get_if<http::ApiError>(&result);
  if (refusal == nullptr) {
    counters.granted.Increment();
    return;
  }
  const int status = refusal->status();
  auto* counter = status >= 0 && status < 600 ? counters.by_status[static_cast<std::size_t>(status)] : nullptr;
  if (counter == nullptr) counter = status >= 500 ? &counters.other_error : &counters.other_denied;
  counter->Increment();
}

std::function<void(std::size_t, bool, std::chrono::nanoseconds)> journalObserver() {
  auto& records = prometheus::BuildCounter()
                      .Name("audit_records_total")
                      .Help("Audit records committed to the journal, by result (durable: synced to disk)")
                      .Register(registry());
  auto& durable = records.Add({{"result", "durable"}});
  auto& failed = records.Add({{"result", "failed"}});
  auto& sync = prometheus::BuildHistogram()
                   .Name("audit_journal_sync_seconds")
                   .Help("Time to write and fdatasync one batch of audit records")
                   .Register(registry())
                   .Add({}, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05,
                                                                    0.1, 0.25, 0.5, 1});
  return [&durable, &failed, &sync](std::size_t count, bool ok, std::chrono::nanoseconds took) {
    (ok ? durable : failed).Increment(static_cast<double>(count));
    if (ok) sync.Observe(std::chrono::duration<double>(took).count());
  };
}

std::function<void()> shipRefusedObserver() {
  auto& refused = prometheus::BuildCounter()
                      .Name("audit_ship_refused_total")
                      .Help("Audit journal records PostgreSQL refused to store (each also an ALARM in the log)")
                      .Register(registry())
                      .Add({});
  return [&refused] { refused.Increment(); };
}

void exportRefreshMetrics(const Refresher& refresher) {
  auto& family = prometheus::BuildCounter()
                     .Name("broker_token_refreshes_total")
                     .Help("OAuth token refresh attempts ended, by outcome")
                     .Register(registry());
  auto refreshed = std::make_shared<hydra::metrics::Delta>(family.Add({{"outcome", "refreshed"}}));
  auto unchanged = std::make_shared<hydra::metrics::Delta>(family.Add({{"outcome", "unchanged"}}));
  auto broken = std::make_shared<hydra::metrics::Delta>(family.Add({{"outcome", "broken"}}));
  auto unavailable = std::make_shared<hydra::metrics::Delta>(family.Add({{"outcome", "unavailable"}}));
  hydra::metrics::onScrape([&refresher, refreshed, unchanged, broken, unavailable] {
    const auto counters = refresher.counters();
    refreshed->update(counters.refreshed);
    unchanged->update(counters.unchanged);
    broken->update(counters.broken);
    unavailable->update(counters.unavailable);
  });
}

void proxyCall(const std::string& provider, const std::string& capability, const std::string& outcome,
               std::optional<std::chrono::microseconds> upstream) {
  static auto& calls = prometheus::BuildCounter()
                           .Name("broker_proxy_requests_total")
                           .Help("Proxied calls answered, by provider, capability that allowed it and outcome")
                           .Register(registry());
  static auto& durations = prometheus::BuildHistogram()
                               .Name("broker_proxy_upstream_seconds")
                               .Help("Time from the start of a proxied call's exchange with the provider to its end")
                               .Register(registry());
  calls.Add({{"provider", provider}, {"capability", capability}, {"outcome", outcome}}).Increment();
  if (upstream) {
    durations
        .Add({{"provider", provider}}, prometheus::Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                                               0.5, 1, 2.5, 5, 10, 30})
        .Observe(std::chrono::duration<double>(*upstream).count());
  }
}

}  // namespace hydra::broker::metrics
