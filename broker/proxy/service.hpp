#pragma once
// A proxied call (issue 19; README, "Proxied calls"): the broker calls the provider for the
// runtime with the connection's credentials, which never leave the broker, and only where a
// capability of the grant allows the method and path. In order:
//   the fetch's checks (proxy key, runtime identity, instance, grant; proxy-only grants too),
//   the provider can be proxied (404), the path in its one spelling (400), a capability's rule
//   allows it (403), the grant's rate (429) and calls in flight (429), the connection's upstream
//   and credential (409); then the call, on a thread of the proxy's own (never a server
//   thread), refreshed and replayed once if the provider refuses the access token (401).
// Every call that got past the proxy key is journaled, with its method, path, upstream status,
// sizes and duration, before the answer goes out.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "broker/audit/journal.hpp"
#include "broker/providers/registry.hpp"
#include "broker/proxy/in_flight.hpp"
#include "broker/proxy/options.hpp"
#include "broker/proxy/rate_limiter.hpp"
#include "broker/proxy/upstream_client.hpp"
#include "broker/services/fetch.hpp"
#include "broker/services/refresher.hpp"
#include "broker/services/work_queue.hpp"
#include "shared/http/response.hpp"

namespace hydra::broker::proxy {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct ProxyRequest {
  FetchRequest access;    // who asks; query: instance, provider, connection name; use = kProxy
  std::string method;     // GET, POST, PUT, PATCH, DELETE
  std::string raw_path;   // below the provider's name, as the request wrote it: "/gmail/v1/..."
  std::string raw_query;  // as written, without '?'; empty: none
  HeaderList headers;     // as the runtime sent them, names as written
  std::string body;
};

class ProxyService {
 public:
  ProxyService(FetchService& fetch, Refresher& refresher, const providers::ProviderRegistry& providers,
               audit::Journal& journal, const ProxyOptions& options);

  /// Abandons the calls at providers and waits until every call has been answered: their
  /// callbacks (database lookups, refreshes) hold this object.
  ~ProxyService();
  ProxyService(const ProxyService&) = delete;
  ProxyService& operator=(const ProxyService&) = delete;

  /// `done` is called exactly once, possibly on another thread, after the record is durable.
  void call(ProxyRequest request, std::function<void(http::Reply)> done);

 private:
  struct Call;
  void authorized(const std::shared_ptr<Call>& call, Authorized access);
  /// On a proxy thread: the provider's answer, with one refresh and replay on a 401.
  void exchange(const std::shared_ptr<Call>& call);
  std::variant<UpstreamResponse, UpstreamFailure> send(const Call& call) const;
  void answer(const std::shared_ptr<Call>& call, std::variant<UpstreamResponse, UpstreamFailure> result);
  void refuse(Call& call, const char* outcome, const http::ApiError& error);
  /// Journals the record, then answers (503 if the record cannot be made durable).
  void finish(Call& call, http::Reply reply);
  /// A call handed over for good (to the journal, or answered unaudited).
  void ended();

  FetchService& fetch_;
  Refresher& refresher_;
  const providers::ProviderRegistry& providers_;
  audit::Journal& journal_;
  const ProxyOptions options_;
  UpstreamClient upstream_;
  RateLimiter rate_limiter_;
  InFlight in_flight_;
  std::atomic<bool> stopping_{false};
  std::mutex calls_mutex_;
  std::condition_variable calls_ended_;
  std::size_t calls_ = 0;  // calls not yet handed to the journal
  WorkQueue workers_;  // last: its threads stop (finishing what is queued) before the rest goes
};

}  // namespace hydra::broker::proxy
