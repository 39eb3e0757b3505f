// C2SP signed notes with Ed25519 against the Go reference implementation's example
// (tests/data/signed-note-ed25519.json), byte for byte, and the checkpoint body they carry.
#include <doctest/doctest.h>

#include <botan/base64.h>
#include <botan/ed25519.h>

#include "shared/audit/note.hpp"
#include "tests/support/json_file.hpp"

using namespace hydra::audit;

namespace {

struct Example {
  rapidjson::Document doc = hydra::test::testDataJson("signed-note-ed25519.json");
  std::string text = doc["text"].GetString();
  std::string signed_note = doc["signed_note"].GetString();
  std::string verifier = doc["verifier_key"].GetString();

  // PRIVATE+KEY+<name>+<hex id>+base64(0x01 || seed): the Go form, read here only for the test.
  Botan::Ed25519_PrivateKey signer() const {
    const std::string skey = doc["signer_key"].GetString();
    std::size_t at = 0;
    for (int plus = 0; plus < 4; ++plus) at = skey.find('+', at) + 1;  // PRIVATE, KEY, name, id
    const auto typed = Botan::base64_decode(skey.substr(at));
    REQUIRE(typed.size() == 33);
    REQUIRE(typed[0] == 0x01);
    return Botan::Ed25519_PrivateKey(Botan::secure_vector<std::uint8_t>(typed.begin() + 1, typed.end()));
  }
};

}  // namespace

TEST_CASE("audit note: the example's key id, verifier key text and signature are reproduced byte for byte") {
  Example e;
  const auto key = e.signer();
  CHECK(keyId("PeterNeumann", key.get_public_key()) == 0xc74f20a3);
  CHECK(verifierKeyText("PeterNeumann", key.get_public_key()) == e.verifier);
  CHECK(signNote(e.text, "PeterNeumann", key) == e.signed_note);
}

TEST_CASE("audit note: the example opens with its verifier key, and not when anything changed") {
  Example e;
  const auto verifier = parseVerifierKey(e.verifier);
  CHECK(verifier.name == "PeterNeumann");
  CHECK(verifier.id == 0xc74f20a3);
  CHECK(openNote(e.signed_note, verifier.name, verifier.public_key) == e.text);

  auto changed_text = e.signed_note;
  changed_text[3] ^= 0x01;
  CHECK_THROWS(openNote(changed_text, verifier.name, verifier.public_key));
  CHECK_THROWS(openNote(e.signed_note, "Someone", verifier.public_key));  // no signature under that name
  auto other = verifier.public_key;
  other[0] ^= 0x01;
  CHECK_THROWS(openNote(e.signed_note, verifier.name, other));

  auto bad_id = e.verifier;
  bad_id[bad_id.find('+') + 1] = bad_id[bad_id.find('+') + 1] == '0' ? '1' : '0';
  CHECK_THROWS(parseVerifierKey(bad_id));
  CHECK_THROWS(parseVerifierKey("PeterNeumann+c74f20a3"));
}

TEST_CASE("audit note: a checkpoint's text round-trips, and malformed ones are refused") {
  Checkpoint c{"hydracore-broker/0f0e", 42, {}};
  c.root[0] = 0xAB;
  const auto text = checkpointText(c);
  CHECK(text.rfind("hydracore-broker/0f0e\n42\n", 0) == 0);
  const auto back = parseCheckpointText(text);
  CHECK(back.origin == c.origin);
  CHECK(back.size == 42u);
  CHECK(back.root == c.root);
  CHECK_THROWS(parseCheckpointText("origin\n042\n" + text.substr(text.rfind('\n', text.size() - 2) + 1)));
  CHECK_THROWS(parseCheckpointText("origin\n-1\nAAAA\n"));
  CHECK_THROWS(parseCheckpointText("origin\n1\nAAAA"));  // no final newline
  CHECK_THROWS(parseCheckpointText("origin\n1\nAAAA\nextra\n"));

  const Botan::Ed25519_PrivateKey key(Example().signer());
  const auto note = signNote(text, c.origin, key);
  CHECK(unverifiedCheckpoint(note).size == 42u);
  CHECK(parseCheckpointText(openNote(note, c.origin, key.get_public_key())).root == c.root);
}
