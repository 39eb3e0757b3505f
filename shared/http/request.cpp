#include "shared/http/request.hpp"

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

std::optional<std::string> header(const Pistache::Rest::Request& req, const char* name) {
  auto raw = req.headers().tryGetRaw(name);
  if (!raw) return std::nullopt;
  return raw->value();
}

std::optional<std::string> bearerToken(const Pistache::Rest::Request& req) {
  return bearerTokenOf(header(req, "Authorization"));
}

}  // namespace hydra::http
