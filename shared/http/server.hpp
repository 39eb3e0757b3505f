#pragma once
// The HTTP edge shared by both binaries: Pistache set up with safe limits, and one wrapper
// every route goes through. The wrapper is the only place exceptions become responses:
// ValidationError -> 422, ApiError -> its status, anything else -> 500 with a generic body
// (the real message is logged with the request id, never sent: libpqxx messages hold SQL).

#include <chrono>
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

/// Sends the answer to one request, exactly once, from any thread: a handler that hands its
/// work to another thread passes the Responder along instead of blocking a server thread.
/// Later calls are ignored; if every copy is dropped unanswered, the client gets a 500.
class Responder {
 public:
  struct State;
  struct Lifecycle;
  explicit Responder(std::shared_ptr<State> state) : state_(std::move(state)) {}
  void operator()(Reply reply) const;

 private:
  std::shared_ptr<State> state_;
};

using AsyncHandler = std::function<void(const Pistache::Rest::Request&, Responder)>;

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
  /// A GET whose handler answers through the Responder, possibly later and from another thread.
  void getAsync(const std::string& route, AsyncHandler handler);

  /// Binds and serves on background threads; throws config::ConfigError naming HYDRA_LISTEN
  /// if the address cannot be bound, or the HYDRA_TLS_* setting whose file is refused.
  void start();
  /// Waits (up to `grace`) for the answers still owed, then stops serving; answers that come
  /// later are dropped, never written to a connection that is gone.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(5));
  std::uint16_t port() const;

 private:
  void add(const std::string& method, const std::string& route, AsyncHandler handler);
  Pistache::Rest::Route::Handler wrap(const std::string& method, const std::string& route, AsyncHandler handler) const;

  ServerOptions options_;
  Pistache::Rest::Router router_;
  std::map<std::string, std::set<std::string>> methods_by_route_;
  std::shared_ptr<Responder::Lifecycle> lifecycle_;
  std::unique_ptr<Pistache::Http::Endpoint> endpoint_;
};

/// The id of the request this thread is handling (handlers start on the thread that received
/// the request; work they hand to other threads must take the id along); it is also in the
/// X-Request-Id response header and the access log.
const std::string& currentRequestId();

/// Blocks until SIGINT or SIGTERM. Call before starting threads so they inherit the mask.
void blockTerminationSignals();
void waitForTerminationSignal();

}  // namespace hydra::http
