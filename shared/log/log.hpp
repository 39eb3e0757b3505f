#pragma once
// Logging goes through Poco::Logger, one logger per area ("hydra.http", "hydra.db", ...).
// Never log request bodies, credentials, API keys, proxy keys or the Authorization header.

#include <Poco/Logger.h>

namespace hydra::log {

/// Sends every logger to stderr, one line per event with UTC time, level and area.
/// `level` is a Poco priority name ("information", "debug", ...).
void init(const std::string& level);

inline Poco::Logger& http() { return Poco::Logger::get("hydra.http"); }
inline Poco::Logger& db() { return Poco::Logger::get("hydra.db"); }
inline Poco::Logger& app() { return Poco::Logger::get("hydra.app"); }

}  // namespace hydra::log
