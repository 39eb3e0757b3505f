#include "shared/json/reader.hpp"

#include <algorithm>
#include <cctype>
#include <unordered_set>

#include <rapidjson/encodedstream.h>
#include <rapidjson/encodings.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

namespace hydra::json {
namespace {

using http::LocPart;
using http::Problems;
using http::ValidationError;

[[noreturn]] void refuseBody(std::vector<LocPart> loc, std::string msg, std::string type) {
  throw ValidationError({{std::move(loc), std::move(msg), std::move(type)}});
}

// PostgreSQL stores neither "\u0000" (it would silently cut a name short) nor the lone
// surrogates that RapidJSON decodes from "\udc00" escapes without complaint (the encoding
// flag checks raw bytes only).
bool storable(const rapidjson::Value& s) {
  const std::string_view text(s.GetString(), s.GetStringLength());
  return text.find('\0') == std::string_view::npos && isValidUtf8(text);
}

// RapidJSON keeps duplicate keys and its lookups return the first, so {"a":1,"a":2} would
// mean different things to us and to other parsers. We refuse them, strings PostgreSQL
// cannot store, and nesting deeper than our own walkers (and rapidjson::Writer) should recurse.
void checkStructure(const rapidjson::Value& value, int depth) {
  if (depth > kMaxDepth) refuseBody({"body"}, "JSON nesting is deeper than " + std::to_string(kMaxDepth), "json_invalid");
  constexpr const char* kUnstorable = "NUL characters and unpaired surrogates are not supported";
  if (value.IsString() && !storable(value)) refuseBody({"body"}, kUnstorable, "json_invalid");
  if (value.IsObject()) {
    std::unordered_set<std::string_view> seen;
    for (const auto& m : value.GetObject()) {
      const std::string_view key(m.name.GetString(), m.name.GetStringLength());
      if (!seen.insert(key).second) refuseBody({"body"}, "JSON object has a duplicate key", "json_invalid");
      if (!storable(m.name)) refuseBody({"body"}, kUnstorable, "json_invalid");
      checkStructure(m.value, depth + 1);
    }
  } else if (value.IsArray()) {
    for (const auto& v : value.GetArray()) checkStructure(v, depth + 1);
  }
}

// Passes a document's SAX events on, numbers as text (kParseNumbersAsStringsFlag). RapidJSON
// 1.1.0's full-precision conversion reads a zero whose decimal exponent is outside its fast path
// (0e40, -0e-23, 0.00000000000000000000000) as garbage: -2.4e229 for 0e40 in our g++ -O2 build
// (UBSan: "passing zero to clz()" in rapidjson/internal/diyfp.h; fixed upstream after 1.1.0,
// "buffer only contains zeros"). Credentials are stored as re-serialised, so a customer's 0 was
// stored as that. Here a number whose digits are all zeros is 0.0 (or -0.0), and every other
// number is converted by RapidJSON as before, with full precision.
class ZeroSafeNumbers {
 public:
  explicit ZeroSafeNumbers(rapidjson::Document& doc) : doc_(doc) {}

  bool RawNumber(const char* text, rapidjson::SizeType length, bool /*copy*/) {
    const std::string number(text, length);
    const auto exponent = number.find_first_of("eE");
    const auto significand = number.substr(0, exponent);
    if (significand.find_first_not_of("-0.") == std::string::npos &&
        (exponent != std::string::npos || significand.find('.') != std::string::npos)) {
      return doc_.Double(number[0] == '-' ? -0.0 : 0.0);
    }
    // The number alone, into the same document: Int, Uint, Int64, Uint64 or Double as before.
    rapidjson::Reader reader;
    rapidjson::StringStream in(number.c_str());
    return !reader.Parse<rapidjson::kParseFullPrecisionFlag>(in, doc_).IsError();
  }

  bool Null() { return doc_.Null(); }
  bool Bool(bool b) { return doc_.Bool(b); }
  bool Int(int i) { return doc_.Int(i); }
  bool Uint(unsigned i) { return doc_.Uint(i); }
  bool Int64(std::int64_t i) { return doc_.Int64(i); }
  bool Uint64(std::uint64_t i) { return doc_.Uint64(i); }
  bool Double(double d) { return doc_.Double(d); }
  bool String(const char* s, rapidjson::SizeType length, bool copy) { return doc_.String(s, length, copy); }
  bool StartObject() { return doc_.StartObject(); }
  bool Key(const char* s, rapidjson::SizeType length, bool copy) { return doc_.Key(s, length, copy); }
  bool EndObject(rapidjson::SizeType members) { return doc_.EndObject(members); }
  bool StartArray() { return doc_.StartArray(); }
  bool EndArray(rapidjson::SizeType elements) { return doc_.EndArray(elements); }

 private:
  rapidjson::Document& doc_;
};

}  // namespace

std::unique_ptr<rapidjson::Document> parseObject(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) refuseBody({"body"}, "Field required", "missing");

  auto doc = std::make_unique<rapidjson::Document>();
  // Iterative parsing: deep input must not exhaust the stack. Encoding validation: invalid
  // UTF-8 would otherwise be accepted and stored. Numbers as text, converted by ZeroSafeNumbers
  // (with full precision: credentials are stored as re-serialised, and 0.30000000000000004 must
  // stay that).
  rapidjson::ParseResult parsed;
  const auto parse = [&](rapidjson::Document& into) {
    ZeroSafeNumbers handler(into);
    rapidjson::Reader reader;
    rapidjson::MemoryStream bytes(body.data(), body.size());
    rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> in(bytes);
    parsed = reader.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag |
                          rapidjson::kParseNumbersAsStringsFlag>(in, handler);
    return !parsed.IsError();
  };
  doc->Populate(parse);
  if (parsed.IsError()) {
    refuseBody({"body", static_cast<int>(parsed.Offset())}, "JSON decode error", "json_invalid");
  }
  checkStructure(*doc, 0);
  if (doc->IsNull()) refuseBody({"body"}, "Field required", "missing");  // FastAPI: null body = no body
  if (!doc->IsObject()) {
    refuseBody({"body"}, "Input should be a valid dictionary or object to extract fields from",
               "model_attributes_type");
  }
  return doc;
}

std::string stringMember(const rapidjson::Value& object, const char* key) {
  const auto it = object.FindMember(key);
  if (it == object.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

bool isValidUtf8(std::string_view s) {
  struct Discard {
    void Put(char) {}
  } sink;
  rapidjson::MemoryStream in(s.data(), s.size());
  while (in.Tell() < s.size()) {
    if (!rapidjson::UTF8<>::Validate(in, sink)) return false;
  }
  return true;
}

std::size_t utf8Length(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;  // count all but continuation bytes
  return n;
}

std::optional<std::string> canonicalUuid(std::string_view s) {
  if (s.size() != 36) return std::nullopt;
  std::string out(s);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position != (out[i] == '-')) return std::nullopt;
    if (!dash_position) {
      if (!std::isxdigit(static_cast<unsigned char>(out[i]))) return std::nullopt;
      out[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[i])));
    }
  }
  return out;
}

namespace msg {
std::string tooShort(std::size_t min_chars) {
  return "String should have at least " + std::to_string(min_chars) + (min_chars == 1 ? " character" : " characters");
}
std::string tooLong(std::size_t max_chars) {
  return "String should have at most " + std::to_string(max_chars) + (max_chars == 1 ? " character" : " characters");
}
std::string oneOf(const std::vector<std::string>& allowed) {
  std::string text = "Input should be ";
  for (std::size_t i = 0; i < allowed.size(); ++i) {
    if (i > 0) text += i + 1 == allowed.size() ? " or " : ", ";
    text += "'" + allowed[i] + "'";
  }
  return text;
}
}  // namespace msg

ObjectReader::ObjectReader(const rapidjson::Value& object, std::vector<LocPart> loc, Problems& problems)
    : object_(object), loc_(std::move(loc)), problems_(problems) {}

std::vector<LocPart> ObjectReader::at(const char* key) const {
  auto loc = loc_;
  loc.emplace_back(std::string(key));
  return loc;
}

bool ObjectReader::has(const char* key) const { return object_.FindMember(key) != object_.MemberEnd(); }

const rapidjson::Value* ObjectReader::member(const char* key, bool required) {
  const auto it = object_.FindMember(key);
  // FastAPI treats an explicit null of an optional field as absent.
  if (it == object_.MemberEnd() || (!required && it->value.IsNull())) {
    if (required) problems_.add(at(key), "Field required", "missing");
    return nullptr;
  }
  return &it->value;
}

std::optional<std::string> ObjectReader::string(const char* key, bool required, std::size_t min_chars,
                                                std::size_t max_chars) {
  const auto* v = member(key, required);
  if (v == nullptr) return std::nullopt;
  if (!v->IsString()) {
    problems_.add(at(key), "Input should be a valid string", "string_type");
    return std::nullopt;
  }
  std::string s(v->GetString(), v->GetStringLength());
  const auto chars = utf8Length(s);
  if (chars < min_chars) {
    problems_.add(at(key), msg::tooShort(min_chars), "string_too_short");
    return std::nullopt;
  }
  if (chars > max_chars) {
    problems_.add(at(key), msg::tooLong(max_chars), "string_too_long");
    return std::nullopt;
  }
  return s;
}

std::optional<std::string> ObjectReader::oneOf(const char* key, const std::vector<std::string>& allowed,
                                               std::optional<std::string> fallback) {
  // A default is not a licence for null: FastAPI refuses {"auth_type": null}.
  const auto it = object_.FindMember(key);
  if (it == object_.MemberEnd() && fallback) return fallback;
  const auto* v = member(key, true);
  if (v == nullptr) return std::nullopt;
  if (v->IsString()) {
    const std::string s(v->GetString(), v->GetStringLength());
    for (const auto& a : allowed) {
      if (s == a) return s;
    }
  }
  problems_.add(at(key), msg::oneOf(allowed), "literal_error");
  return std::nullopt;
}

std::optional<std::string> ObjectReader::uuid(const char* key, bool required) {
  const auto* v = member(key, required);
  if (v == nullptr) return std::nullopt;
  if (!v->IsString()) {
    problems_.add(at(key), "UUID input should be a string, bytes or UUID object", "uuid_type");
    return std::nullopt;
  }
  auto id = canonicalUuid(std::string_view(v->GetString(), v->GetStringLength()));
  if (!id) problems_.add(at(key), "Input should be a valid UUID", "uuid_parsing");
  return id;
}

const rapidjson::Value* ObjectReader::object(const char* key, bool required) {
  const auto* v = member(key, required);
  if (v == nullptr) return nullptr;
  if (!v->IsObject()) {
    problems_.add(at(key), "Input should be a valid dictionary", "dict_type");
    return nullptr;
  }
  return v;
}

const rapidjson::Value* ObjectReader::array(const char* key, bool required) {
  const auto* v = member(key, required);
  if (v == nullptr) return nullptr;
  if (!v->IsArray()) {
    problems_.add(at(key), "Input should be a valid list", "list_type");
    return nullptr;
  }
  return v;
}

std::optional<std::vector<std::string>> ObjectReader::stringArray(const char* key, bool required) {
  const auto* v = array(key, required);
  if (v == nullptr) return std::nullopt;
  std::vector<std::string> out;
  bool ok = true;
  int index = 0;
  for (const auto& item : v->GetArray()) {
    if (item.IsString()) {
      out.emplace_back(item.GetString(), item.GetStringLength());
    } else {
      auto loc = at(key);
      loc.emplace_back(index);
      problems_.add(std::move(loc), "Input should be a valid string", "string_type");
      ok = false;
    }
    ++index;
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<std::int64_t> ObjectReader::integer(const char* key, bool required, std::int64_t min, std::int64_t max) {
  const auto* v = member(key, required);
  if (v == nullptr) return std::nullopt;
  if (!v->IsInt64()) {
    problems_.add(at(key), "Input should be a valid integer", "int_type");
    return std::nullopt;
  }
  const auto n = v->GetInt64();
  if (n < min) {
    problems_.add(at(key), "Input should be greater than or equal to " + std::to_string(min), "greater_than_equal");
    return std::nullopt;
  }
  if (n > max) {
    problems_.add(at(key), "Input should be less than or equal to " + std::to_string(max), "less_than_equal");
    return std::nullopt;
  }
  return n;
}

std::optional<bool> ObjectReader::boolean(const char* key, bool required) {
  const auto* v = member(key, required);
  if (v == nullptr) return std::nullopt;
  if (!v->IsBool()) {
    problems_.add(at(key), "Input should be a valid boolean", "bool_type");
    return std::nullopt;
  }
  return v->GetBool();
}

void ObjectReader::forbidOthers(std::initializer_list<std::string_view> known) {
  if (!object_.IsObject()) return;
  for (const auto& m : object_.GetObject()) {
    const std::string_view name(m.name.GetString(), m.name.GetStringLength());
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    auto loc = loc_;
    loc.emplace_back(std::string(name));
    problems_.add(std::move(loc), "Extra inputs are not permitted", "extra_forbidden");
  }
}

}  // namespace hydra::json
