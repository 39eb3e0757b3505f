#pragma once

#include <optional>
#include <string>

#include <pqxx/pqxx>

namespace hydra::db {

/// A timestamptz column as RFC 3339 UTC ("2026-11-28T01:53:29.123456Z"). Connections run
/// with TIME ZONE 'UTC', so PostgreSQL's text form is "2026-11-28 01:53:29.123456+00".
std::string rfc3339(const pqxx::field& field);
std::optional<std::string> rfc3339OrNull(const pqxx::field& field);

/// A nullable text column.
std::optional<std::string> textOrNull(const pqxx::field& field);

}  // namespace hydra::db
