#pragma once
// `hydracore-control-plane audit-retention --older-than DAYS`: drops the weeks of audit_events
// (schema/0022) that ended more than DAYS ago, run by the operator as the schema owner (no
// service role may drop a partition). For each journal with records in them it first checks
// that those records are the journal's next ones in sequence, that no later week holds one of
// their sequence numbers, and that a signed checkpoint covers them and matches them; then it
// writes a retention record (audit_retention: the journal, the tree size verification now starts
// from and the tree's frontier there, the covering checkpoint, when and by whom), and drops the
// weeks, all in one transaction. `hydracore-audit verify --database` starts each journal there.

#include <ostream>
#include <string>

namespace hydra::cp::retention {

struct RetentionOptions {
  int older_than_days = 0;
  bool dry_run = false;  // says what would be dropped, drops nothing
};

/// Returns the process exit code: 0 dropped (or nothing to drop), 1 refused (what was checked
/// and why, on `out`); throws on a database error.
int dropOldAuditWeeks(const std::string& database_url, const RetentionOptions& options, std::ostream& out);

}  // namespace hydra::cp::retention
