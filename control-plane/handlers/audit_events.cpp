#include "control-plane/handlers/handlers.hpp"
#include "control-plane/handlers/paging.hpp"
#include "shared/http/request.hpp"

namespace hydra::cp::handlers {

Reply listAuditEvents(Services& s, const Request& req) {
  http::Problems problems;
  const auto customer_id = http::pathUuid(req, "customer_id", problems);
  const auto page = pageQuery(req, problems);
  problems.throwIfAny();
  s.auth.requireCustomer(req, customer_id);
  const auto events = s.identity.auditEvents(customer_id, page.before, page.limit);
  return http::json(200, model::toJson(events, nextBefore(events, page)));
}

}  // namespace hydra::cp::handlers
