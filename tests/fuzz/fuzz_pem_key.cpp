// Key files once read (the reading and its owner/mode checks are not in this): the broker's
// X25519 private keys (shared/crypto/private_key_file.cpp), the control plane's public key
// (public_key_file.cpp) and the audit signing key (broker/audit/signing_key.cpp). Each either
// gives a usable key or throws std::runtime_error naming the file, never Botan's own words and
// never the key material.
#include <stdexcept>
#include <string>

#include "broker/audit/signing_key.hpp"
#include "shared/crypto/private_key_file.hpp"
#include "shared/crypto/public_key_file.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

bool namesFile(const std::runtime_error& e, const std::string& prefix) {
  return std::string(e.what()).rfind(prefix, 0) == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Botan::secure_vector<std::uint8_t> bytes(data, data + size);
  const auto text = hydra::fuzz::text(data, size);

  try {
    const auto key = hydra::crypto::privateKeyFromPem(bytes, "k.pem");
    FUZZ_CHECK(key.size() == 32);
    FUZZ_CHECK(hydra::crypto::publicKeyOf(key).size() == 32);
  } catch (const std::runtime_error& e) {
    FUZZ_CHECK(namesFile(e, "private key file k.pem: "));
  }

  try {
    const auto key = hydra::crypto::publicKeyFromPem(text, "k.pub");
    FUZZ_CHECK(key.size() == 32);
  } catch (const std::runtime_error& e) {
    FUZZ_CHECK(namesFile(e, "public key file k.pub: "));
  }

  try {
    const auto key = hydra::broker::audit::signingKeyFromPem(bytes, "audit.pem");
    FUZZ_CHECK(key != nullptr && key->get_public_key().size() == 32);
  } catch (const std::runtime_error& e) {
    FUZZ_CHECK(namesFile(e, "audit signing key file audit.pem: "));
  }
  return 0;
}
