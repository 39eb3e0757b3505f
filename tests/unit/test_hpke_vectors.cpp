// Our HPKE against the RFC 9180 test vectors (tests/data/hpke-x25519-base.json, AES-256-GCM
// entry): every intermediate value and every one of the 257 encryptions, byte for byte.

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include <botan/hex.h>
#include <rapidjson/document.h>

#include "shared/crypto/hpke_suite.hpp"
#include "shared/crypto/open.hpp"
#include "shared/crypto/seal.hpp"

namespace {

using hydra::crypto::hpke::ByteView;
namespace hpke = hydra::crypto::hpke;
namespace detail = hydra::crypto::detail;

std::string hexOf(ByteView bytes) { return Botan::hex_encode(bytes.data, bytes.size, false); }

std::vector<std::uint8_t> bytesOf(const rapidjson::Value& object, const char* field) {
  REQUIRE(object.HasMember(field));
  REQUIRE(object[field].IsString());
  return Botan::hex_decode(std::string(object[field].GetString(), object[field].GetStringLength()));
}

Botan::secure_vector<std::uint8_t> secretOf(const rapidjson::Value& object, const char* field) {
  const auto bytes = bytesOf(object, field);
  return {bytes.begin(), bytes.end()};
}

std::string hexField(const rapidjson::Value& object, const char* field) {
  return hexOf(bytesOf(object, field));  // normalises case
}

rapidjson::Document loadVectors() {
  std::ifstream in(HYDRA_TEST_DATA_DIR "/hpke-x25519-base.json");
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  rapidjson::Document doc;
  doc.Parse(text.str().c_str());
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc.IsArray());
  return doc;
}

bool isField(const rapidjson::Value& entry, const char* field, int value) {
  return entry.HasMember(field) && entry[field].IsInt() && entry[field].GetInt() == value;
}

}  // namespace

TEST_CASE("HPKE suite ids are the RFC 9180 encodings of our suite") {
  CHECK(hexOf(hpke::kemSuiteId()) == "4b454d0020");               // "KEM" 0x0020
  CHECK(hexOf(hpke::hpkeSuiteId()) == "48504b45002000010002");    // "HPKE" 0x0020 0x0001 0x0002
}

TEST_CASE("computeNonce XORs the big-endian sequence number into the base nonce") {
  const std::vector<std::uint8_t> base(12, 0xff);
  CHECK(hexOf(hpke::computeNonce(base, 0)) == "ffffffffffffffffffffffff");
  CHECK(hexOf(hpke::computeNonce(base, 0x0102030405060708ULL)) == "fffffffffefdfcfbfaf9f8f7");
  CHECK_THROWS_AS(hpke::computeNonce(std::vector<std::uint8_t>(11), 0), std::invalid_argument);
}

TEST_CASE("RFC 9180 test vectors, base mode, X25519 / HKDF-SHA256 / AES-256-GCM") {
  const auto doc = loadVectors();
  const rapidjson::Value* found = nullptr;
  for (const auto& entry : doc.GetArray()) {
    if (isField(entry, "mode", 0) && isField(entry, "kem_id", 0x20) && isField(entry, "kdf_id", 1) &&
        isField(entry, "aead_id", 2)) {
      REQUIRE(found == nullptr);  // exactly one entry for our suite
      found = &entry;
    }
  }
  REQUIRE(found != nullptr);
  const auto& v = *found;
  const auto info = bytesOf(v, "info");

  const auto ephemeral = hpke::deriveKeyPair(bytesOf(v, "ikmE"));
  CHECK(hexOf(ephemeral.private_key) == hexField(v, "skEm"));
  CHECK(hexOf(ephemeral.public_key) == hexField(v, "pkEm"));
  const auto recipient = hpke::deriveKeyPair(bytesOf(v, "ikmR"));
  CHECK(hexOf(recipient.private_key) == hexField(v, "skRm"));
  CHECK(hexOf(recipient.public_key) == hexField(v, "pkRm"));

  // Sender side, from the vector's own keys (not ours), so each step is checked on its own.
  const auto sender = detail::setupBaseS(bytesOf(v, "pkRm"), secretOf(v, "skEm"), info);
  CHECK(hexOf(sender.enc) == hexField(v, "enc"));
  CHECK(hexOf(sender.shared_secret) == hexField(v, "shared_secret"));
  CHECK(hexOf(sender.key) == hexField(v, "key"));
  CHECK(hexOf(sender.base_nonce) == hexField(v, "base_nonce"));

  const auto schedule = hpke::keyScheduleBase(bytesOf(v, "shared_secret"), info);
  CHECK(hexOf(schedule.key) == hexField(v, "key"));
  CHECK(hexOf(schedule.base_nonce) == hexField(v, "base_nonce"));

  const auto receiver = detail::setupBaseR(bytesOf(v, "enc"), secretOf(v, "skRm"), bytesOf(v, "pkRm"), info);
  CHECK(hexOf(receiver.shared_secret) == hexField(v, "shared_secret"));
  CHECK(hexOf(receiver.key) == hexField(v, "key"));
  CHECK(hexOf(receiver.base_nonce) == hexField(v, "base_nonce"));

  REQUIRE(v.HasMember("encryptions"));
  REQUIRE(v["encryptions"].IsArray());
  const auto& encryptions = v["encryptions"].GetArray();
  REQUIRE(encryptions.Size() == 257);  // sequence numbers 0..256: the counter crosses a byte
  std::uint64_t seq = 0;
  for (const auto& e : encryptions) {
    CAPTURE(seq);
    const auto aad = bytesOf(e, "aad");
    const auto pt = bytesOf(e, "pt");
    const auto ct = bytesOf(e, "ct");
    CHECK(hexOf(hpke::computeNonce(sender.base_nonce, seq)) == hexField(e, "nonce"));
    CHECK(hexOf(detail::sealAt(sender, aad, pt, seq)) == hexOf(ct));
    CHECK(hexOf(detail::openAt(receiver, aad, ct, seq)) == hexOf(pt));
    // The sequence number is bound: the neighbouring one must not open it.
    CHECK_THROWS_AS(detail::openAt(receiver, aad, ct, seq + 1), hydra::crypto::OpenError);
    ++seq;
  }
  // Shorter than a tag: an OpenError, not whatever Botan throws for it.
  CHECK_THROWS_AS(detail::openAt(receiver, info, std::vector<std::uint8_t>(hpke::kNt - 1), 0),
                  hydra::crypto::OpenError);
}

TEST_CASE("DH with a low-order public key is rejected on both sides") {
  const auto pair = hpke::deriveKeyPair(std::vector<std::uint8_t>(32, 7));
  const std::vector<std::uint8_t> zero_point(32, 0);  // order 1: X25519 gives all zeros
  CHECK_THROWS_AS(hpke::x25519(pair.private_key, zero_point), std::invalid_argument);
  CHECK_THROWS_AS(detail::setupBaseS(zero_point, pair.private_key, hpke::kInfo), std::invalid_argument);
  CHECK_THROWS_AS(detail::setupBaseR(zero_point, pair.private_key, pair.public_key, hpke::kInfo),
                  hydra::crypto::OpenError);
  // ...but an ordinary key works through the same path.
  CHECK(hpke::x25519(pair.private_key, hpke::deriveKeyPair(std::vector<std::uint8_t>(32, 8)).public_key)
            .size() == 32);
}
