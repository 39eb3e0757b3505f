#include "shared/http/edge.hpp"

#include <sys/socket.h>

#include "shared/http/named_header.hpp"
#include "shared/http/request_id.hpp"
#include "shared/json/writer.hpp"
#include "shared/log/log.hpp"

namespace hydra::http {
namespace {

constexpr const char* kConnectionData = "hydra.edge";

using Clock = std::chrono::steady_clock;

}  // namespace

// What the edge keeps per connection (Pistache's peer data).
struct EdgeConnection {
  explicit EdgeConnection(const FramingScreen::Limits& limits) : screen(limits) {}
  FramingScreen screen;  // used only on the connection's worker thread
  std::atomic<bool> between_requests{true};  // screen.idle(), for other threads
  std::atomic<int> answers_owed{0};
  std::atomic<Clock::rep> last_activity{Clock::now().time_since_epoch().count()};
  std::atomic<bool> closing{false};
  // Read by Pistache's timer check on the worker thread, set by a stream's thread.
  std::shared_ptr<std::atomic<bool>> streaming = std::make_shared<std::atomic<bool>>(false);

  void touch() { last_activity = Clock::now().time_since_epoch().count(); }
};

namespace {

std::shared_ptr<EdgeConnection> edgeConnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
  return peer ? std::static_pointer_cast<EdgeConnection>(peer->tryGetData(kConnectionData)) : nullptr;
}

// Pistache ties a handler to its transport (Tcp::Handler::associateTransport, private, called
// by its friend Transport for the handler it was given). The router's handler is not given to
// Pistache, so the edge ties it to its own transport: naming a private member is allowed in
// an explicit instantiation, which hands the member pointer out through a friend function.
using AssociateTransport = void (Pistache::Tcp::Handler::*)(Pistache::Tcp::Transport*);
struct AssociateTransportTag {
  friend AssociateTransport memberOf(AssociateTransportTag);
};
template <AssociateTransport Member>
struct ExposeMember {
  friend AssociateTransport memberOf(AssociateTransportTag) { return Member; }
};
template struct ExposeMember<&Pistache::Tcp::Handler::associateTransport>;

// Pistache's worker checks every connection twice a second (TransportImpl::checkIdlePeers): one
// with a request dispatched and no answer sent yet gets a 408 (and is closed) once the header
// timeout has passed since the request, and the check asks the request parser's current step
// which timeout applies: the request line's and the headers' steps, the header timeout; the
// body's, the body timeout; any other step, none. A streamed answer may take far longer than
// either, so while one is written this step, which the parser starts every request with, says
// it is another (parsing is the same): Pistache then leaves the connection alone, and the stream
// bounds itself (server.cpp). The flag is per connection, set from the stream's thread.
class RequestLineTimedStep : public Pistache::Http::Private::RequestLineStep {
 public:
  static constexpr Pistache::Http::Private::StepId kStreamingId = Pistache::Meta::Hash::fnv1a("HydraStreaming");
  RequestLineTimedStep(Pistache::Http::Request* request, std::shared_ptr<std::atomic<bool>> streaming)
      : RequestLineStep(request), streaming_(std::move(streaming)) {}
  Pistache::Http::Private::StepId id() const override { return streaming_->load() ? kStreamingId : Id; }

 private:
  std::shared_ptr<std::atomic<bool>> streaming_;
};

// Pistache's request parser with that first step.
class EdgeParser : public Pistache::Http::RequestParser {
 public:
  EdgeParser(std::size_t max_request_size, std::shared_ptr<std::atomic<bool>> streaming)
      : Pistache::Http::RequestParser(max_request_size) {
    allSteps[0] = std::make_unique<RequestLineTimedStep>(&request, std::move(streaming));
  }
};

std::string detailBody(const std::string& detail) {
  json::Writer w;
  w.beginObject().key("detail").string(detail).endObject();
  return w.str();
}

}  // namespace

std::shared_ptr<Pistache::Tcp::Handler> EdgeHandler::clone() const {
  auto copy = std::make_shared<EdgeHandler>(*this);
  copy->router_ = std::static_pointer_cast<Pistache::Http::Handler>(router_->clone());
  copy->router_attached_ = false;
  return copy;
}

void EdgeHandler::onRequest(const Pistache::Http::Request& request, Pistache::Http::ResponseWriter response) {
  router_->onRequest(request, std::move(response));
}

void EdgeHandler::onTimeout(const Pistache::Http::Request&, Pistache::Http::ResponseWriter response) {
  auto peer = response.getPeer();
  if (!peer) return;
  refuse(peer, std::move(response), 408, "Request not received in time");
}

void EdgeHandler::onConnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
  if (!router_attached_) {
    // This copy's transport exists now: the router's handler answers through it, with the
    // sizes and timeouts Pistache gave this handler.
    (router_.get()->*memberOf(AssociateTransportTag{}))(transport());
    router_->setMaxRequestSize(getMaxRequestSize());
    router_->setMaxResponseSize(getMaxResponseSize());
    router_->setHeaderTimeout(getHeaderTimeout());
    router_->setBodyTimeout(getBodyTimeout());
    router_attached_ = true;
  }
  // What Pistache's own (private) Http::Handler::onConnection does: the connection's parser,
  // which buffers at most the maximum request size (with the first step above).
  const auto connection = std::make_shared<EdgeConnection>(settings_->limits);
  peer->putData(ParserData, std::make_shared<EdgeParser>(getMaxRequestSize(), connection->streaming));
  peer->putData(kConnectionData, connection);
  settings_->open->add(peer);
  const auto address = peer->address().host();
  if (!settings_->connections->open(address)) {
    // Shut down, not closed: Pistache sees the hang-up, cleans up and calls onDisconnection,
    // and the descriptor cannot be reused under it meanwhile.
    ::shutdown(peer->fd(), SHUT_RDWR);
    log::http().warning("connection from " + log::escape(address, 64) + " refused: too many open connections from it");
  }
  if (settings_->tls_only && peer->ssl() == nullptr) ::shutdown(peer->fd(), SHUT_RDWR);
}

void EdgeHandler::onDisconnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
  settings_->open->remove(peer.get());
  settings_->connections->close(peer->address().host());
  router_->onDisconnection(peer);
}

void EdgeHandler::onInput(const char* buffer, size_t len, const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
  const auto connection = edgeConnection(peer);
  if (!connection || connection->screen.refused()) return;  // being closed: what the client still sends is dropped
  connection->touch();
  auto* screen = &connection->screen;
  std::vector<std::string> requests;
  const auto refusal = screen->feed(std::string_view(buffer, len), requests);
  connection->between_requests = screen->idle();
  // Pistache's parser, one request at a time (it drops what follows a complete request).
  auto& parser = static_cast<Pistache::Tcp::Handler&>(*router_);
  for (const auto& bytes : requests) parser.onInput(bytes.data(), bytes.size(), peer);
  if (refusal) {
    const auto version = screen->http10() ? Pistache::Http::Version::Http10 : Pistache::Http::Version::Http11;
    refuse(peer, Pistache::Http::ResponseWriter(version, transport(), this, peer), refusal->status, refusal->detail);
  }
}

void EdgeHandler::refuse(const std::shared_ptr<Pistache::Tcp::Peer>& peer, Pistache::Http::ResponseWriter response,
                         int status, const std::string& detail) {
  namespace H = Pistache::Http::Header;
  const auto request_id = newRequestId();
  response.headers().remove<H::Connection>();
  response.headers().add<H::Connection>(Pistache::Http::ConnectionControl::Close);
  response.headers().add<H::Server>("hydracore");
  response.headers().add(std::make_shared<NamedHeader>("X-Request-Id", request_id));
  response.setMime(Pistache::Http::Mime::MediaType("application/json"));
  // The rest of what the client sends is not read: once the answer is written, the connection
  // is shut down, which the client sees as the end of the stream after our answer.
  const int fd = peer->fd();
  try {
    response.send(static_cast<Pistache::Http::Code>(status), detailBody(detail))
        .then([fd, weak = std::weak_ptr<Pistache::Tcp::Peer>(peer)](ssize_t) {
                if (weak.lock()) ::shutdown(fd, SHUT_WR);
              },
              [](std::exception_ptr) {});
  } catch (const std::exception& e) {
    log::http().debug(std::string("refusal not sent: ") + e.what());
  }
  if (settings_->answered) settings_->answered(status, request_id);
}

void answerOwed(const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
  if (const auto connection = edgeConnection(peer)) ++connection->answers_owed;
}

void answerGiven(const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
  if (const auto connection = edgeConnection(peer)) {
    --connection->answers_owed;
    connection->touch();
  }
}

void setStreaming(const std::shared_ptr<Pistache::Tcp::Peer>& peer, bool streaming) {
  if (const auto connection = edgeConnection(peer)) connection->streaming->store(streaming);
}

void OpenConnections::add(const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
  std::lock_guard<std::mutex> lock(mutex_);
  peers_[peer.get()] = peer;
}

void OpenConnections::remove(const Pistache::Tcp::Peer* peer) {
  std::lock_guard<std::mutex> lock(mutex_);
  peers_.erase(peer);
}

void OpenConnections::forEach(const std::function<void(const std::shared_ptr<Pistache::Tcp::Peer>&)>& fn) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [key, weak] : peers_) {
    if (const auto peer = weak.lock()) fn(peer);
  }
}

std::size_t closeIdleConnections(const OpenConnections& open, std::chrono::milliseconds quiet) {
  std::size_t closed = 0;
  const auto now = Clock::now().time_since_epoch().count();
  const auto quiet_ticks = std::chrono::duration_cast<Clock::duration>(quiet).count();
  open.forEach([&](const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
    const auto connection = edgeConnection(peer);
    if (!connection || connection->answers_owed.load() != 0 || now - connection->last_activity.load() < quiet_ticks ||
        !connection->between_requests.load() || connection->closing.exchange(true)) {
      return;
    }
    ::shutdown(peer->fd(), SHUT_WR);
    ++closed;
  });
  return closed;
}

}  // namespace hydra::http
