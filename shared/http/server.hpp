#pragma once
// The HTTP edge shared by both binaries: Pistache set up with safe limits, and one wrapper
// every route goes through. The wrapper is the only place exceptions become responses:
// ValidationError -> 422, ApiError -> its status, anything else -> 500 with a generic body
// (the real message is logged with the request id, never sent: libpqxx messages hold SQL).

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <memory>
#include <optional>
#include <string>

#include <pistache/endpoint.h>
#include <pistache/router.h>

#include "shared/config/env.hpp"
#include "shared/http/response.hpp"

namespace hydra::http {

using Handler = std::function<Reply(const Pistache::Rest::Request&)>;

struct ServerOptions {
  config::ListenAddress listen;
  int threads = 2;
  /// Larger bodies get our JSON 413.
  std::size_t max_body_bytes = 1024 * 1024;
  /// What Pistache buffers of one request at most, headers and body together, before any
  /// handler (authentication included) runs: the body limit plus room for headers. Pistache
  /// refuses a larger request itself with a plain-text 413 ("Request exceeded maximum buffer
  /// size"), so a body a little over max_body_bytes still gets our JSON one.
  std::size_t max_request_bytes = 1024 * 1024 + kHeaderAllowance;
  /// HTTPS when set (config::TlsSettings: certificate, key, optional client CA).
  std::optional<config::TlsSettings> tls;
  /// Connections one peer address may hold open at once; more are closed at once.
  std::size_t max_connections_per_peer = 64;

  static constexpr std::size_t kHeaderAllowance = 16 * 1024;
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();

  /// `route` is a Pistache template ("/v1/customers/:customer_id"); the access log names
  /// the template, never the concrete path.
  void get(const std::string& route, Handler handler);
  void post(const std::string& route, Handler handler);
  void patch(const std::string& route, Handler handler);
  void del(const std::string& route, Handler handler);

  /// Binds and serves on background threads; throws config::ConfigError naming HYDRA_LISTEN
  /// if the address cannot be bound, or the HYDRA_TLS_* setting whose file is refused.
  void start();
  void stop();
  std::uint16_t port() const;

 private:
  void add(const std::string& method, const std::string& route, Handler handler);
  Pistache::Rest::Route::Handler wrap(const std::string& method, const std::string& route, Handler handler) const;

  ServerOptions options_;
  Pistache::Rest::Router router_;
  std::map<std::string, std::set<std::string>> methods_by_route_;
  std::unique_ptr<Pistache::Http::Endpoint> endpoint_;
};

/// The id of the request this thread is handling (handlers run on the thread that received
/// the request); it is also in the X-Request-Id response header and the access log.
const std::string& currentRequestId();

/// Blocks until SIGINT or SIGTERM. Call before starting threads so they inherit the mask.
void blockTerminationSignals();
void waitForTerminationSignal();

}  // namespace hydra::http
