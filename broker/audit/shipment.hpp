#pragma once
// A batch of journal records as PostgreSQL stores them: each record's columns, parsed here
// rather than by PostgreSQL, in one COPY into audit_events; the line itself only where the
// columns cannot rebuild its exact bytes; and the last use of the connections that PostgreSQL
// has not heard of for a while ("connection_last_used"), in the same transaction.

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <pqxx/pqxx>

#include "shared/audit/record.hpp"

namespace hydra::broker::audit {

/// How stale connections.last_used_at may be, at most half a minute behind the last use this
/// broker shipped: the statement updates a row only if it is older than a use by more than
/// this, and each broker tells PostgreSQL of a connection's use at most once per this step.
/// Together last_used_at stays correct to the minute without a row update per fetch. (The
/// statement spells the same step in SQL: keep them equal.)
constexpr std::chrono::seconds kLastUseStep{30};

/// The uses of each connection this broker has told PostgreSQL of, and when.
class LastUses {
 public:
  /// Whether PostgreSQL must hear of a use of `connection_id` at `micros` (since the epoch).
  bool due(const std::string& connection_id, std::int64_t micros) const;
  /// PostgreSQL's last_used_at of these connections is now at least each use less one step.
  void told(const std::map<std::string, std::int64_t>& uses);
  std::size_t size() const { return told_.size(); }

 private:
  std::unordered_map<std::string, std::int64_t> told_;
  std::int64_t newest_ = 0;
  std::size_t prune_at_ = 4096;
};

/// The weeks of audit_events that have a partition (schema/0022: weeks start on Monday 00:00
/// UTC), as far as this database session made sure: a record of any other week is shipped
/// only after "audit_partition_create" made its week, and the week after it, ahead of need.
class Partitions {
 public:
  /// The start of the week of `micros` (since the epoch), in micros.
  static std::int64_t weekOf(std::int64_t micros);
  /// Makes the partitions of `weeks` (week starts) that this session has not made yet.
  void make(pqxx::connection& connection, const std::set<std::int64_t>& weeks);

 private:
  std::set<std::int64_t> made_;
};

class Shipment {
 public:
  /// The records of journal `origin`.
  explicit Shipment(std::string origin);
  /// Adds one line unless it is not a journal record at all (false: PostgreSQL could not store
  /// it; it stays in the journal).
  bool add(const std::string& line, const LastUses& last_uses);
  std::size_t size() const { return rows_.size(); }
  /// In one transaction. A record PostgreSQL already holds makes it fail with unique_violation
  /// (the journal key): only another session shipping the same journal at the same time does
  /// that, since a session starts where PostgreSQL's records stop.
  void send(pqxx::connection& connection) const;
  /// The uses sent, for LastUses::told once PostgreSQL has them.
  const std::map<std::string, std::int64_t>& uses() const { return uses_; }
  /// The weeks its records fall in (Partitions::weekOf).
  const std::set<std::int64_t>& weeks() const { return weeks_; }

 private:
  struct Row {
    hydra::audit::JournalEntry entry;
    std::optional<std::string> line;  // only where the columns cannot rebuild it
  };
  std::string origin_;
  std::vector<Row> rows_;
  std::map<std::string, std::int64_t> uses_;  // connection id -> latest allowed use, micros
  std::set<std::int64_t> weeks_;
};

}  // namespace hydra::broker::audit
