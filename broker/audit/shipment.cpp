#include "broker/audit/shipment.hpp"

#include <algorithm>
#include <utility>

#include "shared/audit/record.hpp"

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
  const bool rebuildable = entry && entry->journal == origin_ && parseMicros(entry->time);
  if (!entry) entry = readJournalLine(line);
  if (!entry) return false;
  const auto& r = entry->record;
  seq_.add(std::to_string(entry->seq));
  line_.addOrNull(rebuildable ? std::nullopt : std::optional<std::string>(line));
  time_.add(entry->time);
  customer_id_.addOrNull(r.customer_id);
  instance_id_.addOrNull(r.instance_id);
  proxy_key_id_.addOrNull(r.proxy_key_id);
  connection_id_.addOrNull(r.connection_id);
  provider_.addOrNull(r.provider);
  name_.addOrNull(r.name);
  capability_.addOrNull(r.capability);
  outcome_.add(r.outcome);
  reason_.add(r.reason);
  request_id_.add(r.request_id);
  peer_.add(r.peer);
  method_.addOrNull(r.method);
  path_.addOrNull(r.path);
  upstream_status_.addOrNull(number(r.upstream_status));
  request_bytes_.addOrNull(number(r.request_bytes));
  response_bytes_.addOrNull(number(r.response_bytes));
  duration_us_.addOrNull(number(r.duration_us));
  ++records_;
  const auto micros = parseMicros(entry->time);
  if (micros) weeks_.insert(Partitions::weekOf(*micros));
  if (r.outcome == "allowed" && r.connection_id && micros && last_uses.due(*r.connection_id, *micros)) {
    auto& latest = uses_[*r.connection_id];
    latest = std::max(latest, *micros);
  }
  return true;
}

void Shipment::send(pqxx::connection& connection) const {
  db::ArrayParam used_id, used_at;
  for (const auto& [id, micros] : uses_) {
    used_id.add(id);
    used_at.add(formatMicros(micros));
  }
  pqxx::nontransaction(connection)
      .exec_prepared("audit_event_ship_batch", origin_, seq_.text(), line_.text(), time_.text(), customer_id_.text(),
                     instance_id_.text(), proxy_key_id_.text(), connection_id_.text(), provider_.text(),
                     name_.text(), capability_.text(), outcome_.text(), reason_.text(), request_id_.text(),
                     peer_.text(), method_.text(), path_.text(), upstream_status_.text(), request_bytes_.text(),
                     response_bytes_.text(), duration_us_.text(), used_id.text(), used_at.text());
}

}  // namespace hydra::broker::audit
