#pragma once
// Copies the journal into PostgreSQL, the queryable copy behind GET .../audit-events: records
// in order, then the checkpoints that cover them, each idempotently (unique journal id +
// sequence number, journal id + tree size), and the last use of the connections released.
// It resumes from what PostgreSQL already holds, so restarts and database outages lose nothing:
// fetches go on being audited into the journal meanwhile.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "broker/audit/journal.hpp"

namespace hydra::broker::audit {

class Shipper {
 public:
  Shipper(std::string database_url, Journal& journal, std::string dir);
  /// Stops at once (what is not shipped yet is shipped by the next broker on this journal).
  ~Shipper();
  /// Ships everything the journal holds now, checkpoints included, waiting at most `timeout`;
  /// then stops. For a clean shutdown.
  void finish(std::chrono::milliseconds timeout);
  Shipper(const Shipper&) = delete;
  Shipper& operator=(const Shipper&) = delete;

 private:
  struct Session;
  enum class Progress { kMoreWaiting, kCaughtUp, kWaitingForTheJournal };
  void run();
  Progress shipSome(Session& session);
  bool stopping();

  const std::string url_;
  Journal& journal_;
  const std::string dir_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool finishing_ = false;  // stop once caught up
  bool finished_ = false;
  std::thread thread_;
};

}  // namespace hydra::broker::audit
