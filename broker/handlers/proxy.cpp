#include "broker/handlers/proxy.hpp"

#include "shared/http/request.hpp"

namespace hydra::broker::handlers {
namespace {

constexpr std::size_t kMaxConnectionName = 255;
constexpr std::size_t kMaxProvider = 50;

}  // namespace

void proxyCall(proxy::ProxyService& proxy, const std::vector<net::Cidr>& trusted_proxies,
               const std::optional<identity::RuntimeIdentityPolicy>& runtime_identity,
               const Pistache::Rest::Request& req, const http::Responder& respond) {
  http::Problems problems;
  proxy::ProxyRequest request;
  auto& access = request.access;
  access.query.instance_id = http::pathUuid(req, "instance_id", problems);
  access.query.provider = req.param(":provider").as<std::string>();
  if (access.query.provider.size() > kMaxProvider) {
    problems.add({"path", "provider"}, "String should have at most 50 characters", "string_too_long");
  }
  access.query.name = http::header(req, "Hydra-Connection-Name");
  if (access.query.name && (access.query.name->empty() || access.query.name->size() > kMaxConnectionName)) {
    problems.add({"header", "hydra-connection-name"}, "String should have 1 to 255 characters", "string_length");
  }
  problems.throwIfAny();
  access.runtime = identity::checkThisRequest(runtime_identity);  // a refusal is audited like any other
  access.proxy_key = http::bearerToken(req);
  access.client = net::clientAddress(req.address().host(), http::header(req, "X-Forwarded-For"), trusted_proxies);
  access.request_id = http::currentRequestId();
  request.method = Pistache::Http::methodString(req.method());
  request.raw_path = http::pathBelow(req, kProxyRoutePrefix);  // as written: the normaliser decides
  request.raw_query = http::rawQuery(req);
  request.headers = http::requestHeaders(req);
  request.body = req.body();

  proxy.call(std::move(request), [respond](http::Reply reply) { respond(std::move(reply)); });
}

}  // namespace hydra::broker::handlers
