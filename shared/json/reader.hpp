#pragma once
// Checked reads of request JSON. RapidJSON asserts (undefined behaviour in release builds)
// on a wrong-type Get*, so nothing outside this file touches a request document directly:
// every read checks presence and type first and records a FastAPI-shaped problem.

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "shared/http/errors.hpp"

namespace hydra::json {

/// Nesting deeper than this is refused (422): the writer and our checks recurse.
constexpr int kMaxDepth = 32;

/// Parses a request body that must be one JSON object. Throws http::ValidationError for an
/// empty body, malformed JSON, invalid UTF-8, a duplicate key, nesting beyond kMaxDepth, or a
/// value that is not an object (FastAPI: loc ["body"]).
std::unique_ptr<rapidjson::Document> parseObject(std::string_view body);

/// Reads the members of one JSON object, collecting a problem per bad member.
class ObjectReader {
 public:
  ObjectReader(const rapidjson::Value& object, std::vector<http::LocPart> loc, http::Problems& problems);

  bool has(const char* key) const;

  /// A string of min..max characters (Unicode code points, as pydantic counts).
  std::optional<std::string> string(const char* key, bool required, std::size_t min_chars,
                                    std::size_t max_chars);
  /// One of `allowed`; `fallback` when absent.
  std::optional<std::string> oneOf(const char* key, const std::vector<std::string>& allowed,
                                   std::optional<std::string> fallback);
  /// A canonical lower-case UUID.
  std::optional<std::string> uuid(const char* key, bool required);
  /// A JSON object (null counts as absent when not required).
  const rapidjson::Value* object(const char* key, bool required);
  /// An array of any values (null counts as absent when not required).
  const rapidjson::Value* array(const char* key, bool required);
  /// An array of strings (null counts as absent when not required).
  std::optional<std::vector<std::string>> stringArray(const char* key, bool required);
  std::optional<std::int64_t> integer(const char* key, bool required, std::int64_t min, std::int64_t max);
  /// true or false (null counts as absent when not required).
  std::optional<bool> boolean(const char* key, bool required);
  /// Refuses every member not in `known` (pydantic's extra="forbid"): for nested objects whose
  /// misspelt member would otherwise be ignored without a word.
  void forbidOthers(std::initializer_list<std::string_view> known);

 private:
  const rapidjson::Value* member(const char* key, bool required);
  std::vector<http::LocPart> at(const char* key) const;

  const rapidjson::Value& object_;
  std::vector<http::LocPart> loc_;
  http::Problems& problems_;
};

/// Pydantic's wording for the common problems, shared with query and path validation.
namespace msg {
std::string tooShort(std::size_t min_chars);
std::string tooLong(std::size_t max_chars);
std::string oneOf(const std::vector<std::string>& allowed);
}  // namespace msg

/// The string member `key` of a parsed object, or "" when it is absent or not a string.
std::string stringMember(const rapidjson::Value& object, const char* key);

/// Whether `s` is well-formed UTF-8 (no overlongs, no surrogates, nothing beyond U+10FFFF).
bool isValidUtf8(std::string_view s);

/// Number of Unicode code points in valid UTF-8.
std::size_t utf8Length(std::string_view s);

/// Canonical lower-case form of a UUID in its 8-4-4-4-12 hex form, or nullopt.
std::optional<std::string> canonicalUuid(std::string_view s);

}  // namespace hydra::json
