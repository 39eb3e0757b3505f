// Journal lines: every field, in one fixed form, read back exactly; anything else is not a record.
#include <doctest/doctest.h>

#include <stdexcept>

#include "broker/audit/journal_files.hpp"
#include "broker/audit/record.hpp"
#include "shared/json/reader.hpp"

using namespace hydra::broker::audit;

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
