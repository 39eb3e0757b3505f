#include "audit/checkpoint.hpp"

#include <sys/stat.h>

#include <vector>

#include <pqxx/pqxx>

#include "shared/audit/journal_files.hpp"
#include "shared/audit/note.hpp"

namespace hydra::audit {
namespace {

// The checkpoint of each journal with the largest tree (the latest: a journal's trees only
// grow, and its checkpoints are shipped in that order); $1 NULL for every journal.
constexpr const char* kLatestCheckpoints =
    "SELECT DISTINCT ON (journal_id) journal_id, note FROM audit_checkpoints"
    " WHERE $1::text IS NULL OR journal_id = $1 ORDER BY journal_id, tree_size DESC";

std::vector<VerifierKey> keysIfAny(const VerifierKeyFiles& files) {
  return files.empty() ? std::vector<VerifierKey>{} : readVerifierKeys(files);
}

// `note` must be a checkpoint of `origin`: signed under it by one of `keys` if there are any,
// else of the checkpoint's form only (the caller did not ask for the signature to be checked).
void checkNote(const std::string& note, const std::string& origin, const std::vector<VerifierKey>& keys) {
  Checkpoint checkpoint;
  try {
    checkpoint = keys.empty() ? unverifiedCheckpoint(note) : parseCheckpointText(openedNote(note, origin, keys));
  } catch (const std::exception& e) {
    throw Failed("journal " + origin + ": its latest checkpoint: " + e.what());
  }
  if (checkpoint.origin != origin) {
    throw Failed("journal " + origin + ": its latest checkpoint is of another journal (" + checkpoint.origin + ")");
  }
}

bool exists(const std::string& path) {
  struct stat info {};
  return stat(path.c_str(), &info) == 0;
}

}  // namespace

int printJournalCheckpoint(const std::string& dir, const VerifierKeyFiles& verifier_key_files, std::ostream& out,
                           std::ostream& err) {
  std::string note;
  const auto code = runCheck(err, [&] {
    const auto keys = keysIfAny(verifier_key_files);
    const auto origin = readOrigin(dir);
    const auto path = checkpointsPath(dir);
    std::optional<CheckpointEntry> latest;
    // The broker makes the file when it first starts; a journal copied without it has none.
    if (exists(path)) {
      LineReader lines(path);
      for (std::size_t number = 1; const auto line = lines.next(); ++number) {
        latest = parseCheckpointLine(*line);
        if (!latest) throw Failed(path + " line " + std::to_string(number) + ": not a checkpoint line");
      }
    }
    if (!latest) throw Failed("journal " + origin + " has no checkpoint yet");
    checkNote(latest->note, origin, keys);
    note = latest->note;
  });
  out << note;
  return code;
}

int printDatabaseCheckpoints(const std::string& database_url, const std::optional<std::string>& origin,
                             const VerifierKeyFiles& verifier_key_files, std::ostream& out, std::ostream& err) {
  std::string notes;
  const auto code = runCheck(err, [&] {
    const auto keys = keysIfAny(verifier_key_files);
    pqxx::connection connection(database_url);
    connection.prepare("audit_checkpoints_latest", kLatestCheckpoints);
    pqxx::read_transaction tx(connection);
    const auto rows = tx.exec_prepared("audit_checkpoints_latest", origin);
    if (rows.empty()) {
      throw Failed(origin ? "journal " + *origin + " has no checkpoint in the database"
                          : std::string("the database holds no checkpoint"));
    }
    // Every note is checked before any is printed: all of them, or a failure and none.
    for (const auto& row : rows) {
      const std::string note = row[1].c_str();
      checkNote(note, row[0].c_str(), keys);
      notes += (notes.empty() ? "" : "\n") + note;
    }
  });
  out << notes;
  return code;
}

}  // namespace hydra::audit
