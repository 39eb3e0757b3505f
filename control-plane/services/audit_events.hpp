#pragma once
// The broker's audit trail as customers read it: pages newest first, and the export, oldest
// first in batches. Read-only (the trail is append-only, written by the brokers).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "control-plane/model/resources.hpp"
#include "shared/db/pool.hpp"

namespace hydra::cp {

/// Which events: every filter given must hold.
struct AuditEventFilter {
  std::optional<std::string> connection_id, instance_id, outcome;
  /// Microseconds since the epoch, UTC, on occurred_at: since inclusive, until exclusive.
  std::optional<std::int64_t> since, until;
};

class AuditEventService {
 public:
  explicit AuditEventService(hydra::db::Pool& pool) : pool_(pool) {}

  /// Newest first (by id): at most `limit`, older than event id `before` when given.
  std::vector<model::AuditEvent> list(const std::string& customer_id, const AuditEventFilter& filter,
                                      std::optional<long long> before, long long limit);
  /// Oldest first (by id): at most `limit` with an id above `after` (0: from the first).
  std::vector<model::AuditEvent> exportBatch(const std::string& customer_id, const AuditEventFilter& filter,
                                             long long after, long long limit);

 private:
  std::vector<model::AuditEvent> read(bool oldest_first, const std::string& customer_id,
                                      const AuditEventFilter& filter, long long cursor, long long limit);

  hydra::db::Pool& pool_;
};

}  // namespace hydra::cp
