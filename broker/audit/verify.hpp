#pragma once
// What a security team runs, with the verifier key and read access only (no decryption key,
// no write access): `hydracore-broker audit verify|proof`. Each returns the process exit code
// (0: verified) after printing what it checked, or the first bad record or checkpoint.

#include <cstdint>
#include <ostream>
#include <string>

namespace hydra::broker::audit {

/// A journal folder: sequence continuity, every checkpoint's signature, every checkpoint's root
/// against the records it covers (so later checkpoints are consistent with earlier ones).
int verifyJournal(const std::string& dir, const std::string& verifier_key_file, std::ostream& out);

/// PostgreSQL's copy (audit_events, audit_checkpoints): the same, per journal, and every row's
/// columns against its journal line.
int verifyDatabase(const std::string& database_url, const std::string& verifier_key_file, std::ostream& out);

/// Prints an RFC 6962 inclusion proof of record `seq` in the latest checkpoint, as JSON.
int proveInclusion(const std::string& dir, std::uint64_t seq, std::ostream& out);

/// Checks a proof printed by proveInclusion, offline.
int verifyProof(const std::string& proof_file, const std::string& verifier_key_file, std::ostream& out);

}  // namespace hydra::broker::audit
