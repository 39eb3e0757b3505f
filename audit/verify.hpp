#pragma once
// What a security team runs, with the verifier key and read access only (no decryption key,
// no write access): `hydracore-audit verify|proof`. Each returns the process exit code
// (0: verified) after printing what it checked, or the first bad record or checkpoint.

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "audit/check.hpp"

namespace hydra::audit {

/// A journal folder: sequence continuity, every checkpoint's signature, every checkpoint's root
/// against the records it covers (so later checkpoints are consistent with earlier ones).
int verifyJournal(const std::string& dir, const VerifierKeyFiles& verifier_key_files, std::ostream& out);

/// What the security team knows independently of the database, which could otherwise drop a
/// journal, fabricate one, or hold rows outside every journal.
struct DatabaseExpectations {
  std::map<std::string, std::uint64_t> journals;    // origin -> tree size its latest checkpoint must reach
  std::optional<std::int64_t> max_uncovered_seconds;  // records older than this must be under a checkpoint
  bool allow_unjournaled = false;                   // rows with journal_id NULL (from before the journal)
  std::vector<std::string> checkpoint_files;         // saved checkpoints.jsonl lines: their journals' records
                                                     // must be there and match them
};

/// PostgreSQL's copy (audit_events, audit_checkpoints): the same, per journal (each needs a
/// checkpoint), every row's columns against its journal line, the expected journals present, and
/// rows outside every journal counted.
int verifyDatabase(const std::string& database_url, const VerifierKeyFiles& verifier_key_files,
                   const DatabaseExpectations& expected, std::ostream& out);

/// Prints an RFC 6962 inclusion proof of record `seq` in the latest checkpoint, as JSON.
int proveInclusion(const std::string& dir, std::uint64_t seq, std::ostream& out);

/// Checks a proof printed by proveInclusion, offline.
int verifyProof(const std::string& proof_file, const VerifierKeyFiles& verifier_key_files, std::ostream& out);

}  // namespace hydra::audit
