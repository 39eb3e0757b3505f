#pragma once
// Building response JSON. A thin layer over rapidjson::Writer that adds what our models
// need: nullable fields, string arrays and JSON that PostgreSQL already produced.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace hydra::json {

/// RapidJSON 1.1's Writer prints some doubles one unit in the last place off
/// (0.30000000000000004 comes out as ...07): a credential must come back exactly as stored,
/// so doubles are printed as the shortest text that reads back as the same double.
class ExactWriter : public rapidjson::Writer<rapidjson::StringBuffer> {
 public:
  using rapidjson::Writer<rapidjson::StringBuffer>::Writer;
  bool Double(double d);  // hides the base's: Value::Accept calls it through this type
};

class Writer {
 public:
  Writer& beginObject();
  Writer& endObject();
  Writer& beginArray();
  Writer& endArray();
  Writer& key(std::string_view name);

  Writer& string(std::string_view value);
  Writer& integer(std::int64_t value);
  Writer& null();
  Writer& boolean(bool value);
  Writer& stringOrNull(const std::optional<std::string>& value);
  Writer& integerOrNull(const std::optional<std::int64_t>& value);
  Writer& strings(const std::vector<std::string>& values);
  Writer& stringsOrNull(const std::optional<std::vector<std::string>>& values);
  /// Inserts text that is already valid JSON (e.g. a jsonb column), or null.
  Writer& rawOrNull(const std::optional<std::string>& json_text);
  /// Copies a parsed value.
  Writer& value(const rapidjson::Value& value);

  /// The JSON text written so far.
  std::string str() const { return {buffer_.GetString(), buffer_.GetSize()}; }

 private:
  rapidjson::StringBuffer buffer_;
  ExactWriter writer_{buffer_};
};

/// Replaces (or adds, at the end) the string member `key` of a document.
void setStringMember(rapidjson::Document& doc, const char* key, const std::string& value);

/// Serialises one parsed value (e.g. the credentials object before it is encrypted).
std::string toString(const rapidjson::Value& value);

}  // namespace hydra::json
