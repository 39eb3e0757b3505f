#pragma once
// What a handler returns. The server layer (server.cpp) adds the request id, the content
// type and the access log line, so handlers only say status, body and special headers.

#include <string>
#include <utility>
#include <vector>

namespace hydra::http {

struct Reply {
  int status = 200;
  std::string body;  // JSON, or empty for 204
  std::vector<std::pair<std::string, std::string>> headers;
};

inline Reply json(int status, std::string body) { return Reply{status, std::move(body), {}}; }
inline Reply noContent() { return Reply{204, {}, {}}; }

/// {"detail": "..."} for any non-validation error.
Reply errorReply(int status, const std::string& detail);

class ApiError;
/// The reply for an ApiError: its status and detail, Retry-After on 503s, and
/// WWW-Authenticate on 401s.
Reply errorReply(const ApiError& error);

}  // namespace hydra::http
