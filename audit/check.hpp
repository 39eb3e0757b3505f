#pragma once
// What every hydracore-audit command shares: a check that failed and how it ends the command,
// files read whole, the verifier keys named on the command line, and signed notes opened under
// them.

#include <exception>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "shared/audit/note.hpp"

namespace hydra::audit {

// Verifier keys: several after a signing key rotation (each checkpoint must verify under one of
// them, since a journal's older checkpoints stay signed by the old key).
using VerifierKeyFiles = std::vector<std::string>;

/// A check that failed: what() names the first bad record or checkpoint.
struct Failed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The whole content of `path`; throws Failed if it cannot be read.
std::string readFile(const std::string& path);

/// The keys in `paths`, at least one; throws Failed naming a file that holds no verifier key.
std::vector<VerifierKey> readVerifierKeys(const VerifierKeyFiles& paths);

/// The text of `note` if one of `keys` signed it under `origin` (the key id in the signature line
/// says which key); throws Failed saying why not.
std::string openedNote(const std::string& note, const std::string& origin, const std::vector<VerifierKey>& keys);

/// The command's exit code: 0 once `check` returns, 1 after printing "FAILED: <what>" to
/// `report` if it throws (a check that failed, or a file or database it could not read).
template <typename Check>
int runCheck(std::ostream& report, Check&& check) {
  try {
    check();
    return 0;
  } catch (const std::exception& e) {
    report << "FAILED: " << e.what() << "\n";
  }
  return 1;
}

}  // namespace hydra::audit
