#include "control-plane/services/audit_events.hpp"

#include <limits>

#include "control-plane/db/rows.hpp"
#include "control-plane/db/statements.hpp"
#include "shared/http/params.hpp"

namespace hydra::cp {

std::vector<model::AuditEvent> AuditEventService::list(const std::string& customer_id, const AuditEventFilter& filter,
                                                       std::optional<long long> before, long long limit) {
  return read(false, customer_id, filter, before.value_or(std::numeric_limits<long long>::max()), limit);
}

std::vector<model::AuditEvent> AuditEventService::exportBatch(const std::string& customer_id,
                                                              const AuditEventFilter& filter, long long after,
                                                              long long limit) {
  return read(true, customer_id, filter, after, limit);
}

std::vector<model::AuditEvent> AuditEventService::read(bool oldest_first, const std::string& customer_id,
                                                       const AuditEventFilter& filter, long long cursor,
                                                       long long limit) {
  db::AuditEventQuery query;
  query.oldest_first = oldest_first;
  query.timed = filter.since || filter.until;
  query.connection = filter.connection_id.has_value();
  query.instance = filter.instance_id.has_value();
  if (filter.outcome) {
    query.outcome = *filter.outcome == "allowed" ? db::AuditEventQuery::Outcome::kAllowed
                                                 : db::AuditEventQuery::Outcome::kOther;
  }
  // The parameters after the first three, in the statement's order (statements.hpp).
  std::vector<std::string> more;
  if (query.timed) {
    more.push_back(filter.since ? http::formatTimeMicros(*filter.since) : "-infinity");
    more.push_back(filter.until ? http::formatTimeMicros(*filter.until) : "infinity");
  }
  if (filter.connection_id) more.push_back(*filter.connection_id);
  if (filter.instance_id) more.push_back(*filter.instance_id);
  if (query.outcome == db::AuditEventQuery::Outcome::kOther) more.push_back(*filter.outcome);
  const auto statement = db::auditEventStatement(query);
  return pool_.run([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    return db::all(tx.exec_prepared(statement, customer_id, cursor, limit, pqxx::prepare::make_dynamic_params(more)),
                   db::auditEventFrom);
  });
}

}  // namespace hydra::cp
