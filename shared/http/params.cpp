#include "shared/http/params.hpp"

#include <strings.h>

#include <algorithm>
#include <cstdio>

#include <Poco/Exception.h>
#include <Poco/URI.h>

#include "shared/json/reader.hpp"

namespace hydra::http {

std::string decodeQueryValue(const std::string& raw) {
  std::string decoded;
  std::string plus_as_space = raw;
  for (char& c : plus_as_space) {
    if (c == '+') c = ' ';
  }
  try {
    Poco::URI::decode(plus_as_space, decoded);
  } catch (const Poco::Exception&) {
    return plus_as_space;
  }
  return decoded;
}

std::string checkPathUuid(const std::string& raw, const char* name, Problems& problems) {
  auto id = json::canonicalUuid(raw);
  if (!id) {
    problems.add({"path", name}, "Input should be a valid UUID", "uuid_parsing");
    return {};
  }
  return *id;
}

std::optional<std::string> checkQueryString(std::optional<std::string> value, const char* name, bool required,
                                            std::size_t max_chars, Problems& problems) {
  if (!value) {
    if (required) problems.add({"query", name}, "Field required", "missing");
    return std::nullopt;
  }
  // Decoded bytes go into SQL and the audit trail: refuse what PostgreSQL cannot store.
  if (value->find('\0') != std::string::npos || !json::isValidUtf8(*value)) {
    problems.add({"query", name}, "Input should be valid UTF-8 without NUL characters", "string_unicode");
    return std::nullopt;
  }
  const auto chars = json::utf8Length(*value);
  if (chars < 1) {
    problems.add({"query", name}, json::msg::tooShort(1), "string_too_short");
    return std::nullopt;
  }
  if (chars > max_chars) {
    problems.add({"query", name}, json::msg::tooLong(max_chars), "string_too_long");
    return std::nullopt;
  }
  return value;
}

std::int64_t checkQueryInteger(const std::optional<std::string>& value, const char* name, std::int64_t fallback,
                               std::int64_t min, std::int64_t max, Problems& problems) {
  if (!value) return fallback;
  std::size_t used = 0;
  long long n = 0;
  try {
    n = std::stoll(*value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != value->size()) {
    problems.add({"query", name}, "Input should be a valid integer, unable to parse string as an integer",
                 "int_parsing");
    return fallback;
  }
  if (n < min) {
    problems.add({"query", name}, "Input should be greater than or equal to " + std::to_string(min),
                 "greater_than_equal");
    return fallback;
  }
  if (n > max) {
    problems.add({"query", name}, "Input should be less than or equal to " + std::to_string(max),
                 "less_than_equal");
    return fallback;
  }
  return n;
}

std::optional<std::string> checkQueryOneOf(std::optional<std::string> value, const char* name,
                                           const std::vector<std::string>& allowed, Problems& problems) {
  if (!value) return std::nullopt;
  for (const auto& a : allowed) {
    if (*value == a) return value;
  }
  problems.add({"query", name}, json::msg::oneOf(allowed), "literal_error");
  return std::nullopt;
}

std::optional<std::string> checkQueryUuid(std::optional<std::string> value, const char* name, Problems& problems) {
  if (!value) return std::nullopt;
  auto id = json::canonicalUuid(*value);
  if (!id) problems.add({"query", name}, "Input should be a valid UUID", "uuid_parsing");
  return id;
}

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t daysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// The civil date of a day count (civil_from_days).
void civilFromDays(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2);
}

bool digitsAt(const std::string& s, std::size_t at, std::size_t n, unsigned& out) {
  if (at + n > s.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + static_cast<unsigned>(s[i] - '0');
  }
  return true;
}

}  // namespace

std::optional<std::int64_t> parseTimeMicros(const std::string& s) {
  // date-time = full-date "T" full-time (RFC 3339, 5.6); seconds may be 60 (a leap second,
  // read as the next second, as PostgreSQL does).
  unsigned year, month, day, hour, minute, second;
  if (s.size() < 20 || !digitsAt(s, 0, 4, year) || s[4] != '-' || !digitsAt(s, 5, 2, month) || s[7] != '-' ||
      !digitsAt(s, 8, 2, day) || s[10] != 'T' || !digitsAt(s, 11, 2, hour) || s[13] != ':' ||
      !digitsAt(s, 14, 2, minute) || s[16] != ':' || !digitsAt(s, 17, 2, second)) {
    return std::nullopt;
  }
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  const unsigned month_days[] = {31, leap ? 29u : 28u, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > month_days[month - 1] || hour > 23 || minute > 59 ||
      second > 60) {
    return std::nullopt;
  }
  std::size_t at = 19;
  std::int64_t micros = 0;
  if (s[at] == '.') {
    const auto start = ++at;
    bool finer = false;  // digits past the sixth that are not 0: round up
    for (; at < s.size() && s[at] >= '0' && s[at] <= '9'; ++at) {
      if (at - start < 6) {
        micros = micros * 10 + (s[at] - '0');
      } else if (s[at] != '0') {
        finer = true;
      }
    }
    if (at == start) return std::nullopt;
    for (auto n = at - start; n < 6; ++n) micros *= 10;
    if (finer) ++micros;
  }
  std::int64_t offset_seconds = 0;
  if (at < s.size() && s[at] == 'Z') {
    ++at;
  } else if (at < s.size() && (s[at] == '+' || s[at] == '-')) {
    unsigned oh, om;
    if (!digitsAt(s, at + 1, 2, oh) || at + 3 >= s.size() || s[at + 3] != ':' || !digitsAt(s, at + 4, 2, om) ||
        oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_seconds = (s[at] == '-' ? -1 : 1) * static_cast<std::int64_t>(oh * 3600 + om * 60);
    at += 6;
  } else {
    return std::nullopt;
  }
  if (at != s.size()) return std::nullopt;
  const std::int64_t seconds =
      daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;
  return std::clamp(seconds * 1000000 + micros, kMinTimeMicros, kMaxTimeMicros);
}

std::string formatTimeMicros(std::int64_t micros) {
  micros = std::clamp(micros, kMinTimeMicros, kMaxTimeMicros);
  std::int64_t seconds = micros / 1000000, fraction = micros % 1000000;
  if (fraction < 0) {
    fraction += 1000000;
    --seconds;
  }
  std::int64_t days = seconds / 86400, of_day = seconds % 86400;
  if (of_day < 0) {
    of_day += 86400;
    --days;
  }
  std::int64_t year;
  unsigned month, day;
  civilFromDays(days, year, month, day);
  char text[40];
  std::snprintf(text, sizeof text, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%06lldZ", static_cast<long long>(year), month,
                day, static_cast<long long>(of_day / 3600), static_cast<long long>(of_day / 60 % 60),
                static_cast<long long>(of_day % 60), static_cast<long long>(fraction));
  return text;
}

std::optional<std::int64_t> checkQueryTime(std::optional<std::string> value, const char* name, Problems& problems) {
  if (!value) return std::nullopt;
  const auto micros = parseTimeMicros(*value);
  if (!micros) {
    problems.add({"query", name}, "Input should be a valid datetime (RFC 3339, e.g. 2026-05-01T12:00:00Z)",
                 "datetime_parsing");
  }
  return micros;
}

std::optional<std::string> bearerTokenOf(const std::optional<std::string>& authorization) {
  constexpr std::size_t kSchemeLength = 7;  // "Bearer "
  if (!authorization || authorization->size() <= kSchemeLength ||
      strncasecmp(authorization->c_str(), "Bearer ", kSchemeLength) != 0) {
    return std::nullopt;
  }
  return authorization->substr(kSchemeLength);
}

}  // namespace hydra::http
