#include <limits>

#include "control-plane/handlers/handlers.hpp"
#include "shared/http/request.hpp"

namespace hydra::cp::handlers {

Reply listAuditEvents(Services& s, const Request& req) {
  http::Problems problems;
  const auto customer_id = http::pathUuid(req, "customer_id", problems);
  const auto limit = http::queryInteger(req, "limit", 50, 1, 500, problems);
  // `before` is an event id: pass the previous page's next_before to page back in time.
  const bool paged = http::query(req, "before").has_value();
  const auto before = http::queryInteger(req, "before", 0, 1, std::numeric_limits<std::int64_t>::max(), problems);
  problems.throwIfAny();
  s.auth.requireCustomer(req, customer_id);
  const auto events = s.identity.auditEvents(customer_id, paged ? std::optional<long long>(before) : std::nullopt, limit);
  std::optional<long long> next_before;
  if (static_cast<long long>(events.size()) == limit) next_before = events.back().id;
  return http::json(200, model::toJson(events, next_before));
}

}  // namespace hydra::cp::handlers
