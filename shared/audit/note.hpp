#pragma once
// C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 signatures, and the
// checkpoint body they carry (https://c2sp.org/tlog-checkpoint): origin, tree size, root.
//   key id        = first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key)
//   verifier key  = <name>+<hex key id>+<base64(0x01 || public key)>
//   signature line = "— <name> <base64(key id || signature)>"

#include <cstdint>
#include <string>
#include <vector>

#include "shared/audit/merkle.hpp"

namespace Botan {
class Ed25519_PrivateKey;
}

namespace hydra::audit {

struct Checkpoint {
  std::string origin;
  std::uint64_t size = 0;
  Hash root{};
};

/// "<origin>\n<size>\n<base64 root>\n"
std::string checkpointText(const Checkpoint& checkpoint);
/// Throws std::runtime_error unless `text` is exactly that form.
Checkpoint parseCheckpointText(const std::string& text);

std::uint32_t keyId(const std::string& name, const std::vector<std::uint8_t>& public_key);

struct VerifierKey {
  std::string name;
  std::uint32_t id = 0;
  std::vector<std::uint8_t> public_key;  // 32 bytes, Ed25519
};
std::string verifierKeyText(const std::string& name, const std::vector<std::uint8_t>& public_key);
/// Throws std::runtime_error for anything but an Ed25519 verifier key whose id matches.
VerifierKey parseVerifierKey(const std::string& text);

/// `text` (which must end in a newline) signed by `key` under `name`.
std::string signNote(const std::string& text, const std::string& name, const Botan::Ed25519_PrivateKey& key);

/// The text of `note` if it carries a valid signature by `public_key` under `name` (with the
/// key id that name and key give); throws std::runtime_error saying what is wrong otherwise.
std::string openNote(const std::string& note, const std::string& name, const std::vector<std::uint8_t>& public_key);

/// The checkpoint a note carries, read without checking its signature: for the broker reading
/// back its own files (verifiers use openNote).
Checkpoint unverifiedCheckpoint(const std::string& note);

}  // namespace hydra::audit
