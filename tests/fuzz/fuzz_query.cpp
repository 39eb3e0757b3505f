// Path and query parameters (shared/http/params.cpp, behind shared/http/request.cpp). The input
// is a request target ("/v1/.../<id>?provider=...&limit=..."): Pistache's own request parser
// splits it, as it does for the servers, then every parameter our routes read goes through the
// checks the handlers use. Each check gives a value or records 422 problems; nothing throws.
// The whole input is also tried raw, as an Authorization header and as one query value.
#include <strings.h>

#include <functional>
#include <limits>

#include <pistache/http.h>

#include "shared/http/params.hpp"
#include "shared/json/reader.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace http = hydra::http;

namespace {

// What the handlers (control-plane/handlers, broker/handlers/fetch.cpp) ask for.
void checkQuery(const std::function<std::optional<std::string>(const char*)>& raw) {
  const auto decoded = [&](const char* name) -> std::optional<std::string> {
    auto value = raw(name);
    if (!value) return std::nullopt;
    return http::decodeQueryValue(*value);
  };
  http::Problems problems;
  struct Param {
    const char* name;
    bool required;
    std::size_t max;
  };
  for (const auto& [name, required, max] : {Param{"provider", true, 50}, Param{"name", false, 255},
                                            Param{"capability", false, 255}}) {
    if (const auto value = http::checkQueryString(decoded(name), name, required, max, problems)) {
      FUZZ_CHECK(!value->empty() && value->find('\0') == std::string::npos && hydra::json::isValidUtf8(*value));
      FUZZ_CHECK(hydra::json::utf8Length(*value) <= max);
    }
  }
  if (const auto status = http::checkQueryOneOf(decoded("status"), "status", {"active", "expired", "error"}, problems)) {
    FUZZ_CHECK(*status == "active" || *status == "expired" || *status == "error");
  }
  const auto limit = http::checkQueryInteger(decoded("limit"), "limit", 50, 1, 500, problems);
  FUZZ_CHECK(limit >= 1 && limit <= 500);
  const auto offset =
      http::checkQueryInteger(decoded("offset"), "offset", 0, 0, std::numeric_limits<std::int32_t>::max(), problems);
  FUZZ_CHECK(offset >= 0 && offset <= std::numeric_limits<std::int32_t>::max());
  const auto before =
      http::checkQueryInteger(decoded("before"), "before", 0, 1, std::numeric_limits<std::int64_t>::max(), problems);
  FUZZ_CHECK(before >= 0);
  try {
    problems.throwIfAny();
  } catch (const http::ValidationError& e) {
    FUZZ_CHECK(!e.problems().empty());
  }
}

void checkPath(const std::string& resource) {
  http::Problems problems;
  std::size_t start = 0;
  while (start <= resource.size()) {
    const auto slash = std::min(resource.find('/', start), resource.size());
    const auto id = http::checkPathUuid(resource.substr(start, slash - start), "id", problems);
    if (!id.empty()) {
      FUZZ_CHECK(id.size() == 36 && hydra::json::canonicalUuid(id) == id);
    }
    start = slash + 1;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto target = hydra::fuzz::text(data, size);

  // As the servers see it: Pistache parses the request line, query string included.
  const std::string request = "GET " + target + " HTTP/1.1\r\nHost: h\r\n\r\n";
  Pistache::Http::RequestParser parser(request.size() + 1);
  bool parsed = false;
  try {
    parsed = parser.feed(request.data(), request.size()) && parser.parse() == Pistache::Http::Private::State::Done;
  } catch (const std::exception&) {
    parsed = false;  // Pistache answers 400 itself
  }
  if (parsed) {
    const auto& req = parser.request;
    checkPath(req.resource());
    checkQuery([&](const char* name) -> std::optional<std::string> {
      auto value = req.query().get(name);
      if (!value) return std::nullopt;
      return std::string(*value);
    });
  }

  // The whole input as one value of every parameter.
  checkQuery([&](const char*) { return std::optional<std::string>(target); });
  checkPath(target);
  if (const auto token = http::bearerTokenOf(target)) {
    FUZZ_CHECK(token->size() + 7 == target.size() && strncasecmp(target.c_str(), "bearer ", 7) == 0);
  }
  return 0;
}
