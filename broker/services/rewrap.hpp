#pragma once
// Key rotation: re-encrypts every ciphertext that is not under the current key: connections'
// credentials and customers' OAuth client secrets. (A connect session's sealed code lives
// seconds, until the broker exchanges it: sessions are not rewrapped; one sealed to a key
// dropped meanwhile fails.)

#include <string>

#include "shared/crypto/open.hpp"
#include "shared/crypto/seal.hpp"

namespace hydra::broker {

struct RewrapCounts {
  long rewrapped = 0;
  long changed_meanwhile = 0;  // replaced by someone else during the run: already fresh
  long unknown_key = 0;        // sealed to a key this broker was not given
  long failed_to_open = 0;     // does not authenticate for its row
  long left_over = 0;          // not under the current key when the run ended (all causes)
};

/// Works in batches, each in its own short transaction, and replaces a ciphertext only if it
/// is still the one it read, so it is safe while both services serve traffic. Re-running it
/// continues where a previous run stopped.
RewrapCounts rewrap(const std::string& database_url, const crypto::Opener& opener, const crypto::Sealer& sealer);

}  // namespace hydra::broker
