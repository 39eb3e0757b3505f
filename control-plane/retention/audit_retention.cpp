#include "control-plane/retention/audit_retention.hpp"

#include <sstream>
#include <stdexcept>
#include <vector>

#include <botan/base64.h>
#include <pqxx/pqxx>

#include "control-plane/db/statements.hpp"
#include "shared/audit/journal_files.hpp"
#include "shared/audit/merkle.hpp"
#include "shared/audit/note.hpp"
#include "shared/audit/stored_record.hpp"
#include "shared/db/array.hpp"

namespace hydra::cp::retention {
namespace {

using audit::CompactTree;
using audit::Hash;

// A check that failed: nothing is dropped, and what() says why.
struct Refused : std::runtime_error {
  using std::runtime_error::runtime_error;
};

constexpr long kPage = 10000;

// One journal's records in the weeks to drop.
struct Dropped {
  std::string origin;
  std::uint64_t first = 0, last = 0, count = 0;
};

// What a retention record says of one journal.
struct Retained {
  std::string origin;
  std::uint64_t tree_size = 0;     // records before it are dropped
  std::vector<Hash> frontier;      // the tree over them
  std::uint64_t covering_size = 0; // the checkpoint they were checked against
};

std::string journalText(const std::string& origin) { return "journal " + origin; }

// The tree where the journal's last retention left it (empty if none).
CompactTree treeAfterLastRetention(pqxx::work& tx, const std::string& origin) {
  const auto previous = tx.exec_prepared("retention_last", origin);
  if (previous.empty()) return CompactTree();
  std::vector<Hash> frontier;
  std::istringstream hashes(previous[0][1].c_str());
  for (std::string hash; hashes >> hash;) frontier.push_back(audit::decodeFrontierHash(hash));
  return CompactTree(previous[0][0].as<std::uint64_t>(), std::move(frontier));
}

// The checks before a journal's records go, and the retention record they give.
Retained retain(pqxx::work& tx, const Dropped& dropped, const std::string& before) {
  const auto journal = journalText(dropped.origin);
  auto tree = treeAfterLastRetention(tx, dropped.origin);
  const auto start = tree.size();
  if (dropped.first != start || dropped.count != dropped.last - start + 1) {
    throw Refused(journal + ": the records to drop are not its records " + std::to_string(start) + ".." +
                  std::to_string(dropped.last) + " each once (" + std::to_string(dropped.count) + " rows from " +
                  std::to_string(dropped.first) + "): run hydracore-audit verify --database");
  }
  if (tx.exec_prepared1("retention_kept_before", dropped.origin, dropped.last, before)[0].as<long>() > 0) {
    throw Refused(journal + ": a later week holds one of records " + std::to_string(start) + ".." +
                  std::to_string(dropped.last) + " (its clock went back): dropping would leave a gap");
  }
  const auto covering = tx.exec_prepared("retention_covering_checkpoint", dropped.origin, dropped.last);
  if (covering.empty()) {
    throw Refused(journal + ": no signed checkpoint covers its record " + std::to_string(dropped.last) +
                  " yet (brokers sign one every HYDRA_AUDIT_CHECKPOINT_SECONDS): try again later");
  }
  const auto checkpoint = audit::unverifiedCheckpoint(covering[0][0].c_str());
  if (checkpoint.origin != dropped.origin || checkpoint.size <= dropped.last) {
    throw Refused(journal + ": its checkpoint of " + covering[0][1].c_str() + " records says otherwise in its text");
  }
  // The records from where the last retention left the tree up to the checkpoint: the dropped
  // ones and those after them, which must give the checkpoint's root.
  Retained retained{dropped.origin, dropped.last + 1, {}, checkpoint.size};
  audit::Hasher hasher;
  while (tree.size() < checkpoint.size) {
    const auto rows = tx.exec_prepared("retention_records", dropped.origin, tree.size(), checkpoint.size, kPage);
    if (rows.empty()) throw Refused(journal + ": record " + std::to_string(tree.size()) + " is missing");
    for (const auto& row : rows) {
      const auto stored = audit::readStoredRecord(row);
      if (stored.seq != tree.size()) {
        throw Refused(journal + ": record " + std::to_string(tree.size()) +
                      (stored.seq > tree.size() ? " is missing" : " appears more than once"));
      }
      const auto line = audit::hashedLine(stored, dropped.origin);
      if (!line) throw Refused(journal + ": record " + std::to_string(stored.seq) + " cannot be read back");
      tree.append(hasher.leaf(*line));
      if (tree.size() == retained.tree_size) retained.frontier = tree.frontier();
    }
  }
  if (tree.root() != checkpoint.root) {
    throw Refused(journal + ": its records do not match its checkpoint of " + std::to_string(checkpoint.size) +
                  " records: run hydracore-audit verify --database");
  }
  return retained;
}

}  // namespace

int dropOldAuditWeeks(const std::string& database_url, const RetentionOptions& options, std::ostream& out) {
  pqxx::connection connection(database_url);
  db::prepareRetentionStatements(connection);
  pqxx::work tx(connection);
  // Dropping waits for the statements reading audit_events to end (an export may take long):
  // give up rather than hold every query of the trail behind it.
  tx.exec("SET LOCAL lock_timeout = '10s'");
  const auto weeks = tx.exec_prepared("retention_weeks", options.older_than_days);
  if (weeks.empty()) {
    out << "nothing to drop: no week of audit_events ended more than " << options.older_than_days << " days ago\n";
    return 0;
  }
  // Weeks are contiguous and never overlap: the rows before the last one's end are theirs.
  const std::string before = weeks[weeks.size() - 1][1].c_str();
  hydra::db::ArrayParam partitions;
  std::string names;
  for (const auto& week : weeks) {
    partitions.add(week[0].c_str());
    names += (names.empty() ? "" : ", ") + tx.quote_name(week[0].c_str());
  }
  // No record reaches them while they are checked (a broker shipping an old backlog waits).
  tx.exec("LOCK TABLE " + names + " IN SHARE MODE");

  std::vector<Retained> retained;
  try {
    for (const auto& row : tx.exec_prepared("retention_journals", before)) {
      retained.push_back(retain(tx, {row[0].c_str(), row[1].as<std::uint64_t>(), row[2].as<std::uint64_t>(),
                                     row[3].as<std::uint64_t>()},
                                before));
    }
  } catch (const Refused& e) {
    out << "refused, nothing dropped: " << e.what() << "\n";
    return 1;
  }
  const auto unjournaled = tx.exec_prepared1("retention_unjournaled", before)[0].as<long>();

  for (const auto& r : retained) {
    out << journalText(r.origin) << ": records up to " << r.tree_size - 1 << " dropped, covered by its checkpoint of "
        << r.covering_size << " records; verification starts at tree size " << r.tree_size << "\n";
  }
  if (unjournaled > 0) out << unjournaled << " rows without a journal (from before it) dropped with them\n";
  out << (options.dry_run ? "would drop " : "dropping ") << names << " (everything before " << before << ")\n";
  if (options.dry_run) return 0;

  for (const auto& r : retained) {
    hydra::db::ArrayParam frontier;
    for (const auto& hash : r.frontier) frontier.add(Botan::base64_encode(hash.data(), hash.size()));
    tx.exec_prepared("retention_record", r.origin, r.tree_size, frontier.text(), r.covering_size, before,
                     partitions.text());
  }
  for (const auto& week : weeks) tx.exec("DROP TABLE " + tx.quote_name(week[0].c_str()));
  tx.commit();
  out << "dropped " << weeks.size() << " week(s)\n";
  return 0;
}

}  // namespace hydra::cp::retention
