// Journal lines: every field, in one fixed form, read back exactly; anything else is not a record.
#include <doctest/doctest.h>

#include "broker/audit/record.hpp"

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
