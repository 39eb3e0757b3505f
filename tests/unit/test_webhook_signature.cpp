// Standard Webhooks 1.0 signatures: the control plane's signer reproduces the specification's
// published example byte for byte (tests/data/standard-webhooks.json), and secrets have the
// documented form.
#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>

#include <rapidjson/document.h>

#include "control-plane/webhooks/signature.hpp"

using namespace hydra::cp::webhooks;

namespace {

struct Vector {
  std::string secret, webhook_id, body, signature;
  long long timestamp = 0;
};

Vector specExample() {
  std::ifstream in(HYDRA_TEST_DATA_DIR "/standard-webhooks.json");
  REQUIRE(in.good());
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  rapidjson::Document doc;
  REQUIRE_FALSE(doc.Parse(text.c_str()).HasParseError());
  return {doc["secret"].GetString(), doc["webhook_id"].GetString(), doc["body"].GetString(),
          doc["webhook_signature"].GetString(), doc["webhook_timestamp"].GetInt64()};
}

}  // namespace

TEST_CASE("webhook signature: the specification's example, byte for byte") {
  const auto v = specExample();
  CHECK(v.body == R"({"test": 2432232314})");  // the body is signed as these exact bytes
  const auto key = decodeSecret(v.secret);
  CHECK(key.size() == 24);
  CHECK(sign(key, v.webhook_id, v.timestamp, v.body) == v.signature);
  CHECK(signatureHeader({key}, v.webhook_id, v.timestamp, v.body) == v.signature);
  // Re-encoding the key gives the secret back.
  CHECK(encodeSecret(key) == v.secret);
}

TEST_CASE("webhook signature: any change to id, timestamp, body or key changes the signature") {
  const auto v = specExample();
  const auto key = decodeSecret(v.secret);
  auto other_key = key;
  other_key[0] ^= 1;
  CHECK(sign(key, v.webhook_id + "x", v.timestamp, v.body) != v.signature);
  CHECK(sign(key, v.webhook_id, v.timestamp + 1, v.body) != v.signature);
  CHECK(sign(key, v.webhook_id, v.timestamp, v.body + " ") != v.signature);
  CHECK(sign(other_key, v.webhook_id, v.timestamp, v.body) != v.signature);
}

TEST_CASE("webhook signature: during a rotation the header carries one signature per key, current first") {
  const auto v = specExample();
  const auto old_key = decodeSecret(v.secret);
  const auto new_key = newSigningKey();
  const auto header = signatureHeader({new_key, old_key}, v.webhook_id, v.timestamp, v.body);
  CHECK(header == sign(new_key, v.webhook_id, v.timestamp, v.body) + " " + v.signature);
}

TEST_CASE("webhook secrets: whsec_ and the base64 of 32 fresh random bytes") {
  static const std::regex form(R"(whsec_[A-Za-z0-9+/]{43}=)");
  std::set<std::string> seen;
  for (int i = 0; i < 20; ++i) {
    const auto key = newSigningKey();
    CHECK(key.size() == 32);
    const auto secret = encodeSecret(key);
    CHECK(std::regex_match(secret, form));
    CHECK(decodeSecret(secret) == key);
    seen.insert(secret);
  }
  CHECK(seen.size() == 20);
  CHECK_THROWS_AS(decodeSecret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), std::invalid_argument);
  CHECK_THROWS_AS(decodeSecret("whsec_"), std::invalid_argument);
  CHECK_THROWS_AS(decodeSecret("whsec_***"), std::invalid_argument);
}
