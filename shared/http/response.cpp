#include "shared/http/response.hpp"

#include "shared/http/errors.hpp"
#include "shared/json/writer.hpp"

namespace hydra::http {

Reply errorReply(int status, const std::string& detail) {
  json::Writer w;
  w.beginObject().key("detail").string(detail).endObject();
  return json(status, w.str());
}

Reply errorReply(const ApiError& error) {
  auto reply = errorReply(error.status(), error.detail());
  if (error.retryAfterSeconds() > 0) reply.headers.emplace_back("Retry-After", std::to_string(error.retryAfterSeconds()));
  if (error.status() == 401) reply.headers.emplace_back("WWW-Authenticate", "Bearer");
  return reply;
}

}  // namespace hydra::http
