#include "shared/http/peer_limit.hpp"

namespace hydra::http {

bool PeerConnections::open(const std::string& peer) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++total_;
  return ++open_[peer] <= max_per_peer_;
}

void PeerConnections::close(const std::string& peer) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = open_.find(peer);
  if (it == open_.end()) return;
  --total_;
  if (--it->second == 0) open_.erase(it);
}

std::size_t PeerConnections::total() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return total_;
}

}  // namespace hydra::http
