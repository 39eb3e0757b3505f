#include "shared/docs/assets.hpp"

#include <map>
#include <stdexcept>

namespace hydra::docs {
namespace {

struct Index {
  std::map<std::string, Asset, std::less<>> by_served_name;
  std::map<std::string, std::string, std::less<>> served_names;
};

const Index& index() {
  static const Index built = [] {
    Index out;
    for (const auto& file : embeddedFiles()) {
      const std::string_view body(file.begin, static_cast<std::size_t>(file.end - file.begin));
      out.by_served_name.emplace(file.served_name, Asset{contentTypeOf(file.served_name), body});
      out.served_names.emplace(file.name, file.served_name);
    }
    return out;
  }();
  return built;
}

bool endsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

const Asset* assetServedAs(std::string_view served_name) {
  const auto& assets = index().by_served_name;
  const auto it = assets.find(served_name);
  return it == assets.end() ? nullptr : &it->second;
}

const std::string& servedName(std::string_view name) {
  const auto& names = index().served_names;
  const auto it = names.find(name);
  if (it == names.end()) throw std::logic_error("no docs asset named " + std::string(name));
  return it->second;
}

std::string_view contentTypeOf(std::string_view file_name) {
  // text/javascript: what the HTML standard and RFC 9239 name for JavaScript.
  if (endsWith(file_name, ".js")) return "text/javascript; charset=utf-8";
  if (endsWith(file_name, ".css")) return "text/css; charset=utf-8";
  if (endsWith(file_name, ".txt")) return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

}  // namespace hydra::docs
