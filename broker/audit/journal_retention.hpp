#pragma once
// HYDRA_AUDIT_RETAIN_SEGMENTS: the journal folder keeps its newest segments only, once the
// older ones are in PostgreSQL. A segment goes only when (1) more than `keep` segments are
// there, (2) PostgreSQL holds every record of it (the shipper said so), and (3) a checkpoint of
// exactly the records before the next segment is in checkpoints.jsonl: its frontier is where
// `hydracore-audit verify --journal` then starts, vouched for by its signed root. The checkpoint
// lines of smaller trees go with the segments (the file is replaced whole, atomically).

#include <cstdint>
#include <string>

namespace hydra::broker::audit {

/// Removes what the rule above allows, oldest first; returns how many segments it removed
/// (0: nothing changed, checkpoints.jsonl included). Throws std::runtime_error on an I/O error
/// (what was removed stays removed: each step leaves a folder that verifies).
std::size_t removeOldSegments(const std::string& dir, std::size_t keep, std::uint64_t shipped);

}  // namespace hydra::broker::audit
