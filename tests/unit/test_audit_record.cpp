// Journal lines: every field, in one fixed form, read back exactly; anything else is not a record.
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "shared/audit/journal_files.hpp"
#include "shared/audit/record.hpp"
#include "shared/json/reader.hpp"

using namespace hydra::audit;

namespace {

JournalEntry sample() {
  JournalEntry e;
  e.seq = 7;
  e.journal = "hydracore-broker/7c4a";
  e.time = "2026-11-29T16:35:24.123456Z";
  e.record.customer_id = "0473b088-4267-4c93-bd9f-82b8ef17caa1";
  e.record.instance_id = "11111111-1111-1111-1111-111111111111";
  e.record.provider = "gmail";
  e.record.name = "line\nbreak \"quoted\" ✓";
  e.record.outcome = "denied";
  e.record.reason = "No connection";
  e.record.request_id = "abc";
  e.record.peer = "127.0.0.1";
  return e;
}

}  // namespace

TEST_CASE("audit record: a line holds every field, no newline, and reads back the same") {
  const auto e = sample();
  const auto line = journalLine(e);
  CHECK(line.find('\n') == std::string::npos);
  CHECK(line.rfind(R"({"seq":7,"journal":"hydracore-broker/7c4a","time":"2026-11-29T16:35:24.123456Z",)", 0) == 0);
  CHECK(line.find(R"("proxy_key_id":null)") != std::string::npos);
  const auto back = parseJournalLine(line);
  REQUIRE(back.has_value());
  CHECK(journalLine(*back) == line);
  CHECK(back->record.name == e.record.name);
  CHECK_FALSE(back->record.capability.has_value());
}

TEST_CASE("audit record: lines not in the journal's exact form are not records") {
  const auto line = journalLine(sample());
  CHECK_FALSE(parseJournalLine(line.substr(0, line.size() - 1)));               // torn
  CHECK_FALSE(parseJournalLine(line.substr(0, line.size() - 1) + R"(,"x":1})"));  // an extra member
  CHECK_FALSE(parseJournalLine(std::string(line).replace(line.find("\"seq\":7"), 7, "\"seq\":8 ")));
  auto spaced = line;
  spaced.insert(1, " ");
  CHECK_FALSE(parseJournalLine(spaced));  // same JSON, other bytes: not what was hashed
  CHECK_FALSE(parseJournalLine(""));
  CHECK_FALSE(parseJournalLine(std::string(10, '\0')));
}

TEST_CASE("audit record: times are RFC 3339 UTC with microseconds, both ways") {
  CHECK(formatMicros(0) == "1970-01-01T00:00:00.000000Z");
  CHECK(formatMicros(1'800'000'000'123'456) == "2027-01-15T08:00:00.123456Z");
  CHECK(parseMicros("2027-01-15T08:00:00.123456Z") == 1'800'000'000'123'456);
  CHECK_FALSE(parseMicros("2027-01-15T08:00:00Z"));
  CHECK_FALSE(parseMicros("2027-13-15T08:00:00.000000Z"));
  CHECK_FALSE(parseMicros("2027-01-15T08:00:00.000000+00:00"));
}

// Found by tests/fuzz/fuzz_rfc3339.cpp (its input, as is): sscanf read "-99500" as the
// microseconds and formatMicros, which truncated towards zero, printed the negative fraction back
// for a time before 1970, so the round-trip check let it through. Only digits are read now, and
// a time before 1970 prints as its second plus a positive fraction.
TEST_CASE("audit record: a time with a sign in a field is not a time, and times before 1970 read back") {
  CHECK_FALSE(parseMicros("1962-12-31T23:59:51.-99500Z"));
  CHECK_FALSE(parseMicros("2027-01-15T08:00:00.+12345Z"));
  CHECK_FALSE(parseMicros("2027-01-15T08:00: 0.123456Z"));
  CHECK(formatMicros(-1) == "1969-12-31T23:59:59.999999Z");
  CHECK(parseMicros("1969-12-31T23:59:59.999999Z") == -1);
  CHECK(parseMicros("1962-12-31T23:59:51.099500Z") == -220'924'809'000'000 + 99'500);
}

// Found by tests/fuzz/fuzz_audit_checkpoint_line.cpp on its seed with a frontier entry
// "not base64!": Botan's Invalid_Argument (not a std::runtime_error) came out of the journal's
// recovery, with Botan's words instead of ours.
TEST_CASE("audit checkpoints: a frontier hash that is not base64 of 32 bytes is a std::runtime_error") {
  const auto line = std::string(R"({"note":"o\n1\nAAAA\n","frontier":["VQcmZi2PEzD1dmUTPcWs3MBK3Q2V32plYgXiT33KphE=",)") +
                    R"("not base64!"]})";
  const auto entry = parseCheckpointLine(line);
  REQUIRE(entry.has_value());
  CHECK(decodeFrontierHash(entry->frontier[0]).size() == 32);
  CHECK_THROWS_WITH_AS(decodeFrontierHash(entry->frontier[1]), "a frontier hash is not base64", std::runtime_error);
  CHECK_THROWS_WITH_AS(decodeFrontierHash("AAAA"), "a frontier hash is not 32 bytes", std::runtime_error);
}

// Found by tests/fuzz/fuzz_audit_checkpoint_line.cpp (its input, as is): "\uDDDD", a lone
// surrogate, decodes to bytes that are not UTF-8, so the entry read could not be written back as
// the same line; strings that are not valid text are refused like other malformed lines.
TEST_CASE("audit checkpoints: a line whose strings decode to invalid UTF-8 is not a checkpoint line") {
  const std::string line =
      "{\"note\":\"PeterNeumanna\\uDDDDDDDn0n5\\nq1uiQNXFzm1XxD/\\n\",\"frontier\":[\"VQcmZiu/mbQ=\\n\\n\xe2\x80\x94 "
      "PeterNeuN5Botan16InvOFfyrbQ=\\n\\n\xe2\x80\x94 PeterNeumann x0t base64!\"]}";
  CHECK_FALSE(parseCheckpointLine(line).has_value());
  CHECK_FALSE(parseCheckpointLine(R"({"note":"n","frontier":["\ud800"]})").has_value());
  // Escapes of valid text (a surrogate pair, a NUL) read back and are written back the same.
  const auto pair = parseCheckpointLine(R"({"note":"\ud83d\ude00\u0000","frontier":[]})");
  REQUIRE(pair.has_value());
  CHECK(parseCheckpointLine(checkpointLine(*pair))->note == pair->note);
}

// Issue 18: bytes a client chose once went into a line as they were, and PostgreSQL refused the
// line (and every batch holding it) for good; start-up refused the journal.
TEST_CASE("audit record: every field is valid UTF-8 without NUL whatever it held, an earlier broker's line reads") {
  auto e = sample();
  e.record.peer = std::string("\xff\xfe garbage\0x", 12);
  e.record.reason = "caf\xc3\xa9 \xc3 \xed\xa0\x80 \xf0\x9f\x98\x80";  // valid, torn, a surrogate, valid
  const auto line = journalLine(e);
  CHECK(hydra::json::isValidUtf8(line));
  CHECK(line.find("\"peer\":\"\xef\xbf\xbd\xef\xbf\xbd garbage\xef\xbf\xbdx\"") != std::string::npos);
  CHECK(line.find("\"reason\":\"caf\xc3\xa9 \xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd \xf0\x9f\x98\x80\"") !=
        std::string::npos);
  const auto back = parseJournalLine(line);
  REQUIRE(back.has_value());
  CHECK(journalLine(*back) == line);

  // What a broker before issue 18 wrote for that record: the bytes as received.
  const std::string earlier =
      std::string(R"({"seq":7,"journal":"hydracore-broker/7c4a","time":"2026-11-29T16:35:24.123456Z",)") +
      R"("customer_id":null,"instance_id":null,"proxy_key_id":null,"connection_id":null,)" +
      R"("provider":null,"name":null,"capability":null,"outcome":"allowed","reason":"ok",)" +
      "\"request_id\":\"r\",\"peer\":\"\xff\xfe garbage\\u0000x\"}";
  CHECK_FALSE(parseJournalLine(earlier));  // not what journalLine writes now
  const auto read = readJournalLine(earlier);
  REQUIRE(read.has_value());
  CHECK(read->seq == 7u);
  CHECK(read->record.peer == "\xef\xbf\xbd\xef\xbf\xbd garbage\xef\xbf\xbdx");
  // Still exactly that shape: nothing may hide in it.
  CHECK_FALSE(readJournalLine(std::string(earlier).insert(1, " ")));
  CHECK_FALSE(readJournalLine(earlier.substr(0, earlier.size() - 1)));
}

namespace {

// A proxied call's record (issue 19): the same fields as a fetch's, and six of its own.
JournalEntry proxied() {
  auto e = sample();
  e.record.outcome = "allowed";
  e.record.capability = "send_mail";
  e.record.reason = "proxied";
  e.record.method = "POST";
  e.record.path = "/gmail/v1/users/me/messages/send";
  e.record.upstream_status = 200;
  e.record.request_bytes = 1234;
  e.record.response_bytes = 0;
  e.record.duration_us = 81'234;
  return e;
}

// The committed seed of the fuzz target (tests/fuzz/corpus/audit_journal_line/allowed): a
// fetch's line as every broker before issue 19 wrote it.
const std::string kFetchLine =
    R"({"seq":41,"journal":"hydracore-broker/6f1c3a52-2c1e-4a47-9c55-0f1d2b3e4a5b","time":"2026-11-29T16:35:24.123456Z",)"
    R"("customer_id":"0f8fad5b-d9cb-469f-a165-70867728950e","instance_id":"7c9e6679-7425-40de-944b-e07fc1f90ae7",)"
    R"("proxy_key_id":"16fd2706-8baf-433b-82eb-8c7fada847da","connection_id":"886313e1-3b8a-5372-9b90-0c9aee199e5d",)"
    R"("provider":"gmail","name":"admin@acme.example","capability":"send_mail","outcome":"allowed","reason":"",)"
    R"("request_id":"b3f7c2a1d4e5f60718293a4b5c6d7e8f","peer":"10.0.0.7"})";

/// `line` with `from` (which it must hold) replaced by `to`.
std::string edited(std::string line, const std::string& from, const std::string& to) {
  const auto at = line.find(from);
  REQUIRE(at != std::string::npos);
  return line.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("audit record: a proxied call's line holds its six fields after peer, in order, and reads back") {
  const auto e = proxied();
  const auto line = journalLine(e);
  const auto tail = std::string(R"("peer":"127.0.0.1","method":"POST","path":"/gmail/v1/users/me/messages/send",)") +
                    R"("upstream_status":200,"request_bytes":1234,"response_bytes":0,"duration_us":81234})";
  CHECK(line.substr(line.size() - tail.size()) == tail);
  const auto back = parseJournalLine(line);
  REQUIRE(back.has_value());
  CHECK(journalLine(*back) == line);
  CHECK(back->record.method == "POST");
  CHECK(back->record.path == "/gmail/v1/users/me/messages/send");
  CHECK(back->record.upstream_status == 200);
  CHECK(back->record.request_bytes == 1234);
  CHECK(back->record.response_bytes == 0);
  CHECK(back->record.duration_us == 81'234);
  CHECK(readJournalLine(line)->record.path == e.record.path);

  // A refusal before any upstream call: a method, the rest null, written all the same.
  auto refused = proxied();
  refused.record.outcome = "denied";
  refused.record.capability = std::nullopt;
  refused.record.reason = "Path refused: a '..' segment";
  refused.record.path = std::nullopt;
  refused.record.upstream_status = std::nullopt;
  refused.record.request_bytes = std::nullopt;
  refused.record.response_bytes = std::nullopt;
  refused.record.duration_us = std::nullopt;
  const auto refused_line = journalLine(refused);
  CHECK(refused_line.find(
            R"("method":"POST","path":null,"upstream_status":null,"request_bytes":null,"response_bytes":null,"duration_us":null})") !=
        std::string::npos);
  const auto refused_back = parseJournalLine(refused_line);
  REQUIRE(refused_back.has_value());
  CHECK(refused_back->record.method == "POST");
  CHECK_FALSE(refused_back->record.path.has_value());
  CHECK_FALSE(refused_back->record.upstream_status.has_value());
}

TEST_CASE("audit record: a fetch's line is byte for byte what it was, and has no proxy field") {
  const auto back = parseJournalLine(kFetchLine);
  REQUIRE(back.has_value());
  CHECK_FALSE(back->record.method.has_value());
  CHECK(journalLine(*back) == kFetchLine);
  // Proxy fields without a method are not written: the line stays a fetch's.
  auto fetch = *back;
  fetch.record.path = "/x";
  fetch.record.upstream_status = 200;
  fetch.record.duration_us = 5;
  CHECK(journalLine(fetch) == kFetchLine);
  CHECK(journalLine(sample()).find("method") == std::string::npos);
}

TEST_CASE("audit record: numbers a column could not store are written as null") {
  auto e = proxied();
  e.record.upstream_status = 0;
  e.record.request_bytes = -1;
  e.record.response_bytes = -5;
  e.record.duration_us = -1;
  const auto line = journalLine(e);
  CHECK(line.find(R"("upstream_status":null,"request_bytes":null,"response_bytes":null,"duration_us":null})") !=
        std::string::npos);
  REQUIRE(parseJournalLine(line).has_value());
  e.record.upstream_status = 600;
  CHECK(journalLine(e).find(R"("upstream_status":null)") != std::string::npos);
  e.record.upstream_status = 599;
  CHECK(journalLine(e).find(R"("upstream_status":599)") != std::string::npos);
  e.record.upstream_status = 100;
  CHECK(journalLine(e).find(R"("upstream_status":100)") != std::string::npos);
  // The method and path are text like the other fields: valid UTF-8 without NUL.
  e.record.method = std::string("GE\0T", 4);
  e.record.path = "/caf\xc3";
  const auto text = journalLine(e);
  CHECK(text.find("\"method\":\"GE\xef\xbf\xbdT\",\"path\":\"/caf\xef\xbf\xbd\"") != std::string::npos);
  CHECK(parseJournalLine(text).has_value());
}

TEST_CASE("audit record: a proxied call's line in any other shape is not a record") {
  const auto line = journalLine(proxied());
  REQUIRE(parseJournalLine(line).has_value());
  const std::vector<std::pair<std::string, std::string>> forgeries = {
      // The other fields without a method, or with a method of another type.
      {R"("method":"POST",)", ""},
      {R"("method":"POST")", R"("method":null)"},
      {R"("method":"POST")", R"("method":1)"},
      // A field missing, or out of order.
      {R"("path":"/gmail/v1/users/me/messages/send",)", ""},
      {R"(,"duration_us":81234)", ""},
      {R"("request_bytes":1234,"response_bytes":0)", R"("response_bytes":0,"request_bytes":1234)"},
      {R"("method":"POST","path":"/gmail/v1/users/me/messages/send")",
       R"("path":"/gmail/v1/users/me/messages/send","method":"POST")"},
      // Before peer instead of after it.
      {R"("peer":"127.0.0.1","method":"POST")", R"("method":"POST","peer":"127.0.0.1")"},
      // Numbers of another type or spelling, or out of range.
      {R"("upstream_status":200)", R"("upstream_status":"200")"},
      {R"("upstream_status":200)", R"("upstream_status":200.0)"},
      {R"("upstream_status":200)", R"("upstream_status":2e2)"},
      {R"("upstream_status":200)", R"("upstream_status":0200)"},
      {R"("upstream_status":200)", R"("upstream_status":99)"},
      {R"("upstream_status":200)", R"("upstream_status":600)"},
      {R"("upstream_status":200)", R"("upstream_status":4294967496)"},
      {R"("request_bytes":1234)", R"("request_bytes":-1)"},
      {R"("response_bytes":0)", R"("response_bytes":-0)"},
      {R"("duration_us":81234)", R"("duration_us":-81234)"},
      {R"("duration_us":81234)", R"("duration_us":18446744073709551615)"},
      {R"("path":"/gmail/v1/users/me/messages/send")", R"("path":["/gmail"])"},
      // A member twice, or one more.
      {R"("duration_us":81234})", R"("duration_us":81234,"duration_us":81234})"},
      {R"("duration_us":81234})", R"("duration_us":81234,"query":"a=b"})"},
  };
  for (const auto& [from, to] : forgeries) {
    const auto forged = edited(line, from, to);
    CAPTURE(forged);
    CHECK_FALSE(parseJournalLine(forged));
    CHECK_FALSE(readJournalLine(forged));
  }
  // The six fields added to a fetch's line, any subset of them, are not a record either.
  CHECK_FALSE(parseJournalLine(edited(kFetchLine, R"("peer":"10.0.0.7"})", R"("peer":"10.0.0.7","path":"/x"})")));
  CHECK_FALSE(parseJournalLine(
      edited(kFetchLine, R"("peer":"10.0.0.7"})",
             R"("peer":"10.0.0.7","path":null,"upstream_status":null,"request_bytes":null,"response_bytes":null,"duration_us":null})")));
  // A proxied call's line is never an earlier broker's: invalid bytes in it are not read leniently.
  const auto raw = edited(line, "/gmail/v1/users/me/messages/send", "/gmail/\xff");
  CHECK_FALSE(parseJournalLine(raw));
  CHECK_FALSE(readJournalLine(raw));
  const auto nul = edited(line, "/gmail/v1/users/me/messages/send", "/gmail/\\u0000");
  CHECK_FALSE(parseJournalLine(nul));
  CHECK_FALSE(readJournalLine(nul));
}
