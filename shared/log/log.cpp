#include "shared/log/log.hpp"

#include <algorithm>
#include <cstdio>

#include <Poco/AutoPtr.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Formatter.h>
#include <Poco/FormattingChannel.h>
#include <Poco/PatternFormatter.h>

namespace hydra::log {
namespace {

thread_local std::string current_request_id;

// Names of the access line's fields, carried as the message's parameters.
constexpr const char* kRequestId = "request_id";
constexpr const char* kMethod = "method";
constexpr const char* kRoute = "route";
constexpr const char* kStatus = "status";
constexpr const char* kDuration = "duration_ms";

const char* levelName(Poco::Message::Priority priority) {
  switch (priority) {
    case Poco::Message::PRIO_FATAL: return "fatal";
    case Poco::Message::PRIO_CRITICAL: return "critical";
    case Poco::Message::PRIO_ERROR: return "error";
    case Poco::Message::PRIO_WARNING: return "warning";
    case Poco::Message::PRIO_NOTICE: return "notice";
    case Poco::Message::PRIO_INFORMATION: return "information";
    case Poco::Message::PRIO_DEBUG: return "debug";
    default: return "trace";
  }
}

// One JSON object per line. Formatting runs on the thread that logs (ConsoleChannel is
// synchronous), so a line logged inside a handler finds that request's id.
class JsonFormatter : public Poco::Formatter {
 public:
  void format(const Poco::Message& msg, std::string& text) override {
    text += "{\"time\":\"" + Poco::DateTimeFormatter::format(msg.getTime(), "%Y-%m-%dT%H:%M:%S.%iZ") + "\"";
    text += ",\"level\":\"" + std::string(levelName(msg.getPriority())) + "\"";
    text += ",\"logger\":" + jsonString(msg.getSource());
    text += ",\"message\":" + jsonString(msg.getText());
    const auto& request_id = msg.has(kRequestId) ? msg.get(kRequestId) : current_request_id;
    if (!request_id.empty()) text += ",\"request_id\":" + jsonString(request_id);
    if (msg.has(kMethod)) text += ",\"method\":" + jsonString(msg.get(kMethod));
    if (msg.has(kRoute)) text += ",\"route\":" + jsonString(msg.get(kRoute));
    // Numbers we formatted ourselves (access()): written as they are.
    if (msg.has(kStatus)) text += ",\"status\":" + msg.get(kStatus);
    if (msg.has(kDuration)) text += ",\"duration_ms\":" + msg.get(kDuration);
    text += "}";
  }
};

}  // namespace

std::optional<Format> parseFormat(const std::string& name) {
  if (name == "text") return Format::kText;
  if (name == "json") return Format::kJson;
  return std::nullopt;
}

void init(const std::string& level, Format format) {
  Poco::AutoPtr<Poco::Formatter> formatter;
  if (format == Format::kJson) {
    formatter = new JsonFormatter;
  } else {
    formatter = new Poco::PatternFormatter("%Y-%m-%dT%H:%M:%S.%iZ %p %s: %t");
    formatter->setProperty("times", "UTC");
  }
  Poco::AutoPtr<Poco::FormattingChannel> channel(new Poco::FormattingChannel(formatter, new Poco::ConsoleChannel));
  Poco::Logger::root().setChannel(channel);
  Poco::Logger::setLevel("", Poco::Logger::parseLevel(level));
}

void setRequestId(const std::string& id) { current_request_id = id; }
const std::string& requestId() { return current_request_id; }

void access(Poco::Logger& logger, const Access& line) {
  char ms[32];
  std::snprintf(ms, sizeof ms, "%.1f", line.duration_ms);
  Poco::Message msg(logger.name(),
                    line.method + " " + line.route + " " + std::to_string(line.status) + " " + ms + "ms id=" +
                        line.request_id,
                    Poco::Message::PRIO_INFORMATION);
  msg.set(kRequestId, line.request_id);
  msg.set(kMethod, line.method);
  msg.set(kRoute, line.route);
  msg.set(kStatus, std::to_string(line.status));
  std::snprintf(ms, sizeof ms, "%.3f", line.duration_ms);
  msg.set(kDuration, ms);
  logger.log(msg);
}

namespace {

// Length of the valid UTF-8 sequence starting at text[i] (RFC 3629: no overlongs, no
// surrogates, at most U+10FFFF), or 0 if there is none.
std::size_t utf8Length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return n;
}

}  // namespace

std::string escape(std::string_view text, std::size_t max_bytes) {
  static const char* const kHex = "0123456789abcdef";
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::size_t n = c < 0x80 ? 1 : utf8Length(text, i);
    if (i + std::max<std::size_t>(n, 1) > max_bytes) break;
    if (c == '\\') {
      out += "\\\\";
    } else if (n == 0 || c < 0x20 || c == 0x7F) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out.append(text.substr(i, n));
    }
    i += std::max<std::size_t>(n, 1);
  }
  if (i < text.size()) out += "...";
  return out;
}

std::string jsonString(std::string_view text) {
  static const char* const kHex = "0123456789abcdef";
  std::string out = "\"";
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::size_t n = c < 0x80 ? 1 : utf8Length(text, i);
    if (n == 0) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7F) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out.append(text.substr(i, n));
    }
    i += n;
  }
  return out + "\"";
}

}  // namespace hydra::log
