#include "shared/crypto/private_key_file.hpp"

#include <memory>
#include <stdexcept>

#include <botan/curve25519.h>
#include <botan/data_src.h>
#include <botan/pem.h>
#include <botan/pkcs8.h>
#include <botan/system_rng.h>

#include "shared/crypto/hpke_suite.hpp"
#include "shared/crypto/secret_file.hpp"

namespace hydra::crypto {
namespace {

std::runtime_error fileError(const std::string& path, const std::string& problem) {
  return std::runtime_error("private key file " + path + ": " + problem);
}

}  // namespace

Botan::secure_vector<std::uint8_t> readPrivateKeyPem(const std::string& path) {
  return privateKeyFromPem(readOwnerOnlyFile(path, "private key file"), path);
}

Botan::secure_vector<std::uint8_t> privateKeyFromPem(const Botan::secure_vector<std::uint8_t>& text,
                                                     const std::string& path) {
  // Botan's own messages are not passed on: we only promise what ours contain.
  Botan::secure_vector<std::uint8_t> der;
  try {
    Botan::DataSource_Memory source(text);
    // The label check also turns away "ENCRYPTED PRIVATE KEY": there is no passphrase to use.
    der = Botan::PEM_Code::decode_check_label(source, "PRIVATE KEY");
  } catch (const std::exception&) {
    throw fileError(path, "not an unencrypted PEM PKCS#8 (\"PRIVATE KEY\") block");
  }
  std::unique_ptr<Botan::Private_Key> key;
  try {
    Botan::DataSource_Memory source(der);
    key = Botan::PKCS8::load_key(source);
  } catch (const std::exception&) {
    // Botan also fails here on algorithms it does not know, such as X448.
    throw fileError(path, "malformed PKCS#8 or not an X25519 key");
  }
  // Botan 2.19 maps OID 1.3.101.110 (RFC 8410 X25519) to its Curve25519 key type and
  // unwraps the inner OCTET STRING that RFC 8410 puts around the 32 key bytes.
  const auto* x25519 = dynamic_cast<const Botan::Curve25519_PrivateKey*>(key.get());
  if (x25519 == nullptr) throw fileError(path, "not an X25519 key (found " + key->algo_name() + ")");
  return x25519->get_x();
}

std::string privateKeyPem(const Botan::secure_vector<std::uint8_t>& private_key) {
  if (private_key.size() != hpke::kNsk) {
    throw std::invalid_argument("privateKeyPem: private key must be 32 bytes");
  }
  return Botan::PKCS8::PEM_encode(Botan::Curve25519_PrivateKey(private_key));
}

std::pair<Botan::secure_vector<std::uint8_t>, std::vector<std::uint8_t>> generateKeyPair() {
  // Any 32 random bytes are an X25519 private key: the scalar is clamped when used.
  auto private_key = Botan::system_rng().random_vec(hpke::kNsk);
  auto public_key = hpke::x25519PublicKey(private_key);
  return {std::move(private_key), std::move(public_key)};
}

std::vector<std::uint8_t> publicKeyOf(const Botan::secure_vector<std::uint8_t>& private_key) {
  return hpke::x25519PublicKey(private_key);  // throws std::invalid_argument unless 32 bytes
}

}  // namespace hydra::crypto
