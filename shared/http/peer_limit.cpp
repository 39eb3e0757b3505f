#include "shared/http/peer_limit.hpp"

#include <sys/socket.h>

#include "shared/log/log.hpp"

namespace hydra::http {

bool PeerConnections::open(const std::string& peer) {
  std::lock_guard<std::mutex> lock(mutex_);
  return ++open_[peer] <= max_per_peer_;
}

void PeerConnections::close(const std::string& peer) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = open_.find(peer);
  if (it == open_.end()) return;
  if (--it->second == 0) open_.erase(it);
}

std::shared_ptr<Pistache::Tcp::Handler> PeerLimitedHandler::clone() const {
  auto copy = std::make_shared<PeerLimitedHandler>(*this);
  copy->inner_ = std::static_pointer_cast<Pistache::Http::Handler>(inner_->clone());
  return copy;
}

void PeerLimitedHandler::onRequest(const Pistache::Http::Request& request, Pistache::Http::ResponseWriter response) {
  inner_->onRequest(request, std::move(response));
}

void PeerLimitedHandler::onTimeout(const Pistache::Http::Request& request, Pistache::Http::ResponseWriter response) {
  inner_->onTimeout(request, std::move(response));
}

void PeerLimitedHandler::onConnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
  // What Pistache's own (private) Http::Handler::onConnection does: the connection's parser,
  // which buffers at most the maximum request size.
  peer->putData(ParserData, std::make_shared<Pistache::Http::RequestParser>(getMaxRequestSize()));
  const auto address = peer->address().host();
  if (!connections_->open(address)) {
    // Shut down, not closed: Pistache sees the hang-up, cleans up and calls onDisconnection,
    // and the descriptor cannot be reused under it meanwhile.
    ::shutdown(peer->fd(), SHUT_RDWR);
    log::http().warning("connection from " + log::escape(address, 64) + " refused: too many open connections from it");
  }
}

void PeerLimitedHandler::onDisconnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
  connections_->close(peer->address().host());
  inner_->onDisconnection(peer);
}

}  // namespace hydra::http
