#pragma once
// Logging goes through Poco::Logger, one logger per area ("hydra.http", "hydra.db", ...).
// Never log request bodies, credentials, API keys, proxy keys or the Authorization header.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <Poco/Logger.h>

namespace hydra::log {

/// HYDRA_LOG_FORMAT: `text` (one readable line per event, the default) or `json` (one JSON
/// object per line: time, level, logger, message, and request_id, method, route, status and
/// duration_ms where the line belongs to a request).
enum class Format { kText, kJson };
std::optional<Format> parseFormat(const std::string& name);

/// Sends every logger to stderr, one line per event with UTC time, level and area.
/// `level` is a Poco priority name ("information", "debug", ...).
void init(const std::string& level, Format format = Format::kText);

/// The request this thread is working for ("" when none): the HTTP layer sets it while a
/// handler runs, and JSON lines logged meanwhile carry it as request_id.
void setRequestId(const std::string& id);
const std::string& requestId();

/// The one access line of a request: "GET /v1/x/:id 200 1.2ms id=<request id>" in text, the
/// same fields as members in JSON. The route is the template, never the concrete path.
struct Access {
  std::string request_id, method, route;
  int status = 0;
  double duration_ms = 0;
};
void access(Poco::Logger& logger, const Access& line);

/// `text` made safe for one log line or a stored message: text that others chose (a provider's
/// error, a customer's names) could otherwise forge log lines or flood them. Control
/// characters (line breaks above all), DEL, backslash and invalid UTF-8 bytes become \xNN
/// (backslash as \\); valid UTF-8 passes. At most `max_bytes` bytes of the input are
/// kept, never splitting a character, and "..." marks a cut.
std::string escape(std::string_view text, std::size_t max_bytes = 200);

/// `text` as a JSON string literal, quotes included; invalid UTF-8 becomes U+FFFD.
std::string jsonString(std::string_view text);

inline Poco::Logger& http() { return Poco::Logger::get("hydra.http"); }
inline Poco::Logger& db() { return Poco::Logger::get("hydra.db"); }
inline Poco::Logger& app() { return Poco::Logger::get("hydra.app"); }

}  // namespace hydra::log
