// A token endpoint's answer (RFC 6749 section 5.1/5.2), as broker/oauth/token_client.cpp reads
// it: a status and at most 64 KiB of the provider's text. The first two bytes pick the status;
// the rest is the body. Only the three documented exceptions may come out, with bounded,
// escaped messages (they go to logs and to the connection's error_message).
#include <cstring>

#include "broker/oauth/token_client.hpp"
#include "shared/json/reader.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

namespace oauth = hydra::broker::oauth;

// One safe log line (log::escape): valid UTF-8 without control characters.
bool printable(const char* text) {
  for (const char* c = text; *c != '\0'; ++c) {
    if (static_cast<unsigned char>(*c) < 0x20 || *c == 0x7f) return false;
  }
  return hydra::json::isValidUtf8(text);
}

// An error (64 bytes of input) and a description (200), each byte at worst 4 once escaped.
constexpr std::size_t kMaxWhat = 4 * (64 + 200) + 16;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2 || size > 64 * 1024 + 2) return 0;
  // Mostly the statuses that mean something (200, 400, 401), sometimes any other.
  const int statuses[] = {200, 400, 401, 429, 500, 503, 302, 204};
  const int status = data[0] < 200 ? statuses[data[0] % 8] : 100 + (data[0] * 256 + data[1]) % 500;
  const auto body = hydra::fuzz::text(data + 2, size - 2);
  try {
    const auto grant = oauth::tokenGrantFromResponse(status, body);
    FUZZ_CHECK(status == 200 && !grant.access_token.empty());
    if (grant.expires_in) FUZZ_CHECK(*grant.expires_in >= 0 && *grant.expires_in <= 10.0 * 365 * 24 * 3600);
    if (grant.refresh_token) FUZZ_CHECK(!grant.refresh_token->empty());
  } catch (const oauth::RefreshRejected& e) {
    FUZZ_CHECK(status == 400 || status == 401);
    FUZZ_CHECK(printable(e.what()) && std::strlen(e.what()) <= kMaxWhat);
  } catch (const oauth::ClientRejected& e) {
    FUZZ_CHECK(status == 400 || status == 401);
    FUZZ_CHECK(e.error != "invalid_grant");
    FUZZ_CHECK(printable(e.what()) && std::strlen(e.what()) <= kMaxWhat);
  } catch (const oauth::RefreshUnavailable& e) {
    FUZZ_CHECK(status != 400 && status != 401);
    FUZZ_CHECK(e.maybe_consumed == (status == 200));
    FUZZ_CHECK(printable(e.what()));
  }
  return 0;
}
