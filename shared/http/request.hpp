#pragma once
// Reading path, query and header values from a Pistache request, with FastAPI-shaped
// 422s for bad values.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <pistache/router.h>

#include "shared/http/errors.hpp"

namespace hydra::http {

/// A path parameter that must be a UUID (canonical lower-case form). Records a
/// ["path", name] problem and returns "" when it is not.
std::string pathUuid(const Pistache::Rest::Request& req, const char* name, Problems& problems);

/// Path parameters that must all be UUIDs, validated together so one 422 lists every bad
/// one: `const auto [customer_id, key_id] = pathUuids(req, {"customer_id", "key_id"});`
template <std::size_t N>
std::array<std::string, N> pathUuids(const Pistache::Rest::Request& req, const char* const (&names)[N]) {
  Problems problems;
  std::array<std::string, N> ids;
  for (std::size_t i = 0; i < N; ++i) ids[i] = pathUuid(req, names[i], problems);
  problems.throwIfAny();
  return ids;
}

/// A decoded query parameter, if present.
std::optional<std::string> query(const Pistache::Rest::Request& req, const char* name);

/// A query string of 1..max_chars characters; records a ["query", name] problem otherwise.
std::optional<std::string> queryString(const Pistache::Rest::Request& req, const char* name, bool required,
                                       std::size_t max_chars, Problems& problems);

/// A query integer in [min, max], `fallback` when absent.
std::int64_t queryInteger(const Pistache::Rest::Request& req, const char* name, std::int64_t fallback,
                          std::int64_t min, std::int64_t max, Problems& problems);

/// One of `allowed`, if present.
std::optional<std::string> queryOneOf(const Pistache::Rest::Request& req, const char* name,
                                      const std::vector<std::string>& allowed, Problems& problems);

/// A header value, if present (case-insensitive name).
std::optional<std::string> header(const Pistache::Rest::Request& req, const char* name);

/// The token of "Authorization: Bearer <token>", if that is what the header holds.
std::optional<std::string> bearerToken(const Pistache::Rest::Request& req);

}  // namespace hydra::http
