#include "audit/verify.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <botan/base64.h>
#include <pqxx/pqxx>
#include <rapidjson/document.h>

#include "audit/check.hpp"
#include "shared/audit/journal_files.hpp"
#include "shared/audit/merkle.hpp"
#include "shared/audit/note.hpp"
#include "shared/audit/record.hpp"
#include "shared/audit/stored_record.hpp"
#include "shared/json/writer.hpp"

namespace hydra::audit {
namespace {

std::string b64(const Hash& hash) { return Botan::base64_encode(hash.data(), hash.size()); }

// The checkpoints of one journal, signatures checked, in the order they were written.
class CheckpointChecker {
 public:
  CheckpointChecker(std::string origin, const std::vector<VerifierKey>& keys)
      : origin_(std::move(origin)), keys_(keys) {}

  void add(const std::string& note) {
    const auto number = checkpoints_.size() + 1;
    Checkpoint checkpoint;
    try {
      // Each journal signs under its own origin; the verifier key's public key vouches for all.
      checkpoint = parseCheckpointText(openedNote(note, origin_, keys_));
    } catch (const std::exception& e) {
      throw Failed("checkpoint #" + std::to_string(number) + ": " + e.what());
    }
    if (checkpoint.origin != origin_) throw Failed("checkpoint #" + std::to_string(number) + " is of another journal");
    if (!checkpoints_.empty() && checkpoint.size < checkpoints_.back().size) {
      throw Failed("checkpoint #" + std::to_string(number) + " (" + std::to_string(checkpoint.size) +
                   " records) comes after one of " + std::to_string(checkpoints_.back().size));
    }
    checkpoints_.push_back(checkpoint);
  }

  /// Verification starts at `tree` (where retention left the journal, schema/0022): checkpoints
  /// of fewer records cover records no longer there; one of exactly its size must match.
  void startAt(CompactTree& tree) {
    while (next_ < checkpoints_.size() && checkpoints_[next_].size < tree.size()) ++next_;
    covered(tree);
  }

  /// Called after each record is added to `tree`: the checkpoints of that size must have its root.
  void covered(CompactTree& tree) {
    while (next_ < checkpoints_.size() && checkpoints_[next_].size == tree.size()) {
      if (checkpoints_[next_].root != tree.root()) {
        const auto from = next_ == 0 ? 0 : checkpoints_[next_ - 1].size;
        throw Failed("checkpoint #" + std::to_string(next_ + 1) + " (" + std::to_string(tree.size()) +
                     " records) does not match the records: one of records " + std::to_string(from) + ".." +
                     std::to_string(tree.size() - 1) + " was changed, or the checkpoint was");
      }
      ++next_;
    }
  }

  /// After the last record.
  void finish(std::uint64_t records) const {
    if (next_ < checkpoints_.size()) {
      throw Failed("checkpoint #" + std::to_string(next_ + 1) + " covers " + std::to_string(checkpoints_[next_].size) +
                   " records, but there are only " + std::to_string(records) + ": records were removed");
    }
  }

  std::size_t count() const { return checkpoints_.size(); }
  std::uint64_t latest() const { return checkpoints_.empty() ? 0 : checkpoints_.back().size; }

 private:
  std::string origin_;
  const std::vector<VerifierKey>& keys_;
  std::vector<Checkpoint> checkpoints_;
  std::size_t next_ = 0;
};

JournalEntry checkedEntry(const std::string& line, std::uint64_t expected_seq, const std::string& origin) {
  const auto entry = readJournalLine(line);
  if (!entry) throw Failed("record " + std::to_string(expected_seq) + ": not a journal record");
  if (entry->seq != expected_seq) {
    throw Failed("record " + std::to_string(expected_seq) + ": found record " + std::to_string(entry->seq) +
                 " in its place (records missing or out of order)");
  }
  if (entry->journal != origin) throw Failed("record " + std::to_string(expected_seq) + " belongs to another journal");
  return *entry;
}

bool sameFields(const AuditRecord& a, const AuditRecord& b) {
  return a.customer_id == b.customer_id && a.instance_id == b.instance_id && a.proxy_key_id == b.proxy_key_id &&
         a.connection_id == b.connection_id && a.provider == b.provider && a.name == b.name &&
         a.capability == b.capability && a.outcome == b.outcome && a.reason == b.reason &&
         a.request_id == b.request_id && a.peer == b.peer && a.method == b.method && a.path == b.path &&
         a.upstream_status == b.upstream_status && a.request_bytes == b.request_bytes &&
         a.response_bytes == b.response_bytes && a.duration_us == b.duration_us;
}

// Checkpoints the security team kept (lines of a journal's checkpoints.jsonl), signatures
// checked, by journal and size.
std::map<std::string, std::map<std::uint64_t, Checkpoint>> savedCheckpoints(const std::vector<std::string>& files,
                                                                            const std::vector<VerifierKey>& keys) {
  std::map<std::string, std::map<std::uint64_t, Checkpoint>> saved;
  for (const auto& file : files) {
    std::istringstream lines(readFile(file));
    std::size_t number = 0;
    for (std::string line; std::getline(lines, line);) {
      ++number;
      if (line.empty()) continue;
      const auto where = file + " line " + std::to_string(number);
      try {
        const auto entry = parseCheckpointLine(line);
        if (!entry) throw Failed("not a checkpoint line");
        const auto origin = unverifiedCheckpoint(entry->note).origin;
        const auto checkpoint = parseCheckpointText(openedNote(entry->note, origin, keys));
        saved[checkpoint.origin][checkpoint.size] = checkpoint;
      } catch (const std::exception& e) {
        throw Failed("saved checkpoint, " + where + ": " + e.what());
      }
    }
  }
  return saved;
}

// Where verification of a journal starts: at 0, or where its latest retention record says the
// dropped records end, with the tree's frontier there. The frontier is trusted only because
// the records after it must then give the signed checkpoints' roots (startAt, covered).
CompactTree treeAfterRetention(pqxx::transaction_base& tx, const std::string& origin, std::ostream& out) {
  const auto retention = tx.exec_params(
      "SELECT tree_size, array_to_string(frontier, ' '), retained_at::text, retained_by FROM audit_retention"
      " WHERE journal_id = $1 ORDER BY tree_size DESC LIMIT 1",
      origin);
  if (retention.empty()) return CompactTree();
  const auto size = retention[0][0].as<std::uint64_t>();
  std::vector<Hash> frontier;
  std::istringstream hashes(retention[0][1].c_str());
  try {
    for (std::string hash; hashes >> hash;) frontier.push_back(decodeFrontierHash(hash));
    CompactTree tree(size, std::move(frontier));
    out << "journal " << origin << ": starts at tree size " << size << " (the records before it were dropped by "
        << retention[0][3].c_str() << " at " << retention[0][2].c_str() << ")\n";
    return tree;
  } catch (const std::exception& e) {
    throw Failed("journal " + origin + ": its retention record at tree size " + std::to_string(size) +
                 " is malformed: " + e.what());
  }
}

// Where a journal folder starts: record 0, or the first segment left by
// HYDRA_AUDIT_RETAIN_SEGMENTS, from the frontier of the checkpoint of exactly the records before
// it (the broker signs one at every segment's start). The frontier is trusted only because the
// tree resumed from it must give that checkpoint's signed root (CheckpointChecker::startAt).
struct JournalStart {
  std::uint64_t size = 0;
  std::vector<Hash> frontier;
};

JournalStart journalStart(const std::string& dir, std::ostream& out) {
  const auto segments = listSegments(dir);
  if (segments.empty() || segments.front().first_seq == 0) return {};
  const auto first = segments.front().first_seq;
  LineReader lines(checkpointsPath(dir));
  while (const auto line = lines.next()) {
    const auto entry = parseCheckpointLine(*line);
    if (!entry || unverifiedCheckpoint(entry->note).size != first) continue;
    JournalStart start{first, {}};
    for (const auto& hash : entry->frontier) start.frontier.push_back(decodeFrontierHash(hash));
    out << "the journal starts at tree size " << first << " (its earlier segments were removed)\n";
    return start;
  }
  throw Failed("the journal's first segment starts at record " + std::to_string(first) +
               ", and no checkpoint of exactly " + std::to_string(first) + " records says where the tree stood");
}

std::string summary(const std::string& origin, std::uint64_t records, const CheckpointChecker& checkpoints) {
  return "journal " + origin + ": " + std::to_string(records) + " records in sequence, " +
         std::to_string(checkpoints.count()) + " checkpoints verified, the latest covering " +
         std::to_string(checkpoints.latest()) + " records (" + std::to_string(records - checkpoints.latest()) +
         " not yet covered by a checkpoint)";
}

}  // namespace

int verifyJournal(const std::string& dir, const VerifierKeyFiles& verifier_key_files, std::ostream& out) {
  return runCheck(out, [&] {
    const auto key = readVerifierKeys(verifier_key_files);
    const auto origin = readOrigin(dir);
    const auto start = journalStart(dir, out);
    CheckpointChecker checkpoints(origin, key);
    LineReader checkpoint_lines(checkpointsPath(dir));
    while (const auto line = checkpoint_lines.next()) {
      const auto entry = parseCheckpointLine(*line);
      if (!entry) throw Failed("checkpoint #" + std::to_string(checkpoints.count() + 1) + ": unreadable line");
      checkpoints.add(entry->note);
    }
    CompactTree tree(start.size, start.frontier);
    checkpoints.startAt(tree);
    Hasher hasher;
    JournalReader records(dir, start.size);
    while (const auto line = records.next()) {
      checkedEntry(*line, tree.size(), origin);
      tree.append(hasher.leaf(*line));
      checkpoints.covered(tree);
    }
    checkpoints.finish(tree.size());
    out << "ok: " << summary(origin, tree.size(), checkpoints) << "\n";
  });
}

int verifyDatabase(const std::string& database_url, const VerifierKeyFiles& verifier_key_files,
                   const DatabaseExpectations& expected, std::ostream& out) {
  return runCheck(out, [&] {
    const auto key = readVerifierKeys(verifier_key_files);
    // Records older than this must be under a checkpoint (the verifier's clock, not the database's).
    std::optional<std::int64_t> uncovered_before;
    if (expected.max_uncovered_seconds) {
      const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count();
      uncovered_before = now - *expected.max_uncovered_seconds * 1000000;
    }
    const auto saved = savedCheckpoints(expected.checkpoint_files, key);
    pqxx::connection connection(database_url);
    // One snapshot for every check.
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(connection);
    // Rows outside every journal cannot be checked, yet customers see them in audit-events.
    const auto unjournaled = tx.exec(
        "SELECT count(*), min(occurred_at)::text, max(occurred_at)::text FROM audit_events WHERE journal_id IS NULL")[0];
    const auto unjournaled_count = unjournaled[0].as<std::int64_t>();
    if (unjournaled_count > 0) {
      out << (expected.allow_unjournaled ? "note: " : "") << unjournaled_count
          << " rows have no journal and cannot be verified (occurred " << unjournaled[1].c_str() << " .. "
          << unjournaled[2].c_str() << ")\n";
    }
    const auto journals = tx.exec(
        "SELECT journal_id FROM audit_checkpoints UNION SELECT DISTINCT journal_id FROM audit_events"
        " WHERE journal_id IS NOT NULL ORDER BY 1");
    if (journals.empty()) throw Failed("the database holds no journal records");
    std::map<std::string, std::uint64_t> found;  // origin -> records under its latest checkpoint
    for (const auto& journal : journals) {
      const std::string origin = journal[0].c_str();
      CheckpointChecker checkpoints(origin, key);
      for (const auto& row : tx.exec_params("SELECT note FROM audit_checkpoints WHERE journal_id = $1 ORDER BY tree_size",
                                            origin)) {
        checkpoints.add(row[0].c_str());
      }
      // Rows anyone with write access could have made up: no signing key vouches for them.
      if (checkpoints.count() == 0) throw Failed("journal " + origin + " has no checkpoint: none of its records is signed");
      static const std::map<std::uint64_t, Checkpoint> kNone;
      const auto& saved_here = saved.count(origin) ? saved.at(origin) : kNone;
      CompactTree tree = treeAfterRetention(tx, origin, out);
      checkpoints.startAt(tree);
      const auto start = tree.size();
      Hasher hasher;
      // In pages by sequence number; every row's columns must say what its line says (or
      // rebuild it, for a row shipped without it).
      // (seq, id) pages: a row inserted with a duplicate sequence number is seen too.
      for (std::int64_t after_seq = -1, after_id = 0;;) {
        const auto rows = tx.exec_params(
            std::string("SELECT ") + kStoredRecordColumns +
                " FROM audit_events WHERE journal_id = $1 AND (seq, id) > ($2, $3) ORDER BY seq, id LIMIT 10000",
            origin, after_seq, after_id);
        if (rows.empty()) break;
        for (const auto& row : rows) {
          const auto stored = readStoredRecord(row);
          const auto seq = stored.seq;
          if (seq < start) {
            throw Failed("journal " + origin + ": record " + std::to_string(seq) +
                         " is still there, before tree size " + std::to_string(start) + " where retention left it");
          }
          if (seq != tree.size()) {
            throw Failed("journal " + origin + ": record " + std::to_string(tree.size()) +
                         (seq > tree.size() ? " is missing" : " appears more than once"));
          }
          const auto line = hashedLine(stored, origin);
          if (!line) {
            throw Failed("journal " + origin + ": record " + std::to_string(seq) +
                         " has neither its line nor the columns to rebuild it");
          }
          const auto entry = checkedEntry(*line, seq, origin);
          const bool same = stored.complete && sameFields(stored.record, entry.record) &&
                            stored.micros == parseMicros(entry.time);
          if (!same) throw Failed("journal " + origin + ": record " + std::to_string(seq) + ": its columns differ from its line");
          if (uncovered_before && seq >= checkpoints.latest() && *stored.micros < *uncovered_before) {
            throw Failed("journal " + origin + ": record " + std::to_string(seq) + " (" + entry.time +
                         ") is older than " + std::to_string(*expected.max_uncovered_seconds) +
                         " seconds and not covered by any checkpoint");
          }
          tree.append(hasher.leaf(*line));
          checkpoints.covered(tree);
          const auto kept = saved_here.find(tree.size());
          if (kept != saved_here.end() && kept->second.root != tree.root()) {
            throw Failed("journal " + origin + ": its first " + std::to_string(tree.size()) +
                         " records differ from the saved checkpoint of that size");
          }
          after_seq = static_cast<std::int64_t>(seq);
          after_id = stored.id;
        }
      }
      checkpoints.finish(tree.size());
      if (!saved_here.empty() && saved_here.rbegin()->first > tree.size()) {
        throw Failed("journal " + origin + " holds " + std::to_string(tree.size()) +
                     " records, fewer than the saved checkpoint of " + std::to_string(saved_here.rbegin()->first) +
                     ": records were removed");
      }
      found[origin] = checkpoints.latest();
      out << "ok: " << summary(origin, tree.size(), checkpoints) << "\n";
    }
    for (const auto& [origin, kept] : saved) {
      if (found.count(origin) == 0) throw Failed("the saved checkpoints' journal " + origin + " is not in the database");
    }
    for (const auto& [origin, min_size] : expected.journals) {
      const auto it = found.find(origin);
      if (it == found.end()) throw Failed("expected journal " + origin + " is not in the database");
      if (it->second < min_size) {
        throw Failed("journal " + origin + ": its latest checkpoint covers " + std::to_string(it->second) +
                     " records, expected at least " + std::to_string(min_size));
      }
    }
    if (unjournaled_count > 0 && !expected.allow_unjournaled) {
      throw Failed(std::to_string(unjournaled_count) +
                   " rows of audit_events have no journal (--allow-unjournaled if they predate the journal)");
    }
  });
}

int proveInclusion(const std::string& dir, std::uint64_t seq, std::ostream& out) {
  return runCheck(out, [&] {
    const auto origin = readOrigin(dir);
    std::optional<CheckpointEntry> latest;
    LineReader checkpoint_lines(checkpointsPath(dir));
    while (const auto line = checkpoint_lines.next()) latest = parseCheckpointLine(*line);
    if (!latest) throw Failed("the journal has no checkpoint yet");
    const auto checkpoint = unverifiedCheckpoint(latest->note);
    if (seq >= checkpoint.size) {
      throw Failed("record " + std::to_string(seq) + " is not covered by the latest checkpoint (" +
                   std::to_string(checkpoint.size) + " records) yet");
    }
    std::ostringstream ignored;
    const auto start = journalStart(dir, ignored);
    if (seq < start.size) {
      throw Failed("record " + std::to_string(seq) + " was removed with its segment (the journal starts at record " +
                   std::to_string(start.size) + ")");
    }
    std::vector<Hash> leaves;  // from start.size on
    std::string record;
    Hasher hasher;
    JournalReader records(dir, start.size);
    while (start.size + leaves.size() < checkpoint.size) {
      const auto line = records.next();
      if (!line) throw Failed("the journal has fewer records than its latest checkpoint");
      if (start.size + leaves.size() == seq) record = *line;
      leaves.push_back(hasher.leaf(*line));
    }
    json::Writer w;
    w.beginObject().key("journal").string(origin).key("seq").integer(static_cast<std::int64_t>(seq));
    w.key("record").string(record).key("tree_size").integer(static_cast<std::int64_t>(checkpoint.size));
    w.key("inclusion_path").beginArray();
    for (const auto& hash : inclusionProof(start.frontier, start.size, leaves, seq, checkpoint.size)) w.string(b64(hash));
    w.endArray().key("checkpoint").string(latest->note).endObject();
    out << w.str() << "\n";
  });
}

int verifyProof(const std::string& proof_file, const VerifierKeyFiles& verifier_key_files, std::ostream& out) {
  return runCheck(out, [&] {
    const auto key = readVerifierKeys(verifier_key_files);
    const auto text = readFile(proof_file);
    rapidjson::Document proof;
    proof.Parse(text.c_str(), text.size());
    const auto string = [&](const char* name) {
      const auto it = proof.IsObject() ? proof.FindMember(name) : proof.MemberEnd();
      if (it == proof.MemberEnd() || !it->value.IsString()) throw Failed("proof: no string \"" + std::string(name) + "\"");
      return std::string(it->value.GetString(), it->value.GetStringLength());
    };
    const auto number = [&](const char* name) {
      const auto it = proof.IsObject() ? proof.FindMember(name) : proof.MemberEnd();
      if (it == proof.MemberEnd() || !it->value.IsUint64()) throw Failed("proof: no number \"" + std::string(name) + "\"");
      return it->value.GetUint64();
    };
    const auto origin = string("journal");
    const auto seq = number("seq");
    const auto record = string("record");
    CheckpointChecker checkpoints(origin, key);
    checkpoints.add(string("checkpoint"));
    const auto checkpoint = unverifiedCheckpoint(string("checkpoint"));  // its signature was just checked
    if (checkpoint.size != number("tree_size")) throw Failed("proof: tree_size differs from the checkpoint's");
    checkedEntry(record, seq, origin);
    std::vector<Hash> path;
    const auto it = proof.FindMember("inclusion_path");
    if (it == proof.MemberEnd() || !it->value.IsArray()) throw Failed("proof: no inclusion_path");
    for (const auto& node : it->value.GetArray()) {
      if (!node.IsString()) throw Failed("proof: inclusion_path holds a non-string");
      const auto bytes = Botan::base64_decode(std::string(node.GetString(), node.GetStringLength()));
      if (bytes.size() != 32) throw Failed("proof: an inclusion_path hash is not 32 bytes");
      Hash hash;
      std::copy(bytes.begin(), bytes.end(), hash.begin());
      path.push_back(hash);
    }
    if (!verifyInclusion(Hasher().leaf(record), seq, checkpoint.size, path, checkpoint.root)) {
      throw Failed("record " + std::to_string(seq) + " is not in the checkpointed tree of " +
                   std::to_string(checkpoint.size) + " records");
    }
    out << "ok: record " << seq << " of journal " << origin << " is in its signed checkpoint of " << checkpoint.size
        << " records\n";
  });
}

}  // namespace hydra::audit
