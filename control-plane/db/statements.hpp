#pragma once

#include <string>

#include <pqxx/pqxx>

namespace hydra::cp::db {

/// Prepares every statement the control plane runs; called once per new connection.
/// All of the control plane's SQL is in statements.cpp.
void prepareStatements(pqxx::connection& connection);

/// The audit trail's reads take optional filters, and each combination is a statement of its
/// own (a catch-all "$n IS NULL OR column = $n" would be planned generically, once for all
/// combinations, and could use no filter's index). Parameters: $1 customer id, $2 the id
/// cursor, $3 the limit; when timed, $4 since and $5 until (timestamptz: since inclusive, until
/// exclusive; pass '-infinity' / 'infinity' for one not given); then the connection id, the
/// instance id and the outcome, those given, in that order.
struct AuditEventQuery {
  bool oldest_first = false;  // the export: ids above $2, ascending; else the listing: below, descending
  bool timed = false;         // since or until given
  bool connection = false, instance = false;
  /// The outcome filter: any; "allowed"; another one (the rare outcomes have an index of their own).
  enum class Outcome { kAny, kAllowed, kOther } outcome = Outcome::kAny;
};
/// The name of the statement for `query`.
std::string auditEventStatement(const AuditEventQuery& query);

/// The statements of `audit-retention` (retention/audit_retention.cpp), run as the schema owner.
void prepareRetentionStatements(pqxx::connection& connection);

}  // namespace hydra::cp::db
