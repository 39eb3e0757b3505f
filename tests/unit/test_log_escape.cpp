// log::escape: text others chose (providers' errors, customers' names) in log lines and
// stored messages.
#include <doctest/doctest.h>

#include <string>

#include "shared/log/log.hpp"

using hydra::log::escape;

TEST_CASE("log::escape: line breaks and control characters cannot forge a log line") {
  CHECK(escape("invalid_grant\n2026-01-01T00:00:00Z E hydra.app: forged") ==
        "invalid_grant\\x0a2026-01-01T00:00:00Z E hydra.app: forged");
  CHECK(escape("a\rb\tc\x1b[31md\x7f") == "a\\x0db\\x09c\\x1b[31md\\x7f");
  CHECK(escape(std::string("nul\0byte", 8)) == "nul\\x00byte");
  CHECK(escape("back\\slash") == "back\\\\slash");  // so an escape in the text reads as text
  const auto escaped = escape("x\ny\r\n\v\f\x01z");
  CHECK(escaped.find_first_of(std::string("\n\r\v\f\x01", 5)) == std::string::npos);
}

TEST_CASE("log::escape: valid UTF-8 passes, invalid bytes are escaped") {
  CHECK(escape("Zoë's inbox — 東京") == "Zoë's inbox — 東京");
  CHECK(escape("bad \xff\xfe byte") == "bad \\xff\\xfe byte");
  CHECK(escape("overlong \xc0\xaf") == "overlong \\xc0\\xaf");
  CHECK(escape("surrogate \xed\xa0\x80") == "surrogate \\xed\\xa0\\x80");
  CHECK(escape("cut \xe6\x9d") == "cut \\xe6\\x9d");
}

TEST_CASE("log::escape: bounded, without splitting a character") {
  CHECK(escape(std::string(1000, 'a'), 200) == std::string(200, 'a') + "...");
  CHECK(escape("abc", 3) == "abc");
  CHECK(escape("ab東", 4) == "ab...");  // 東 is 3 bytes: it does not fit whole
  CHECK(escape("", 10).empty());
}
