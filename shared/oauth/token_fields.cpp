#include "shared/oauth/token_fields.hpp"

#include <regex>

#include <Poco/DateTime.h>
#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/DateTimeParser.h>
#include <Poco/Exception.h>
#include <Poco/Timestamp.h>

#include "shared/http/errors.hpp"
#include "shared/json/reader.hpp"
#include "shared/json/writer.hpp"

namespace hydra::oauth {
namespace {

// Unix seconds that Poco and every provider can represent (1970 .. 9999).
constexpr double kMaxSeconds = 253402300799.0;
constexpr double kMinSeconds = 946684800.0;  // 2000-01-01T00:00:00Z

[[noreturn]] void refuse(const char* field, const std::string& msg, const std::string& type) {
  throw http::ValidationError({{{"body", "credentials", field}, msg, type}});
}

}  // namespace

std::string formatTime(std::time_t t) {
  return Poco::DateTimeFormatter::format(Poco::Timestamp::fromEpochTime(t), "%Y-%m-%dT%H:%M:%SZ");
}

std::optional<std::time_t> parseTime(std::string_view text) {
  // Poco's parser is lenient (it reads "tomorrow" as a date, a month or day of 00 as 01, and any
  // two digits as an offset's hours or minutes): check the shape first. Poco then checks the
  // rest (the day within its month, the time of day).
  static const std::regex kRfc3339(
      R"(\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d))");
  if (!std::regex_match(text.begin(), text.end(), kRfc3339)) return std::nullopt;
  try {
    int tz = 0;
    Poco::DateTime parsed;
    if (!Poco::DateTimeParser::tryParse(Poco::DateTimeFormat::ISO8601_FRAC_FORMAT, std::string(text), parsed, tz) &&
        !Poco::DateTimeParser::tryParse(Poco::DateTimeFormat::ISO8601_FORMAT, std::string(text), parsed, tz)) {
      return std::nullopt;
    }
    parsed.makeUTC(tz);
    return parsed.timestamp().epochTime();
  } catch (const Poco::Exception&) {
    return std::nullopt;
  }
}

NormalizedCredentials normalizeCredentials(const std::string& credentials_json, std::time_t now) {
  rapidjson::Document doc;
  // Our own serialisation, so valid; full precision so other numbers come back unchanged.
  doc.Parse<rapidjson::kParseFullPrecisionFlag>(credentials_json.c_str(), credentials_json.size());
  NormalizedCredentials out;

  std::optional<double> expires_at;
  if (const auto in = doc.FindMember("expires_in"); in != doc.MemberEnd()) {
    // Bounded by what expires_at can say: parseTime reads four-digit years only.
    if (!in->value.IsNumber() || in->value.GetDouble() < 0 ||
        in->value.GetDouble() > kMaxSeconds - static_cast<double>(now)) {
      refuse("expires_in", "Input should be a number of seconds", "float_type");
    }
    expires_at = static_cast<double>(now) + in->value.GetDouble();
    doc.EraseMember("expires_in");
  }
  if (const auto at = doc.FindMember("expires_at"); at != doc.MemberEnd() && !expires_at) {
    if (at->value.IsNumber() && at->value.GetDouble() >= 0 && at->value.GetDouble() <= kMaxSeconds) {
      expires_at = at->value.GetDouble();
    } else if (at->value.IsString()) {
      const auto parsed = parseTime(std::string_view(at->value.GetString(), at->value.GetStringLength()));
      if (!parsed) refuse("expires_at", "Input should be an RFC 3339 date-time or Unix seconds", "datetime_parsing");
      // "9999-12-31T23:59:59-01:00" is in the year 10000 in UTC, which expires_at cannot say.
      if (static_cast<double>(*parsed) > kMaxSeconds) {
        refuse("expires_at", "Input should be a date-time before 10000-01-01T00:00:00Z", "less_than_equal");
      }
      expires_at = static_cast<double>(*parsed);
    } else {
      refuse("expires_at", "Input should be an RFC 3339 date-time or Unix seconds", "datetime_type");
    }
  }
  // An access token that expired before 2000 is no token: such a value (0, above all) would
  // only make the connection look due for ever and crowd the refresh loop.
  if (expires_at && *expires_at < kMinSeconds) {
    refuse("expires_at", "Input should be a date-time on or after 2000-01-01T00:00:00Z", "greater_than_equal");
  }
  if (expires_at) {
    out.expires_at = static_cast<std::time_t>(*expires_at);
    json::setStringMember(doc, "expires_at", formatTime(*out.expires_at));
  }
  out.credentials_json = json::toString(doc);
  return out;
}

}  // namespace hydra::oauth
