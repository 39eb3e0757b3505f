// The proxied path's normaliser (broker/proxy/request_path.cpp) on any path a runtime may send:
// refused or normalised, never a crash; a normal path is its own normal form and holds nothing a
// server could read as another path.
#include "broker/proxy/request_path.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace proxy = hydra::broker::proxy;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto raw = hydra::fuzz::text(data, size);
  const auto result = proxy::normalisePath(raw);
  if (const auto* normal = std::get_if<proxy::NormalPath>(&result)) {
    const auto& path = normal->path;
    FUZZ_CHECK(!path.empty() && path.front() == '/');
    FUZZ_CHECK(path.find("//") == std::string::npos);
    FUZZ_CHECK(path.find("/./") == std::string::npos && path.find("/../") == std::string::npos);
    auto endsWith = [&](const std::string& tail) {
      return path.size() >= tail.size() && path.compare(path.size() - tail.size(), tail.size(), tail) == 0;
    };
    FUZZ_CHECK(!endsWith("/.") && !endsWith("/.."));
    FUZZ_CHECK(path.find("%2F") == std::string::npos && path.find("%5C") == std::string::npos);
    FUZZ_CHECK(path.find('\\') == std::string::npos);
    const auto again = proxy::normalisePath(path);
    FUZZ_CHECK(std::holds_alternative<proxy::NormalPath>(again) && std::get<proxy::NormalPath>(again).path == path);
  }
  return 0;
}
