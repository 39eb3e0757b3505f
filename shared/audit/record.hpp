#pragma once
// One audit record: a decision of the broker (allowed, denied, error) on a fetch or a proxied
// call, a token refresh (refreshed, refresh_failed), or a connect flow's code exchange
// (connected, connect_failed). In the journal it is one line of JSON
// with, first, its sequence number, the journal's origin and the time; the line's bytes are what
// the Merkle tree hashes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hydra::audit {

struct AuditRecord {
  std::optional<std::string> customer_id, instance_id, proxy_key_id, connection_id, provider, name, capability;
  std::string outcome;  // allowed | denied | error | refreshed | refresh_failed | connected | connect_failed
  std::string reason, request_id, peer;
  // A proxied call (issue 19) only: a record with a method is one. Its line holds these six
  // after `peer`; any other record's line has none of them, so it reads exactly as before.
  std::optional<std::string> method, path;  // path: normalised, without the query string
  std::optional<int> upstream_status;       // 100..599: how the provider answered, if it did
  std::optional<std::int64_t> request_bytes, response_bytes;  // body bytes each way, >= 0
  std::optional<std::int64_t> duration_us;                    // the upstream exchange, >= 0
};

struct JournalEntry {
  std::uint64_t seq = 0;
  std::string journal;  // the origin, "hydracore-broker/<uuid>"
  std::string time;     // RFC 3339 UTC with microseconds
  AuditRecord record;
};

/// The line (without its newline). Fields in a fixed order; strings JSON-escaped, so the line
/// never holds a newline; each made valid UTF-8 without NUL first (anything else becomes U+FFFD),
/// whatever a client sent: PostgreSQL must accept every line. For the same reason a number out
/// of its range above (and its column's CHECK) is written as null, and the proxy fields other
/// than `method` are written only with it.
std::string journalLine(std::uint64_t seq, std::string_view journal, std::string_view time, const AuditRecord& record);
inline std::string journalLine(const JournalEntry& e) { return journalLine(e.seq, e.journal, e.time, e.record); }

/// Reads a line back; nullopt unless it is a journal line of exactly that shape.
std::optional<JournalEntry> parseJournalLine(std::string_view line);
/// Also reads a line an earlier broker wrote, whose fields held what a client sent as it was
/// (invalid UTF-8, NUL): exactly that shape, the fields it returns made storable. For reading
/// journals (start-up, `hydracore-audit verify`); their bytes are hashed as they are. Such a line is
/// never a proxied call's (those came later), so that shape is read only as journalLine writes it.
std::optional<JournalEntry> readJournalLine(std::string_view line);

/// "2026-11-29T16:35:24.123456Z" for a time in microseconds since the Unix epoch, and back.
std::string formatMicros(std::int64_t micros);
std::optional<std::int64_t> parseMicros(std::string_view text);

}  // namespace hydra::audit
