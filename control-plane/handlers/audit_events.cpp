#include <chrono>

#include "control-plane/handlers/handlers.hpp"
#include "control-plane/handlers/paging.hpp"
#include "shared/http/request.hpp"

namespace hydra::cp::handlers {
namespace {

// Rows per query of an export, and per chunk of its body (~0.5 MB of JSON).
constexpr long long kExportBatch = 1000;

// The filters both routes take. The outcomes are those the trail holds: the fetch's and the
// proxy's decisions (allowed, denied, error) and the broker's token refreshes.
AuditEventFilter filterQuery(const Request& req, bool since_required, http::Problems& problems) {
  AuditEventFilter filter;
  filter.connection_id = http::queryUuid(req, "connection_id", problems);
  filter.instance_id = http::queryUuid(req, "instance_id", problems);
  filter.outcome = http::queryOneOf(
      req, "outcome", {"allowed", "denied", "error", "refreshed", "refresh_failed", "connected", "connect_failed"}, problems);
  filter.since = http::queryTime(req, "since", problems);
  filter.until = http::queryTime(req, "until", problems);
  if (since_required && !http::query(req, "since")) problems.add({"query", "since"}, "Field required", "missing");
  if (filter.since && filter.until && *filter.until <= *filter.since) {
    problems.add({"query", "until"}, "Value error, until must be later than since", "value_error");
  }
  return filter;
}

std::int64_t nowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Reply listAuditEvents(Services& s, const Request& req) {
  http::Problems problems;
  const auto customer_id = http::pathUuid(req, "customer_id", problems);
  const auto filter = filterQuery(req, false, problems);
  const auto page = pageQuery(req, problems);
  problems.throwIfAny();
  s.auth.requireCustomer(req, customer_id);
  const auto events = s.audit.list(customer_id, filter, page.before, page.limit);
  return http::json(200, model::toJson(events, nextBefore(events, page)));
}

http::Streamed exportAuditEvents(Services& s, const Request& req) {
  http::Problems problems;
  const auto customer_id = http::pathUuid(req, "customer_id", problems);
  auto filter = filterQuery(req, true, problems);
  problems.throwIfAny();
  s.auth.requireCustomer(req, customer_id);
  // The window closes when the export starts unless `until` says otherwise: the export ends,
  // however fast the brokers keep shipping.
  if (!filter.until) filter.until = nowMicros();
  // Batches by id, each its own query (no connection is held between them): oldest first, the
  // last one shorter than a batch.
  return {"application/x-ndjson",
          [&s, customer_id, filter, after = 0LL, done = false]() mutable -> std::optional<std::string> {
            if (done) return std::nullopt;
            const auto batch = s.audit.exportBatch(customer_id, filter, after, kExportBatch);
            done = static_cast<long long>(batch.size()) < kExportBatch;
            if (batch.empty()) return std::nullopt;
            after = batch.back().id;
            return model::toJsonLines(batch);
          }};
}

}  // namespace hydra::cp::handlers
