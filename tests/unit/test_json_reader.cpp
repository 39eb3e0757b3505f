#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "shared/json/reader.hpp"
#include "shared/json/writer.hpp"

using hydra::http::LocPart;
using hydra::http::Problems;
using hydra::http::ValidationError;
using hydra::json::ObjectReader;
using hydra::json::parseObject;

namespace {

// The single problem a body is refused with.
hydra::http::Problem refusal(const std::string& body) {
  try {
    parseObject(body);
  } catch (const ValidationError& e) {
    REQUIRE(e.problems().size() == 1);
    return e.problems()[0];
  }
  FAIL("body was accepted: " << body);
  return {};
}

std::vector<hydra::http::Problem> problemsOf(const std::string& body, void (*read)(ObjectReader&)) {
  const auto doc = parseObject(body);
  Problems problems;
  ObjectReader in(*doc, {"body"}, problems);
  read(in);
  try {
    problems.throwIfAny();
  } catch (const ValidationError& e) {
    return e.problems();
  }
  return {};
}

}  // namespace

TEST_CASE("parseObject accepts an object and refuses everything else as FastAPI does") {
  CHECK(parseObject(R"({"a": [1, {"b": null}]})")->IsObject());

  auto p = refusal("");
  CHECK(p.type == "missing");
  CHECK(p.loc == std::vector<LocPart>{"body"});

  p = refusal("{\"a\": ");
  CHECK(p.type == "json_invalid");
  CHECK(p.loc.size() == 2);

  p = refusal("[1, 2]");
  CHECK(p.type == "model_attributes_type");
  CHECK(p.loc == std::vector<LocPart>{"body"});
  CHECK(refusal("\"text\"").type == "model_attributes_type");
}

TEST_CASE("parseObject refuses duplicate keys, invalid UTF-8 and deep nesting") {
  CHECK(refusal(R"({"role": "user", "role": "admin"})").type == "json_invalid");
  CHECK(refusal(R"({"x": {"k": 1, "k": 2}})").type == "json_invalid");
  CHECK(refusal("{\"name\": \"\xff\xfe\"}").type == "json_invalid");

  const int depth = 100000;  // would overflow a recursive parser
  const std::string deep = "{\"a\":" + std::string(depth, '[') + std::string(depth, ']') + "}";
  CHECK(refusal(deep).type == "json_invalid");
  const std::string allowed = "{\"a\":" + std::string(30, '[') + std::string(30, ']') + "}";
  CHECK(parseObject(allowed)->IsObject());
}

TEST_CASE("ObjectReader reports one problem per field with pydantic's types and locations") {
  const auto problems = problemsOf(R"({"name": 5, "kind": "x", "tags": ["a", 3], "meta": [], "n": 600})", [](ObjectReader& in) {
    in.string("name", true, 1, 255);
    in.string("provider", true, 1, 50);
    in.oneOf("kind", {"oauth2", "api_key", "basic"}, std::string("oauth2"));
    in.stringArray("tags", false);
    in.object("meta", false);
    in.integer("n", false, 1, 500);
  });
  REQUIRE(problems.size() == 6);
  CHECK(problems[0].loc == std::vector<LocPart>{"body", "name"});
  CHECK(problems[0].type == "string_type");
  CHECK(problems[1].loc == std::vector<LocPart>{"body", "provider"});
  CHECK(problems[1].type == "missing");
  CHECK(problems[1].msg == "Field required");
  CHECK(problems[2].type == "literal_error");
  CHECK(problems[2].msg == "Input should be 'oauth2', 'api_key' or 'basic'");
  CHECK(problems[3].loc == std::vector<LocPart>{"body", "tags", 1});
  CHECK(problems[4].type == "dict_type");
  CHECK(problems[5].type == "less_than_equal");
}

TEST_CASE("string lengths count characters, not bytes") {
  const std::string fifty_euros = [] {
    std::string s;
    for (int i = 0; i < 50; ++i) s += "\xe2\x82\xac";  // U+20AC, 3 bytes each
    return s;
  }();
  CHECK(problemsOf("{\"p\": \"" + fifty_euros + "\"}", [](ObjectReader& in) { in.string("p", true, 1, 50); }).empty());
  const auto too_long =
      problemsOf("{\"p\": \"" + fifty_euros + "x\"}", [](ObjectReader& in) { in.string("p", true, 1, 50); });
  REQUIRE(too_long.size() == 1);
  CHECK(too_long[0].type == "string_too_long");
  CHECK(too_long[0].msg == "String should have at most 50 characters");
  const auto empty = problemsOf(R"({"p": ""})", [](ObjectReader& in) { in.string("p", true, 1, 50); });
  REQUIRE(empty.size() == 1);
  CHECK(empty[0].type == "string_too_short");
}

TEST_CASE("optional fields treat null as absent, and defaults apply") {
  const auto doc = parseObject(R"({"meta": null, "tags": null})");
  Problems problems;
  ObjectReader in(*doc, {"body"}, problems);
  CHECK(in.object("meta", false) == nullptr);
  CHECK_FALSE(in.stringArray("tags", false).has_value());
  CHECK(in.oneOf("kind", {"a", "b"}, std::string("a")) == "a");
  CHECK(problems.empty());
}

TEST_CASE("forbidOthers refuses each unknown member at its own location, and nothing known") {
  const auto problems = problemsOf(R"({"requests": 1, "burst": 5, "per_second": 2})", [](ObjectReader& in) {
    in.integer("requests", true, 1, 10);
    in.forbidOthers({"per_seconds", "requests"});
  });
  REQUIRE(problems.size() == 2);
  CHECK(problems[0].loc == std::vector<LocPart>{"body", "burst"});
  CHECK(problems[0].type == "extra_forbidden");
  CHECK(problems[0].msg == "Extra inputs are not permitted");
  CHECK(problems[1].loc == std::vector<LocPart>{"body", "per_second"});
  CHECK(problemsOf(R"({"requests": 1})", [](ObjectReader& in) {
          in.forbidOthers({"per_seconds", "requests"});
        }).empty());
}

TEST_CASE("canonicalUuid accepts the 8-4-4-4-12 form only and lower-cases it") {
  using hydra::json::canonicalUuid;
  CHECK(canonicalUuid("497F6ECA-6276-4993-BFEB-53CBBBBA6F08") == "497f6eca-6276-4993-bfeb-53cbbbba6f08");
  CHECK_FALSE(canonicalUuid("497f6eca62764993bfeb53cbbbba6f08").has_value());
  CHECK_FALSE(canonicalUuid("497f6eca-6276-4993-bfeb-53cbbbba6f0g").has_value());
  CHECK_FALSE(canonicalUuid("497f6eca-6276-4993-bfeb-53cbbbba6f0").has_value());
  CHECK_FALSE(canonicalUuid("").has_value());
}

TEST_CASE("Writer escapes strings and embeds stored JSON") {
  hydra::json::Writer w;
  w.beginObject().key("s").string("a\"b\n").key("raw").rawOrNull(std::string(R"({"x":1})"));
  w.key("none").stringOrNull(std::nullopt).key("list").strings({"a", "b"}).endObject();
  CHECK(w.str() == R"({"s":"a\"b\n","raw":{"x":1},"none":null,"list":["a","b"]})");
}

TEST_CASE("parseObject refuses NUL characters anywhere and treats a null body as missing") {
  CHECK(refusal(R"({"name": "a\u0000b"})").type == "json_invalid");
  CHECK(refusal(R"({"meta": {"k\u0000": 1}})").type == "json_invalid");
  CHECK(refusal(R"({"list": ["ok", "\u0000"]})").type == "json_invalid");
  CHECK(refusal("null").type == "missing");
}

TEST_CASE("a field with a default still refuses an explicit null") {
  const auto problems = problemsOf(R"({"kind": null})", [](ObjectReader& in) {
    CHECK_FALSE(in.oneOf("kind", {"a", "b"}, std::string("a")).has_value());
  });
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].type == "literal_error");
}

TEST_CASE("numbers survive a parse and re-serialisation exactly (credentials are stored so)") {
  const std::string body = R"({"a":0.30000000000000004,"b":1e-7,"c":-12345678901234567,"d":3599})";
  CHECK(hydra::json::toString(*parseObject(body)) == R"({"a":0.30000000000000004,"b":1e-07,"c":-12345678901234567,"d":3599})");
}

// Found by tests/fuzz/fuzz_json_request.cpp (UBSan: "passing zero to clz()" in RapidJSON's
// diyfp.h, on its input {"expirpir":9854775808,"disabe":0e40~0}): RapidJSON 1.1.0's
// full-precision parser read zeros with a large or small exponent as garbage (0e40 as
// -2.4e229), and credentials are stored as re-serialised.
TEST_CASE("zeros of any written form are zero, and other numbers are as before") {
  CHECK_THROWS_AS(parseObject(R"({"expirpir":9854775808,"disabe":0e40~0})"), ValidationError);
  const auto doc = parseObject(
      R"({"a":0e40,"b":0.00000000000000000000000,"c":-0e-40,"d":0.0e-324,"e":0,"f":-0,"g":0e22,"h":1e-400,)"
      R"("i":0.30000000000000004,"j":9854775808,"k":-1.5e300,"l":10e-330})");
  for (const char* zero : {"a", "b", "c", "d", "g", "h", "l"}) {
    CAPTURE(zero);
    REQUIRE((*doc)[zero].IsDouble());
    CHECK((*doc)[zero].GetDouble() == 0.0);
  }
  CHECK(std::signbit((*doc)["c"].GetDouble()));
  CHECK((*doc)["e"].IsInt());
  CHECK(hydra::json::toString(*doc) ==
        R"({"a":0,"b":0,"c":-0,"d":0,"e":0,"f":0,"g":0,"h":0,"i":0.30000000000000004,"j":9854775808,)"
        R"("k":-1.5e+300,"l":0})");
  // Malformed and too large numbers are still refused, at the number.
  CHECK(refusal(R"({"a":1e400})").loc == std::vector<LocPart>{"body", 5});
  CHECK(refusal(R"({"a":0e400})").type == "json_invalid");
  CHECK(refusal(R"({"a":-})").type == "json_invalid");
  CHECK(refusal(R"({"a":01})").type == "json_invalid");
}

TEST_CASE("isValidUtf8 refuses overlongs, surrogates and truncated sequences") {
  using hydra::json::isValidUtf8;
  CHECK(isValidUtf8("plain h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80"));
  CHECK_FALSE(isValidUtf8("\xff"));
  CHECK_FALSE(isValidUtf8("\xc0\xaf"));          // overlong '/'
  CHECK_FALSE(isValidUtf8("\xed\xb0\x80"));      // U+DC00, a lone surrogate
  CHECK_FALSE(isValidUtf8("\xe2\x9c"));          // truncated
  CHECK_FALSE(isValidUtf8("\xf4\x90\x80\x80"));  // beyond U+10FFFF
}
