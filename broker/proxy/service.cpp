#include "broker/proxy/service.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <strings.h>

#include <Poco/URI.h>
#include <pistache/mime.h>
#include <rapidjson/document.h>

#include "broker/metrics.hpp"
#include "broker/proxy/capability_rules.hpp"
#include "broker/proxy/request_path.hpp"
#include "shared/http/errors.hpp"
#include "shared/http/retry_after.hpp"
#include "shared/json/reader.hpp"

namespace hydra::broker::proxy {
namespace {

using Clock = std::chrono::steady_clock;
// Calls queued for a proxy thread beyond those running; more get 503 at once.
constexpr std::size_t kMaxQueuedCalls = 1024;

bool named(const std::string& name, const char* wanted) { return strcasecmp(name.c_str(), wanted) == 0; }

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

// The runtime's query string, without any parameter the broker sets itself (an API key in the
// query): the provider must see the connection's key, not one the runtime chose.
std::string queryWithout(const std::string& raw_query, const HeaderList& broker_params) {
  std::string out;
  std::size_t start = 0;
  while (start <= raw_query.size() && !raw_query.empty()) {
    const auto end = std::min(raw_query.find('&', start), raw_query.size());
    const auto part = raw_query.substr(start, end - start);
    std::string name;
    Poco::URI::decode(part.substr(0, part.find('=')), name);
    const bool ours = std::any_of(broker_params.begin(), broker_params.end(), [&](const auto& p) { return p.first == name; });
    if (!ours && !part.empty()) out += (out.empty() ? "" : "&") + part;
    start = end + 1;
  }
  for (const auto& [name, value] : broker_params) {
    std::string n, v;
    Poco::URI::encode(name, "!#$&'()*+,/:;=?@[]", n);
    Poco::URI::encode(value, "!#$&'()*+,/:;=?@[]", v);
    out += (out.empty() ? "" : "&") + n + "=" + v;
  }
  return out;
}

// Pistache writes the content type through its own parser: a value it cannot read would
// throw while answering, so such an answer goes out as opaque bytes.
std::string sendableContentType(const std::string& value) {
  try {
    (void)Pistache::Http::Mime::MediaType::fromString(value);
    return value;
  } catch (const std::exception&) {
    return "application/octet-stream";
  }
}

std::string accessToken(const std::string& credentials_json) {
  rapidjson::Document doc;
  doc.Parse(credentials_json.c_str(), credentials_json.size());
  return doc.IsObject() ? json::stringMember(doc, "access_token") : std::string();
}

}  // namespace

struct ProxyService::Call {
  ProxyRequest request;
  std::function<void(http::Reply)> done;
  hydra::audit::AuditRecord record;
  Authorized access;
  const providers::ProxySettings* settings = nullptr;
  providers::Upstream upstream;
  std::string normal_path;
  HeaderList answer_headers;  // the broker's own on every answer after the checks (RateLimit)
  std::optional<InFlight::Slot> grant_slot, connection_slot;
  bool replayed = false;
  Clock::time_point upstream_started;
};

ProxyService::ProxyService(FetchService& fetch, Refresher& refresher, const providers::ProviderRegistry& providers,
                           audit::Journal& journal, const ProxyOptions& options)
    : fetch_(fetch),
      refresher_(refresher),
      providers_(providers),
      journal_(journal),
      options_(options),
      upstream_(UpstreamSettings{net::AddressPolicy(options.allowed_cidrs), options.ca_file.value_or(""),
                                 options.timeout, options.max_response_bytes}),
      workers_(options.threads, kMaxQueuedCalls) {}

ProxyService::~ProxyService() {
  stopping_ = true;  // calls at providers end now (502), answered like any other
  std::unique_lock<std::mutex> lock(calls_mutex_);
  calls_ended_.wait(lock, [this] { return calls_ == 0; });
}

void ProxyService::call(ProxyRequest request, std::function<void(http::Reply)> done) {
  {
    std::lock_guard<std::mutex> lock(calls_mutex_);
    ++calls_;
  }
  auto call = std::make_shared<Call>();
  call->request = std::move(request);
  call->request.access.query.use = FetchQuery::Use::kProxy;
  call->done = std::move(done);
  auto access = call->request.access;
  fetch_.authorize(std::move(access), [this, call](std::variant<Authorized, http::ApiError> result,
                                                   std::optional<hydra::audit::AuditRecord> record) {
    if (!record) {  // throttled: unaudited
      call->done(http::errorReply(std::get<http::ApiError>(result)));
      return ended();
    }
    call->record = std::move(*record);
    call->record.method = call->request.method;
    call->record.request_bytes = static_cast<std::int64_t>(call->request.body.size());
    if (const auto* refusal = std::get_if<http::ApiError>(&result)) {
      return finish(*call, http::errorReply(*refusal));  // outcome and reason set by the fetch's checks
    }
    authorized(call, std::move(std::get<Authorized>(result)));
  });
}

void ProxyService::authorized(const std::shared_ptr<Call>& call, Authorized access) {
  call->access = std::move(access);
  const auto& chosen = call->access.chosen;
  const auto& provider_name = call->request.access.query.provider;
  const auto* provider = providers_.find(provider_name);
  if (provider == nullptr || !provider->proxy) {
    return refuse(*call, "denied", http::ApiError(404, "Provider '" + provider_name + "' cannot be called through the proxy"));
  }
  call->settings = &*provider->proxy;
  const auto path = normalisePath(call->request.raw_path);
  if (const auto* bad = std::get_if<BadPath>(&path)) {
    return refuse(*call, "denied", http::ApiError(400, "Path refused: " + bad->why));
  }
  call->normal_path = std::get<NormalPath>(path).path;
  call->record.path = call->normal_path;
  const auto capability =
      allowingCapability(provider->capabilities, chosen.capabilities, call->request.method, call->normal_path);
  if (!capability) {
    return refuse(*call, "denied",
                  http::ApiError(403, "The grant's capabilities (" + joined(chosen.capabilities) + ") do not allow " +
                                          call->request.method + " " + call->normal_path));
  }
  call->record.capability = *capability;
  call->answer_headers.emplace_back("Hydra-Capability", *capability);

  const auto grant_key = call->request.access.query.instance_id + "/" + chosen.connection_id;
  if (chosen.rate_limit) {
    const auto decision = rate_limiter_.take(grant_key, *chosen.rate_limit);
    const auto headers = rateLimitHeaders(*chosen.rate_limit, decision);  // Retry-After too when refused
    call->answer_headers.insert(call->answer_headers.end(), headers.begin(), headers.end());
    if (!decision.allowed) {
      return refuse(*call, "denied",
                    http::ApiError(429, "The grant's rate limit (" + std::to_string(chosen.rate_limit->requests) +
                                            " calls per " + std::to_string(chosen.rate_limit->per_seconds) +
                                            " s) is reached; retry later"));
    }
  }
  call->grant_slot = in_flight_.tryEnter("grant/" + grant_key, options_.max_in_flight_per_grant);
  call->connection_slot = in_flight_.tryEnter("connection/" + chosen.connection_id, options_.max_in_flight_per_connection);
  if (!call->grant_slot || !call->connection_slot) {
    return refuse(*call, "denied",
                  http::ApiError(429, "Too many calls of this " + std::string(call->grant_slot ? "connection" : "grant") +
                                          " are in flight; retry shortly",
                                 1));
  }
  const auto upstream = providers::upstreamFor(*call->settings, chosen.metadata_json);
  if (const auto* refused = std::get_if<providers::NotProxyable>(&upstream)) {
    return refuse(*call, "denied", http::ApiError(409, "The connection cannot be proxied: " + refused->why));
  }
  call->upstream = std::get<providers::Upstream>(upstream);
  if (!workers_.post([this, call] { exchange(call); })) {
    refuse(*call, "error", http::ApiError(503, "The broker is busy with other proxied calls, retry shortly", 1));
  }
}

std::variant<UpstreamResponse, UpstreamFailure> ProxyService::send(const Call& call) const {
  const auto placement =
      providers::credentialPlacement(*call.settings, call.access.chosen.auth_type, call.access.credentials_json);
  if (const auto* refused = std::get_if<providers::NotProxyable>(&placement)) {
    return UpstreamFailure{409, "The connection cannot be proxied: " + refused->why};
  }
  const auto& credential = std::get<providers::CredentialPlacement>(placement);
  UpstreamRequest out;
  out.provider = call.request.access.query.provider;
  out.upstream = call.upstream;
  out.method = call.request.method;
  const auto query = queryWithout(call.request.raw_query, credential.query);
  out.target = requestTarget(call.upstream, call.normal_path, query);
  for (const auto& header : call.request.headers) {
    if (providers::passesRequestHeader(*call.settings, header.first)) out.headers.push_back(header);
  }
  out.headers.insert(out.headers.end(), call.upstream.headers.begin(), call.upstream.headers.end());
  out.headers.insert(out.headers.end(), credential.headers.begin(), credential.headers.end());
  out.body = call.request.body;
  out.deadline = call.upstream_started + options_.timeout;
  out.stopping = &stopping_;
  return upstream_.call(out);
}

void ProxyService::exchange(const std::shared_ptr<Call>& call) {
  call->upstream_started = Clock::now();
  auto result = send(*call);
  const auto* response = std::get_if<UpstreamResponse>(&result);
  if (!response || response->status != 401 || call->replayed || call->access.chosen.auth_type != "oauth2") {
    return answer(call, std::move(result));
  }
  // The provider refused the access token (revoked, or expired early): refreshed once, and the
  // call replayed with the new one; its body is held, so it can be sent again.
  call->replayed = true;
  const RefreshTarget target{call->access.chosen.connection_id, call->access.customer_id,
                             call->request.access.query.provider, call->record, std::nullopt};
  const auto rejected = accessToken(call->access.credentials_json);
  refresher_.whenRejected(target, call->access.credentials_json,
                          [this, call, rejected, first = std::move(result)](Refresher::Fresh fresh) mutable {
                            const auto* credentials = std::get_if<std::string>(&fresh);
                            if (!credentials || accessToken(*credentials) == rejected) {
                              return answer(call, std::move(first));  // nothing better: the provider's 401
                            }
                            call->access.credentials_json = *credentials;
                            if (!workers_.post([this, call] { answer(call, send(*call)); })) {
                              answer(call, std::move(first));
                            }
                          });
}

void ProxyService::answer(const std::shared_ptr<Call>& call, std::variant<UpstreamResponse, UpstreamFailure> result) {
  call->record.duration_us =
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - call->upstream_started).count();
  if (auto* failure = std::get_if<UpstreamFailure>(&result)) {
    return refuse(*call, failure->status == 409 ? "denied" : "error", http::ApiError(failure->status, failure->detail));
  }
  auto& response = std::get<UpstreamResponse>(result);
  http::Reply reply{response.status, std::move(response.body), {}};
  bool typed = false;
  for (auto& [name, value] : response.headers) {
    if (!providers::passesResponseHeader(*call->settings, name)) continue;
    if (named(name, "Retry-After")) {
      // A runtime honouring it must not be told to stay away for a day.
      if (const auto seconds = http::parseRetryAfter(value, std::time(nullptr))) {
        reply.headers.emplace_back("Retry-After", std::to_string(std::min<long long>(*seconds, options_.max_retry_after.count())));
      }
    } else if (named(name, "Content-Type")) {
      if (!typed) reply.headers.emplace_back("Content-Type", sendableContentType(value));
      typed = true;
    } else {
      reply.headers.emplace_back(std::move(name), std::move(value));
    }
  }
  if (!typed && !reply.body.empty()) reply.headers.emplace_back("Content-Type", "application/octet-stream");
  reply.headers.insert(reply.headers.end(), call->answer_headers.begin(), call->answer_headers.end());
  call->record.outcome = "allowed";
  call->record.reason = "granted";
  call->record.upstream_status = response.status;
  call->record.response_bytes = static_cast<std::int64_t>(reply.body.size());
  finish(*call, std::move(reply));
}

void ProxyService::refuse(Call& call, const char* outcome, const http::ApiError& error) {
  call.record.outcome = outcome;
  call.record.reason = error.detail();
  auto reply = http::errorReply(error);
  reply.headers.insert(reply.headers.end(), call.answer_headers.begin(), call.answer_headers.end());
  finish(call, std::move(reply));
}

void ProxyService::finish(Call& call, http::Reply reply) {
  call.grant_slot.reset();
  call.connection_slot.reset();
  const auto& provider = call.request.access.query.provider;
  std::optional<std::chrono::microseconds> upstream;
  if (call.record.duration_us) upstream = std::chrono::microseconds(*call.record.duration_us);
  metrics::proxyCall(providers_.find(provider) ? provider : "unknown", call.record.capability.value_or("none"),
                     call.record.outcome, upstream);
  journal_.append(std::move(call.record),
                  [done = std::move(call.done), reply = std::move(reply), called = call.upstream_started != Clock::time_point()](
                      bool durable) mutable {
                    if (durable) return done(std::move(reply));
                    // Nothing was released, but a call that reached the provider may have taken effect.
                    done(http::errorReply(http::ApiError(
                        503, called ? "Audit journal unavailable; the provider was called and the call may have taken effect"
                                    : "Audit journal unavailable, retry shortly",
                        1)));
                  });
  ended();
}

void ProxyService::ended() {
  std::lock_guard<std::mutex> lock(calls_mutex_);
  if (--calls_ == 0) calls_ended_.notify_all();
}

}  // namespace hydra::broker::proxy
