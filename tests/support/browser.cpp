#include "tests/support/browser.hpp"

#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include <doctest/doctest.h>

namespace hydra::test {
namespace {

std::string envOr(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

bool executable(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

// The child gets no PATH lookup (execve): the first node on ours.
std::string findNode() {
  std::stringstream path(envOr("PATH", "/usr/local/bin:/usr/bin:/bin"));
  for (std::string dir; std::getline(path, dir, ':');) {
    if (!dir.empty() && executable(dir + "/node")) return dir + "/node";
  }
  return "";
}

std::string chromium() { return envOr("HYDRA_CHROMIUM", "/usr/bin/chromium"); }

}  // namespace

std::string browserUnavailable() {
  if (findNode().empty()) return "node is not on PATH (apt-get install nodejs)";
  if (!executable(chromium())) return chromium() + " is missing (apt-get install chromium, or set HYDRA_CHROMIUM)";
  const std::string package = std::string(HYDRA_BROWSER_TEST_DIR) + "/node_modules/puppeteer-core/package.json";
  if (access(package.c_str(), R_OK) != 0) {
    return "puppeteer-core is not installed (npm ci in " + std::string(HYDRA_BROWSER_TEST_DIR) + ")";
  }
  return "";
}

bool browserAvailableOrSkip() {
  const auto reason = browserUnavailable();
  if (reason.empty()) return true;
  if (envOr("HYDRA_REQUIRE_BROWSER", "0") == "1") {
    FAIL_CHECK("HYDRA_REQUIRE_BROWSER=1 but no browser test can run: " << reason);
  } else {
    MESSAGE("HYDRA-TEST-SKIPPED: no browser: " << reason << " (scripts/install-deps.sh installs it)");
  }
  return false;
}

RunResult runBrowserScript(const std::string& script, const std::vector<std::string>& args,
                           std::chrono::milliseconds timeout) {
  std::vector<std::string> argv{std::string(HYDRA_BROWSER_TEST_DIR) + "/" + script};
  argv.insert(argv.end(), args.begin(), args.end());
  // The child keeps our environment but for HYDRA_* (control_plane.hpp): these two go on.
  Environment env{{"HYDRA_CHROMIUM", chromium()}};
  if (const char* dir = std::getenv("HYDRA_SCREENSHOT_DIR")) env["HYDRA_SCREENSHOT_DIR"] = dir;
  return run(findNode(), argv, env, timeout);
}

}  // namespace hydra::test
