#pragma once
// Reading path, query and header values from a Pistache request, with FastAPI-shaped
// 422s for bad values.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
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

/// A query UUID (canonical lower-case form), if present.
std::optional<std::string> queryUuid(const Pistache::Rest::Request& req, const char* name, Problems& problems);

/// A query RFC 3339 date-time as microseconds since the epoch, UTC (params.hpp: parseTimeMicros).
std::optional<std::int64_t> queryTime(const Pistache::Rest::Request& req, const char* name, Problems& problems);

/// A header value, if present (case-insensitive name).
std::optional<std::string> header(const Pistache::Rest::Request& req, const char* name);

/// Every header field the client sent, names as the client wrote them: the fields the framing
/// screen handed over renamed (framing.hpp: Content-Type, Accept, Host, Cookie, ...) under their
/// own names again, the query string's field left out. Ordered by name, case-insensitively:
/// Pistache 0.0.5 keeps raw fields in an unordered map, and the order of fields of different
/// names carries no meaning (RFC 9110, 5.3). One entry per name: a renamed field's or
/// X-Forwarded-For's repeated lines come joined in order (", ", Cookie "; "); of any other name
/// repeated, Pistache keeps only the first line. Content-Length and Transfer-Encoding come in
/// canonical form. Hop-by-hop fields (Connection, ...) are included: a proxy drops them itself.
std::vector<std::pair<std::string, std::string>> requestHeaders(const Pistache::Rest::Request& req);

/// The request target's query string exactly as written, without the '?'; "" when there is
/// none (a target ending in a bare '?' included). Still percent-encoded, order and repeated
/// names kept ("labelIds=A&labelIds=B").
std::string rawQuery(const Pistache::Rest::Request& req);

/// The path of a request below a route prefix registered with Server::anyBelowAsync, exactly as
/// written (percent-encoded, repeated or trailing slashes kept; no query string): for the prefix
/// "/a/:id/p" and the target "/a/1/p/x//y/?q=1", "/x//y/". Starts with '/' (Pistache routes only
/// paths with a segment below the prefix there). Pistache's own splats are no substitute: they
/// come from a copy of the path with runs of slashes collapsed and a trailing one dropped.
std::string pathBelow(const Pistache::Rest::Request& req, const std::string& route_prefix);

/// The value of the cookie `name` the client sent (the first, should it send several), if any.
std::optional<std::string> cookie(const Pistache::Rest::Request& req, std::string_view name);

/// The token of "Authorization: Bearer <token>", if that is what the header holds.
std::optional<std::string> bearerToken(const Pistache::Rest::Request& req);

}  // namespace hydra::http
