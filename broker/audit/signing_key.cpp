#include "broker/audit/signing_key.hpp"

#include <stdexcept>

#include <botan/data_src.h>
#include <botan/pem.h>
#include <botan/pkcs8.h>
#include <botan/system_rng.h>

#include "shared/crypto/secret_file.hpp"

namespace hydra::broker::audit {

std::unique_ptr<Botan::Ed25519_PrivateKey> readSigningKey(const std::string& path) {
  return signingKeyFromPem(crypto::readOwnerOnlyFile(path, "audit signing key file"), path);
}

std::unique_ptr<Botan::Ed25519_PrivateKey> signingKeyFromPem(const Botan::secure_vector<std::uint8_t>& text,
                                                             const std::string& path) {
  std::unique_ptr<Botan::Private_Key> key;
  try {
    Botan::DataSource_Memory source(text);
    const auto der = Botan::PEM_Code::decode_check_label(source, "PRIVATE KEY");
    Botan::DataSource_Memory der_source(der);
    key = Botan::PKCS8::load_key(der_source);
  } catch (const std::exception&) {
    // Botan's own messages are not passed on: we only promise what ours contain.
    throw std::runtime_error("audit signing key file " + path + ": not an unencrypted PEM PKCS#8 Ed25519 key");
  }
  auto* ed25519 = dynamic_cast<Botan::Ed25519_PrivateKey*>(key.get());
  if (ed25519 == nullptr) {
    throw std::runtime_error("audit signing key file " + path + ": not an Ed25519 key (found " + key->algo_name() + ")");
  }
  key.release();
  return std::unique_ptr<Botan::Ed25519_PrivateKey>(ed25519);
}

std::unique_ptr<Botan::Ed25519_PrivateKey> generateSigningKey() {
  return std::make_unique<Botan::Ed25519_PrivateKey>(Botan::system_rng());
}

std::string signingKeyPem(const Botan::Ed25519_PrivateKey& key) { return Botan::PKCS8::PEM_encode(key); }

}  // namespace hydra::broker::audit
