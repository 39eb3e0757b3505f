#pragma once
// Logging goes through Poco::Logger, one logger per area ("hydra.http", "hydra.db", ...).
// Never log request bodies, credentials, API keys, proxy keys or the Authorization header.

#include <cstddef>
#include <string>
#include <string_view>

#include <Poco/Logger.h>

namespace hydra::log {

/// Sends every logger to stderr, one line per event with UTC time, level and area.
/// `level` is a Poco priority name ("information", "debug", ...).
void init(const std::string& level);

/// `text` made safe for one log line or a stored message: text that others chose (a provider's
/// error, a customer's names) could otherwise forge log lines or flood them. Control
/// characters (line breaks above all), DEL, backslash and invalid UTF-8 bytes become \xNN
/// (backslash as \\); valid UTF-8 passes. At most `max_bytes` bytes of the input are
/// kept, never splitting a character, and "..." marks a cut.
std::string escape(std::string_view text, std::size_t max_bytes = 200);

inline Poco::Logger& http() { return Poco::Logger::get("hydra.http"); }
inline Poco::Logger& db() { return Poco::Logger::get("hydra.db"); }
inline Poco::Logger& app() { return Poco::Logger::get("hydra.app"); }

}  // namespace hydra::log
