#include "shared/db/timestamps.hpp"

namespace hydra::db {

std::string rfc3339(const pqxx::field& field) {
  std::string text = field.c_str();
  if (text.size() > 10 && text[10] == ' ') text[10] = 'T';
  if (text.size() > 3 && text.compare(text.size() - 3, 3, "+00") == 0) text.replace(text.size() - 3, 3, "Z");
  return text;
}

std::optional<std::string> rfc3339OrNull(const pqxx::field& field) {
  if (field.is_null()) return std::nullopt;
  return rfc3339(field);
}

std::optional<std::string> textOrNull(const pqxx::field& field) {
  if (field.is_null()) return std::nullopt;
  return std::string(field.c_str(), field.size());
}

}  // namespace hydra::db
