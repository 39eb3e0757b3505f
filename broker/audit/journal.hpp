#pragma once
// The broker's audit journal: every decision is appended to a local log that only this process
// writes, and its answer is released only once the record is on disk (fdatasync). Records
// appended while a sync runs share the next one (group commit), on one writer thread that owns
// the files and the Merkle tree over them, and signs checkpoints of that tree.
// See shared/audit/journal_files.hpp for the folder's layout, DESIGN.md for the guarantees.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <botan/ed25519.h>

#include "shared/audit/journal_files.hpp"
#include "shared/audit/merkle.hpp"
#include "shared/audit/record.hpp"

namespace hydra::broker::audit {

struct JournalOptions {
  std::string dir;                                  // HYDRA_AUDIT_DIR
  std::uint64_t segment_bytes = 64 * 1024 * 1024;   // HYDRA_AUDIT_SEGMENT_BYTES: roll over past this
  std::chrono::seconds checkpoint_interval{10};     // HYDRA_AUDIT_CHECKPOINT_SECONDS
  std::size_t max_queued = 100000;                  // appends waiting for the writer, at most
  std::size_t retain_segments = 0;                  // HYDRA_AUDIT_RETAIN_SEGMENTS: 0 keeps every segment
  /// Told of every batch the writer commits (on its thread, after the sync; keep it cheap):
  /// how many records, whether they are durable, and how long the write and sync took.
  std::function<void(std::size_t records, bool durable, std::chrono::nanoseconds sync)> on_commit;
};

class Journal {
 public:
  /// Called once per record: durable = true after the sync that covers it, false if it could
  /// not be written (then nothing may be released). Runs on the writer thread: keep it short.
  using Done = std::function<void(bool durable)>;

  /// Opens (creating if need be) and locks the folder, cuts a torn last line, checks the tree
  /// against the last checkpoint, and starts the writer. Throws std::runtime_error saying what is
  /// wrong (folder not private, in use by another process, records missing or corrupt).
  Journal(JournalOptions options, std::unique_ptr<Botan::Ed25519_PrivateKey> signing_key);
  /// Writes what is queued and a last checkpoint.
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  /// Queues the record, stamped with the current time; `done` is called exactly once.
  void append(hydra::audit::AuditRecord record, Done done);
  /// Appends and waits; throws http::ApiError 503 if the record could not be made durable.
  void appendAndWait(hydra::audit::AuditRecord record);

  const std::string& origin() const { return origin_; }
  /// Records 0 .. durableSize()-1 are on disk.
  std::uint64_t durableSize() const;
  /// Waits until durableSize() > `size` or `timeout` passed; returns durableSize().
  std::uint64_t waitBeyond(std::uint64_t size, std::chrono::milliseconds timeout);
  /// Whether the last write and sync succeeded.
  bool writable() const;
  /// Writes what is queued and signs a checkpoint of everything now, and returns after that.
  void checkpointNow();
  /// PostgreSQL holds records 0 .. `size`-1 and the checkpoints over them (told by the shipper):
  /// segments of those records may go, under retain_segments.
  void shipped(std::uint64_t size) { shipped_.store(size); }

 private:
  struct Pending {
    hydra::audit::AuditRecord record;
    std::int64_t micros;
    Done done;
  };
  using Clock = std::chrono::steady_clock;

  void recover();
  void run();
  void commit(std::deque<Pending>& batch);
  bool repair();
  bool rollOver();
  bool markSynced();
  void checkpoint();
  void retainSegments();

  const JournalOptions options_;
  const std::unique_ptr<Botan::Ed25519_PrivateKey> signing_key_;
  std::string origin_;
  int lock_fd_ = -1;

  // The writer thread's own state.
  int segment_fd_ = -1;
  std::string segment_path_;
  std::uint64_t segment_first_seq_ = 0;
  std::uint64_t segment_durable_bytes_ = 0;  // everything past this is cut before writing again
  // The synced file (journal_files.hpp) and what it holds: nothing is written past it until it
  // says where the synced bytes end, so that after a power loss, start-up knows which garbled
  // bytes were never synced (those it cuts) and which were (those it refuses to cut).
  int synced_fd_ = -1;
  std::optional<hydra::audit::SyncedMark> marked_;
  bool needs_repair_ = false;
  int checkpoints_fd_ = -1;
  std::uint64_t checkpointed_size_ = 0;
  Clock::time_point last_checkpoint_ = Clock::now();
  hydra::audit::CompactTree tree_;
  hydra::audit::Hasher hasher_;

  mutable std::mutex mutex_;
  std::condition_variable queued_;
  std::condition_variable synced_;
  std::deque<Pending> queue_;
  std::uint64_t durable_size_ = 0;
  bool writable_ = true;
  bool stopping_ = false;
  std::uint64_t checkpoints_requested_ = 0, checkpoints_done_ = 0;
  std::atomic<std::uint64_t> shipped_{0};
  std::thread writer_;
};

}  // namespace hydra::broker::audit
