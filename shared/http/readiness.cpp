#include "shared/http/readiness.hpp"

#include <utility>

#include "shared/json/writer.hpp"

namespace hydra::http {

Reply readinessReply(const std::vector<ReadinessCheck>& checks, const std::function<bool()>& shutting_down) {
  std::vector<std::pair<std::string, std::string>> results;
  std::vector<std::string> missing;
  for (const auto& check : checks) {
    std::string problem;
    try {
      problem = check.problem();
    } catch (const std::exception&) {
      problem = "check failed";  // the exception's text may hold anything: not shown
    }
    if (!problem.empty()) missing.push_back(check.name);
    results.emplace_back(check.name, problem.empty() ? "ok" : problem);
  }
  // Asked after the checks (a database round trip): asked before, a shutdown starting meanwhile
  // gave "ready" on an answer that, sent while draining, closed its connection.
  if (shutting_down()) missing.insert(missing.begin(), "shutting_down");
  json::Writer w;
  w.beginObject().key("status").string(missing.empty() ? "ready" : "not_ready");
  if (!missing.empty()) {
    w.key("missing").beginArray();
    for (const auto& name : missing) w.string(name);
    w.endArray();
  }
  w.key("checks").beginObject();
  for (const auto& [name, result] : results) w.key(name).string(result);
  w.endObject().endObject();
  auto reply = json(missing.empty() ? 200 : 503, w.str());
  reply.headers.emplace_back("Cache-Control", "no-store");
  return reply;
}

}  // namespace hydra::http
