#pragma once
// Copies the journal into PostgreSQL, the queryable copy behind GET .../audit-events: records
// in order, then the checkpoints that cover them, each idempotently (unique journal id +
// sequence number, journal id + tree size), and the last use of the connections released.
// It resumes from what PostgreSQL already holds, so restarts and database outages lose nothing:
// fetches go on being audited into the journal meanwhile. A record PostgreSQL refuses for what
// it holds is an ALARM and skipped: one record must not stop the copy of all that follow.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "broker/audit/journal.hpp"

namespace hydra::broker::audit {

class Shipper {
 public:
  /// `on_refused`: called for each record PostgreSQL refuses for its content (logged as an
  /// ALARM and skipped, so that the records after it are shipped; it stays in the journal).
  Shipper(std::string database_url, Journal& journal, std::string dir, std::function<void()> on_refused = {});
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
  void shipRecords(Session& session, std::uint64_t first_seq, const std::vector<std::string>& lines);
  void refused(const std::string& what, std::uint64_t seq, const std::string& why);
  bool stopping();
  bool finishing();

  const std::string url_;
  Journal& journal_;
  const std::string dir_;
  const std::function<void()> on_refused_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool finishing_ = false;  // stop once caught up
  bool finished_ = false;
  std::thread thread_;
};

}  // namespace hydra::broker::audit
