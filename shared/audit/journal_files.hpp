#pragma once
// The journal folder, as the broker writes it and anyone with read access can check it:
//   origin                      the journal's id ("hydracore-broker/<uuid>"), made once
//   lock                        held (flock) by the one broker writing here
//   segment-<first seq>.jsonl   the records, one JSON line each, seq 0, 1, 2, ... without gaps
//   checkpoints.jsonl           {"note": <signed checkpoint>, "frontier": [...]} per line
//   synced                      "<first seq of a segment> <bytes>": that segment's first bytes
//                               are synced (written after the fdatasync, synced itself before
//                               anything is written past it)
// Records are never rewritten; a line counts only once its newline is there.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "shared/audit/merkle.hpp"

namespace hydra::audit {

struct Segment {
  std::uint64_t first_seq = 0;
  std::string path;
};

/// The segments, by first sequence number.
std::vector<Segment> listSegments(const std::string& dir);
std::string segmentPath(const std::string& dir, std::uint64_t first_seq);
std::string checkpointsPath(const std::string& dir);

/// Where the synced part of the journal ends: the segment starting at `first_seq`, `bytes` into it.
struct SyncedMark {
  std::uint64_t first_seq = 0;
  std::uint64_t bytes = 0;
  bool operator==(const SyncedMark& other) const { return first_seq == other.first_seq && bytes == other.bytes; }
};
std::string syncedPath(const std::string& dir);
/// The text of the synced file: always the same length, so each write replaces the last.
std::string syncedMarkText(const SyncedMark& mark);
/// nullopt when `text` is not one (a journal older than the file, or a damaged one).
std::optional<SyncedMark> parseSyncedMark(const std::string& text);

/// The origin written in `dir`; throws std::runtime_error if there is none or it is malformed.
std::string readOrigin(const std::string& dir);

/// One line of checkpoints.jsonl.
struct CheckpointEntry {
  std::string note;                   // the signed note
  std::vector<std::string> frontier;  // base64 roots of the tree's perfect subtrees, largest first
};
std::string checkpointLine(const CheckpointEntry& entry);
std::optional<CheckpointEntry> parseCheckpointLine(const std::string& line);
/// One hash of a checkpoint line's frontier. Throws std::runtime_error unless it is base64 of
/// 32 bytes.
Hash decodeFrontierHash(const std::string& text);

/// Reads the complete lines of a file that may be growing (or end in a torn line), from a byte
/// offset on.
class LineReader {
 public:
  explicit LineReader(std::string path, std::uint64_t offset = 0);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  /// The next complete line without its newline, or nullopt if there is none (yet).
  std::optional<std::string> next();
  /// Byte offset of the first byte not yet returned.
  std::uint64_t offset() const { return offset_; }
  /// Bytes after offset() that are not (yet) a complete line.
  const std::string& pending() const { return buffer_; }
  /// Whether the path now names another file (checkpoints.jsonl replaced by retention): this
  /// reader then sees nothing new.
  bool replaced() const;

 private:
  bool fill();

  std::string path_;
  int fd_ = -1;
  std::uint64_t inode_ = 0;
  std::uint64_t offset_ = 0;      // of buffer_'s first byte
  std::uint64_t read_offset_ = 0;  // of the next byte to read
  std::string buffer_;
};

/// The records of a journal folder in sequence order from `from_seq`, across segments, following
/// a journal that is still being written.
class JournalReader {
 public:
  /// Throws std::runtime_error if no segment holds `from_seq` (or it is past their end).
  JournalReader(std::string dir, std::uint64_t from_seq);

  /// The line of record nextSeq(), or nullopt if it is not (yet) complete.
  std::optional<std::string> next();
  std::uint64_t nextSeq() const { return seq_; }
  /// Where the next line starts: the segment and byte offset.
  const std::string& segmentPath() const { return segments_[index_].path; }
  std::uint64_t offset() const { return lines_->offset(); }
  const std::string& pending() const { return lines_->pending(); }

 private:
  std::string dir_;
  std::vector<Segment> segments_;
  std::size_t index_ = 0;
  std::unique_ptr<LineReader> lines_;
  std::uint64_t seq_ = 0;
};

}  // namespace hydra::audit
