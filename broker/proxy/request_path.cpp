#include "broker/proxy/request_path.hpp"

namespace hydra::broker::proxy {
namespace {

constexpr std::size_t kMaxPathBytes = 2048;

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool unreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

// What RFC 3986 allows in a path segment as it is (pchar, less '%', which is handled apart).
bool segmentCharacter(char c) {
  switch (c) {
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
    case ':':
    case '@':
      return true;
    default:
      return unreserved(c);
  }
}

}  // namespace

std::variant<NormalPath, BadPath> normalisePath(std::string_view raw) {
  if (raw.empty() || raw.front() != '/') return BadPath{"the path must start with '/'"};
  if (raw.size() > kMaxPathBytes) return BadPath{"the path is longer than 2048 bytes"};
  std::string out;
  std::string segment;  // the current segment, normalised
  auto endSegment = [&]() -> const char* {
    if (segment.empty()) return "the path has an empty segment ('//')";
    if (segment == "." || segment == "..") return "the path has a '.' or '..' segment";
    out += '/';
    out += segment;
    segment.clear();
    return nullptr;
  };
  bool first = true;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c == '/') {
      if (first) {
        first = false;
        continue;
      }
      if (const char* why = endSegment()) return BadPath{why};
      continue;
    }
    if (c == '%') {
      const int high = i + 2 < raw.size() ? hexValue(raw[i + 1]) : -1;
      const int low = high >= 0 ? hexValue(raw[i + 2]) : -1;
      if (low < 0) return BadPath{"the path has a '%' that is not a percent escape"};
      const char decoded = static_cast<char>(high * 16 + low);
      i += 2;
      if (unreserved(decoded)) {
        segment += decoded;
      } else if (decoded == '/' || decoded == '\\') {
        return BadPath{"the path has an encoded '/' or '\\'"};
      } else if (static_cast<unsigned char>(decoded) < 0x20 || decoded == 0x7f) {
        return BadPath{"the path has a control character"};
      } else {
        static const char kHex[] = "0123456789ABCDEF";
        segment += '%';
        segment += kHex[(static_cast<unsigned char>(decoded) >> 4) & 0xf];
        segment += kHex[static_cast<unsigned char>(decoded) & 0xf];
      }
      continue;
    }
    if (!segmentCharacter(c)) return BadPath{std::string("the path has a character that must be percent-encoded")};
    segment += c;
  }
  // A trailing '/' is part of the path ("/a/" and "/a" may differ); "/" alone is the root.
  if (raw.size() > 1 && raw.back() == '/') {
    out += '/';
  } else if (!segment.empty() || raw.size() > 1) {
    if (const char* why = endSegment()) return BadPath{why};
  }
  if (out.empty()) out = "/";
  return NormalPath{out};
}

}  // namespace hydra::broker::proxy
