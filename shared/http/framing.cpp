#include "shared/http/framing.hpp"

#include <strings.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>

namespace hydra::http {
namespace {

constexpr std::size_t kMaxChunkLine = 1024;
// The methods Pistache 0.0.5 parses (HTTP_METHODS in pistache/http_defs.h).
constexpr const char* kMethods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT"};

bool isTokenChar(unsigned char c) {
  if (c <= 0x20 || c >= 0x7F) return false;
  return std::string_view("\"(),/:;<=>?@[\\]{}").find(static_cast<char>(c)) == std::string_view::npos;
}

bool isToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return isTokenChar(static_cast<unsigned char>(c)); });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Field values: never NUL, CR or LF (RFC 9110, 5.5: invalid and dangerous, a line of its own
// to some parsers); other control characters are kept, as it allows, and left to the routes.
bool isFieldValue(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) { return c == '\0' || c == '\r' || c == '\n'; });
}

std::vector<std::string_view> splitList(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const auto comma = s.find(',', start);
    out.push_back(trim(s.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start)));
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// Headers Pistache 0.0.5 parses when it reads a request (those registered in
// src/common/http_headers.cc, and Cookie and Set-Cookie, read into its cookie jar), answering a
// value its parser refuses in plain text before any route (a bad Host port or Cache-Control
// delta is even a 500 with the parser's message): handed over renamed, stored raw. Not here:
// Connection and Authorization, which routes read and Pistache parses leniently, and the
// framing headers (Content-Length, Transfer-Encoding), rewritten in canonical form.
bool parsedByPistache(std::string_view name) {
  static constexpr std::string_view kRenamed[] = {
      "Accept", "Access-Control-Allow-Origin", "Access-Control-Allow-Headers", "Access-Control-Expose-Headers",
      "Access-Control-Allow-Methods", "Allow", "Cache-Control", "Content-Encoding", "Content-Type", "Cookie", "Date",
      "Expect", "Host", "Location", "Server", "Set-Cookie", "User-Agent"};
  return std::any_of(std::begin(kRenamed), std::end(kRenamed), [&](std::string_view d) { return iequals(name, d); });
}

bool startsWithIgnoringCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// The header lines handed over, in order; a name whose repeated lines are joined into one
// keeps the place of its first line.
class HeadFields {
 public:
  void add(std::string_view line) { lines_.emplace_back(line); }

  /// Joins `value` to the line already handed over as `handed_name` (case-insensitive), or
  /// starts it here. Empty values add nothing to a list (RFC 9110, 5.6.1).
  void join(std::string handed_name, std::string_view value, std::string_view separator) {
    for (auto& j : joined_) {
      if (!iequals(j.name, handed_name)) continue;
      if (!value.empty()) {
        if (!j.value.empty()) j.value += separator;
        j.value.append(value);
      }
      return;
    }
    joined_.push_back({std::move(handed_name), std::string(value), lines_.size()});
    lines_.emplace_back();
  }

  void appendTo(std::string& out) {
    for (auto& j : joined_) lines_[j.at] = j.name + ": " + j.value;
    for (const auto& line : lines_) {
      out += line;
      out += "\r\n";
    }
  }

 private:
  struct Joined {
    std::string name, value;
    std::size_t at;
  };
  std::vector<std::string> lines_;
  std::vector<Joined> joined_;  // a few names at most: searched in order
};

}  // namespace

std::optional<FramingScreen::Refusal> FramingScreen::refuse(int status, std::string detail) {
  state_ = State::kRefused;
  head_.clear();
  line_.clear();
  current_.clear();
  return Refusal{status, std::move(detail)};
}

std::optional<FramingScreen::Refusal> FramingScreen::feed(std::string_view data, std::vector<std::string>& requests) {
  std::size_t i = 0;
  auto handOver = [&] {
    if (!current_.empty()) requests.push_back(std::move(current_));
    current_.clear();
  };
  while (i < data.size()) {
    const auto rest = data.substr(i);
    switch (state_) {
      case State::kRefused:
        return std::nullopt;  // swallowed: the connection is being closed
      case State::kHead: {
        // Empty lines before a request line are ignored (RFC 9112, 2.2).
        if (head_.empty() && (rest.front() == '\r' || rest.front() == '\n')) {
          ++i;
          continue;
        }
        const auto old = head_.size();
        head_.append(rest.data(), rest.size());
        const auto end = head_.find("\r\n\r\n", old >= 3 ? old - 3 : 0);
        if (end == std::string::npos) {
          if (head_.size() > limits_.max_head_bytes) {
            return refuse(431, "Request line and headers are larger than " +
                                   std::to_string(limits_.max_head_bytes / 1024) + " KiB");
          }
          i = data.size();
          continue;
        }
        head_.resize(end + 4);
        i += head_.size() - old;
        if (head_.size() > limits_.max_head_bytes) {
          return refuse(431, "Request line and headers are larger than " +
                                 std::to_string(limits_.max_head_bytes / 1024) + " KiB");
        }
        if (auto refusal = headDone(requests)) return refusal;
        continue;
      }
      case State::kBody: {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, rest.size()));
        current_.append(rest.data(), n);
        remaining_ -= n;
        i += n;
        if (remaining_ == 0) {
          handOver();
          state_ = State::kHead;
        }
        continue;
      }
      case State::kChunkSize:
      case State::kTrailers: {
        const auto nl = rest.find('\n');
        const auto n = nl == std::string_view::npos ? rest.size() : nl + 1;
        line_.append(rest.data(), n);
        i += n;
        if (line_.size() > kMaxChunkLine + 2) {
          return refuse(400, state_ == State::kChunkSize ? "Malformed chunked body: chunk size line too long"
                                                          : "Malformed chunked body: trailer too long");
        }
        if (nl == std::string_view::npos) continue;
        if (line_.size() < 2 || line_[line_.size() - 2] != '\r') return refuse(400, "Malformed chunked body: bare LF");
        const std::string_view line(line_.data(), line_.size() - 2);
        if (state_ == State::kTrailers) {
          trailer_bytes_ += line_.size();
          if (line.empty()) {
            state_ = State::kHead;  // the request was handed over at its last chunk
          } else if (line.find(':') == std::string_view::npos || !isFieldValue(line) ||
                     trailer_bytes_ > limits_.max_head_bytes) {
            return refuse(400, "Malformed chunked body: bad trailer");
          }
          line_.clear();
          continue;
        }
        // chunk-size [ BWS ";" chunk-ext ] CRLF; Pistache 0.0.5 knows no extensions, so it gets
        // the size alone.
        std::size_t digits = 0;
        std::uint64_t size = 0;
        while (digits < line.size() && std::isxdigit(static_cast<unsigned char>(line[digits]))) {
          if (digits == 15) return refuse(413, "Request body is larger than " + std::to_string(limits_.max_body_bytes / 1024) + " KiB");
          const char c = line[digits];
          size = size * 16 + static_cast<std::uint64_t>(std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (std::tolower(c) - 'a' + 10));
          ++digits;
        }
        const auto extension = trim(line.substr(digits));
        if (digits == 0 || (!extension.empty() && (extension.front() != ';' || !isFieldValue(extension)))) {
          return refuse(400, "Malformed chunked body: bad chunk size");
        }
        char canonical[24];
        const int written = std::snprintf(canonical, sizeof canonical, "%llx\r\n", static_cast<unsigned long long>(size));
        body_passed_ += static_cast<std::uint64_t>(written) + size + 2;
        if (body_passed_ > limits_.max_body_bytes) {
          return refuse(413, "Request body is larger than " + std::to_string(limits_.max_body_bytes / 1024) + " KiB");
        }
        current_.append(canonical, static_cast<std::size_t>(written));
        line_.clear();
        if (size == 0) {
          // Pistache's request is complete at the last chunk; the trailers are ours to read.
          handOver();
          state_ = State::kTrailers;
          trailer_bytes_ = 0;
        } else {
          state_ = State::kChunkData;
          remaining_ = size;
        }
        continue;
      }
      case State::kChunkData: {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, rest.size()));
        current_.append(rest.data(), n);
        remaining_ -= n;
        i += n;
        if (remaining_ == 0) state_ = State::kChunkDataEnd;
        continue;
      }
      case State::kChunkDataEnd: {
        const auto n = std::min<std::size_t>(2 - line_.size(), rest.size());
        line_.append(rest.data(), n);
        i += n;
        if (line_ != std::string("\r\n").substr(0, line_.size())) {
          return refuse(400, "Malformed chunked body: chunk data not followed by CRLF");
        }
        if (line_.size() == 2) {
          current_ += "\r\n";
          line_.clear();
          state_ = State::kChunkSize;
        }
        continue;
      }
    }
  }
  handOver();  // what there is of the current request
  return std::nullopt;
}

std::optional<FramingScreen::Refusal> FramingScreen::headDone(std::vector<std::string>& requests) {
  const std::string_view head(head_);
  const auto line_end = head.find("\r\n");
  const auto request_line = head.substr(0, line_end);
  const auto sp1 = request_line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : request_line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || request_line.find(' ', sp2 + 1) != std::string_view::npos) {
    return refuse(400, "Malformed request line");
  }
  const auto method = request_line.substr(0, sp1);
  const auto target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
  const auto version = request_line.substr(sp2 + 1);
  if (!isToken(method) || target.empty() ||
      !std::all_of(target.begin(), target.end(), [](char c) { return c > 0x20 && c != 0x7F; })) {
    return refuse(400, "Malformed request line");
  }
  if (version == "HTTP/1.1") {
    http10_ = false;
  } else if (version == "HTTP/1.0") {
    http10_ = true;
  } else if (version.size() == 8 && version.substr(0, 5) == "HTTP/" && std::isdigit(static_cast<unsigned char>(version[5])) &&
             version[6] == '.' && std::isdigit(static_cast<unsigned char>(version[7]))) {
    return refuse(505, "HTTP version not supported");
  } else {
    return refuse(400, "Malformed request line");
  }
  if (std::none_of(std::begin(kMethods), std::end(kMethods), [&](const char* m) { return method == m; })) {
    return refuse(501, "Method not implemented");
  }

  // What Pistache gets of the head: the request line, the headers (some renamed), the framing
  // headers in canonical form, and the query string.
  HeadFields fields;
  std::optional<std::uint64_t> content_length;
  bool content_length_too_large = false;
  std::vector<std::string_view> transfer_codings;
  bool has_transfer_encoding = false;
  bool has_authorization = false;
  bool has_api_key = false;
  std::size_t lines = 0;
  for (auto pos = line_end + 2; pos < head.size() - 2;) {
    const auto end = head.find("\r\n", pos);
    const auto line = head.substr(pos, end - pos);
    pos = end + 2;
    if (++lines > limits_.max_header_lines) return refuse(431, "Too many header fields");
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || !isToken(line.substr(0, colon))) {
      // Also a line folded onto the previous one (obs-fold) and whitespace before the colon.
      return refuse(400, "Malformed header field");
    }
    const auto name = line.substr(0, colon);
    const auto value = trim(line.substr(colon + 1));
    if (!isFieldValue(value)) return refuse(400, "Malformed header field");
    if (startsWithIgnoringCase(name, kScreenedPrefix)) {
      // Routes trust these names to hold what the screen renamed.
      return refuse(400, "Reserved header field: " + std::string(name));
    }
    if (iequals(name, "Content-Length")) {
      for (const auto item : splitList(value)) {
        if (item.empty() || !std::all_of(item.begin(), item.end(), [](char c) { return c >= '0' && c <= '9'; })) {
          return refuse(400, "Malformed Content-Length");
        }
        auto digits = item;
        while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
        std::uint64_t n = 0;
        if (digits.size() > 18) {
          n = UINT64_MAX;  // beyond any limit; equal copies are still checked as text below
        } else {
          for (const char c : digits) n = n * 10 + static_cast<std::uint64_t>(c - '0');
        }
        if (content_length && *content_length != n) return refuse(400, "Conflicting Content-Length values");
        content_length = n;
        content_length_too_large = n > limits_.max_body_bytes;
      }
    } else if (iequals(name, "Transfer-Encoding")) {
      has_transfer_encoding = true;
      for (const auto item : splitList(value)) transfer_codings.push_back(item);
    } else if (iequals(name, "X-Forwarded-For")) {
      // Pistache keeps the first line of a name and drops the others, and a proxy appends its
      // own line after those the client wrote: read alone, the first would let the client pick
      // its address. Repeated lines of a list are one list, in order (RFC 9110, 5.3).
      fields.join("X-Forwarded-For", value, ", ");
    } else if (iequals(name, "Authorization") || iequals(name, "X-Api-Key")) {
      // One credential per request: of two, Pistache would read the first and a proxy or log
      // in front of us perhaps the other.
      const bool authorization = iequals(name, "Authorization");
      auto& seen = authorization ? has_authorization : has_api_key;
      if (seen) return refuse(400, authorization ? "Repeated Authorization header" : "Repeated X-Api-Key header");
      seen = true;
      fields.add(line);
    } else if (parsedByPistache(name)) {
      // Cookie lines are joined with "; " (RFC 6265, 5.4), lists with ", " (RFC 9110, 5.3); a
      // repeated singleton (Content-Type) becomes a value its reader refuses, never a choice.
      fields.join(std::string(kScreenedPrefix) + std::string(name), value, iequals(name, "Cookie") ? "; " : ", ");
    } else {
      fields.add(line);
    }
  }

  bool chunked = false;
  if (has_transfer_encoding) {
    if (http10_) return refuse(400, "Transfer-Encoding is not allowed in HTTP/1.0");
    if (content_length) return refuse(400, "Both Content-Length and Transfer-Encoding");
    const bool empty_item = std::any_of(transfer_codings.begin(), transfer_codings.end(),
                                        [](std::string_view t) { return t.empty(); });
    if (empty_item || !iequals(transfer_codings.back(), "chunked")) {
      return refuse(400, "Malformed Transfer-Encoding: chunked must be the last coding");
    }
    if (transfer_codings.size() != 1) return refuse(501, "Only the chunked transfer coding is supported");
    chunked = true;
  }
  if (content_length_too_large) {
    return refuse(413, "Request body is larger than " + std::to_string(limits_.max_body_bytes / 1024) + " KiB");
  }

  std::string kept(request_line);
  kept += "\r\n";
  fields.appendTo(kept);
  if (content_length) kept += "Content-Length: " + std::to_string(*content_length) + "\r\n";
  if (chunked) kept += "Transfer-Encoding: chunked\r\n";
  // The target's query as written: what follows the first '?' (a fragment a client should not
  // send would be part of it, as Pistache reads it; the characters were checked above).
  if (const auto question = target.find('?'); question != std::string_view::npos && question + 1 < target.size()) {
    kept.append(kScreenedQuery).append(": ").append(target.substr(question + 1)) += "\r\n";
  }
  current_ += kept + "\r\n";
  head_.clear();
  if (chunked) {
    state_ = State::kChunkSize;
    body_passed_ = 0;
    line_.clear();
  } else if (content_length && *content_length > 0) {
    state_ = State::kBody;
    remaining_ = *content_length;
  } else {
    requests.push_back(std::move(current_));
    current_.clear();
    state_ = State::kHead;
  }
  return std::nullopt;
}

}  // namespace hydra::http
