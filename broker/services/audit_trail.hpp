#pragma once
// The broker's durable record of every decision. A request's record must be committed
// before its credentials are released, so record() blocks until PostgreSQL has committed it.
// Commits are shared: one writer thread takes every record queued while the previous
// commit ran and commits them together (group commit), with the connections' last use.

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <pqxx/pqxx>

namespace hydra::broker {

struct AuditRecord {
  std::optional<std::string> customer_id, instance_id, proxy_key_id, connection_id, provider, name, capability;
  std::string outcome;  // allowed | denied | error
  std::string reason, request_id, peer;
  /// Set for allowed fetches: the connection whose last_used_at the commit updates.
  bool marks_use = false;
};

class AuditTrail {
 public:
  explicit AuditTrail(std::string database_url);
  ~AuditTrail();
  AuditTrail(const AuditTrail&) = delete;
  AuditTrail& operator=(const AuditTrail&) = delete;

  /// Returns once the record is committed. Throws http::ApiError 503 if it cannot be
  /// (database down, permission denied, a full queue, or no commit within a few seconds);
  /// the caller must then release nothing.
  void record(const AuditRecord& record);

 private:
  struct Pending;
  using Batch = std::vector<std::shared_ptr<Pending>>;
  void run();
  /// Commits the batch and settles every record's promise.
  void commitBatch(const Batch& batch);
  void write(const Batch& batch);

  const std::string url_;
  std::mutex mutex_;
  std::condition_variable queued_;
  std::deque<std::shared_ptr<Pending>> queue_;
  bool stopping_ = false;
  std::unique_ptr<pqxx::connection> connection_;  // the writer thread's own
  std::thread writer_;
};

}  // namespace hydra::broker
