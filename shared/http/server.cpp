#include "shared/http/server.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <shared_mutex>
#include <csignal>
#include <chrono>
#include <cstdio>
#include <strings.h>
#include <sys/socket.h>

#include <thread>

#include "shared/http/client_certificate.hpp"
#include "shared/http/edge.hpp"
#include "shared/http/errors.hpp"
#include "shared/http/framing.hpp"
#include "shared/http/listener.hpp"
#include "shared/http/named_header.hpp"
#include "shared/http/peer_limit.hpp"
#include "shared/http/request.hpp"
#include "shared/http/request_id.hpp"
#include "shared/http/tls.hpp"
#include "shared/http/tls_acceptor.hpp"
#include "shared/json/writer.hpp"
#include "shared/log/log.hpp"
#include "shared/metrics/metrics.hpp"

namespace hydra::http {
namespace {

using Pistache::Http::Code;
using Pistache::Rest::Request;

Reply validationReply(const ValidationError& error) {
  json::Writer w;
  w.beginObject().key("detail").beginArray();
  for (const auto& problem : error.problems()) {
    w.beginObject().key("loc").beginArray();
    for (const auto& part : problem.loc) {
      if (const auto* name = std::get_if<std::string>(&part)) {
        w.string(*name);
      } else {
        w.integer(std::get<int>(part));
      }
    }
    w.endArray().key("msg").string(problem.msg).key("type").string(problem.type).endObject();
  }
  w.endArray().endObject();
  return json(422, w.str());
}

// Pistache answers "Connection: Close" unless the request said keep-alive, but HTTP/1.1
// connections are persistent by default, and runtimes reuse them: keep them open unless the
// client asked to close or speaks HTTP/1.0 (then State::send closes them: Pistache does not).
bool keepAliveByDefault(const Request& req) {
  return !req.headers().tryGet<Pistache::Http::Header::Connection>() &&
         req.version() == Pistache::Http::Version::Http11;
}


// HTTPS through our acceptor (tls_acceptor.hpp: handshakes off Pistache's accepting thread,
// each with an absolute deadline; TLS 1.2+, strong suites: tls.hpp). The key file is checked
// like every key file first; the acceptor then reads the files. Pistache itself listens only
// on a loopback port it never gets to accept on (see Server::start).
std::unique_ptr<TlsAcceptor> startTls(const config::TlsSettings& tls, const config::ListenAddress& listen,
                                      Pistache::Http::Endpoint& endpoint, std::size_t max_per_peer) {
  try {
    checkTlsKeyFile(tls.key_file);
  } catch (const std::exception& e) {
    throw config::ConfigError(std::string("HYDRA_TLS_KEY_FILE: ") + e.what());
  }
  TlsAcceptorLimits limits;
  limits.max_per_peer = std::max<std::size_t>(1, max_per_peer);
  try {
    return std::make_unique<TlsAcceptor>(tls, listen.host, listen.port, endpoint, limits);
  } catch (const std::exception& e) {
    // OpenSSL's and the system's reasons (no such file, key does not match) name no secret.
    throw config::ConfigError("HYDRA_TLS_CERT_FILE / HYDRA_TLS_KEY_FILE / HYDRA_TLS_CLIENT_CA_FILE or "
                              "HYDRA_RUNTIME_CA_FILE / listen " + listen.host + ":" + std::to_string(listen.port) + ": " + log::escape(e.what()));
  }
}

}  // namespace

Reply replyForCurrentException(const std::string& request_id) {
  try {
    throw;
  } catch (const ValidationError& e) {
    return validationReply(e);
  } catch (const ApiError& e) {
    return errorReply(e);
  } catch (const std::exception& e) {
    log::http().error("request " + request_id + " failed: " + e.what());
  } catch (...) {
    log::http().error("request " + request_id + " failed with a non-standard exception");
  }
  return errorReply(500, "Internal server error (request id " + request_id + ")");
}

// The server's side of every answer: how many are still owed, and whether the endpoint they
// would be written to still exists.
struct Responder::Lifecycle {
  std::shared_mutex sending;  // held shared while an answer is written, exclusively to stop
  bool stopped = false;
  std::atomic<bool> draining{false};  // answers close their connections
  std::mutex mutex;
  std::condition_variable idle;
  int owed = 0;

  void started() {
    std::lock_guard<std::mutex> lock(mutex);
    ++owed;
  }
  void finished() {
    std::lock_guard<std::mutex> lock(mutex);
    if (--owed == 0) idle.notify_all();
  }
};

// Set while a route's handler runs on the connection's worker thread (see State::send).
static thread_local bool answering_inline = false;
struct InlineAnswer {
  InlineAnswer() { answering_inline = true; }
  ~InlineAnswer() { answering_inline = false; }
  InlineAnswer(const InlineAnswer&) = delete;
  InlineAnswer& operator=(const InlineAnswer&) = delete;
};

struct Responder::State {
  State(std::shared_ptr<Lifecycle> lifecycle, Pistache::Http::ResponseWriter writer, std::string request_id,
        const std::string& method, const std::string& route, std::shared_ptr<metrics::RouteMetrics> metrics,
        bool keep_alive)
      : lifecycle(std::move(lifecycle)), writer(std::move(writer)), request_id(std::move(request_id)),
        method(method), route(route), metrics(std::move(metrics)), keep_alive(keep_alive),
        peer(this->writer.getPeer()) {
    this->lifecycle->started();
    answerOwed(peer.lock());
  }
  ~State() {
    if (!sent.exchange(true)) {
      log::http().error("request " + request_id + " was dropped without an answer");
      send(errorReply(500, "Internal server error (request id " + request_id + ")"));
    }
    lifecycle->finished();
  }
  void send(const Reply& reply);

  const std::shared_ptr<Lifecycle> lifecycle;
  Pistache::Http::ResponseWriter writer;
  const std::string request_id, method, route;
  const std::shared_ptr<metrics::RouteMetrics> metrics;
  const bool keep_alive;
  const std::weak_ptr<Pistache::Tcp::Peer> peer;
  const std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::atomic<bool> sent{false};
};

void Responder::operator()(Reply reply) const {
  if (!state_->sent.exchange(true)) state_->send(reply);
}

void Responder::State::send(const Reply& reply) {
  namespace H = Pistache::Http::Header;
  if (lifecycle->draining.load()) {
    // Shutting down: the client must not send this connection another request.
    writer.headers().remove<H::Connection>();
    writer.headers().add<H::Connection>(Pistache::Http::ConnectionControl::Close);
  } else if (keep_alive) {
    writer.headers().remove<H::Connection>();
    writer.headers().add<H::Connection>(Pistache::Http::ConnectionControl::KeepAlive);
  }
  writer.headers().add<H::Server>("hydracore");
  writer.headers().add(std::make_shared<NamedHeader>("X-Request-Id", request_id));
  std::string content_type = "application/json";
  for (const auto& [name, value] : reply.headers) {
    if (strcasecmp(name.c_str(), "Content-Type") == 0) {
      content_type = value;  // e.g. the metrics' text format
    } else {
      writer.headers().add(std::make_shared<NamedHeader>(name, value));
    }
  }
  if (!reply.body.empty()) writer.setMime(Pistache::Http::Mime::MediaType::fromString(content_type));
  std::shared_lock<std::shared_mutex> lock(lifecycle->sending);
  if (lifecycle->stopped) return;  // the endpoint and its connections are gone
  // Pistache 0.0.5 says "Connection: Close" but keeps the connection open: close it (the
  // sending side, so the client reads the answer, then the end of the stream) once written.
  // Only from the connection's own worker thread, answering before the handler returned: the
  // write then completes on that thread, which has not yet seen the connection end, so the
  // descriptor is still this connection's. From any other thread (an answer given later) the
  // write may complete first and the connection end and its descriptor number be reused by a
  // new connection before the shutdown: that would cut off a stranger. Such a connection is
  // left to its client, which asked to close it, and to the idle timeout.
  const auto connection = writer.headers().tryGet<H::Connection>();
  const bool close = answering_inline &&
                     (!connection || connection->control() == Pistache::Http::ConnectionControl::Close);
  try {
    // Pistache checks that the connection is still open before it queues the answer.
    auto sent = writer.send(static_cast<Code>(reply.status), reply.body);
    if (close) {
      if (const auto open = peer.lock()) {
        sent.then([fd = open->fd(), weak = peer](ssize_t) {
                    if (weak.lock()) ::shutdown(fd, SHUT_WR);
                  },
                  [](std::exception_ptr) {});
      }
    }
  } catch (const std::exception& e) {
    log::http().debug("request " + request_id + ": the client left before its answer: " + e.what());
  }
  answerGiven(peer.lock());

  const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  metrics->observe(reply.status, seconds);
  if (log::http().information()) {  // the access line; off below information level (benchmarks)
    log::access(log::http(), {request_id, method, route, reply.status, seconds * 1000});
  }
}

// The threads streamed answers run on, at most `max` at once.
struct StreamThreads {
  explicit StreamThreads(std::size_t max) : max(max) {}
  const std::size_t max;
  std::mutex mutex;
  std::condition_variable idle;
  std::size_t running = 0;

  bool tryStart() {
    std::lock_guard<std::mutex> lock(mutex);
    if (running >= max) return false;
    ++running;
    return true;
  }
  void finished() {
    std::lock_guard<std::mutex> lock(mutex);
    if (--running == 0) idle.notify_all();
  }
  void waitIdle() {
    std::unique_lock<std::mutex> lock(mutex);
    idle.wait(lock, [this] { return running == 0; });
  }
};

// A streamed answer (Server::getStreamed): it takes over the request's State, whose answer it
// gives, so the drain waits for it (the answer stays owed until the body ends) and nothing
// else answers the request.
class StreamAnswer {
 public:
  /// On the request's thread, once its handler returned the producer: claims a stream thread
  /// (none free: ApiError 503) and starts the answer on it.
  static void start(const Responder& respond, Streamed streamed, const std::shared_ptr<StreamThreads>& threads,
                    std::chrono::milliseconds stall);

 private:
  static void run(std::shared_ptr<Responder::State> state, Streamed streamed, std::thread::id connection_thread,
                  std::chrono::milliseconds stall);
};

void StreamAnswer::start(const Responder& respond, Streamed streamed, const std::shared_ptr<StreamThreads>& threads,
                         std::chrono::milliseconds stall) {
  const auto& state = respond.state_;
  const auto peer = state->peer.lock();
  if (!peer) return;  // the client left already
  if (!threads->tryStart()) throw ApiError(503, "Too many exports in progress: try again shortly", 5);
  // From now until the body ends, Pistache's request timers leave the connection alone (a long
  // export would get a 408 in the middle of its body); the stream bounds itself instead.
  setStreaming(peer, true);
  try {
    std::thread([state, streamed = std::move(streamed), connection_thread = std::this_thread::get_id(), stall,
                 threads]() mutable {
      // run() owns the request's state and the producer, which hold the services: both are
      // gone before the server may stop (Server::stop waits for every stream thread).
      try {
        run(std::move(state), std::move(streamed), connection_thread, stall);
      } catch (const std::exception& e) {  // memory ran out: the answer is dropped, not the process
        log::http().error(std::string("streamed answer failed: ") + e.what());
      }
      threads->finished();
    }).detach();
  } catch (...) {
    threads->finished();
    setStreaming(peer, false);
    throw;
  }
}

void StreamAnswer::run(std::shared_ptr<Responder::State> state, Streamed streamed, std::thread::id connection_thread,
                       std::chrono::milliseconds stall) {
  log::setRequestId(state->request_id);
  const auto lifecycle = state->lifecycle;
  const auto stopped = [&lifecycle] {
    std::shared_lock<std::shared_mutex> lock(lifecycle->sending);
    return lifecycle->stopped;
  };
  const auto nextPiece = [&streamed]() -> std::optional<std::string> {
    for (;;) {
      auto piece = streamed.next();
      if (!piece || !piece->empty()) return piece;  // an empty chunk would end the body
    }
  };

  std::optional<std::string> piece;
  try {
    piece = nextPiece();
  } catch (...) {
    // Nothing sent yet: the usual error answer; then Pistache's timers are back in charge.
    const Responder respond(state);
    respond(replyForCurrentException(state->request_id));
    if (const auto peer = state->peer.lock()) setStreaming(peer, false);
    log::setRequestId("");
    return;
  }

  state->sent = true;  // this is the answer: State's destructor must not send a 500 after it
  // Never held for long: the connection going away (its Peer released) is how a client that
  // left shows (ChunkedWriter::waitWritten).
  std::optional<ChunkedWriter> writer;
  if (const auto peer = state->peer.lock()) writer.emplace(peer, connection_thread);
  if (!writer) {
    log::setRequestId("");
    return;
  }
  auto& out = *writer;
  // As State::send decides it: kept open unless the client asked to close it, spoke HTTP/1.0 or
  // the server is draining.
  bool keep_alive = state->keep_alive;
  if (const auto connection = state->writer.headers().tryGet<Pistache::Http::Header::Connection>()) {
    keep_alive = keep_alive || connection->control() == Pistache::Http::ConnectionControl::KeepAlive;
  }
  keep_alive = keep_alive && !lifecycle->draining.load();
  const auto write = [&](std::string bytes, bool close) {
    std::shared_lock<std::shared_mutex> lock(lifecycle->sending);
    return !lifecycle->stopped && out.send(std::move(bytes), close);  // never after the endpoint is gone
  };
  const auto waited = [&](ChunkedWriter::Wait wait) -> std::string {
    switch (wait) {
      case ChunkedWriter::Wait::kWritten: return "";
      case ChunkedWriter::Wait::kGone: return "the client left";
      case ChunkedWriter::Wait::kStalled:
        return "the client took in nothing for " + std::to_string(stall.count() / 1000) + " s";
      case ChunkedWriter::Wait::kAbandoned: break;
    }
    return "the server stopped";
  };

  // The head and the first chunk (or the end of an empty body) in one write; then each chunk
  // once the one before is in the socket, the next one made meanwhile.
  std::string failure;
  bool writable = true;  // false once a write was not taken in: nothing more can follow it
  std::uint64_t body_bytes = 0;
  const std::vector<std::pair<std::string, std::string>> headers{
      {"Server", "hydracore"}, {"X-Request-Id", state->request_id}, {"Cache-Control", "no-store"}};
  if (!write(streamHead(streamed.content_type, keep_alive, headers) + (piece ? chunkOf(*piece) : kLastChunk),
             !piece && !keep_alive)) {
    failure = "the client left";
  }
  while (failure.empty() && piece) {
    std::optional<std::string> next;
    try {
      next = nextPiece();
    } catch (const ApiError& e) {
      failure = e.detail();
    } catch (const std::exception& e) {
      failure = e.what();
    } catch (...) {
      failure = "a non-standard exception";
    }
    if (failure.empty() && lifecycle->draining.load()) failure = "the server is shutting down";
    if (failure.empty()) {
      failure = waited(out.waitWritten(stall, stopped));
      writable = failure.empty();
    }
    if (!failure.empty()) break;
    body_bytes += piece->size();
    piece = std::move(next);
    if (!write(piece ? chunkOf(*piece) : kLastChunk, !piece && !keep_alive)) failure = "the client left";
  }
  if (failure.empty()) {
    failure = waited(out.waitWritten(stall, stopped));  // the last chunk, before the timers are back
  } else if (writable) {
    // Cut off: no last chunk. The connection is closed once what is queued is written, so the
    // client sees the body end early (a client waiting for the next chunk would otherwise wait
    // for Pistache's keep-alive timer, which closes a connection not taken in from either way).
    if (write("", true)) out.waitWritten(stall, stopped);
  }
  // Pistache's timers again: the connection counts as idle (its keep-alive timeout closes it
  // without a word, never with a 408 after the body).
  if (const auto open = state->peer.lock()) {
    open->setIdle(true);
    setStreaming(open, false);
  }
  answerGiven(state->peer.lock());

  const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - state->started).count();
  state->metrics->observe(200, seconds);
  if (!failure.empty()) {
    log::http().warning("request " + state->request_id + ": streamed answer cut off after " +
                        std::to_string(body_bytes) + " bytes: " + failure);
  }
  if (log::http().information()) {
    log::access(log::http(), {state->request_id, state->method, state->route, 200, seconds * 1000});
  }
  log::setRequestId("");
}

const std::string& currentRequestId() { return log::requestId(); }

Server::Server(ServerOptions options)
    : options_(std::move(options)), lifecycle_(std::make_shared<Responder::Lifecycle>()),
      connections_(std::make_shared<PeerConnections>(options_.max_connections_per_peer)),
      streams_(std::make_shared<StreamThreads>(options_.max_streams)) {
  router_.addNotFoundHandler(wrap("*", "(no route)", [](const Request&, const Responder& respond) {
    respond(errorReply(404, "Not Found"));
  }));
}

Server::~Server() { stop(); }

Pistache::Rest::Route::Handler Server::wrap(const std::string& method, const std::string& route,
                                            AsyncHandler handler) const {
  const auto max_body = options_.max_body_bytes;
  auto route_metrics = std::make_shared<metrics::RouteMetrics>(method, route);
  return [method, route, handler = std::move(handler), max_body, lifecycle = lifecycle_, route_metrics](
             const Request& req, Pistache::Http::ResponseWriter res) {
    const auto request_id = requestIdFrom(header(req, "X-Request-Id"));
    log::setRequestId(request_id);
    setCurrentClientCertificate(clientCertificateOf(res.getPeer().get()));
    const Responder respond(std::make_shared<Responder::State>(lifecycle, std::move(res), request_id, method, route,
                                                               route_metrics, keepAliveByDefault(req)));
    try {
      // The edge refuses larger bodies before they are read; this holds for any other way in.
      if (req.body().size() > max_body) {
        throw ApiError(413, "Request body is larger than " + std::to_string(max_body / 1024) + " KiB");
      }
      const InlineAnswer on_this_thread;
      handler(req, respond);
    } catch (...) {
      const InlineAnswer on_this_thread;
      respond(replyForCurrentException(request_id));
    }
    log::setRequestId("");
    setCurrentClientCertificate(nullptr);
    return Pistache::Rest::Route::Result::Ok;
  };
}

void Server::add(const std::string& method, const std::string& route, AsyncHandler handler, RouteDoc doc) {
  routes_.push_back({method, route, std::move(doc)});
  serve(method, route, route, wrap(method, route, std::move(handler)));
}

namespace {

void routeWith(Pistache::Rest::Router& router, const std::string& method, const std::string& route,
               Pistache::Rest::Route::Handler handler) {
  namespace Routes = Pistache::Rest::Routes;
  if (method == "GET") Routes::Get(router, route, std::move(handler));
  if (method == "POST") Routes::Post(router, route, std::move(handler));
  if (method == "PUT") Routes::Put(router, route, std::move(handler));
  if (method == "PATCH") Routes::Patch(router, route, std::move(handler));
  if (method == "DELETE") Routes::Delete(router, route, std::move(handler));
}

}  // namespace

void Server::serve(const std::string& method, const std::string& pistache_route, const std::string& route,
                   const Pistache::Rest::Route::Handler& wrapped) {
  routeWith(router_, method, pistache_route, wrapped);
  auto& served = served_[pistache_route];
  served.route = route;
  served.methods.insert(method);
}

void Server::anyBelowAsync(const std::vector<std::string>& methods, const std::string& route_prefix,
                           AsyncHandler handler, RouteDoc doc) {
  // Pistache 0.0.5 has no "rest of the path" pattern: its splat matches exactly one segment.
  // So one route per depth: 32 is far deeper than any provider API path (Gmail's deepest has 8
  // segments), each depth costs one node per method in Pistache's tree, and a deeper path is
  // a 404 like any path not served (the head limit bounds a path in any case).
  const auto route = route_prefix + "/:path";
  bool documented = false;
  for (const auto& p : doc.path) documented = documented || p.name == "path";
  if (!documented) {
    doc.path.push_back({"path", R"({"type":"string"})",
                        "The rest of the path, one or more segments, as the provider's API names it"});
  }
  for (const auto& method : methods) {
    routes_.push_back({method, route, doc});
    const auto wrapped = wrap(method, route, handler);  // one set of metrics for every depth
    std::string below = route_prefix;
    for (std::size_t depth = 1; depth <= kMaxSegmentsBelow; ++depth) {
      below += "/*";
      serve(method, below, route, wrapped);
    }
  }
}

namespace {

// A handler that answers before it returns.
AsyncHandler answering(Handler handler) {
  return [handler = std::move(handler)](const Request& req, const Responder& respond) { respond(handler(req)); };
}

}  // namespace

void Server::get(const std::string& route, Handler handler, RouteDoc doc) {
  add("GET", route, answering(std::move(handler)), std::move(doc));
}
void Server::post(const std::string& route, Handler handler, RouteDoc doc) {
  add("POST", route, answering(std::move(handler)), std::move(doc));
}
void Server::patch(const std::string& route, Handler handler, RouteDoc doc) {
  add("PATCH", route, answering(std::move(handler)), std::move(doc));
}
void Server::del(const std::string& route, Handler handler, RouteDoc doc) {
  add("DELETE", route, answering(std::move(handler)), std::move(doc));
}
void Server::put(const std::string& route, Handler handler, RouteDoc doc) {
  add("PUT", route, answering(std::move(handler)), std::move(doc));
}
void Server::getAsync(const std::string& route, AsyncHandler handler, RouteDoc doc) {
  add("GET", route, std::move(handler), std::move(doc));
}
void Server::patchAsync(const std::string& route, AsyncHandler handler, RouteDoc doc) {
  add("PATCH", route, std::move(handler), std::move(doc));
}
void Server::delAsync(const std::string& route, AsyncHandler handler, RouteDoc doc) {
  add("DELETE", route, std::move(handler), std::move(doc));
}
void Server::putAsync(const std::string& route, AsyncHandler handler, RouteDoc doc) {
  add("PUT", route, std::move(handler), std::move(doc));
}
void Server::postAsync(const std::string& route, AsyncHandler handler, RouteDoc doc) {
  add("POST", route, std::move(handler), std::move(doc));
}

void Server::getStreamed(const std::string& route, StreamHandler handler, RouteDoc doc) {
  add("GET", route,
      [handler = std::move(handler), threads = streams_, stall = options_.stream_stall_timeout](
          const Request& req, const Responder& respond) {
        // HTTP/1.0 has no chunked coding (its body would end only with the connection, and an
        // export cut short would look complete).
        if (req.version() != Pistache::Http::Version::Http11) {
          throw ApiError(505, "This answer is streamed in chunks: ask with HTTP/1.1");
        }
        StreamAnswer::start(respond, handler(req), threads, stall);
      },
      std::move(doc));
}

void Server::start(const char* listen_variable) {
  // Pistache's own 405 is plain text: answer the other methods of each path ourselves.
  // Not routes of their own: the OpenAPI document lists only what is served. One handler per
  // logged route and method (anyBelowAsync serves one route at many depths).
  std::map<std::pair<std::string, std::string>, Pistache::Rest::Route::Handler> refusals;
  for (const auto& [pistache_route, served] : std::map(served_)) {
    std::string allow;
    for (const auto& m : served.methods) allow += (allow.empty() ? "" : ", ") + m;
    for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
      if (served.methods.count(method) != 0) continue;
      auto& refusal = refusals[{served.route, method}];
      if (!refusal) {
        refusal = wrap(method, served.route, answering([allow](const Request&) {
          auto reply = errorReply(405, "Method Not Allowed");
          reply.headers.emplace_back("Allow", allow);
          return reply;
        }));
      }
      routeWith(router_, method, pistache_route, refusal);
    }
  }

  // Pistache parses "host:port" itself: an IPv6 host goes in brackets.
  // With TLS, Pistache listens on a loopback port whose socket is closed as soon as it is
  // bound (below), and any plaintext connection it took meanwhile is closed (edge.hpp's
  // tls_only): every connection comes through the TLS acceptor.
  const Pistache::Address address(options_.tls ? std::string("127.0.0.1:0")
                                               : options_.listen.withPort(options_.listen.port));
  endpoint_ = std::make_unique<Pistache::Http::Endpoint>(address);
  // The edge hands Pistache one request at a time, each at most the head and body limits, the
  // head grown by what the screen adds (framing.hpp), chunk sizes rewritten in canonical form
  // (a few bytes of slack).
  constexpr std::size_t kSlack = 64;
  FramingScreen::Limits edge_limits;
  edge_limits.max_head_bytes = options_.max_head_bytes;
  edge_limits.max_body_bytes = options_.max_body_bytes;
  endpoint_->init(Pistache::Http::Endpoint::options()
                      .threads(options_.threads)
                      .flags(Pistache::Tcp::Options::ReuseAddr)
                      .maxRequestSize(options_.max_head_bytes + FramingScreen::maxHeadGrowth(edge_limits) +
                                      options_.max_body_bytes + kSlack)
                      .maxResponseSize(16 * 1024 * 1024)
                      // A client that stalls mid-request, or idles, must not hold a connection forever.
                      .headerTimeout(options_.header_timeout)
                      .bodyTimeout(options_.body_timeout)
                      .keepaliveTimeout(options_.keepalive_timeout));
  auto edge = std::make_shared<EdgeSettings>();
  edge->limits = edge_limits;
  edge->connections = connections_;
  edge->tls_only = options_.tls.has_value();
  open_connections_ = edge->open;
  // Answers the edge gives before any route: counted and logged like every other answer.
  auto refused_metrics = std::make_shared<metrics::RouteMetrics>("-", "(edge)");
  edge->answered = [refused_metrics](int status, const std::string& request_id) {
    refused_metrics->observe(status, 0);
    if (log::http().information()) log::access(log::http(), {request_id, "-", "(edge)", status, 0});
  };
  endpoint_->setHandler(std::make_shared<EdgeHandler>(router_.handler(), edge));
  try {
    endpoint_->serveThreaded();
  } catch (const std::exception& e) {
    throw config::ConfigError(std::string(listen_variable) + ": cannot listen on " + options_.listen.host + ":" +
                              std::to_string(options_.listen.port) + ": " + e.what());
  }
  listening_fd_ = findListeningSocket(static_cast<std::uint16_t>(endpoint_->getPort()));
  if (options_.tls) {
    // Pistache's plaintext loopback socket goes (new SYNs dropped first, nothing waited for).
    stopListening(listening_fd_, std::chrono::milliseconds(0));
    tls_acceptor_ = startTls(*options_.tls, options_.listen, *endpoint_, options_.max_connections_per_peer);
    listening_fd_ = tls_acceptor_->listeningSocket();
  }
}

void Server::drain() { lifecycle_->draining = true; }

bool Server::draining() const { return lifecycle_->draining.load(); }

void Server::stop(std::chrono::milliseconds grace) {
  if (!endpoint_) return;
  const auto deadline = std::chrono::steady_clock::now() + grace;
  drain();
  if (listening_fd_ >= 0) {
    // Pistache's shutdown closes everything at once: first stop taking new connections.
    const auto wait = std::min<std::chrono::milliseconds>(grace, std::chrono::seconds(2));
    if (!stopListening(listening_fd_, wait)) log::http().warning("could not filter new connections while draining");
    listening_fd_ = -1;
  }
  // Every answer owed written, every connection closed by its client or by Pistache's
  // timeouts (keep-alive, header), or the grace period over.
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(lifecycle_->mutex);
      if (lifecycle_->owed == 0 && connections_->total() == 0) break;
    }
    // Idle keep-alive connections would otherwise stay until their timeout.
    closeIdleConnections(*open_connections_, std::chrono::milliseconds(500));
    if (std::chrono::steady_clock::now() >= deadline) {
      std::lock_guard<std::mutex> lock(lifecycle_->mutex);
      log::http().warning("stopping with " + std::to_string(lifecycle_->owed) + " answer(s) owed and " +
                          std::to_string(connections_->total()) + " connection(s) open after the grace period");
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  {
    std::unique_lock<std::shared_mutex> lock(lifecycle_->sending);
    lifecycle_->stopped = true;
  }
  tls_acceptor_.reset();  // handshakes still under way are dropped
  endpoint_->shutdown();
  // Streams still running see the server stopped at their next write or wait.
  streams_->waitIdle();
  endpoint_.reset();
}

std::uint16_t Server::port() const {
  return tls_acceptor_ ? tls_acceptor_->port() : static_cast<std::uint16_t>(endpoint_->getPort());
}

std::chrono::seconds shutdownGrace() {
  const char* name = "HYDRA_SHUTDOWN_GRACE_SECONDS";
  return std::chrono::seconds(config::parseInteger(name, config::env(name).value_or("20"), 0, 600));
}

void blockTerminationSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

void waitForTerminationSignal() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  int received = 0;
  sigwait(&signals, &received);
}

}  // namespace hydra::http
