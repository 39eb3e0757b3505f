#include <doctest/doctest.h>

#include <string>

#include "shared/crypto/random.hpp"

using namespace hydra::crypto;

TEST_CASE("newSecretToken: prefix, then 256 bits as 43 characters of unpadded base64url") {
  const auto token = newSecretToken("hck_");
  REQUIRE(token.size() == 4 + 43);
  CHECK(token.substr(0, 4) == "hck_");
  const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  CHECK(token.find_first_not_of(alphabet, 4) == std::string::npos);
  CHECK(newSecretToken("hck_") != token);
  CHECK(newSecretToken("").size() == 43);
}

TEST_CASE("tokenHash is SHA-256") {
  // FIPS 180-2 example and the empty-string digest.
  CHECK(hex(tokenHash("abc").data(), 32) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(hex(tokenHash("").data(), 32) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(tokenHash("abc").size() == 32);
}

TEST_CASE("constantTimeEquals") {
  CHECK(constantTimeEquals("hck_abc", "hck_abc"));
  CHECK(constantTimeEquals("", ""));
  CHECK_FALSE(constantTimeEquals("hck_abc", "hck_abd"));
  CHECK_FALSE(constantTimeEquals("hck_abc", "Hck_abc"));
  CHECK_FALSE(constantTimeEquals("hck_abc", "hck_ab"));
  CHECK_FALSE(constantTimeEquals("", "a"));
}

TEST_CASE("randomBytes and hex") {
  CHECK(randomBytes(0).empty());
  const auto a = randomBytes(32);
  CHECK(a.size() == 32);
  CHECK(randomBytes(32) != a);
  const std::uint8_t bytes[] = {0x00, 0x0f, 0xa5, 0xff};
  CHECK(hex(bytes, sizeof(bytes)) == "000fa5ff");
}
