#include "shared/crypto/public_key_file.hpp"

#include <fstream>
#include <memory>
#include <stdexcept>

#include <botan/curve25519.h>
#include <botan/data_src.h>
#include <botan/pem.h>
#include <botan/x509_key.h>

namespace hydra::crypto {
namespace {

// A PEM public key is about 120 bytes; the cap keeps a wrong path from being slurped.
constexpr std::size_t kMaxFileSize = 64 * 1024;

std::runtime_error fileError(const std::string& path, const std::string& problem) {
  return std::runtime_error("public key file " + path + ": " + problem);
}

}  // namespace

std::vector<std::uint8_t> readPublicKeyPem(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw fileError(path, "cannot open");
  std::string text(kMaxFileSize + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) throw fileError(path, "read error");
  if (static_cast<std::size_t>(in.gcount()) > kMaxFileSize) throw fileError(path, "file too large");
  text.resize(static_cast<std::size_t>(in.gcount()));
  return publicKeyFromPem(text, path);
}

std::vector<std::uint8_t> publicKeyFromPem(const std::string& text, const std::string& path) {
  // Botan's own messages are not passed on: we only promise what ours contain.
  std::vector<std::uint8_t> der;
  try {
    Botan::DataSource_Memory source(text);
    der = Botan::unlock(Botan::PEM_Code::decode_check_label(source, "PUBLIC KEY"));
  } catch (const std::exception&) {
    throw fileError(path, "not a PEM SubjectPublicKeyInfo (\"PUBLIC KEY\") block");
  }
  std::unique_ptr<Botan::Public_Key> key;
  try {
    key.reset(Botan::X509::load_key(der));
  } catch (const std::exception&) {
    // Botan also fails here on algorithms it does not know, such as X448.
    throw fileError(path, "malformed SubjectPublicKeyInfo or not an X25519 key");
  }
  // Botan 2.19 maps OID 1.3.101.110 (RFC 8410 X25519) to its Curve25519 key type.
  const auto* x25519 = dynamic_cast<const Botan::Curve25519_PublicKey*>(key.get());
  if (x25519 == nullptr) throw fileError(path, "not an X25519 key (found " + key->algo_name() + ")");
  return x25519->public_value();
}

std::string publicKeyPem(const std::vector<std::uint8_t>& public_key) {
  // Botan's constructor takes any length; a short key must not reach a file.
  if (public_key.size() != 32) throw std::invalid_argument("publicKeyPem: public key must be 32 bytes");
  return Botan::X509::PEM_encode(Botan::Curve25519_PublicKey(public_key));
}

}  // namespace hydra::crypto
