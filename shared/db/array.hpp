#pragma once
// Array statement parameters in PostgreSQL's text input form, for the `unnest($n::type[])` of a
// batch: libpqxx 6.4 passes parameters as text and has no array conversion of its own.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::db {

/// Collects the elements of one array parameter; `text()` is its literal, e.g. {"a",NULL,"b\"c"}.
/// Every element is quoted, so commas, braces, spaces and the word NULL inside one are data.
class ArrayParam {
 public:
  ArrayParam() : text_("{") {}
  ArrayParam& add(std::string_view element) {
    if (text_.size() > 1) text_ += ',';
    text_ += '"';
    for (const char c : element) {
      if (c == '"' || c == '\\') text_ += '\\';
      text_ += c;
    }
    text_ += '"';
    return *this;
  }
  ArrayParam& addOrNull(const std::optional<std::string>& element) {
    if (element) return add(std::string_view(*element));
    if (text_.size() > 1) text_ += ',';
    text_ += "NULL";
    return *this;
  }
  std::string text() const { return text_ + "}"; }

 private:
  std::string text_;
};

}  // namespace hydra::db
