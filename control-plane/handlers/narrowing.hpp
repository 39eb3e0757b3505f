#pragma once
// Routes whose change may remove or narrow a runtime's access answer only after the revocation
// wait (services/revocation.hpp), from the delay's thread: no server thread sleeps. The handler
// says when it is about to change something that narrows, by reserving the wait once it knows
// the caller (after authorization: a stranger cannot spend a customer's places). From then on
// every answer - the change's, a 404 because a concurrent request made it first, a 500 whose
// commit outcome is unknown - is held until B after the handler's database work ended. Answers
// before the reservation (401, 403, 422, the 429 below) are sent at once: nothing was changed.

#include <memory>
#include <string>

#include "control-plane/handlers/handlers.hpp"
#include "shared/http/server.hpp"

namespace hydra::cp::handlers {

/// Given to a narrowing handler.
class RevocationWait {
 public:
  explicit RevocationWait(RevocationDelay& delay) : delay_(delay) {}
  /// Call before the change. 429 (Retry-After) when `customer_id` already has the maximum of
  /// waits pending: nothing is changed then.
  void reserve(const std::string& customer_id);
  /// The reservation, or null if none was made.
  std::shared_ptr<RevocationDelay::Slot> slot() const { return slot_; }

 private:
  RevocationDelay& delay_;
  std::shared_ptr<RevocationDelay::Slot> slot_;
};

using NarrowingHandler = Reply (*)(Services&, const Request&, RevocationWait&);

/// The route's handler: runs `handler` on the server thread, then answers at once if it made no
/// reservation, otherwise B later.
http::AsyncHandler answerAfterWait(Services& s, NarrowingHandler handler);

}  // namespace hydra::cp::handlers
