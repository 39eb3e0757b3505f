// A line of checkpoints.jsonl (shared/audit/journal_files.cpp) and what the broker's recovery
// (broker/audit/journal.cpp) does with the last one: the checkpoint its note carries, read
// without its signature, and the Merkle tree resumed from the frontier. A damaged or forged file
// may make recovery refuse (std::runtime_error, std::invalid_argument), never crash.
#include <stdexcept>

#include "shared/audit/journal_files.hpp"
#include "shared/audit/merkle.hpp"
#include "shared/audit/note.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace audit = hydra::audit;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto line = hydra::fuzz::text(data, size);
  const auto entry = audit::parseCheckpointLine(line);
  if (!entry) return 0;
  // What checkpointLine writes reads back as the same entry.
  const auto again = audit::parseCheckpointLine(audit::checkpointLine(*entry));
  FUZZ_CHECK(again && again->note == entry->note && again->frontier == entry->frontier);

  try {
    const auto checkpoint = audit::unverifiedCheckpoint(entry->note);
    std::vector<audit::Hash> frontier;
    for (const auto& hash : entry->frontier) frontier.push_back(audit::decodeFrontierHash(hash));
    audit::CompactTree tree(checkpoint.size, std::move(frontier));
    (void)tree.root();
    tree.append(audit::Hash{});
    (void)tree.root();
  } catch (const std::runtime_error&) {
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
