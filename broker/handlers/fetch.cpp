#include "broker/handlers/fetch.hpp"

#include "shared/http/request.hpp"
#include "shared/json/writer.hpp"

namespace hydra::broker::handlers {

http::Reply fetchConnection(FetchService& fetch, const Pistache::Rest::Request& req) {
  http::Problems problems;
  FetchQuery query;
  query.instance_id = http::pathUuid(req, "instance_id", problems);
  query.provider = http::queryString(req, "provider", true, 50, problems).value_or("");
  query.name = http::queryString(req, "name", false, 255, problems);
  query.capability = http::queryString(req, "capability", false, 255, problems);
  problems.throwIfAny();

  const auto released = fetch.fetch(query, http::bearerToken(req), req.address().host());

  json::Writer w;
  w.beginObject().key("capabilities").rawOrNull(released.capabilities_json);
  w.key("credentials").rawOrNull(released.credentials_json).endObject();
  auto reply = http::json(200, w.str());
  reply.headers.emplace_back("Cache-Control", "no-store");
  return reply;
}

}  // namespace hydra::broker::handlers
