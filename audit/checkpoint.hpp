#pragma once
// `hydracore-audit checkpoint`: the latest signed checkpoint of a journal, the C2SP signed note
// exactly as the broker wrote it (origin, tree size, root, signature), for the security team to
// keep where the broker's operators cannot reach it. A checkpoint kept elsewhere shows later
// whether the journal still holds what it signed: its tree size and root are those of the
// records it covered, and later checkpoints must be consistent with them.
// Each returns the process exit code; on 0 only the notes are on `out`, so that it can be
// redirected to a file as it is. Every failure goes to `err`, and nothing then to `out`.

#include <optional>
#include <ostream>
#include <string>

#include "audit/check.hpp"

namespace hydra::audit {

/// The last checkpoint in the journal folder `dir`'s checkpoints.jsonl. With verifier keys it
/// is printed only if one of them verifies its signature under the journal's origin; without,
/// only its form is checked. 1 if the journal has no checkpoint yet.
int printJournalCheckpoint(const std::string& dir, const VerifierKeyFiles& verifier_key_files, std::ostream& out,
                           std::ostream& err);

/// The same from PostgreSQL's copy (audit_checkpoints, read access is enough): the checkpoint of
/// the largest tree of each journal, by origin, separated by an empty line; or only `origin`'s.
/// 1 if there is none (or none of `origin`), or if any of them fails the check.
int printDatabaseCheckpoints(const std::string& database_url, const std::optional<std::string>& origin,
                             const VerifierKeyFiles& verifier_key_files, std::ostream& out, std::ostream& err);

}  // namespace hydra::audit
