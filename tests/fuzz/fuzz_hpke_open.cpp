// Opening a stored credential (shared/crypto/open.cpp) with the test broker key: whatever the
// database row holds, Opener::open returns authenticated plaintext or throws UnknownKeyError or
// OpenError, nothing else.
//   byte 0      bit 0: the row names a key id from the input instead of the test key's
//               bit 1: through an Opener with the derived-key cache
//               bit 2: seal the rest to the test key first (a deterministic ephemeral key), check
//                      that it opens to itself, then that it no longer opens with one byte flipped
//   byte 1      length of the associated data taken next (then of the key id, with bit 0)
//   the rest    the ciphertext (or, with bit 2, the plaintext)
#include <fstream>
#include <iterator>
#include <memory>

#include "shared/crypto/open.hpp"
#include "shared/crypto/private_key_file.hpp"
#include "shared/crypto/seal.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

namespace crypto = hydra::crypto;

struct Keys {
  std::unique_ptr<crypto::Opener> plain, cached;
  std::vector<std::uint8_t> public_key;
};

Keys& keys() {
  static Keys k = [] {
    std::ifstream in(HYDRA_TEST_DATA_DIR "/test-broker-private.pem", std::ios::binary);
    const std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto private_key =
        crypto::privateKeyFromPem(Botan::secure_vector<std::uint8_t>(pem.begin(), pem.end()), "test-broker-private.pem");
    Keys out;
    using Keys = std::vector<Botan::secure_vector<std::uint8_t>>;
    out.plain = std::make_unique<crypto::Opener>(Keys{private_key});
    out.cached = std::make_unique<crypto::Opener>(Keys{private_key}, 64);
    out.public_key = out.plain->currentPublicKey();
    return out;
  }();
  return k;
}

// Takes up to `n` bytes from the front.
std::string take(const std::uint8_t*& data, std::size_t& size, std::size_t n) {
  n = std::min(n, size);
  std::string out(reinterpret_cast<const char*>(data), n);
  data += n;
  size -= n;
  return out;
}

bool opens(const crypto::Opener& opener, const crypto::SealedSecret& sealed, const std::string& aad,
           Botan::secure_vector<std::uint8_t>* plaintext) {
  try {
    auto out = opener.open(sealed, aad);
    if (plaintext != nullptr) *plaintext = std::move(out);
    return true;
  } catch (const crypto::UnknownKeyError&) {
    return false;
  } catch (const crypto::OpenError&) {
    return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  keys();  // a missing test key fails at once, not on the first input
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const auto flags = data[0];
  const std::size_t length = data[1];
  data += 2;
  size -= 2;
  auto& k = keys();
  const auto& opener = (flags & 2) != 0 ? *k.cached : *k.plain;
  const auto aad = take(data, size, length);

  crypto::SealedSecret sealed;
  sealed.key_id = (flags & 1) != 0 ? take(data, size, length) : opener.currentKeyId();

  if ((flags & 4) == 0) {
    sealed.ciphertext.assign(data, data + size);
    Botan::secure_vector<std::uint8_t> plaintext;
    if (opens(opener, sealed, aad, &plaintext)) {
      // Only a real seal to the test key opens: 16 bytes of tag and 32 of encapsulated key.
      FUZZ_CHECK(sealed.ciphertext.size() == plaintext.size() + crypto::hpke::kNenc + crypto::hpke::kNt);
    }
    return 0;
  }

  // Seal with an ephemeral key taken from the input (deterministic, unlike Sealer::seal).
  const auto plaintext = hydra::fuzz::text(data, size);
  Botan::secure_vector<std::uint8_t> ephemeral(crypto::hpke::kNsk, 0x5a);
  for (std::size_t i = 0; i < plaintext.size() && i < ephemeral.size(); ++i) ephemeral[i] ^= data[i];
  const auto context = crypto::detail::setupBaseS(k.public_key, ephemeral, crypto::hpke::kInfo);
  sealed.ciphertext = context.enc;
  const auto body = crypto::detail::sealAt(context, aad, plaintext, 0);
  sealed.ciphertext.insert(sealed.ciphertext.end(), body.begin(), body.end());

  Botan::secure_vector<std::uint8_t> opened;
  const bool known_key = sealed.key_id == opener.currentKeyId();
  FUZZ_CHECK(opens(opener, sealed, aad, &opened) == known_key);
  if (!known_key) return 0;
  FUZZ_CHECK(std::string(opened.begin(), opened.end()) == plaintext);
  // Any one byte changed (chosen by the plaintext's length), or another row's data: refused.
  auto tampered = sealed;
  tampered.ciphertext[plaintext.size() % tampered.ciphertext.size()] ^= 0x01;
  FUZZ_CHECK(!opens(opener, tampered, aad, nullptr));
  FUZZ_CHECK(!opens(opener, sealed, aad + "x", nullptr));
  return 0;
}
