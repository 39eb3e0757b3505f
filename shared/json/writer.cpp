#include "shared/json/writer.hpp"

#include <charconv>
#include <cmath>

namespace hydra::json {

bool ExactWriter::Double(double d) {
  if (!std::isfinite(d)) return false;  // JSON has no NaN or infinity (RapidJSON never parses one)
  char text[32];
  const auto [end, error] = std::to_chars(text, text + sizeof text, d);
  if (error != std::errc()) return false;
  return RawValue(text, static_cast<std::size_t>(end - text), rapidjson::kNumberType);
}

Writer& Writer::beginObject() { writer_.StartObject(); return *this; }
Writer& Writer::endObject() { writer_.EndObject(); return *this; }
Writer& Writer::beginArray() { writer_.StartArray(); return *this; }
Writer& Writer::endArray() { writer_.EndArray(); return *this; }

Writer& Writer::key(std::string_view name) {
  writer_.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
  return *this;
}

Writer& Writer::string(std::string_view value) {
  writer_.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  return *this;
}

Writer& Writer::integer(std::int64_t value) { writer_.Int64(value); return *this; }
Writer& Writer::null() { writer_.Null(); return *this; }
Writer& Writer::boolean(bool value) { writer_.Bool(value); return *this; }

Writer& Writer::stringOrNull(const std::optional<std::string>& value) {
  return value ? string(*value) : null();
}

Writer& Writer::integerOrNull(const std::optional<std::int64_t>& value) {
  return value ? integer(*value) : null();
}

Writer& Writer::stringsOrNull(const std::optional<std::vector<std::string>>& values) {
  return values ? strings(*values) : null();
}

Writer& Writer::strings(const std::vector<std::string>& values) {
  beginArray();
  for (const auto& v : values) string(v);
  return endArray();
}

Writer& Writer::rawOrNull(const std::optional<std::string>& json_text) {
  if (!json_text) return null();
  writer_.RawValue(json_text->data(), json_text->size(), rapidjson::kObjectType);
  return *this;
}

Writer& Writer::value(const rapidjson::Value& value) {
  value.Accept(writer_);
  return *this;
}

void setStringMember(rapidjson::Document& doc, const char* key, const std::string& value) {
  doc.EraseMember(key);
  auto& allocator = doc.GetAllocator();
  doc.AddMember(rapidjson::Value(key, allocator),
                rapidjson::Value(value.c_str(), static_cast<rapidjson::SizeType>(value.size()), allocator), allocator);
}

std::string toString(const rapidjson::Value& value) {
  Writer w;
  w.value(value);
  return w.str();
}

}  // namespace hydra::json
