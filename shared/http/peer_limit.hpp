#pragma once
// A cap on the connections one peer address may hold open at once (the edge, edge.hpp, counts
// every accepted connection here; over the cap the new connection is shut down before it is
// read from), and the count of all open connections (a graceful stop waits for it to reach 0).

#include <cstddef>
#include <map>
#include <mutex>
#include <string>

namespace hydra::http {

/// Open connections per peer address, shared by every worker's copy of the edge handler.
class PeerConnections {
 public:
  explicit PeerConnections(std::size_t max_per_peer) : max_per_peer_(max_per_peer) {}
  /// Counts a new connection of `peer`; false if it is one too many (counted all the same:
  /// its disconnection is counted too).
  bool open(const std::string& peer);
  void close(const std::string& peer);
  /// Connections open now, of every peer.
  std::size_t total() const;

 private:
  const std::size_t max_per_peer_;
  mutable std::mutex mutex_;
  std::map<std::string, std::size_t> open_;
  std::size_t total_ = 0;
};

}  // namespace hydra::http
