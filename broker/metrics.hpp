#pragma once
// The broker's own metrics (beside the HTTP and pool metrics every binary has):
//   broker_decisions_total{outcome, reason}   every fetch answered: outcome allowed, denied or
//       error; reason one of a fixed set of classes (granted, unauthenticated,
//       capability_not_granted, not_granted, conflict, throttled, unavailable, internal, other)
//   broker_token_refreshes_total{outcome}      refresh attempts ended: refreshed, unchanged,
//       broken (the connection is now error/expired), unavailable (provider or database)
//   audit_records_total{result}                 records committed to the journal: durable or failed
//   audit_journal_sync_seconds                  histogram of each batch's write and fdatasync
//   audit_ship_refused_total                    journal records PostgreSQL refused (each an ALARM)
//   broker_proxy_requests_total{provider, capability, outcome}  proxied calls answered
//   broker_proxy_upstream_seconds{provider}     histogram of proxied calls' exchanges with providers
// No label ever holds an id or free text.

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "broker/services/fetch.hpp"
#include "broker/services/refresher.hpp"

namespace hydra::broker::metrics {

/// Makes every broker_decisions_total series (at 0) before the first fetch.
void registerDecisionMetrics();

/// Counts the decision a fetch was answered with.
void decision(const FetchResult& result);

/// The journal's on_commit observer (JournalOptions::on_commit).
std::function<void(std::size_t, bool, std::chrono::nanoseconds)> journalObserver();

/// The shipper's on_refused observer (audit::Shipper), the counter made at 0.
std::function<void()> shipRefusedObserver();

/// Counts a proxied call answered: `provider` and `capability` are registry names (never what
/// a request wrote: "unknown" and "none" stand for those), `outcome` the audit record's;
/// `upstream`: how long the exchange with the provider took, when there was one.
void proxyCall(const std::string& provider, const std::string& capability, const std::string& outcome,
               std::optional<std::chrono::microseconds> upstream);

/// Exports `refresher`'s counters at each scrape; it must outlive the process's metrics.
void exportRefreshMetrics(const Refresher& refresher);

}  // namespace hydra::broker::metrics
