#pragma once
// Brokers serve fetches from memory that is proven current only to within B
// (HYDRA_AUTHZ_STALENESS_MS; broker/DESIGN.md). So after committing a change that removes or
// narrows a runtime's access, the control plane waits B before it answers: no fetch that starts
// after the answer, on any broker, is served from the state before the change. Additions need no
// wait: brokers confirm every refusal from the database.

#include <chrono>
#include <thread>

namespace hydra::cp {

class RevocationDelay {
 public:
  explicit RevocationDelay(std::chrono::milliseconds staleness) : staleness_(staleness) {}
  /// Call after the commit, before answering.
  void waitOut() const { std::this_thread::sleep_for(staleness_); }

 private:
  const std::chrono::milliseconds staleness_;
};

}  // namespace hydra::cp
