#include "broker/audit/shipment.hpp"

#include <algorithm>
#include <utility>

#include "shared/db/array.hpp"

namespace hydra::broker::audit {
// The shared format: records, the tree, notes, the journal folder (shared/audit).
using namespace hydra::audit;

namespace {

constexpr std::int64_t kStepMicros = std::chrono::duration_cast<std::chrono::microseconds>(kLastUseStep).count();
constexpr std::int64_t kDayMicros = 86400LL * 1000000;
constexpr std::int64_t kWeekMicros = 7 * kDayMicros;
constexpr std::int64_t kFirstMonday = 4 * kDayMicros;  // 1970-01-05, the epoch was a Thursday

template <typename Int>
std::optional<std::string> number(const std::optional<Int>& value) {
  return value ? std::optional<std::string>(std::to_string(*value)) : std::nullopt;
}

// A COPY field: libpqxx 6.4 writes a null pointer as NULL (and has no std::optional of its own).
const char* orNull(const std::optional<std::string>& value) { return value ? value->c_str() : nullptr; }

const std::vector<std::string> kColumns{"journal_id", "seq", "line", "occurred_at", "customer_id", "instance_id",
                                        "proxy_key_id", "connection_id", "provider", "name", "capability",
                                        "outcome", "reason", "request_id", "peer", "method", "path",
                                        "upstream_status", "request_bytes", "response_bytes", "duration_us"};

}  // namespace

bool LastUses::due(const std::string& connection_id, std::int64_t micros) const {
  const auto it = told_.find(connection_id);
  return it == told_.end() || micros >= it->second + kStepMicros;
}

void LastUses::told(const std::map<std::string, std::int64_t>& uses) {
  for (const auto& [id, micros] : uses) {
    auto& told = told_[id];
    told = std::max(told, micros);
    newest_ = std::max(newest_, micros);
  }
  if (told_.size() < prune_at_) return;
  // A use told more than a step before the newest makes nothing skippable any more.
  for (auto it = told_.begin(); it != told_.end();) {
    it = it->second + kStepMicros <= newest_ ? told_.erase(it) : std::next(it);
  }
  prune_at_ = std::max<std::size_t>(4096, 2 * told_.size());
}

std::int64_t Partitions::weekOf(std::int64_t micros) {
  const auto since = micros - kFirstMonday;
  const auto weeks = since / kWeekMicros - (since % kWeekMicros < 0 ? 1 : 0);  // floor, before 1970 too
  return kFirstMonday + weeks * kWeekMicros;
}

void Partitions::make(pqxx::connection& connection, const std::set<std::int64_t>& weeks) {
  for (const auto week : weeks) {
    for (const auto start : {week, week + kWeekMicros}) {
      if (made_.count(start)) continue;
      pqxx::nontransaction(connection).exec_prepared("audit_partition_create", formatMicros(start));
      made_.insert(start);
    }
  }
}

Shipment::Shipment(std::string origin) : origin_(std::move(origin)) {}

bool Shipment::add(const std::string& line, const LastUses& last_uses) {
  // A line journalLine wrote is rebuilt byte for byte from its columns (its origin is the
  // journal's, its time one PostgreSQL keeps to the microsecond). A line an earlier broker
  // wrote from invalid UTF-8 is shipped with columns made storable, and the line itself.
  auto entry = parseJournalLine(line);
  const bool ours = entry && entry->journal == origin_;
  if (!entry) entry = readJournalLine(line);
  if (!entry) return false;
  const auto micros = parseMicros(entry->time);
  const bool rebuildable = ours && micros;
  if (micros) weeks_.insert(Partitions::weekOf(*micros));
  const auto& r = entry->record;
  if (r.outcome == "allowed" && r.connection_id && micros && last_uses.due(*r.connection_id, *micros)) {
    auto& latest = uses_[*r.connection_id];
    latest = std::max(latest, *micros);
  }
  rows_.push_back({std::move(*entry), rebuildable ? std::nullopt : std::optional<std::string>(line)});
  return true;
}

void Shipment::send(pqxx::connection& connection) const {
  pqxx::work tx(connection);
  // COPY, not INSERT: PostgreSQL neither parses a statement's arrays nor runs a row through the
  // executor for each record, and writes the table a page at a time (bench/audit_ingest.cpp).
  pqxx::stream_to copy(tx, "audit_events", kColumns);
  for (const auto& row : rows_) {
    const auto& r = row.entry.record;
    const auto seq = std::to_string(row.entry.seq);
    const auto status = number(r.upstream_status), request_bytes = number(r.request_bytes),
               response_bytes = number(r.response_bytes), duration_us = number(r.duration_us);
    copy << std::make_tuple(origin_.c_str(), seq.c_str(), orNull(row.line), row.entry.time.c_str(),
                            orNull(r.customer_id), orNull(r.instance_id), orNull(r.proxy_key_id),
                            orNull(r.connection_id), orNull(r.provider), orNull(r.name), orNull(r.capability),
                            r.outcome.c_str(), r.reason.c_str(), r.request_id.c_str(), r.peer.c_str(),
                            orNull(r.method), orNull(r.path), orNull(status), orNull(request_bytes),
                            orNull(response_bytes), orNull(duration_us));
  }
  copy.complete();
  if (!uses_.empty()) {
    db::ArrayParam used_id, used_at;
    for (const auto& [id, micros] : uses_) {
      used_id.add(id);
      used_at.add(formatMicros(micros));
    }
    tx.exec_prepared("connection_last_used", used_id.text(), used_at.text());
  }
  tx.commit();
}

}  // namespace hydra::broker::audit
