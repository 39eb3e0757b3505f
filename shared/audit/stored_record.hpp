#pragma once
// A journal record as PostgreSQL holds it (a row of audit_events, schema/0018 and 0020): its
// columns, and the line that was hashed, stored or rebuilt from them. The journal's line format
// is canonical, so the columns give back the exact bytes; a changed column changes them, and
// the signed tree tells. Read by whoever checks the database's copy against the tree: the
// verifier, and retention before it drops records.

#include <cstdint>
#include <optional>
#include <string>

#include <pqxx/pqxx>

#include "shared/audit/record.hpp"

namespace hydra::audit {

/// The columns readStoredRecord reads, in its order: for "SELECT <these> FROM audit_events ...".
extern const char* const kStoredRecordColumns;

struct StoredRecord {
  std::uint64_t seq = 0;
  std::int64_t id = 0;
  std::optional<std::string> line;    // as shipped, where the columns cannot rebuild it
  AuditRecord record;                 // the columns
  bool complete = true;               // outcome, reason, request_id and peer: NOT NULL in a line
  std::optional<std::int64_t> micros; // occurred_at, microseconds since the epoch
};

StoredRecord readStoredRecord(const pqxx::row& row);

/// The line of journal `origin` that was hashed: the stored one, or the one the columns
/// rebuild; nullopt when the row has neither.
std::optional<std::string> hashedLine(const StoredRecord& stored, const std::string& origin);

}  // namespace hydra::audit
