#include "shared/http/request.hpp"

#include <strings.h>

#include <algorithm>

#include "shared/http/framing.hpp"
#include "shared/http/params.hpp"

namespace hydra::http {

// The checks themselves are in params.cpp: here only what Pistache hands over.

std::string pathUuid(const Pistache::Rest::Request& req, const char* name, Problems& problems) {
  return checkPathUuid(req.param(std::string(":") + name).as<std::string>(), name, problems);
}

std::optional<std::string> query(const Pistache::Rest::Request& req, const char* name) {
  auto raw = req.query().get(name);
  if (!raw) return std::nullopt;
  // Pistache hands over query values still percent-encoded.
  return decodeQueryValue(*raw);
}

std::optional<std::string> queryString(const Pistache::Rest::Request& req, const char* name, bool required,
                                       std::size_t max_chars, Problems& problems) {
  return checkQueryString(query(req, name), name, required, max_chars, problems);
}

std::int64_t queryInteger(const Pistache::Rest::Request& req, const char* name, std::int64_t fallback,
                          std::int64_t min, std::int64_t max, Problems& problems) {
  return checkQueryInteger(query(req, name), name, fallback, min, max, problems);
}

std::optional<std::string> queryOneOf(const Pistache::Rest::Request& req, const char* name,
                                      const std::vector<std::string>& allowed, Problems& problems) {
  return checkQueryOneOf(query(req, name), name, allowed, problems);
}

std::optional<std::string> queryUuid(const Pistache::Rest::Request& req, const char* name, Problems& problems) {
  return checkQueryUuid(query(req, name), name, problems);
}

std::optional<std::int64_t> queryTime(const Pistache::Rest::Request& req, const char* name, Problems& problems) {
  return checkQueryTime(query(req, name), name, problems);
}

std::optional<std::string> header(const Pistache::Rest::Request& req, const char* name) {
  auto raw = req.headers().tryGetRaw(name);
  if (!raw) return std::nullopt;
  return raw->value();
}

std::optional<std::string> cookie(const Pistache::Rest::Request& req, std::string_view name) {
  // The framing screen hands Cookie over renamed (framing.hpp), its lines joined with "; ".
  const auto raw = req.headers().tryGetRaw(std::string(kScreenedPrefix) + "Cookie");
  if (!raw) return std::nullopt;
  const std::string& line = raw->value();
  std::size_t at = 0;
  while (at <= line.size()) {
    auto end = line.find(';', at);
    if (end == std::string::npos) end = line.size();
    auto pair = std::string_view(line).substr(at, end - at);
    while (!pair.empty() && (pair.front() == ' ' || pair.front() == '\t')) pair.remove_prefix(1);
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      auto value = pair.substr(eq + 1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
      return std::string(value);
    }
    at = end + 1;
  }
  return std::nullopt;
}

std::vector<std::pair<std::string, std::string>> requestHeaders(const Pistache::Rest::Request& req) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [key, raw] : req.headers().rawList()) {
    std::string name = raw.name();
    if (name.size() >= kScreenedPrefix.size() &&
        strncasecmp(name.c_str(), kScreenedPrefix.data(), kScreenedPrefix.size()) == 0) {
      if (strcasecmp(name.c_str(), std::string(kScreenedQuery).c_str()) == 0) continue;
      name.erase(0, kScreenedPrefix.size());
    }
    out.emplace_back(std::move(name), raw.value());
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    const int order = strcasecmp(a.first.c_str(), b.first.c_str());
    return order != 0 ? order < 0 : a.first < b.first;
  });
  return out;
}

std::string rawQuery(const Pistache::Rest::Request& req) {
  auto raw = req.headers().tryGetRaw(std::string(kScreenedQuery));
  return raw ? raw->value() : std::string();
}

std::string pathBelow(const Pistache::Rest::Request& req, const std::string& route_prefix) {
  // As Pistache routes: runs of slashes count as one, in the template and in the path.
  std::size_t segments = 0;
  for (std::size_t i = 0; i < route_prefix.size(); ++i) {
    if (route_prefix[i] != '/' && (i == 0 || route_prefix[i - 1] == '/')) ++segments;
  }
  const std::string& path = req.resource();  // the target up to any '?', as written
  std::size_t i = 0;
  for (std::size_t seen = 0; seen < segments && i < path.size(); ++seen) {
    while (i < path.size() && path[i] == '/') ++i;
    while (i < path.size() && path[i] != '/') ++i;
  }
  return path.substr(i);
}

std::optional<std::string> bearerToken(const Pistache::Rest::Request& req) {
  return bearerTokenOf(header(req, "Authorization"));
}

}  // namespace hydra::http
