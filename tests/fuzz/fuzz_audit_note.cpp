// The signed-note side of `hydracore-audit verify` (shared/audit/note.cpp): a verifier key file's text, a
// checkpoint's text and a signed note, opened with the C2SP example key (tests/data/
// signed-note-ed25519.json). Each either reads back exactly as it was written or throws
// std::runtime_error saying what is wrong.
#include <stdexcept>

#include <botan/base64.h>

#include "shared/audit/note.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace audit = hydra::audit;

namespace {

// PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW
const std::string kName = "PeterNeumann";
const std::vector<std::uint8_t>& publicKey() {
  static const std::vector<std::uint8_t> key = [] {
    const auto typed = Botan::base64_decode("ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
    return std::vector<std::uint8_t>(typed.begin() + 1, typed.end());
  }();
  return key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = hydra::fuzz::text(data, size);

  try {
    const auto key = audit::parseVerifierKey(text);
    FUZZ_CHECK(audit::verifierKeyText(key.name, key.public_key) == text);
  } catch (const std::runtime_error&) {
  }

  try {
    const auto checkpoint = audit::parseCheckpointText(text);
    FUZZ_CHECK(audit::checkpointText(checkpoint) == text);
  } catch (const std::runtime_error&) {
  }

  try {
    const auto opened = audit::openNote(text, kName, publicKey());
    FUZZ_CHECK(text.rfind(opened, 0) == 0 && opened.size() < text.size());
    // What `hydracore-audit verify` does next with a checkpoint's note.
    try {
      audit::parseCheckpointText(opened);
    } catch (const std::runtime_error&) {
    }
  } catch (const std::runtime_error&) {
  }

  try {
    audit::unverifiedCheckpoint(text);
  } catch (const std::runtime_error&) {
  }
  return 0;
}
