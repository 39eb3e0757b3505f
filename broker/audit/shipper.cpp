#include "broker/audit/shipper.hpp"

#include <optional>
#include <vector>

#include <pqxx/pqxx>

#include "shared/audit/journal_files.hpp"
#include "shared/audit/note.hpp"
#include "broker/audit/shipment.hpp"
#include "broker/db/statements.hpp"
#include "shared/log/log.hpp"

namespace hydra::broker::audit {
// The shared format: records, the tree, notes, the journal folder (shared/audit).
using namespace hydra::audit;

namespace {

constexpr std::size_t kBatch = 1000;
// At most one statement per this while the journal holds less than a batch: PostgreSQL's cost
// is mostly per statement, and under moderate load the journal makes a few records durable at
// a time (bench/broker.sh at 8 connections: 92 us of PostgreSQL CPU per record with a
// statement per handful). A record that follows a quiet spell is shipped at once.
constexpr auto kLinger = std::chrono::milliseconds(100);
constexpr auto kIdleWait = std::chrono::milliseconds(500);
constexpr auto kRetryAfterFailure = std::chrono::seconds(1);
constexpr const char* kUniqueViolation = "23505";

// PostgreSQL refuses the record for what it holds (SQLSTATE class 22, a data exception, or 23,
// a violated constraint): it would refuse it again on every retry, and the records after it
// would never be shipped. Anything else (the connection, a timeout, privileges) is retried.
// (A unique_violation is not one: the records are there already, see Shipment::send.)
bool refusedForItsContent(const pqxx::sql_error& e) {
  const auto& state = e.sqlstate();
  return state.rfind("22", 0) == 0 || (state.rfind("23", 0) == 0 && state != kUniqueViolation);
}

}  // namespace

// One database connection and where shipping stands on it.
struct Shipper::Session {
  pqxx::connection connection;
  std::unique_ptr<JournalReader> records;      // at the first record PostgreSQL does not hold
  std::unique_ptr<LineReader> checkpoints;
  std::int64_t shipped_checkpoint = -1;        // largest tree size PostgreSQL holds
  std::optional<CheckpointEntry> waiting;      // read, but covers records not shipped yet
  LastUses last_uses;                          // told to PostgreSQL on this connection
  Partitions partitions;                       // of audit_events, made on this connection
  std::optional<std::chrono::steady_clock::time_point> last_sent;

  Session(const std::string& url, const std::string& origin, const std::string& dir) : connection(url) {
    pqxx::nontransaction setup(connection);
    // A generic plan for the last uses: PostgreSQL would otherwise plan each batch's few hundred
    // connections with the array's real size and, while connections is small, read the whole
    // table instead of a row per connection (bench/broker.sh, 10,000 connections).
    setup.exec("SET TIME ZONE 'UTC'; SET statement_timeout = '30s'; SET plan_cache_mode = force_generic_plan;"
               " SET application_name = 'hydracore-broker audit shipper'");
    db::prepareStatements(connection);
    const auto position = setup.exec_prepared1("audit_shipped_position", origin);
    records = std::make_unique<JournalReader>(dir, position[0].as<std::uint64_t>());
    shipped_checkpoint = position[1].as<std::int64_t>();
    checkpoints = std::make_unique<LineReader>(checkpointsPath(dir));
  }
};

Shipper::Shipper(std::string database_url, Journal& journal, std::string dir, std::function<void()> on_refused)
    : url_(std::move(database_url)),
      journal_(journal),
      dir_(std::move(dir)),
      on_refused_(std::move(on_refused)),
      thread_([this] { run(); }) {}

Shipper::~Shipper() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Shipper::finish(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  finishing_ = true;
  wake_.notify_all();
  if (!wake_.wait_for(lock, timeout, [&] { return finished_; })) {
    log::app().warning("audit shipper: stopped before PostgreSQL had every record; the next start ships the rest");
  }
}

bool Shipper::finishing() {
  std::lock_guard<std::mutex> lock(mutex_);
  return finishing_ || stopping_;
}

bool Shipper::stopping() {
  std::lock_guard<std::mutex> lock(mutex_);
  return stopping_;
}

void Shipper::run() {
  std::unique_ptr<Session> session;
  bool failing = false;
  while (!stopping()) {
    try {
      if (!session) session = std::make_unique<Session>(url_, journal_.origin(), dir_);
      if (failing) log::app().warning("audit shipper: shipping to PostgreSQL again");
      failing = false;
      const auto progress = shipSome(*session);
      if (progress == Progress::kCaughtUp) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (finishing_) break;
      }
      if (progress != Progress::kMoreWaiting) journal_.waitBeyond(session->records->nextSeq(), kIdleWait);
    } catch (const std::exception& e) {
      // Typically the database is away (or, rarely, another session shipped these records
      // meanwhile): start over from what it holds once it is back.
      if (!failing) log::app().warning(std::string("audit shipper: cannot ship: ") + e.what() + "; retrying");
      failing = true;
      session.reset();
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait_for(lock, kRetryAfterFailure, [&] { return stopping_; });
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  finished_ = true;
  wake_.notify_all();
}

void Shipper::refused(const std::string& what, std::uint64_t seq, const std::string& why) {
  log::app().error("ALARM: audit shipper: " + what + " record " + std::to_string(seq) + " of journal " +
                   journal_.origin() + " (" + why + "); it stays in the journal only, shipping goes on with the next");
  if (on_refused_) on_refused_();
}

void Shipper::shipRecords(Session& s, std::uint64_t first_seq, const std::vector<std::string>& lines) {
  Shipment batch(journal_.origin());
  std::vector<bool> readable(lines.size(), true);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    // Not a journal record at all (PostgreSQL used to refuse it as such): the ALARM, as for a
    // record PostgreSQL refuses.
    if (!batch.add(lines[i], s.last_uses)) {
      readable[i] = false;
      refused("cannot read", first_seq + i, "not a journal record");
    }
  }
  if (batch.size() == 0) return;
  s.last_sent = std::chrono::steady_clock::now();
  s.partitions.make(s.connection, batch.weeks());
  try {
    batch.send(s.connection);
    s.last_uses.told(batch.uses());
    return;
  } catch (const pqxx::sql_error& e) {
    if (!refusedForItsContent(e)) throw;
  }
  // One at a time, to ship all but the records refused. The ALARM names the record and the
  // SQLSTATE only: PostgreSQL's message may quote what it refused.
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (!readable[i]) continue;
    Shipment one(journal_.origin());
    one.add(lines[i], s.last_uses);
    try {
      one.send(s.connection);
      s.last_uses.told(one.uses());
    } catch (const pqxx::sql_error& e) {
      if (!refusedForItsContent(e)) throw;
      refused("PostgreSQL refused", first_seq + i, "SQLSTATE " + e.sqlstate());
    }
  }
}

Shipper::Progress Shipper::shipSome(Session& s) {
  // Only records already on disk: a record the journal could still lose must not reach
  // PostgreSQL first.
  const auto first_seq = s.records->nextSeq();
  if (s.last_sent && !finishing()) {
    const auto since = std::chrono::steady_clock::now() - *s.last_sent;
    if (since < kLinger) {
      journal_.waitBeyond(first_seq + kBatch - 1,
                          std::chrono::duration_cast<std::chrono::milliseconds>(kLinger - since));
    }
  }
  const auto durable = journal_.durableSize();
  std::vector<std::string> lines;
  while (s.records->nextSeq() < durable && lines.size() < kBatch) {
    auto line = s.records->next();
    if (!line) break;
    lines.push_back(std::move(*line));
  }
  if (!lines.empty()) shipRecords(s, first_seq, lines);
  // Then every checkpoint whose records are all there.
  const auto shipped = s.records->nextSeq();
  while (true) {
    if (!s.waiting) {
      auto line = s.checkpoints->next();
      if (!line && s.checkpoints->replaced()) {
        // Journal retention replaced the file: read it again; what is shipped is skipped below.
        s.checkpoints = std::make_unique<LineReader>(checkpointsPath(dir_));
        line = s.checkpoints->next();
      }
      if (!line) break;
      s.waiting = parseCheckpointLine(*line);
      if (!s.waiting) throw std::runtime_error("unreadable line in " + checkpointsPath(dir_));
    }
    const auto checkpoint = unverifiedCheckpoint(s.waiting->note);
    if (checkpoint.size > shipped) {
      journal_.shipped(shipped);
      return Progress::kWaitingForTheJournal;
    }
    if (static_cast<std::int64_t>(checkpoint.size) > s.shipped_checkpoint) {
      pqxx::nontransaction(s.connection)
          .exec_prepared("audit_checkpoint_ship", journal_.origin(), checkpoint.size, s.waiting->note);
      s.shipped_checkpoint = static_cast<std::int64_t>(checkpoint.size);
    }
    s.waiting.reset();
  }
  // Records and the checkpoints over them are in PostgreSQL: their segments may go.
  journal_.shipped(shipped);
  if (lines.size() == kBatch) return Progress::kMoreWaiting;
  return s.records->nextSeq() < journal_.durableSize() ? Progress::kWaitingForTheJournal : Progress::kCaughtUp;
}

}  // namespace hydra::broker::audit
