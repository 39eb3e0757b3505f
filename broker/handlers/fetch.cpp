#include "broker/handlers/fetch.hpp"

#include "broker/metrics.hpp"
#include "shared/http/request.hpp"
#include "shared/json/writer.hpp"

namespace hydra::broker::handlers {
namespace {

http::Reply encode(const FetchResult& result) {
  if (const auto* refusal = std::get_if<http::ApiError>(&result)) return http::errorReply(*refusal);
  const auto& released = std::get<Released>(result);
  json::Writer w;
  w.beginObject().key("capabilities").rawOrNull(released.capabilities_json);
  w.key("credentials").rawOrNull(released.credentials_json).endObject();
  auto reply = http::json(200, w.str());
  reply.headers.emplace_back("Cache-Control", "no-store");
  return reply;
}

}  // namespace

void fetchConnection(FetchService& fetch, const std::vector<net::Cidr>& trusted_proxies,
                     const std::optional<identity::RuntimeIdentityPolicy>& runtime_identity,
                     const Pistache::Rest::Request& req, const http::Responder& respond) {
  http::Problems problems;
  FetchRequest request;
  request.query.instance_id = http::pathUuid(req, "instance_id", problems);
  request.query.provider = http::queryString(req, "provider", true, 50, problems).value_or("");
  request.query.name = http::queryString(req, "name", false, 255, problems);
  request.query.capability = http::queryString(req, "capability", false, 255, problems);
  problems.throwIfAny();
  request.runtime = identity::checkThisRequest(runtime_identity);  // a refusal is audited like any other
  request.proxy_key = http::bearerToken(req);
  request.client = net::clientAddress(req.address().host(), http::header(req, "X-Forwarded-For"), trusted_proxies);
  request.request_id = http::currentRequestId();

  fetch.fetch(std::move(request), [respond](FetchResult result) {
    metrics::decision(result);
    respond(encode(result));
  });
}

}  // namespace hydra::broker::handlers
