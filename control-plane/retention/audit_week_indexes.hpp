#pragma once
// `hydracore-control-plane audit-index`: builds the connection and instance indexes of every
// week of audit_events that has ended and lacks them (schema/0027: the week being written has
// none, so that shipping a record does not insert into them), run by the operator as the schema
// owner, daily with audit-retention. CONCURRENTLY: shipping into the week and listing it go on.

#include <ostream>
#include <string>

namespace hydra::cp::retention {

/// Returns the process exit code (0: every week that has ended is indexed); throws on a database
/// error (a build that failed leaves an invalid index, which the next run builds again).
int indexEndedAuditWeeks(const std::string& database_url, std::ostream& out);

}  // namespace hydra::cp::retention
