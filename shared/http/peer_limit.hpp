#pragma once
// A cap on the connections one peer address may hold open at once, in front of the router.
// Pistache calls onConnection for every accepted connection (after the TLS handshake) on a
// worker thread; over the cap the new connection is shut down before it is read from.

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <pistache/http.h>
#include <pistache/peer.h>

namespace hydra::http {

/// Open connections per peer address, shared by every worker's copy of the handler.
class PeerConnections {
 public:
  explicit PeerConnections(std::size_t max_per_peer) : max_per_peer_(max_per_peer) {}
  /// Counts a new connection of `peer`; false if it is one too many (counted all the same:
  /// its disconnection is counted too).
  bool open(const std::string& peer);
  void close(const std::string& peer);

 private:
  const std::size_t max_per_peer_;
  std::mutex mutex_;
  std::map<std::string, std::size_t> open_;
};

/// Hands requests to `inner` (the router's handler); refuses connections over the cap.
class PeerLimitedHandler : public Pistache::Http::Handler {
 public:
  using tag = Pistache::Http::details::prototype_tag;
  PeerLimitedHandler(std::shared_ptr<Pistache::Http::Handler> inner, std::shared_ptr<PeerConnections> connections)
      : inner_(std::move(inner)), connections_(std::move(connections)) {}

  /// Pistache gives each worker thread a copy (sizes and timeouts included) of the handler it
  /// was given; each copy gets a copy of the router's handler too.
  std::shared_ptr<Pistache::Tcp::Handler> clone() const override;
  void onRequest(const Pistache::Http::Request& request, Pistache::Http::ResponseWriter response) override;
  void onTimeout(const Pistache::Http::Request& request, Pistache::Http::ResponseWriter response) override;
  void onConnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override;
  void onDisconnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override;

 private:
  std::shared_ptr<Pistache::Http::Handler> inner_;
  std::shared_ptr<PeerConnections> connections_;
};

}  // namespace hydra::http
