// RFC 3339 query times (shared/http/params.cpp: parseTimeMicros, formatTimeMicros), read to the
// microsecond as the audit filters compare them with occurred_at.
#include <doctest/doctest.h>

#include "shared/http/params.hpp"

using hydra::http::formatTimeMicros;
using hydra::http::kMaxTimeMicros;
using hydra::http::kMinTimeMicros;
using hydra::http::parseTimeMicros;

TEST_CASE("query times: RFC 3339 date-times to microseconds, UTC") {
  CHECK(parseTimeMicros("1970-01-01T00:00:00Z") == 0);
  CHECK(parseTimeMicros("2026-03-01T12:34:56Z") == 1772368496LL * 1000000);
  CHECK(parseTimeMicros("2026-03-01T12:34:56.5Z") == 1772368496LL * 1000000 + 500000);
  CHECK(parseTimeMicros("2026-03-01T12:34:56.123456Z") == 1772368496LL * 1000000 + 123456);
  // Offsets: the same instant.
  CHECK(parseTimeMicros("2026-03-01T14:34:56+02:00") == parseTimeMicros("2026-03-01T12:34:56Z"));
  CHECK(parseTimeMicros("2026-03-01T00:04:56-12:30") == parseTimeMicros("2026-03-01T12:34:56Z"));
  // Finer than a microsecond rounds up; zeros past the sixth digit change nothing.
  CHECK(parseTimeMicros("2026-03-01T12:34:56.0000001Z") == 1772368496LL * 1000000 + 1);
  CHECK(parseTimeMicros("2026-03-01T12:34:56.123456000Z") == 1772368496LL * 1000000 + 123456);
  CHECK(parseTimeMicros("2026-03-01T23:59:59.9999999Z") == parseTimeMicros("2026-03-02T00:00:00Z"));
  // Before 1970, leap days, a leap second (the next second).
  CHECK(parseTimeMicros("1969-12-31T23:59:59.5Z") == -500000);
  CHECK(parseTimeMicros("2024-02-29T00:00:00Z") == 1709164800LL * 1000000);
  CHECK(parseTimeMicros("2016-12-31T23:59:60Z") == parseTimeMicros("2017-01-01T00:00:00Z"));
  // Clamped to years 1..9999 in UTC.
  CHECK(parseTimeMicros("0001-01-01T00:00:00Z") == kMinTimeMicros);
  CHECK(parseTimeMicros("0001-01-01T00:30:00+01:00") == kMinTimeMicros);
  CHECK(parseTimeMicros("9999-12-31T23:59:59.999999Z") == kMaxTimeMicros);
  CHECK(parseTimeMicros("9999-12-31T23:30:00-01:00") == kMaxTimeMicros);
}

TEST_CASE("query times: anything else is refused") {
  for (const char* bad : {"", "2026-03-01", "2026-03-01T12:34:56", "2026-03-01 12:34:56Z", "2026-03-01t12:34:56Z",
                          "2026-03-01T12:34:56z", "2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z",
                          "2026-04-31T00:00:00Z", "2026-03-01T24:00:00Z", "2026-03-01T12:60:00Z", "2026-03-01T12:00:61Z",
                          "0000-01-01T00:00:00Z", "2026-03-01T12:34:56.Z", "2026-03-01T12:34:56+24:00",
                          "2026-03-01T12:34:56+02", "2026-03-01T12:34:56+0200", "2026-03-01T12:34:56Z ",
                          " 2026-03-01T12:34:56Z", "+2026-03-01T12:34:56Z", "2026-3-01T12:34:56Z", "tomorrow",
                          "2026-03-01T12:34:56.5.5Z", "2026-03-01T12:34:56Zjunk"}) {
    const std::string text = bad;
    CAPTURE(text);
    CHECK_FALSE(parseTimeMicros(text).has_value());
  }
}

TEST_CASE("query times: formatted to the microsecond in UTC, and read back the same") {
  CHECK(formatTimeMicros(0) == "1970-01-01T00:00:00.000000Z");
  CHECK(formatTimeMicros(-500000) == "1969-12-31T23:59:59.500000Z");
  CHECK(formatTimeMicros(kMinTimeMicros) == "0001-01-01T00:00:00.000000Z");
  CHECK(formatTimeMicros(kMaxTimeMicros) == "9999-12-31T23:59:59.999999Z");
  for (const long long micros : {0LL, 1LL, -1LL, 1772368496123456LL, -62135596800000000LL + 7, 253402300799999999LL,
                                 951782400000000LL /* 2000-02-29 */}) {
    CAPTURE(micros);
    CHECK(parseTimeMicros(formatTimeMicros(micros)) == micros);
  }
}
