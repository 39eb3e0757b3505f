#include "control-plane/handlers/narrowing.hpp"

#include <algorithm>

#include "shared/http/errors.hpp"

namespace hydra::cp::handlers {

void RevocationWait::reserve(const std::string& customer_id) {
  if (slot_) return;
  slot_ = delay_.reserve(customer_id);
  if (!slot_) {
    // The earliest a place frees is when the oldest pending wait ends: at most B from now.
    const auto ms = delay_.staleness().count();
    const int retry_after = static_cast<int>(std::max<long long>(1, (ms + 999) / 1000));
    throw http::ApiError(
        429, "Too many changes that narrow access are waiting out the brokers' staleness bound; retry later",
        retry_after);
  }
}

http::AsyncHandler answerAfterWait(Services& s, NarrowingHandler handler) {
  return [&s, handler](const Request& req, const http::Responder& respond) {
    RevocationWait wait(s.revocation);
    Reply reply;
    try {
      reply = handler(s, req, wait);
    } catch (...) {
      reply = http::replyForCurrentException(http::currentRequestId());
    }
    auto slot = wait.slot();
    if (!slot) {
      respond(std::move(reply));
      return;
    }
    // The slot travels with the answer: the customer's place frees once it is sent.
    s.revocation.afterWait([respond, reply = std::move(reply), slot = std::move(slot)] { respond(reply); });
  };
}

}  // namespace hydra::cp::handlers
