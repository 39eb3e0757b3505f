// Sealer and Opener as the control plane and the broker use them.

#include <doctest/doctest.h>

#include <string>

#include "shared/crypto/open.hpp"
#include "shared/crypto/private_key_file.hpp"
#include "shared/crypto/random.hpp"
#include "shared/crypto/seal.hpp"

using namespace hydra::crypto;

namespace {

const std::string kCustomer = "7d2f4c1e-0b6a-4e59-9a3d-2f6c8b1e4a70";
const std::string kConnection = "c3a1e9f0-5b7d-4c2a-8e61-9d0f3b7a2c54";
const std::string kOtherId = "0a9b8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d";
const std::string kSecret = R"({"client_secret":"s3cr3t-value"})";

std::string text(const Botan::secure_vector<std::uint8_t>& bytes) {
  return std::string(bytes.begin(), bytes.end());
}

struct Broker {
  std::pair<Botan::secure_vector<std::uint8_t>, std::vector<std::uint8_t>> keys = generateKeyPair();
  Sealer sealer{keys.second};
  Opener opener{{keys.first}};
};

}  // namespace

TEST_CASE("connectionAad binds both ids unambiguously") {
  CHECK(connectionAad("a", "b") == std::string("hydracore/connection/v1\0a\0b", 27));
  CHECK(connectionAad(kCustomer, kConnection) != connectionAad(kConnection, kCustomer));
  CHECK(connectionAad("ab", "c") != connectionAad("a", "bc"));
  CHECK_THROWS_AS(connectionAad(std::string("a\0b", 3), "c"), std::invalid_argument);
  CHECK_THROWS_AS(connectionAad("a", std::string("b\0c", 3)), std::invalid_argument);
}

TEST_CASE("keyIdOf is x25519- and the first 16 hex digits of SHA-256 of the public key") {
  // pkRm of the RFC 9180 vectors; the expected id was computed with Python's hashlib.
  const auto pk = std::vector<std::uint8_t>{
      0x43, 0x0f, 0x4b, 0x98, 0x59, 0x66, 0x51, 0x45, 0xa6, 0xb1, 0xba, 0x27, 0x40, 0x24, 0x48, 0x7b,
      0xd6, 0x6f, 0x03, 0xa2, 0xdd, 0x57, 0x7d, 0x77, 0x53, 0xc6, 0x8d, 0x7d, 0x7d, 0x00, 0xc0, 0x0c};
  CHECK(keyIdOf(pk) == "x25519-69df8d73e7407153");
  CHECK_THROWS_AS(keyIdOf(std::vector<std::uint8_t>(31)), std::invalid_argument);
}

TEST_CASE("seal then open returns the plaintext") {
  Broker broker;
  const auto aad = connectionAad(kCustomer, kConnection);
  const auto sealed = broker.sealer.seal(kSecret, aad);
  CHECK(sealed.key_id == keyIdOf(broker.keys.second));
  CHECK(sealed.key_id == broker.opener.currentKeyId());
  CHECK(broker.opener.currentPublicKey() == broker.keys.second);
  CHECK(sealed.ciphertext.size() == 32 + kSecret.size() + 16);  // enc || ciphertext || tag
  CHECK(text(broker.opener.open(sealed, aad)) == kSecret);

  const auto empty = broker.sealer.seal("", aad);
  CHECK(empty.ciphertext.size() == 48);
  CHECK(broker.opener.open(empty, aad).empty());
}

TEST_CASE("a ciphertext moved to another row does not open") {
  Broker broker;
  const auto sealed = broker.sealer.seal(kSecret, connectionAad(kCustomer, kConnection));
  CHECK_THROWS_AS(broker.opener.open(sealed, connectionAad(kCustomer, kOtherId)), OpenError);
  CHECK_THROWS_AS(broker.opener.open(sealed, connectionAad(kOtherId, kConnection)), OpenError);
  CHECK_THROWS_AS(broker.opener.open(sealed, ""), OpenError);
}

TEST_CASE("any flipped bit makes open fail") {
  Broker broker;
  const auto aad = connectionAad(kCustomer, kConnection);
  const auto sealed = broker.sealer.seal(kSecret, aad);
  REQUIRE(text(broker.opener.open(sealed, aad)) == kSecret);
  // Includes the top bit of enc's last byte, which X25519 itself ignores: enc is also hashed
  // into the KEM context, so it must still fail.
  for (std::size_t i = 0; i < sealed.ciphertext.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      CAPTURE(i);
      CAPTURE(bit);
      SealedSecret tampered = sealed;
      tampered.ciphertext[i] ^= static_cast<std::uint8_t>(1u << bit);
      CHECK_THROWS_AS(broker.opener.open(tampered, aad), OpenError);
    }
  }
}

TEST_CASE("truncated, extended, empty or random ciphertexts fail with OpenError") {
  Broker broker;
  const auto aad = connectionAad(kCustomer, kConnection);
  const auto sealed = broker.sealer.seal(kSecret, aad);
  for (std::size_t size = 0; size < sealed.ciphertext.size(); ++size) {
    CAPTURE(size);
    SealedSecret truncated = sealed;
    truncated.ciphertext.resize(size);
    CHECK_THROWS_AS(broker.opener.open(truncated, aad), OpenError);
  }
  SealedSecret extended = sealed;
  extended.ciphertext.push_back(0);
  CHECK_THROWS_AS(broker.opener.open(extended, aad), OpenError);

  for (std::size_t size = 0; size < 100; ++size) {
    CAPTURE(size);
    SealedSecret garbage{sealed.key_id, randomBytes(size)};
    CHECK_THROWS_AS(broker.opener.open(garbage, aad), OpenError);
  }
  // A low-order enc (all zeros) is rejected before any AEAD work.
  SealedSecret zero_enc = sealed;
  std::fill(zero_enc.ciphertext.begin(), zero_enc.ciphertext.begin() + 32, 0);
  CHECK_THROWS_AS(broker.opener.open(zero_enc, aad), OpenError);
}

TEST_CASE("key ids select the key") {
  Broker broker;
  Broker other;
  const auto aad = connectionAad(kCustomer, kConnection);
  auto sealed = broker.sealer.seal(kSecret, aad);
  SealedSecret unknown = sealed;
  unknown.key_id = other.sealer.keyId();
  CHECK_THROWS_AS(broker.opener.open(unknown, aad), UnknownKeyError);
  unknown.key_id = "";
  CHECK_THROWS_AS(broker.opener.open(unknown, aad), UnknownKeyError);
  // Sealed to another key but labelled with ours: HPKE binds the recipient key, so it fails.
  SealedSecret mislabelled = other.sealer.seal(kSecret, aad);
  mislabelled.key_id = broker.sealer.keyId();
  CHECK_THROWS_AS(broker.opener.open(mislabelled, aad), OpenError);
}

TEST_CASE("after rotation the opener opens secrets sealed to the old key") {
  const auto old_keys = generateKeyPair();
  const auto new_keys = generateKeyPair();
  const auto aad = connectionAad(kCustomer, kConnection);
  const auto sealed_old = Sealer(old_keys.second).seal(kSecret, aad);
  const auto sealed_new = Sealer(new_keys.second).seal("new secret", aad);
  const Opener opener({new_keys.first, old_keys.first});
  CHECK(opener.currentKeyId() == keyIdOf(new_keys.second));
  CHECK(opener.currentPublicKey() == new_keys.second);
  CHECK(text(opener.open(sealed_old, aad)) == kSecret);
  CHECK(text(opener.open(sealed_new, aad)) == "new secret");
  // Once the old key is dropped its secrets are reported as unknown, not as tampered.
  const Opener new_only({new_keys.first});
  CHECK_THROWS_AS(new_only.open(sealed_old, aad), UnknownKeyError);
}

TEST_CASE("two seals of the same plaintext differ") {
  Broker broker;
  const auto aad = connectionAad(kCustomer, kConnection);
  const auto a = broker.sealer.seal(kSecret, aad);
  const auto b = broker.sealer.seal(kSecret, aad);
  CHECK(a.ciphertext != b.ciphertext);
  CHECK(std::vector<std::uint8_t>(a.ciphertext.begin(), a.ciphertext.begin() + 32) !=
        std::vector<std::uint8_t>(b.ciphertext.begin(), b.ciphertext.begin() + 32));
  CHECK(text(broker.opener.open(a, aad)) == kSecret);
  CHECK(text(broker.opener.open(b, aad)) == kSecret);
}

TEST_CASE("bad keys are refused up front") {
  CHECK_THROWS_AS(Opener(std::vector<Botan::secure_vector<std::uint8_t>>{}), std::invalid_argument);
  CHECK_THROWS_AS(Opener({Botan::secure_vector<std::uint8_t>(31)}), std::invalid_argument);
  CHECK_THROWS_AS(Sealer(std::vector<std::uint8_t>(33)), std::invalid_argument);
  // An all-zero (low-order) public key would make the shared secret public.
  const Sealer low_order(std::vector<std::uint8_t>(32, 0));
  CHECK_THROWS_AS(low_order.seal(kSecret, "aad"), std::invalid_argument);
}

TEST_CASE("the derived-key cache never opens what the uncached path would refuse") {
  const auto keys = generateKeyPair();
  const Sealer sealer(keys.second);
  const Opener cached({keys.first}, 1);  // capacity 1: the second ciphertext evicts the first
  const auto aad = connectionAad(kCustomer, kConnection);
  const auto first = sealer.seal(kSecret, aad);
  const auto second = sealer.seal("{\"other\":1}", aad);

  CHECK(text(cached.open(first, aad)) == kSecret);
  CHECK(text(cached.open(first, aad)) == kSecret);  // from the cache
  // Same encapsulated key (a cache hit), but a flipped body byte or another row: refused.
  auto tampered = first;
  tampered.ciphertext.back() ^= 0x01;
  CHECK_THROWS_AS(cached.open(tampered, aad), OpenError);
  CHECK_THROWS_AS(cached.open(first, connectionAad(kCustomer, kOtherId)), OpenError);
  // Eviction and re-derivation.
  CHECK(text(cached.open(second, aad)) == "{\"other\":1}");
  CHECK(text(cached.open(first, aad)) == kSecret);
  // A refused ciphertext is not cached: a forged enc keeps failing.
  auto forged = first;
  forged.ciphertext[0] ^= 0x01;
  CHECK_THROWS_AS(cached.open(forged, aad), OpenError);
  CHECK_THROWS_AS(cached.open(forged, aad), OpenError);
}
