#pragma once
// The connection-level edge: the handler Pistache calls for every connection and every read,
// in front of its own request parser and the router.
//  - A cap on the connections one peer address may hold (peer_limit.hpp).
//  - Each read goes through the framing screen (framing.hpp) before Pistache's parser: a head
//    over the limit, a body over the limit, malformed framing get our JSON answer and the
//    connection is closed, and a refused body is never read into memory.
//  - Requests that stall past the header or body timeout, and idle keep-alive connections, are
//    Pistache's: its transport answers the former 408 (empty body) and closes both.
// Pistache's Http::Handler::onInput (the parser) is private; the edge hands the bytes it lets
// through to the router's own handler, which is an Http::Handler whose onInput is that parser,
// through the public Tcp::Handler interface (see edge.cpp for how it is tied to the transport).

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/peer.h>

#include "shared/http/framing.hpp"
#include "shared/http/peer_limit.hpp"

namespace hydra::http {

/// The connections open now, for a drain to look at (Pistache's own list is its workers').
class OpenConnections {
 public:
  void add(const std::shared_ptr<Pistache::Tcp::Peer>& peer);
  void remove(const Pistache::Tcp::Peer* peer);
  /// Calls `fn` for each open connection, with the list locked (so none is closed meanwhile).
  void forEach(const std::function<void(const std::shared_ptr<Pistache::Tcp::Peer>&)>& fn) const;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<const Pistache::Tcp::Peer*, std::weak_ptr<Pistache::Tcp::Peer>> peers_;
};

struct EdgeSettings {
  FramingScreen::Limits limits;
  std::shared_ptr<PeerConnections> connections;
  std::shared_ptr<OpenConnections> open = std::make_shared<OpenConnections>();
  /// With TLS every connection comes from the TLS acceptor; one without TLS (Pistache's own
  /// loopback socket, in the moment before start() closes it) is closed at once.
  bool tls_only = false;
  /// Told of every answer the edge gives itself (status, and the refusal's detail), for the
  /// access log and metrics.
  std::function<void(int status, const std::string& request_id)> answered;
};

class EdgeHandler : public Pistache::Http::Handler {
 public:
  using tag = Pistache::Http::details::prototype_tag;
  EdgeHandler(std::shared_ptr<Pistache::Http::Handler> router, std::shared_ptr<const EdgeSettings> settings)
      : router_(std::move(router)), settings_(std::move(settings)) {}

  /// Pistache gives each worker thread a copy (sizes and timeouts included) of the handler it
  /// was given; each copy gets a copy of the router's handler too.
  std::shared_ptr<Pistache::Tcp::Handler> clone() const override;
  /// Not called: requests reach the router's handler directly.
  void onRequest(const Pistache::Http::Request& request, Pistache::Http::ResponseWriter response) override;
  /// A response timer that fired (ResponseWriter::timeoutAfter; unused by our routes): JSON 408.
  void onTimeout(const Pistache::Http::Request& request, Pistache::Http::ResponseWriter response) override;
  void onInput(const char* buffer, size_t len, const std::shared_ptr<Pistache::Tcp::Peer>& peer) override;
  void onConnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override;
  void onDisconnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override;

 private:
  /// Sends our JSON error and closes the connection once it is written.
  void refuse(const std::shared_ptr<Pistache::Tcp::Peer>& peer, Pistache::Http::ResponseWriter response, int status,
              const std::string& detail);

  std::shared_ptr<Pistache::Http::Handler> router_;
  std::shared_ptr<const EdgeSettings> settings_;
  bool router_attached_ = false;
};

/// The server's side of answers: one owed from the moment a request reaches its route until
/// its answer is queued (server.cpp's Responder), so a drain knows which connections are idle.
void answerOwed(const std::shared_ptr<Pistache::Tcp::Peer>& peer);
void answerGiven(const std::shared_ptr<Pistache::Tcp::Peer>& peer);

/// While true, Pistache's request timers (header, body, keep-alive) leave the connection alone:
/// a streamed answer is being written (server.cpp), which bounds its own time. Any thread.
void setStreaming(const std::shared_ptr<Pistache::Tcp::Peer>& peer, bool streaming);

/// While draining: shuts down the sending side of every connection that has no request under
/// way, no answer owed, and neither received nor answered anything for `quiet` (so its last
/// answer is long written). Its client sees the end of the stream, as after a keep-alive
/// timeout, and closes. Returns how many.
std::size_t closeIdleConnections(const OpenConnections& open, std::chrono::milliseconds quiet);

}  // namespace hydra::http
