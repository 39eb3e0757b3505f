#pragma once
// Text into HTML (the docs pages, the connect pages, the test provider's consent page): every
// character that could end an element, an attribute value (either quote) or an entity.

#include <string>
#include <string_view>

namespace hydra::text {

inline std::string escapeHtml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace hydra::text
