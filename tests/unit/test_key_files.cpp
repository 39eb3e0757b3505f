// PEM key files: our own round trip, the exact RFC 8410 encoding, interoperability with the
// openssl command line, and error messages that never carry key material.

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <botan/exceptn.h>
#include <botan/hex.h>
#include <botan/pem.h>

#include "shared/crypto/hpke_suite.hpp"
#include "shared/crypto/private_key_file.hpp"
#include "shared/crypto/public_key_file.hpp"
#include "shared/crypto/random.hpp"

using namespace hydra::crypto;
namespace fs = std::filesystem;

namespace {

// skRm / pkRm of the RFC 9180 vectors. The expected PEMs were built outside this code: the
// RFC 8410 DER prefixes (302e020100300506032b656e04220420, 302a300506032b656e032100) plus the
// key, base64 by Python; `openssl pkey` derives pkRm from that private key.
const char* const kSkHex = "497b4502664cfea5d5af0b39934dac72242a74f8480451e1aee7d6a53320333d";
const char* const kPkHex = "430f4b9859665145a6b1ba274024487bd66f03a2dd577d7753c68d7d7d00c00c";
const char* const kPrivatePem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VuBCIEIEl7RQJmTP6l1a8LOZNNrHIkKnT4SARR4a7n1qUzIDM9\n"
    "-----END PRIVATE KEY-----\n";
const char* const kPublicPem =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VuAyEAQw9LmFlmUUWmsbonQCRIe9ZvA6LdV313U8aNfX0AwAw=\n"
    "-----END PUBLIC KEY-----\n";

const char* const kOpenssl = "/usr/bin/openssl";

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("hydra-key-files-" + newSecretToken(""));
  TempDir() { fs::create_directory(path); }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

// Mode 0600, as a key file must be (readPrivateKeyPem refuses looser ones).
void writeFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary);
  out << contents;
  REQUIRE(out.good());
  out.close();
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs openssl with its output discarded; true on exit status 0.
bool openssl(const std::string& args) {
  return std::system((std::string(kOpenssl) + " " + args + " >/dev/null 2>&1").c_str()) == 0;
}

std::string quoted(const std::string& path) { return "'" + path + "'"; }

Botan::secure_vector<std::uint8_t> secret(const char* hex_text) {
  const auto bytes = Botan::hex_decode(hex_text);
  return {bytes.begin(), bytes.end()};
}

// The message names the file, is one line, and holds none of the file's key material: no
// base64 line of it and no hex of its DER contents or of any 16-byte run of them.
void checkCleanError(const std::string& message, const std::string& path, const std::string& file) {
  CAPTURE(message);
  CHECK(message.find(path) != std::string::npos);
  CHECK(message.find('\n') == std::string::npos);
  std::istringstream lines(file);
  for (std::string line; std::getline(lines, line);) {
    if (line.size() >= 8 && line.rfind("-----", 0) != 0) CHECK(message.find(line) == std::string::npos);
  }
  try {
    std::string label;
    const auto der = Botan::PEM_Code::decode(file, label);
    for (std::size_t i = 0; i + 16 <= der.size(); ++i) {
      CHECK(message.find(Botan::hex_encode(der.data() + i, 16, false)) == std::string::npos);
      CHECK(message.find(Botan::hex_encode(der.data() + i, 16, true)) == std::string::npos);
    }
  } catch (const Botan::Exception&) {
    // Not PEM (the garbage case): the line check above covers it.
  }
}

std::string privateError(const std::string& path) {
  try {
    readPrivateKeyPem(path);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  FAIL("readPrivateKeyPem accepted " << path);
  return "";
}

std::string publicError(const std::string& path) {
  try {
    readPublicKeyPem(path);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  FAIL("readPublicKeyPem accepted " << path);
  return "";
}

}  // namespace

TEST_CASE("key files are exactly the RFC 8410 PEM encodings") {
  CHECK(privateKeyPem(secret(kSkHex)) == kPrivatePem);
  CHECK(publicKeyPem(Botan::hex_decode(kPkHex)) == kPublicPem);
  CHECK(Botan::hex_encode(publicKeyOf(secret(kSkHex)), false) == kPkHex);

  TempDir dir;
  writeFile(dir.file("k.pem"), kPrivatePem);
  writeFile(dir.file("p.pem"), kPublicPem);
  CHECK(Botan::hex_encode(readPrivateKeyPem(dir.file("k.pem")), false) == kSkHex);
  CHECK(Botan::hex_encode(readPublicKeyPem(dir.file("p.pem")), false) == kPkHex);

  CHECK_THROWS_AS(privateKeyPem(Botan::secure_vector<std::uint8_t>(31)), std::invalid_argument);
  CHECK_THROWS_AS(publicKeyPem(std::vector<std::uint8_t>(33)), std::invalid_argument);
  CHECK_THROWS_AS(publicKeyOf(Botan::secure_vector<std::uint8_t>(0)), std::invalid_argument);
}

TEST_CASE("a generated pair written to files reads back equal") {
  const auto [private_key, public_key] = generateKeyPair();
  CHECK(private_key.size() == 32);
  CHECK(public_key == publicKeyOf(private_key));
  CHECK(generateKeyPair().first != private_key);
  TempDir dir;
  writeFile(dir.file("k.pem"), privateKeyPem(private_key));
  writeFile(dir.file("p.pem"), publicKeyPem(public_key));
  CHECK(readPrivateKeyPem(dir.file("k.pem")) == private_key);
  CHECK(readPublicKeyPem(dir.file("p.pem")) == public_key);
}

TEST_CASE("openssl interoperability") {
  if (!fs::exists(kOpenssl)) {
    MESSAGE("skipped: " << kOpenssl << " not found");
    return;
  }
  TempDir dir;

  SUBCASE("keys made by openssl are read, and written back identically") {
    const auto k = dir.file("k.pem");
    const auto p = dir.file("p.pem");
    REQUIRE(openssl("genpkey -algorithm X25519 -out " + quoted(k)));
    REQUIRE(openssl("pkey -in " + quoted(k) + " -pubout -out " + quoted(p)));
    const auto private_key = readPrivateKeyPem(k);
    const auto public_key = readPublicKeyPem(p);
    CHECK(publicKeyOf(private_key) == public_key);
    CHECK(privateKeyPem(private_key) == readFile(k));
    CHECK(publicKeyPem(public_key) == readFile(p));
  }

  SUBCASE("keys written by us are accepted by openssl, which derives the same public key") {
    const auto [private_key, public_key] = generateKeyPair();
    const auto k = dir.file("ours.pem");
    const auto p = dir.file("ours.pub.pem");
    const auto derived = dir.file("derived.pub.pem");
    writeFile(k, privateKeyPem(private_key));
    writeFile(p, publicKeyPem(public_key));
    CHECK(openssl("pkey -in " + quoted(k) + " -noout"));
    CHECK(openssl("pkey -pubin -in " + quoted(p) + " -noout"));
    REQUIRE(openssl("pkey -in " + quoted(k) + " -pubout -out " + quoted(derived)));
    CHECK(readPublicKeyPem(derived) == public_key);
  }

  SUBCASE("openssl's X25519 agrees with ours") {
    const auto [our_private, our_public] = generateKeyPair();
    const auto k = dir.file("theirs.pem");
    const auto p = dir.file("ours.pub.pem");
    const auto shared = dir.file("shared.bin");
    REQUIRE(openssl("genpkey -algorithm X25519 -out " + quoted(k)));
    writeFile(p, publicKeyPem(our_public));
    REQUIRE(openssl("pkeyutl -derive -inkey " + quoted(k) + " -peerkey " + quoted(p) + " -out " +
                    quoted(shared)));
    const auto theirs = readFile(shared);
    const auto ours = hpke::x25519(readPrivateKeyPem(k), our_public);
    CHECK(theirs == std::string(ours.begin(), ours.end()));
  }
}

TEST_CASE("unreadable or wrong key files give a one-line error without key material") {
  TempDir dir;

  SUBCASE("missing file") {
    const auto path = dir.file("missing.pem");
    checkCleanError(privateError(path), path, "");
    checkCleanError(publicError(path), path, "");
  }

  SUBCASE("empty and garbage files") {
    const auto empty = dir.file("empty.pem");
    writeFile(empty, "");
    checkCleanError(privateError(empty), empty, "");
    checkCleanError(publicError(empty), empty, "");
    const auto garbage = dir.file("garbage.pem");
    const std::string garbage_text = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2Vu!!notbase64@@\n";
    writeFile(garbage, garbage_text);
    checkCleanError(privateError(garbage), garbage, garbage_text);
    checkCleanError(publicError(garbage), garbage, garbage_text);
  }

  SUBCASE("a public key where a private key belongs, and the reverse") {
    const auto [private_key, public_key] = generateKeyPair();
    const auto k = dir.file("k.pem");
    const auto p = dir.file("p.pem");
    writeFile(k, privateKeyPem(private_key));
    writeFile(p, publicKeyPem(public_key));
    checkCleanError(privateError(p), p, readFile(p));
    checkCleanError(publicError(k), k, readFile(k));
  }

  SUBCASE("a private key of the wrong size inside valid PKCS#8") {
    // RFC 8410 structure, but the inner OCTET STRING holds 31 bytes.
    const auto path = dir.file("short.pem");
    const std::string pem =
        "-----BEGIN PRIVATE KEY-----\n"
        "MC0CAQAwBQYDK2VuBCEEH0l7RQJmTP6l1a8LOZNNrHIkKnT4SARR4a7n1qUzIDM=\n"
        "-----END PRIVATE KEY-----\n";
    writeFile(path, pem);
    checkCleanError(privateError(path), path, pem);
  }

  if (!fs::exists(kOpenssl)) {
    MESSAGE("openssl-generated cases skipped: " << kOpenssl << " not found");
    return;
  }

  SUBCASE("other algorithms and encrypted keys made by openssl") {
    struct Case {
      const char* name;
      const char* genpkey_args;
    };
    const Case cases[] = {
        {"ed25519", "-algorithm ED25519"},
        {"x448", "-algorithm X448"},
        {"rsa", "-algorithm RSA -pkeyopt rsa_keygen_bits:2048"},
        {"ec", "-algorithm EC -pkeyopt ec_paramgen_curve:P-256"},
        {"encrypted-x25519", "-algorithm X25519 -aes-256-cbc -pass pass:hunter2"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      const auto k = dir.file(std::string(c.name) + ".pem");
      REQUIRE(openssl("genpkey " + std::string(c.genpkey_args) + " -out " + quoted(k)));
      const auto private_error = privateError(k);
      checkCleanError(private_error, k, readFile(k));
      if (std::string(c.name) != "encrypted-x25519") {
        const auto p = dir.file(std::string(c.name) + ".pub.pem");
        REQUIRE(openssl("pkey -in " + quoted(k) + " -pubout -out " + quoted(p)));
        const auto public_error = publicError(p);
        checkCleanError(public_error, p, readFile(p));
        CHECK(private_error.find("X25519") != std::string::npos);
        CHECK(public_error.find("X25519") != std::string::npos);
      }
    }
  }
}

TEST_CASE("a private key file must be a regular file that only its owner may access") {
  const TempDir dir;
  const auto pair = generateKeyPair();
  writeFile(dir.file("k.pem"), privateKeyPem(pair.first));
  CHECK(readPrivateKeyPem(dir.file("k.pem")) == pair.first);

  fs::permissions(dir.file("k.pem"), fs::perms::group_read, fs::perm_options::add);
  CHECK_THROWS_WITH_AS(readPrivateKeyPem(dir.file("k.pem")), doctest::Contains("group or others"), std::runtime_error);
  fs::permissions(dir.file("k.pem"), fs::perms::owner_read | fs::perms::owner_write);

  fs::create_symlink(dir.file("k.pem"), dir.file("link.pem"));
  CHECK_THROWS_WITH_AS(readPrivateKeyPem(dir.file("link.pem")), doctest::Contains("symbolic link"), std::runtime_error);
  CHECK_THROWS_WITH_AS(readPrivateKeyPem(dir.path.string()), doctest::Contains("regular file"), std::runtime_error);
}
