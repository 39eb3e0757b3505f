#include "shared/audit/record.hpp"

#include <array>
#include <limits>
#include <utility>
#include <ctime>
#include <cstdio>

#include <rapidjson/document.h>

#include "shared/json/reader.hpp"
#include "shared/json/writer.hpp"

namespace hydra::audit {
namespace {

constexpr const char* kOptionalFields[] = {"customer_id", "instance_id", "proxy_key_id", "connection_id",
                                           "provider",    "name",        "capability"};

// The optional fields, in kOptionalFields' order.
template <typename Record>
auto optionalFields(Record& r) {
  return std::array{&r.customer_id, &r.instance_id, &r.proxy_key_id, &r.connection_id,
                    &r.provider,    &r.name,        &r.capability};
}

// Text that every JSON parser reads as written and PostgreSQL can store: whatever a client
// sent, a field holds valid UTF-8 without NUL, each other byte becoming U+FFFD. One line
// PostgreSQL refused would otherwise stop the copy of the journal there.
std::string storable(std::string_view text) {
  if (text.find('\0') == std::string_view::npos && json::isValidUtf8(text)) return std::string(text);
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t n = 1;
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      // The longest prefix of at most 4 bytes that is one valid character, if any.
      n = 0;
      for (std::size_t k = 2; k <= 4 && i + k <= text.size() && n == 0; ++k) {
        if (json::isValidUtf8(text.substr(i, k))) n = k;
      }
    }
    if (n == 0 || c == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

// Writes the fields as they are: journalLine makes them storable first; an earlier broker's
// lines (readJournalLine) were written from what the client sent.
std::string writeLine(std::uint64_t seq, std::string_view journal, std::string_view time, const AuditRecord& record) {
  json::Writer w;
  w.beginObject();
  w.key("seq").integer(static_cast<std::int64_t>(seq));
  w.key("journal").string(journal);
  w.key("time").string(time);
  const auto fields = optionalFields(record);
  for (std::size_t i = 0; i < fields.size(); ++i) w.key(kOptionalFields[i]).stringOrNull(*fields[i]);
  w.key("outcome").string(record.outcome);
  w.key("reason").string(record.reason);
  w.key("request_id").string(record.request_id);
  w.key("peer").string(record.peer);
  // A proxied call's fields, only on its record: a fetch's or a refresh's line stays as it was.
  if (record.method) {
    w.key("method").string(*record.method);
    w.key("path").stringOrNull(record.path);
    w.key("upstream_status").integerOrNull(record.upstream_status);
    w.key("request_bytes").integerOrNull(record.request_bytes);
    w.key("response_bytes").integerOrNull(record.response_bytes);
    w.key("duration_us").integerOrNull(record.duration_us);
  }
  w.endObject();
  return w.str();
}

template <typename Int>
std::optional<Int> inRange(const std::optional<Int>& value, Int min, Int max) {
  return value && *value >= min && *value <= max ? value : std::nullopt;
}

AuditRecord storableRecord(const AuditRecord& record) {
  AuditRecord out;
  const auto in_fields = optionalFields(record);
  const auto out_fields = optionalFields(out);
  for (std::size_t i = 0; i < in_fields.size(); ++i) {
    if (*in_fields[i]) *out_fields[i] = storable(**in_fields[i]);
  }
  out.outcome = storable(record.outcome);
  out.reason = storable(record.reason);
  out.request_id = storable(record.request_id);
  out.peer = storable(record.peer);
  // Only with a method; numbers within their columns' CHECKs (schema/0020), so that PostgreSQL
  // accepts the line whatever the caller measured.
  if (record.method) {
    constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
    out.method = storable(*record.method);
    if (record.path) out.path = storable(*record.path);
    out.upstream_status = inRange(record.upstream_status, 100, 599);
    out.request_bytes = inRange<std::int64_t>(record.request_bytes, 0, kMax);
    out.response_bytes = inRange<std::int64_t>(record.response_bytes, 0, kMax);
    out.duration_us = inRange<std::int64_t>(record.duration_us, 0, kMax);
  }
  return out;
}

// With kParseValidateEncodingFlag in kFlags, invalid UTF-8 is refused (journalLine's lines);
// without it, invalid bytes are read as they are, as an earlier broker wrote them.
template <unsigned kFlags>
std::optional<JournalEntry> parseLine(std::string_view line) {
  rapidjson::Document doc;
  doc.Parse<kFlags | rapidjson::kParseIterativeFlag>(line.data(), line.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  const auto string = [&](const char* key) -> const rapidjson::Value* {
    const auto it = doc.FindMember(key);
    return it != doc.MemberEnd() && it->value.IsString() ? &it->value : nullptr;
  };
  JournalEntry e;
  const auto seq = doc.FindMember("seq");
  if (seq == doc.MemberEnd() || !seq->value.IsUint64()) return std::nullopt;
  e.seq = seq->value.GetUint64();
  std::string* required[] = {&e.journal, &e.time, &e.record.outcome, &e.record.reason, &e.record.request_id,
                             &e.record.peer};
  const char* required_keys[] = {"journal", "time", "outcome", "reason", "request_id", "peer"};
  for (std::size_t i = 0; i < std::size(required_keys); ++i) {
    const auto* value = string(required_keys[i]);
    if (value == nullptr) return std::nullopt;
    required[i]->assign(value->GetString(), value->GetStringLength());
  }
  const auto fields = optionalFields(e.record);
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const auto it = doc.FindMember(kOptionalFields[i]);
    if (it == doc.MemberEnd()) return std::nullopt;
    if (it->value.IsNull()) continue;
    if (!it->value.IsString()) return std::nullopt;
    *fields[i] = std::string(it->value.GetString(), it->value.GetStringLength());
  }
  // A proxied call's fields: all six, with a string method, or none.
  std::size_t proxy_members = 0;
  if (const auto method = doc.FindMember("method"); method != doc.MemberEnd()) {
    if (!method->value.IsString()) return std::nullopt;
    e.record.method = std::string(method->value.GetString(), method->value.GetStringLength());
    const auto path = doc.FindMember("path");
    if (path == doc.MemberEnd() || !(path->value.IsNull() || path->value.IsString())) return std::nullopt;
    if (path->value.IsString()) e.record.path = std::string(path->value.GetString(), path->value.GetStringLength());
    const auto status = doc.FindMember("upstream_status");
    if (status == doc.MemberEnd() || !(status->value.IsNull() || status->value.IsInt())) return std::nullopt;
    if (status->value.IsInt()) e.record.upstream_status = status->value.GetInt();
    const std::pair<const char*, std::optional<std::int64_t>*> numbers[] = {
        {"request_bytes", &e.record.request_bytes},
        {"response_bytes", &e.record.response_bytes},
        {"duration_us", &e.record.duration_us}};
    for (const auto& [key, field] : numbers) {
      const auto it = doc.FindMember(key);
      if (it == doc.MemberEnd() || !(it->value.IsNull() || it->value.IsInt64())) return std::nullopt;
      if (it->value.IsInt64()) *field = it->value.GetInt64();
    }
    proxy_members = 6;
  }
  // Exactly these members, each once: the line is what was hashed, so nothing may hide in it.
  if (doc.MemberCount() != 3 + std::size(kOptionalFields) + 4 + proxy_members) return std::nullopt;
  if (writeLine(e.seq, e.journal, e.time, e.record) != line) return std::nullopt;
  return e;
}

}  // namespace

std::string journalLine(std::uint64_t seq, std::string_view journal, std::string_view time, const AuditRecord& record) {
  return writeLine(seq, storable(journal), storable(time), storableRecord(record));
}

std::optional<JournalEntry> parseJournalLine(std::string_view line) {
  auto e = parseLine<rapidjson::kParseValidateEncodingFlag>(line);
  // Only what journalLine writes: no NUL (the encoding flag checks raw bytes only, so an
  // escaped lone surrogate or \u0000 is read back as bytes journalLine would replace).
  if (!e || journalLine(*e) != line) return std::nullopt;
  return e;
}

std::optional<JournalEntry> readJournalLine(std::string_view line) {
  if (auto e = parseJournalLine(line)) return e;
  auto e = parseLine<rapidjson::kParseNoFlags>(line);
  // No earlier broker wrote a proxied call's record: that shape only as journalLine writes it.
  if (!e || e->record.method) return std::nullopt;
  e->journal = storable(e->journal);
  e->time = storable(e->time);
  e->record = storableRecord(e->record);
  return e;
}

std::string formatMicros(std::int64_t micros) {
  // Rounded down, so that a time before 1970 is its second and a fraction of 0 to 999999.
  auto seconds = micros / 1000000;
  auto fraction = micros % 1000000;
  if (fraction < 0) {
    fraction += 1000000;
    seconds -= 1;
  }
  const auto whole = static_cast<std::time_t>(seconds);
  std::tm utc{};
  gmtime_r(&whole, &utc);
  char text[96];  // room for any int the format could print
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(fraction));
  return text;
}

std::optional<std::int64_t> parseMicros(std::string_view text) {
  // Digits where digits go: sscanf alone would also take signs and spaces ("51.-99500Z").
  constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd.ddddddZ";
  if (text.size() != kShape.size()) return std::nullopt;
  for (std::size_t i = 0; i < kShape.size(); ++i) {
    const bool ok = kShape[i] == 'd' ? text[i] >= '0' && text[i] <= '9' : text[i] == kShape[i];
    if (!ok) return std::nullopt;
  }
  std::tm utc{};
  int micros = 0;
  char z = 0;
  int consumed = 0;
  const std::string copy(text);
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%6d%c%n", &utc.tm_year, &utc.tm_mon, &utc.tm_mday,
                  &utc.tm_hour, &utc.tm_min, &utc.tm_sec, &micros, &z, &consumed) != 8 ||
      z != 'Z' || consumed != static_cast<int>(copy.size())) {
    return std::nullopt;
  }
  utc.tm_year -= 1900;
  utc.tm_mon -= 1;
  const auto seconds = timegm(&utc);
  const auto micros_total = static_cast<std::int64_t>(seconds) * 1000000 + micros;
  if (formatMicros(micros_total) != copy) return std::nullopt;  // no out-of-range fields
  return micros_total;
}

}  // namespace hydra::audit
