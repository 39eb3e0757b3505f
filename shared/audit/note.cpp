#include "shared/audit/note.hpp"

#include <stdexcept>

#include <botan/base64.h>
#include <botan/ed25519.h>
#include <botan/hash.h>
#include <botan/hex.h>
#include <botan/pubkey.h>
#include <botan/system_rng.h>

namespace hydra::audit {
namespace {

constexpr std::uint8_t kEd25519 = 0x01;
constexpr const char* kSignaturePrefix = "\xE2\x80\x94 ";  // em dash, space

bool validName(const std::string& name) {
  if (name.empty()) return false;
  for (const unsigned char c : name) {
    if (c <= ' ' || c == '+' || c == 0x7F) return false;
  }
  return true;
}

std::vector<std::uint8_t> decodeBase64(const std::string& text, const char* what) {
  try {
    const auto bytes = Botan::base64_decode(text, false);
    if (Botan::base64_encode(bytes) != text) throw std::runtime_error("not canonical");
    return {bytes.begin(), bytes.end()};
  } catch (const std::exception&) {
    throw std::runtime_error(std::string(what) + " is not valid base64");
  }
}

std::uint64_t parseSize(const std::string& text) {
  if (text.empty() || text.size() > 20 || (text.size() > 1 && text[0] == '0')) {
    throw std::runtime_error("checkpoint tree size is not a decimal number");
  }
  std::uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') throw std::runtime_error("checkpoint tree size is not a decimal number");
    const std::uint64_t digit = static_cast<std::uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) throw std::runtime_error("checkpoint tree size is too large");
    value = value * 10 + digit;
  }
  return value;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    out.push_back(text.substr(start, nl - start));
  }
  if (start != text.size()) throw std::runtime_error("text does not end with a newline");
  return out;
}

}  // namespace

std::string checkpointText(const Checkpoint& checkpoint) {
  return checkpoint.origin + "\n" + std::to_string(checkpoint.size) + "\n" +
         Botan::base64_encode(checkpoint.root.data(), checkpoint.root.size()) + "\n";
}

Checkpoint parseCheckpointText(const std::string& text) {
  const auto parts = lines(text);
  if (parts.size() != 3) throw std::runtime_error("a checkpoint has three lines: origin, tree size, root hash");
  Checkpoint checkpoint;
  checkpoint.origin = parts[0];
  if (checkpoint.origin.empty()) throw std::runtime_error("checkpoint origin is empty");
  checkpoint.size = parseSize(parts[1]);
  const auto root = decodeBase64(parts[2], "checkpoint root hash");
  if (root.size() != checkpoint.root.size()) throw std::runtime_error("checkpoint root hash is not 32 bytes");
  std::copy(root.begin(), root.end(), checkpoint.root.begin());
  return checkpoint;
}

std::uint32_t keyId(const std::string& name, const std::vector<std::uint8_t>& public_key) {
  auto sha256 = Botan::HashFunction::create_or_throw("SHA-256");
  sha256->update(name);
  sha256->update('\n');
  sha256->update(kEd25519);
  sha256->update(public_key);
  const auto digest = sha256->final();
  return (std::uint32_t{digest[0]} << 24) | (std::uint32_t{digest[1]} << 16) | (std::uint32_t{digest[2]} << 8) |
         std::uint32_t{digest[3]};
}

namespace {

std::string hexId(std::uint32_t id) {
  const std::uint8_t bytes[4] = {static_cast<std::uint8_t>(id >> 24), static_cast<std::uint8_t>(id >> 16),
                                 static_cast<std::uint8_t>(id >> 8), static_cast<std::uint8_t>(id)};
  return Botan::hex_encode(bytes, sizeof bytes, false);
}

}  // namespace

std::string verifierKeyText(const std::string& name, const std::vector<std::uint8_t>& public_key) {
  if (!validName(name)) throw std::invalid_argument("invalid key name");
  std::vector<std::uint8_t> typed{kEd25519};
  typed.insert(typed.end(), public_key.begin(), public_key.end());
  return name + "+" + hexId(keyId(name, public_key)) + "+" + Botan::base64_encode(typed);
}

VerifierKey parseVerifierKey(const std::string& text) {
  const auto first = text.find('+');
  const auto second = first == std::string::npos ? first : text.find('+', first + 1);
  if (second == std::string::npos) {  // the base64 key itself may hold a '+'
    throw std::runtime_error("a verifier key is <name>+<hex key id>+<base64 key>");
  }
  VerifierKey key;
  key.name = text.substr(0, first);
  const auto id_text = text.substr(first + 1, second - first - 1);
  const auto typed = decodeBase64(text.substr(second + 1), "verifier key");
  if (!validName(key.name)) throw std::runtime_error("verifier key name is empty or has spaces or '+'");
  if (typed.size() != 33 || typed[0] != kEd25519) throw std::runtime_error("verifier key is not an Ed25519 key");
  key.public_key.assign(typed.begin() + 1, typed.end());
  key.id = keyId(key.name, key.public_key);
  if (id_text != hexId(key.id)) throw std::runtime_error("verifier key id does not match its name and key");
  return key;
}

std::string signNote(const std::string& text, const std::string& name, const Botan::Ed25519_PrivateKey& key) {
  if (text.empty() || text.back() != '\n') throw std::invalid_argument("a note's text ends with a newline");
  if (!validName(name)) throw std::invalid_argument("invalid key name");
  Botan::PK_Signer signer(key, Botan::system_rng(), "Pure");
  const auto signature = signer.sign_message(reinterpret_cast<const std::uint8_t*>(text.data()), text.size(),
                                             Botan::system_rng());
  const auto id = keyId(name, key.get_public_key());
  std::vector<std::uint8_t> blob{static_cast<std::uint8_t>(id >> 24), static_cast<std::uint8_t>(id >> 16),
                                 static_cast<std::uint8_t>(id >> 8), static_cast<std::uint8_t>(id)};
  blob.insert(blob.end(), signature.begin(), signature.end());
  return text + "\n" + kSignaturePrefix + name + " " + Botan::base64_encode(blob) + "\n";
}

std::string openNote(const std::string& note, const std::string& name, const std::vector<std::uint8_t>& public_key) {
  const auto split = note.rfind("\n\n");
  if (split == std::string::npos) throw std::runtime_error("note has no signature block");
  const auto text = note.substr(0, split + 1);
  const auto signatures = lines(note.substr(split + 2));
  const auto wanted_id = keyId(name, public_key);
  const Botan::Ed25519_PublicKey key(public_key);
  for (const auto& line : signatures) {
    if (line.rfind(kSignaturePrefix, 0) != 0) throw std::runtime_error("malformed signature line");
    const auto rest = line.substr(std::string(kSignaturePrefix).size());
    const auto space = rest.find(' ');
    if (space == std::string::npos) throw std::runtime_error("malformed signature line");
    if (rest.substr(0, space) != name) continue;
    const auto blob = decodeBase64(rest.substr(space + 1), "signature");
    if (blob.size() != 4 + 64) throw std::runtime_error("signature is not an Ed25519 signature");
    const std::uint32_t id = (std::uint32_t{blob[0]} << 24) | (std::uint32_t{blob[1]} << 16) |
                             (std::uint32_t{blob[2]} << 8) | std::uint32_t{blob[3]};
    if (id != wanted_id) continue;
    Botan::PK_Verifier verifier(key, "Pure");
    if (!verifier.verify_message(reinterpret_cast<const std::uint8_t*>(text.data()), text.size(), blob.data() + 4, 64)) {
      throw std::runtime_error("signature by " + name + " does not verify");
    }
    return text;
  }
  throw std::runtime_error("note carries no signature by key " + name + "+" + hexId(wanted_id));
}

Checkpoint unverifiedCheckpoint(const std::string& note) {
  const auto split = note.find("\n\n");
  if (split == std::string::npos) throw std::runtime_error("note has no signature block");
  return parseCheckpointText(note.substr(0, split + 1));
}

}  // namespace hydra::audit
