#include "shared/http/params.hpp"

#include <strings.h>

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

std::optional<std::string> bearerTokenOf(const std::optional<std::string>& authorization) {
  constexpr std::size_t kSchemeLength = 7;  // "Bearer "
  if (!authorization || authorization->size() <= kSchemeLength ||
      strncasecmp(authorization->c_str(), "Bearer ", kSchemeLength) != 0) {
    return std::nullopt;
  }
  return authorization->substr(kSchemeLength);
}

}  // namespace hydra::http
