#pragma once
// GET /readyz: whether this process should be sent traffic. Each check names one thing the
// process needs (the database, its schema, keys, the audit journal); the answer is 200 when all
// hold, else 503 naming what is missing. Reasons are fixed phrases, never secrets or
// connection strings. /healthz stays the liveness check (the process answers at all).

#include <functional>
#include <string>
#include <vector>

#include "shared/http/response.hpp"

namespace hydra::http {

struct ReadinessCheck {
  std::string name;
  /// "" when it holds, else a short reason.
  std::function<std::string()> problem;
};

/// 200 {"status":"ready","checks":{name:"ok",...}} or
/// 503 {"status":"not_ready","missing":[names],"checks":{name:"ok"|reason,...}}; while the
/// process is shutting down (asked once the checks are done), 503 with "shutting_down" among
/// the missing.
Reply readinessReply(const std::vector<ReadinessCheck>& checks, const std::function<bool()>& shutting_down);

}  // namespace hydra::http
