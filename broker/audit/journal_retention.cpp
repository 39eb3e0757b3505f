#include "broker/audit/journal_retention.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <stdexcept>
#include <vector>

#include "shared/audit/journal_files.hpp"
#include "shared/audit/note.hpp"

namespace hydra::broker::audit {
namespace {

using namespace hydra::audit;

std::runtime_error failure(const std::string& what) { return std::runtime_error(what + ": " + std::strerror(errno)); }

void syncFolder(const std::string& dir) {
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const bool ok = fd >= 0 && fsync(fd) == 0;
  if (fd >= 0) close(fd);
  if (!ok) throw failure("cannot sync " + dir);
}

// Replaces the checkpoints file by its lines of trees of at least `first_seq` records, written
// and synced aside first, so that a crash leaves the old file or the new one.
void dropCheckpointsBefore(const std::string& dir, std::uint64_t first_seq) {
  std::string kept;
  LineReader lines(checkpointsPath(dir));
  while (const auto line = lines.next()) {
    const auto entry = parseCheckpointLine(*line);
    if (!entry || unverifiedCheckpoint(entry->note).size >= first_seq) kept += *line + "\n";
  }
  const auto aside = checkpointsPath(dir) + ".new";
  const int fd = open(aside.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) throw failure("cannot create " + aside);
  const bool ok = write(fd, kept.data(), kept.size()) == static_cast<ssize_t>(kept.size()) && fdatasync(fd) == 0;
  close(fd);
  if (!ok || rename(aside.c_str(), checkpointsPath(dir).c_str()) != 0) throw failure("cannot replace " + checkpointsPath(dir));
  syncFolder(dir);
}

}  // namespace

std::size_t removeOldSegments(const std::string& dir, std::size_t keep, std::uint64_t shipped) {
  const auto segments = listSegments(dir);
  std::set<std::uint64_t> checkpointed;  // tree sizes with a checkpoint line
  {
    LineReader lines(checkpointsPath(dir));
    while (const auto line = lines.next()) {
      if (const auto entry = parseCheckpointLine(*line)) checkpointed.insert(unverifiedCheckpoint(entry->note).size);
    }
  }
  // The first segment to keep: the oldest one the rule lets verification start at.
  std::size_t first_kept = 0;
  for (std::size_t i = 1; i + keep <= segments.size(); ++i) {
    const auto start = segments[i].first_seq;
    if (start > shipped) break;
    if (checkpointed.count(start)) first_kept = i;
  }
  if (first_kept == 0) return 0;
  for (std::size_t i = 0; i < first_kept; ++i) {
    if (unlink(segments[i].path.c_str()) != 0) throw failure("cannot remove " + segments[i].path);
  }
  syncFolder(dir);
  dropCheckpointsBefore(dir, segments[first_kept].first_seq);
  return first_kept;
}

}  // namespace hydra::broker::audit
