#pragma once
// Path, query and header values as text: the checks behind shared/http/request.hpp, kept free
// of Pistache so they can be tested (and fuzzed) on their own. Problems are FastAPI-shaped 422
// entries at ["path", name] or ["query", name].

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "shared/http/errors.hpp"

namespace hydra::http {

/// A query value as Pistache hands it over (still percent-encoded): '+' is a space, then %XX
/// escapes are decoded. A malformed escape leaves the value as it is (with '+' decoded).
std::string decodeQueryValue(const std::string& raw);

/// `raw` as a canonical lower-case UUID; records a ["path", name] problem and returns "" if
/// it is not one.
std::string checkPathUuid(const std::string& raw, const char* name, Problems& problems);

/// A decoded query value of 1..max_chars characters of UTF-8 without NUL; records a
/// ["query", name] problem otherwise (and "missing" when absent but required).
std::optional<std::string> checkQueryString(std::optional<std::string> value, const char* name, bool required,
                                            std::size_t max_chars, Problems& problems);

/// A decoded query value as an integer in [min, max]; `fallback` when absent or invalid.
std::int64_t checkQueryInteger(const std::optional<std::string>& value, const char* name, std::int64_t fallback,
                               std::int64_t min, std::int64_t max, Problems& problems);

/// A decoded query value that must be one of `allowed`, if present.
std::optional<std::string> checkQueryOneOf(std::optional<std::string> value, const char* name,
                                           const std::vector<std::string>& allowed, Problems& problems);

/// A decoded query value that must be a UUID, as its canonical lower-case form, if present.
std::optional<std::string> checkQueryUuid(std::optional<std::string> value, const char* name, Problems& problems);

/// An RFC 3339 date-time ("2026-05-01T12:00:00Z"; a fraction and any offset allowed, upper-case
/// T and Z) as microseconds since the Unix epoch, UTC. A fraction finer than a microsecond is
/// rounded up: PostgreSQL stores whole microseconds, so a bound rounded up selects exactly the
/// same of them whether it is inclusive or exclusive. Clamped to kMinTimeMicros..kMaxTimeMicros
/// (an offset can carry a time past either). None if `text` is no such date-time.
std::optional<std::int64_t> parseTimeMicros(const std::string& text);
/// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z.
inline constexpr std::int64_t kMinTimeMicros = -62135596800LL * 1000000;
inline constexpr std::int64_t kMaxTimeMicros = 253402300800LL * 1000000 - 1;
/// Microseconds since the epoch (kMinTimeMicros..kMaxTimeMicros) as "2026-05-01T12:00:00.000000Z".
std::string formatTimeMicros(std::int64_t micros);

/// A decoded query value that must be an RFC 3339 date-time (parseTimeMicros), if present.
std::optional<std::int64_t> checkQueryTime(std::optional<std::string> value, const char* name, Problems& problems);

/// The token of an Authorization header value "Bearer <token>" (scheme case-insensitive).
std::optional<std::string> bearerTokenOf(const std::optional<std::string>& authorization);

}  // namespace hydra::http
