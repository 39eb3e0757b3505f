// RFC 3339 times: oauth::parseTime (grant expiries, oauth2 expires_at) and the audit journal's
// parseMicros, against an independent reading of RFC 3339 section 5.6: whatever they accept must
// be a valid date-time, and mean the instant the grammar says.
#include <optional>
#include <string>

#include "shared/audit/record.hpp"
#include "shared/oauth/token_fields.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

struct Reading {
  long long seconds;  // since the Unix epoch, offset applied, leap second counted as :60 -> +1
  bool has_fraction;
};

bool digits(const std::string& s, std::size_t at, std::size_t n, int& out) {
  if (at + n > s.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

long long daysFromCivil(long long y, int m, int d) {  // H. Hinnant's algorithm, proleptic Gregorian
  y -= m <= 2;
  const long long era = (y >= 0 ? y : y - 399) / 400;
  const long long yoe = y - era * 400;
  const long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// date-time = full-date "T" full-time (upper case only: what we write), per RFC 3339 5.6.
std::optional<Reading> rfc3339(const std::string& s) {
  int year, month, day, hour, minute, second;
  if (!digits(s, 0, 4, year) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, month) || s[7] != '-' ||
      !digits(s, 8, 2, day) || s[10] != 'T' || !digits(s, 11, 2, hour) || s[13] != ':' || !digits(s, 14, 2, minute) ||
      s[16] != ':' || !digits(s, 17, 2, second)) {
    return std::nullopt;
  }
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  const int month_days[] = {31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > month_days[month - 1] || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  std::size_t at = 19;
  bool fraction = false;
  if (s[at] == '.') {
    const auto start = ++at;
    while (at < s.size() && s[at] >= '0' && s[at] <= '9') ++at;
    if (at == start) return std::nullopt;
    fraction = true;
  }
  long long offset = 0;
  if (at < s.size() && s[at] == 'Z') {
    ++at;
  } else if (at < s.size() && (s[at] == '+' || s[at] == '-')) {
    int oh, om;
    if (!digits(s, at + 1, 2, oh) || at + 3 >= s.size() || s[at + 3] != ':' || !digits(s, at + 4, 2, om) || oh > 23 ||
        om > 59) {
      return std::nullopt;
    }
    offset = (s[at] == '-' ? -1 : 1) * (oh * 3600LL + om * 60LL);
    at += 6;
  } else {
    return std::nullopt;
  }
  if (at != s.size()) return std::nullopt;
  return Reading{daysFromCivil(year, month, day) * 86400 + hour * 3600LL + minute * 60LL + second - offset, fraction};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = hydra::fuzz::text(data, size);

  if (const auto parsed = hydra::oauth::parseTime(text)) {
    const auto reading = rfc3339(text);
    FUZZ_CHECK(reading.has_value());
    // Poco truncates a fraction towards zero, so before 1970 a fractional time may land one
    // second late; no expiry that early is ever accepted, so only that is tolerated.
    const auto seconds = static_cast<long long>(*parsed);
    FUZZ_CHECK(seconds == reading->seconds ||
               (reading->has_fraction && reading->seconds < 0 && seconds == reading->seconds + 1));
    // What we write back (expires_at) reads as the same instant. formatTime is only given times
    // from 2000-01-01 to 9999-12-31T23:59:59Z (normalizeCredentials refuses others), so only those
    // are checked: Poco prints negative fields for times in the year 0 ("0000-11-01T-23:-59:-52Z"),
    // and 9999-12-31T23:59:60Z is in the year 10000.
    if (*parsed >= 946684800 && *parsed <= 253402300799) {
      FUZZ_CHECK(hydra::oauth::parseTime(hydra::oauth::formatTime(*parsed)) == parsed);
    }
  }

  if (const auto micros = hydra::audit::parseMicros(text)) {
    const auto reading = rfc3339(text);
    FUZZ_CHECK(reading.has_value() && reading->has_fraction);
    FUZZ_CHECK(*micros / 1000000 == reading->seconds || (*micros < 0 && *micros / 1000000 - 1 == reading->seconds));
    FUZZ_CHECK(hydra::audit::formatMicros(*micros) == text);
  }
  return 0;
}
