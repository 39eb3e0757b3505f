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
#include <vector>

#include <pistache/endpoint.h>
#include <pistache/router.h>

#include "shared/config/env.hpp"
#include "shared/http/response.hpp"
#include "shared/http/route_doc.hpp"
#include "shared/http/stream.hpp"

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
  friend class StreamAnswer;  // server.cpp: a streamed answer takes the request's place over
  std::shared_ptr<State> state_;
};

using AsyncHandler = std::function<void(const Pistache::Rest::Request&, Responder)>;
/// A route answering with a body written as it is produced (stream.hpp). The handler parses,
/// authorizes and returns the producer on the request's thread (throwing as any handler does);
/// the producer then runs on a thread of the server's own.
using StreamHandler = std::function<Streamed(const Pistache::Rest::Request&)>;

struct ServerOptions {
  config::ListenAddress listen;
  int threads = 2;
  /// Larger bodies get our JSON 413 as soon as their length is known (Content-Length), or as
  /// soon as a chunked body grows past it; nothing more of them is read.
  std::size_t max_body_bytes = 1024 * 1024;
  /// Request line and headers together; larger gets our JSON 431. Pistache buffers at most
  /// this plus max_body_bytes of one request, before any handler (authentication included).
  std::size_t max_head_bytes = 16 * 1024;
  /// HTTPS when set (config::TlsSettings: certificate, key, optional client CA).
  std::optional<config::TlsSettings> tls;
  /// Connections one peer address may hold open at once; more are closed at once.
  std::size_t max_connections_per_peer = 64;
  /// A request line and headers must arrive within this (then a JSON 408, connection closed).
  /// Pistache applies it also while an asynchronous answer is pending: keep it >= 5 s.
  std::chrono::milliseconds header_timeout = std::chrono::seconds(5);
  std::chrono::milliseconds body_timeout = std::chrono::seconds(15);
  /// A keep-alive connection with no request for this long is closed.
  std::chrono::milliseconds keepalive_timeout = std::chrono::seconds(15);
  /// Streamed answers (getStreamed) being written at once; one more gets a 503 (Retry-After).
  /// Each has a thread of its own while it runs.
  std::size_t max_streams = 4;
  /// A streamed answer whose client has taken in nothing for this long is cut off.
  std::chrono::milliseconds stream_stall_timeout = std::chrono::seconds(60);
};

/// A route as served: method, template, and what the OpenAPI document says of it.
struct RouteInfo {
  std::string method, route;
  RouteDoc doc;
};

class PeerConnections;
class OpenConnections;
struct StreamThreads;

class TlsAcceptor;

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();

  /// `route` is a Pistache template ("/v1/customers/:customer_id"); the access log names
  /// the template, never the concrete path.
  void get(const std::string& route, Handler handler, RouteDoc doc = {});
  void post(const std::string& route, Handler handler, RouteDoc doc = {});
  void patch(const std::string& route, Handler handler, RouteDoc doc = {});
  void del(const std::string& route, Handler handler, RouteDoc doc = {});
  void put(const std::string& route, Handler handler, RouteDoc doc = {});
  /// A GET whose handler answers through the Responder, possibly later and from another thread.
  void getAsync(const std::string& route, AsyncHandler handler, RouteDoc doc = {});
  void patchAsync(const std::string& route, AsyncHandler handler, RouteDoc doc = {});
  void delAsync(const std::string& route, AsyncHandler handler, RouteDoc doc = {});
  void putAsync(const std::string& route, AsyncHandler handler, RouteDoc doc = {});
  void postAsync(const std::string& route, AsyncHandler handler, RouteDoc doc = {});
  /// A GET answered 200 with a body in chunks as `handler`'s producer makes them (stream.hpp:
  /// HTTP/1.1 only, at most one chunk waiting for the client besides the one being made). The
  /// access log's line and the metrics come when the body ends. While draining, a stream stops
  /// at its next chunk, cut off like a failed one: the client sees the answer incomplete.
  void getStreamed(const std::string& route, StreamHandler handler, RouteDoc doc = {});

  /// The most path segments below a prefix that anyBelowAsync routes (see there).
  static constexpr std::size_t kMaxSegmentsBelow = 32;
  /// One handler for `methods` (of GET, POST, PUT, PATCH, DELETE) on every path of 1 to
  /// kMaxSegmentsBelow segments below `route_prefix` (a template, "/v1/x/:id/proxy/:provider").
  /// The access log and the OpenAPI document (once per method, `doc` with a `path` parameter
  /// added) name it "{route_prefix}/:path"; `:path` is no Pistache parameter: read the path with
  /// pathBelow(req, route_prefix) (request.hpp), exactly as written. The prefix itself, and
  /// deeper paths, are 404s like any path not served; the other methods 405s.
  void anyBelowAsync(const std::vector<std::string>& methods, const std::string& route_prefix, AsyncHandler handler,
                     RouteDoc doc = {});

  /// Every route registered, in order (for the OpenAPI document).
  const std::vector<RouteInfo>& routes() const { return routes_; }

  /// Binds and serves on background threads; throws config::ConfigError naming `listen_variable`
  /// (HYDRA_LISTEN) if the address cannot be bound, or the HYDRA_TLS_* setting whose file is refused.
  void start(const char* listen_variable = "HYDRA_LISTEN");
  /// From now on every answer closes its connection, and draining() is true (readiness fails).
  void drain();
  bool draining() const;
  /// Graceful stop: drain(); stop accepting connections (those the kernel already completed
  /// are still taken and served); wait, up to `grace`, until every answer owed is written and
  /// every connection is closed (idle keep-alive connections close after the keep-alive
  /// timeout, half-sent requests after the header timeout); then stop serving. Answers that
  /// come later are dropped, never written to a connection that is gone.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(5));
  std::uint16_t port() const;

 private:
  void add(const std::string& method, const std::string& route, AsyncHandler handler, RouteDoc doc);
  /// Registers `handler` with Pistache at `pistache_route`, logged as `route`.
  void serve(const std::string& method, const std::string& pistache_route, const std::string& route,
             const Pistache::Rest::Route::Handler& wrapped);
  Pistache::Rest::Route::Handler wrap(const std::string& method, const std::string& route, AsyncHandler handler) const;
  void stopAccepting();

  ServerOptions options_;
  Pistache::Rest::Router router_;
  struct Served {
    std::string route;  // as logged
    std::set<std::string> methods;
  };
  std::map<std::string, Served> served_;  // by Pistache route
  std::vector<RouteInfo> routes_;
  std::shared_ptr<Responder::Lifecycle> lifecycle_;
  std::shared_ptr<PeerConnections> connections_;
  std::shared_ptr<OpenConnections> open_connections_;
  std::shared_ptr<StreamThreads> streams_;
  std::unique_ptr<Pistache::Http::Endpoint> endpoint_;
  std::unique_ptr<TlsAcceptor> tls_acceptor_;  // with TLS: owns the public listening socket
  int listening_fd_ = -1;
};

/// The reply for the exception being handled (call inside a catch block): the one place where
/// exceptions become replies (see the top of this file). An asynchronous handler that must send
/// an error later computes it here, on the request's thread (the log names `request_id`).
Reply replyForCurrentException(const std::string& request_id);

/// The id of the request this thread is handling (handlers start on the thread that received
/// the request; work they hand to other threads must take the id along); it is also in the
/// X-Request-Id response header and the access log.
const std::string& currentRequestId();

/// How long a graceful stop may wait for answers and connections: HYDRA_SHUTDOWN_GRACE_SECONDS
/// (default 20, 0..600).
std::chrono::seconds shutdownGrace();

/// Blocks until SIGINT or SIGTERM. Call before starting threads so they inherit the mask.
void blockTerminationSignals();
void waitForTerminationSignal();

}  // namespace hydra::http
