#include "shared/audit/stored_record.hpp"

namespace hydra::audit {

const char* const kStoredRecordColumns =
    "seq, line, customer_id::text, instance_id::text, proxy_key_id::text, connection_id::text,"
    " provider, name, capability, outcome, reason, request_id, peer,"
    " (extract(epoch FROM occurred_at) * 1000000)::bigint, id,"
    " method, path, upstream_status, request_bytes, response_bytes, duration_us";

StoredRecord readStoredRecord(const pqxx::row& row) {
  const auto text = [&](int column) -> std::optional<std::string> {
    if (row[column].is_null()) return std::nullopt;
    return std::string(row[column].c_str());
  };
  const auto number = [&](int column) -> std::optional<std::int64_t> {
    if (row[column].is_null()) return std::nullopt;
    return row[column].as<std::int64_t>();
  };
  StoredRecord out;
  out.seq = row[0].as<std::uint64_t>();
  out.line = text(1);
  auto& r = out.record;
  r.customer_id = text(2);
  r.instance_id = text(3);
  r.proxy_key_id = text(4);
  r.connection_id = text(5);
  r.provider = text(6);
  r.name = text(7);
  r.capability = text(8);
  const auto outcome = text(9), reason = text(10), request_id = text(11), peer = text(12);
  out.complete = outcome && reason && request_id && peer;
  r.outcome = outcome.value_or("");
  r.reason = reason.value_or("");
  r.request_id = request_id.value_or("");
  r.peer = peer.value_or("");
  out.micros = number(13);
  out.id = row[14].as<std::int64_t>();
  r.method = text(15);
  r.path = text(16);
  if (const auto status = number(17)) r.upstream_status = static_cast<int>(*status);
  r.request_bytes = number(18);
  r.response_bytes = number(19);
  r.duration_us = number(20);
  return out;
}

std::optional<std::string> hashedLine(const StoredRecord& stored, const std::string& origin) {
  if (stored.line) return stored.line;
  if (!stored.complete || !stored.micros) return std::nullopt;
  return journalLine(stored.seq, origin, formatMicros(*stored.micros), stored.record);
}

}  // namespace hydra::audit
