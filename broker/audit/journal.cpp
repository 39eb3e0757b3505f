#include "broker/audit/journal.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <future>
#include <stdexcept>

#include <botan/base64.h>

#include "broker/audit/journal_retention.hpp"
#include "shared/audit/journal_files.hpp"
#include "shared/audit/note.hpp"
#include "shared/crypto/random.hpp"
#include "shared/http/errors.hpp"
#include "shared/log/log.hpp"

namespace hydra::broker::audit {
// The shared format: records, the tree, notes, the journal folder (shared/audit).
using namespace hydra::audit;

namespace {

constexpr auto kAppendWaitTimeout = std::chrono::seconds(10);

std::runtime_error failure(const std::string& what) { return std::runtime_error(what + ": " + std::strerror(errno)); }

bool writeAll(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const auto n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// A new file's name is durable only once its folder is synced.
bool syncFolder(const std::string& dir) {
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = fsync(fd) == 0;
  close(fd);
  return ok;
}

void ensurePrivateFolder(const std::string& dir) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) throw failure("cannot create " + dir);
  struct stat info {};
  if (lstat(dir.c_str(), &info) != 0) throw failure("cannot inspect " + dir);
  if (!S_ISDIR(info.st_mode) || info.st_uid != geteuid() || (info.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(info.st_mode & 07777));
    throw std::runtime_error(dir + " must be a folder (not a link) owned by this user with mode 0700 (found " +
                             (S_ISDIR(info.st_mode) ? std::string("mode ") + mode : std::string("no folder")) +
                             (info.st_uid != geteuid() ? ", another owner" : "") + ")");
  }
}

std::string newOrigin() {
  auto id = crypto::randomBytes(16);
  id[6] = static_cast<std::uint8_t>((id[6] & 0x0F) | 0x40);  // UUID version 4
  id[8] = static_cast<std::uint8_t>((id[8] & 0x3F) | 0x80);  // variant 1
  const auto hex = crypto::hex(id.data(), id.size());
  return "hydracore-broker/" + hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

// The origin is made once per folder and never changes: it names this journal for good.
std::string readOrCreateOrigin(const std::string& dir) {
  const auto path = dir + "/origin";
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd >= 0) {
    const bool ok = writeAll(fd, newOrigin() + "\n") && fsync(fd) == 0;
    close(fd);
    if (!ok || !syncFolder(dir)) throw failure("cannot write " + path);
  } else if (errno != EEXIST) {
    throw failure("cannot create " + path);
  }
  return readOrigin(dir);
}

int openForAppend(const std::string& path, int extra_flags) {
  return open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW | extra_flags, 0600);
}

std::uint64_t fileSize(int fd) {
  struct stat info {};
  if (fstat(fd, &info) != 0) throw failure("cannot inspect a journal file");
  return static_cast<std::uint64_t>(info.st_size);
}

std::uint64_t fileSize(const std::string& path) {
  struct stat info {};
  if (lstat(path.c_str(), &info) != 0) throw failure("cannot inspect " + path);
  return static_cast<std::uint64_t>(info.st_size);
}

}  // namespace

Journal::Journal(JournalOptions options, std::unique_ptr<Botan::Ed25519_PrivateKey> signing_key)
    : options_(std::move(options)), signing_key_(std::move(signing_key)) {
  ensurePrivateFolder(options_.dir);
  lock_fd_ = open((options_.dir + "/lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (lock_fd_ < 0) throw failure("cannot open " + options_.dir + "/lock");
  if (flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    close(lock_fd_);
    throw std::runtime_error(options_.dir + " is in use by another process (one broker per journal folder)");
  }
  try {
    origin_ = readOrCreateOrigin(options_.dir);
    recover();
  } catch (...) {
    close(segment_fd_);
    close(synced_fd_);
    close(checkpoints_fd_);
    close(lock_fd_);
    throw;
  }
  writer_ = std::thread([this] { run(); });
}

Journal::~Journal() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  queued_.notify_one();
  writer_.join();
  close(segment_fd_);
  close(synced_fd_);
  close(checkpoints_fd_);
  close(lock_fd_);  // releases the lock
}

void Journal::recover() {
  // The last checkpoint, and the tree as it was then (a torn last line is cut).
  const auto checkpoints = checkpointsPath(options_.dir);
  checkpoints_fd_ = openForAppend(checkpoints, O_CREAT);
  if (checkpoints_fd_ < 0) throw failure("cannot open " + checkpoints);
  std::optional<CheckpointEntry> last;
  {
    LineReader lines(checkpoints);
    std::uint64_t good_bytes = 0;
    std::optional<std::string> line;
    while ((line = lines.next())) {
      auto entry = parseCheckpointLine(*line);
      if (!entry) break;
      last = std::move(entry);
      good_bytes = lines.offset();
    }
    // A bad line is a torn write only if nothing follows it.
    if (line && lines.next()) throw std::runtime_error(checkpoints + " has a corrupt line before its end");
    if (line || !lines.pending().empty()) {
      log::app().warning("audit journal: cutting a torn last line of " + checkpoints);
      if (ftruncate(checkpoints_fd_, static_cast<off_t>(good_bytes)) != 0 || fdatasync(checkpoints_fd_) != 0) {
        throw failure("cannot cut " + checkpoints);
      }
    }
  }
  if (last) {
    // The broker's own record of what it signed last: the tree must resume exactly there.
    const auto checkpoint = unverifiedCheckpoint(last->note);
    if (checkpoint.origin != origin_) throw std::runtime_error(checkpoints + " holds checkpoints of another journal");
    std::vector<Hash> frontier;
    for (const auto& hash : last->frontier) frontier.push_back(decodeFrontierHash(hash));
    tree_ = CompactTree(checkpoint.size, std::move(frontier));
    if (tree_.root() != checkpoint.root) {
      throw std::runtime_error(checkpoints + ": the last checkpoint's tree does not match its root");
    }
    checkpointed_size_ = checkpoint.size;
  }

  // Where the synced bytes ended, if this journal says (written by brokers since issue 18).
  synced_fd_ = open(syncedPath(options_.dir).c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (synced_fd_ < 0) throw failure("cannot open " + syncedPath(options_.dir));
  std::optional<SyncedMark> synced;
  {
    char text[64];
    const auto n = pread(synced_fd_, text, sizeof text, 0);
    if (n < 0) throw failure("cannot read " + syncedPath(options_.dir));
    synced = parseSyncedMark(std::string(text, static_cast<std::size_t>(n)));
    if (!synced && n > 0) {
      log::app().warning("audit journal: " + syncedPath(options_.dir) + " is unreadable; ignoring it");
    }
  }

  const auto segments = listSegments(options_.dir);
  if (segments.empty()) {
    if (checkpointed_size_ > 0) throw std::runtime_error(options_.dir + ": the checkpointed records are missing");
    segment_path_ = segmentPath(options_.dir, 0);
    segment_fd_ = openForAppend(segment_path_, O_CREAT | O_EXCL);
    if (segment_fd_ < 0 || !syncFolder(options_.dir)) throw failure("cannot create " + segment_path_);
    if (!markSynced()) throw failure("cannot write " + syncedPath(options_.dir));
    return;
  }
  const auto& last_segment = segments.back();
  // The records after the checkpoint: each must be the next one; a bad tail (a crash
  // mid-write) is cut, anything bad before the end is refused.
  JournalReader reader(options_.dir, checkpointed_size_);
  if (synced && (synced->first_seq > last_segment.first_seq ||
                 (synced->first_seq == last_segment.first_seq && fileSize(last_segment.path) < synced->bytes))) {
    throw std::runtime_error(last_segment.path + ": records that were synced are missing (" + syncedPath(options_.dir) +
                             " says segment " + std::to_string(synced->first_seq) + " held " +
                             std::to_string(synced->bytes) + " bytes)");
  }
  std::optional<std::pair<Segment, std::uint64_t>> bad;  // segment, offset of the first bad line
  const auto current = [&] {
    return *std::find_if(segments.begin(), segments.end(),
                         [&](const Segment& s) { return s.path == reader.segmentPath(); });
  };
  while (const auto line = reader.next()) {
    const auto entry = readJournalLine(*line);
    if (!entry || entry->seq != tree_.size() || entry->journal != origin_) {
      bad = {current(), reader.offset() - line->size() - 1};
      break;
    }
    tree_.append(hasher_.leaf(*line));
  }
  if (!bad && !reader.pending().empty()) bad = {current(), reader.offset()};
  if (bad) {
    const auto& [segment, offset] = *bad;
    const auto where = segment.path + ": corrupt record at byte " + std::to_string(offset);
    if (segment.path != last_segment.path) throw std::runtime_error(where);
    if (synced) {
      // Bytes past the mark belong to the one batch whose sync was under way (the next is
      // written only once the mark says this one is synced): a power loss may have left them
      // zeroed, garbled or in any order, and none of them was acknowledged.
      const bool never_synced = segment.first_seq > synced->first_seq || offset >= synced->bytes;
      if (!never_synced) {
        throw std::runtime_error(where + ", within what was synced (" + std::to_string(synced->bytes) +
                                 " bytes); refusing to cut synced records");
      }
    } else {
      // A journal without the mark: a bad line is a torn write only if nothing valid follows.
      while (const auto line = reader.next()) {
        if (readJournalLine(*line)) {
          throw std::runtime_error(where + " followed by valid ones; refusing to cut synced records");
        }
      }
    }
    log::app().warning("audit journal: cutting a torn last record at byte " + std::to_string(offset) + " of " +
                       segment.path + " (" + std::to_string(fileSize(last_segment.path) - offset) + " bytes cut)");
  }
  segment_path_ = last_segment.path;
  segment_first_seq_ = last_segment.first_seq;
  segment_fd_ = openForAppend(segment_path_, 0);
  if (segment_fd_ < 0) throw failure("cannot open " + segment_path_);
  if (bad && ftruncate(segment_fd_, static_cast<off_t>(bad->second)) != 0) throw failure("cannot cut " + segment_path_);
  // What a killed broker wrote but never synced is in the tree now: make it durable first.
  if (fdatasync(segment_fd_) != 0) throw failure("cannot sync " + segment_path_);
  segment_durable_bytes_ = fileSize(segment_fd_);
  durable_size_ = tree_.size();
  marked_ = synced;
  if (!markSynced()) throw failure("cannot write " + syncedPath(options_.dir));
}

void Journal::append(AuditRecord record, Done done) {
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // A writer that cannot keep up must not grow the queue without bound.
    if (!stopping_ && queue_.size() < options_.max_queued) {
      queue_.push_back({std::move(record), micros, std::move(done)});
      queued_.notify_one();
      return;
    }
  }
  done(false);
}

void Journal::appendAndWait(AuditRecord record) {
  auto durable = std::make_shared<std::promise<bool>>();
  auto result = durable->get_future();
  append(std::move(record), [durable](bool ok) { durable->set_value(ok); });
  if (result.wait_for(kAppendWaitTimeout) != std::future_status::ready || !result.get()) {
    throw http::ApiError(503, "Audit journal unavailable, retry shortly", 1);
  }
}

std::uint64_t Journal::durableSize() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return durable_size_;
}

std::uint64_t Journal::waitBeyond(std::uint64_t size, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  synced_.wait_for(lock, timeout, [&] { return durable_size_ > size || stopping_; });
  return durable_size_;
}

bool Journal::writable() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return writable_;
}

void Journal::checkpointNow() {
  std::unique_lock<std::mutex> lock(mutex_);
  const auto ticket = ++checkpoints_requested_;
  queued_.notify_one();
  synced_.wait(lock, [&] { return checkpoints_done_ >= ticket || stopping_; });
}

void Journal::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    const auto woken = [&] { return stopping_ || !queue_.empty() || checkpoints_requested_ > checkpoints_done_; };
    if (tree_.size() > checkpointed_size_) {
      queued_.wait_until(lock, last_checkpoint_ + options_.checkpoint_interval, woken);
    } else {
      queued_.wait(lock, woken);
    }
    std::deque<Pending> batch;
    batch.swap(queue_);
    const bool stop = stopping_ && batch.empty();
    const auto requested = checkpoints_requested_;
    lock.unlock();
    if (!batch.empty()) {
      commit(batch);
      // Now, while new records queue, rather than before the next batch's write.
      markSynced();
    }
    const bool asked = requested > checkpoints_done_;
    if (stop || asked || Clock::now() >= last_checkpoint_ + options_.checkpoint_interval) checkpoint();
    lock.lock();
    checkpoints_done_ = requested;
    synced_.notify_all();
    if (stop) return;
  }
}

void Journal::commit(std::deque<Pending>& batch) {
  bool ok = !needs_repair_ || repair();
  if (ok && segment_durable_bytes_ >= options_.segment_bytes) {
    // A checkpoint of exactly the records before the new segment: verification can then start
    // at any segment once the ones before it are gone (retainSegments).
    if (tree_.size() > checkpointed_size_) checkpoint();
    ok = rollOver();
    if (ok) retainSegments();
  }
  if (ok) ok = markSynced();  // usually done already, after the last batch
  std::string text;
  std::vector<Hash> leaves;
  Clock::duration sync_time{};
  if (ok) {
    auto seq = tree_.size();
    for (const auto& pending : batch) {
      const auto line = journalLine(seq++, origin_, formatMicros(pending.micros), pending.record);
      leaves.push_back(hasher_.leaf(line));
      text += line;
      text += '\n';
    }
    const auto started = Clock::now();
    ok = writeAll(segment_fd_, text) && fdatasync(segment_fd_) == 0;
    sync_time = Clock::now() - started;
    // After a failed write or sync the file's tail is unknown: cut it back before the next write.
    if (!ok) needs_repair_ = true;
  }
  const int error = errno;
  if (ok) {
    for (const auto& leaf : leaves) tree_.append(leaf);
    segment_durable_bytes_ += text.size();
  }
  bool was_writable;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    was_writable = writable_;
    writable_ = ok;
    durable_size_ = tree_.size();
  }
  synced_.notify_all();
  if (was_writable && !ok) {
    log::app().error("audit journal: cannot write " + segment_path_ + ": " + std::strerror(error) +
                     "; fetches answer 503 until it can");
  }
  if (!was_writable && ok) log::app().warning("audit journal: writable again");
  if (options_.on_commit) options_.on_commit(batch.size(), ok, sync_time);
  for (auto& pending : batch) pending.done(ok);
}

bool Journal::repair() {
  close(segment_fd_);
  segment_fd_ = openForAppend(segment_path_, 0);
  if (segment_fd_ < 0 || ftruncate(segment_fd_, static_cast<off_t>(segment_durable_bytes_)) != 0 ||
      fdatasync(segment_fd_) != 0) {
    return false;
  }
  needs_repair_ = false;
  return true;
}

bool Journal::rollOver() {
  // Named by the next record's sequence number: anything already in such a file was never
  // acknowledged (a roll-over that failed half way), so it is emptied.
  const auto path = segmentPath(options_.dir, tree_.size());
  const int fd = openForAppend(path, O_CREAT);
  if (fd < 0) return false;
  if (ftruncate(fd, 0) != 0 || fdatasync(fd) != 0 || !syncFolder(options_.dir)) {
    close(fd);
    return false;
  }
  close(segment_fd_);
  segment_fd_ = fd;
  segment_path_ = path;
  segment_first_seq_ = tree_.size();
  segment_durable_bytes_ = 0;
  return true;
}

bool Journal::markSynced() {
  const SyncedMark mark{segment_first_seq_, segment_durable_bytes_};
  if (marked_ == mark) return true;
  const auto text = syncedMarkText(mark);
  // One small write at the start of the file: it replaces the last whole, the length never changes.
  if (pwrite(synced_fd_, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()) ||
      fdatasync(synced_fd_) != 0) {
    marked_.reset();  // unknown now: written again before the next batch
    return false;
  }
  marked_ = mark;
  return true;
}

void Journal::retainSegments() {
  if (options_.retain_segments == 0) return;
  try {
    const auto removed = removeOldSegments(options_.dir, options_.retain_segments, shipped_.load());
    if (removed == 0) return;
    // The checkpoints file follows: its lines of smaller trees cover records no longer here.
    close(checkpoints_fd_);
    checkpoints_fd_ = openForAppend(checkpointsPath(options_.dir), 0);
    if (checkpoints_fd_ < 0) throw failure("cannot open " + checkpointsPath(options_.dir));
    log::app().information("audit journal: removed " + std::to_string(removed) + " segment(s) shipped to PostgreSQL (" +
                           "HYDRA_AUDIT_RETAIN_SEGMENTS=" + std::to_string(options_.retain_segments) + ")");
  } catch (const std::exception& e) {
    log::app().error(std::string("audit journal: retention: ") + e.what());
  }
}

void Journal::checkpoint() {
  last_checkpoint_ = Clock::now();
  if (tree_.size() == checkpointed_size_) return;
  CheckpointEntry entry;
  entry.note = signNote(checkpointText({origin_, tree_.size(), tree_.root()}), origin_, *signing_key_);
  for (const auto& hash : tree_.frontier()) entry.frontier.push_back(Botan::base64_encode(hash.data(), hash.size()));
  const auto size_before = fileSize(checkpoints_fd_);
  if (!writeAll(checkpoints_fd_, checkpointLine(entry) + "\n") || fdatasync(checkpoints_fd_) != 0) {
    log::app().error(std::string("audit journal: cannot write a checkpoint: ") + std::strerror(errno));
    // A torn line would stop the next start-up: cut it (if this fails too, start-up cuts it).
    if (ftruncate(checkpoints_fd_, static_cast<off_t>(size_before)) != 0) {
      log::app().error("audit journal: cannot cut a failed checkpoint write");
    }
    return;
  }
  checkpointed_size_ = tree_.size();
}

}  // namespace hydra::broker::audit
