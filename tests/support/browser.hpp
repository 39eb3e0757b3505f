#pragma once
// The browser tests' side in C++: node running a script of tests/browser (puppeteer-core
// driving the system's headless Chromium) against the real binaries the test started.

#include <chrono>
#include <string>
#include <vector>

#include "tests/support/control_plane.hpp"

namespace hydra::test {

/// Why no browser test can run here ("" when one can): node not on PATH, no Chromium
/// (HYDRA_CHROMIUM or /usr/bin/chromium), or tests/browser's npm packages not installed
/// (scripts/install-deps.sh installs all three).
std::string browserUnavailable();

/// Whether the running test case may go on with a browser. If not, it is skipped: the reason is
/// printed with the marker CTest reports as "Skipped" (SKIP_REGULAR_EXPRESSION in
/// tests/CMakeLists.txt); with HYDRA_REQUIRE_BROWSER=1 (scripts/test.sh, which installs one) it
/// fails instead.
bool browserAvailableOrSkip();

/// node tests/browser/<script> <args...>, HYDRA_CHROMIUM and HYDRA_SCREENSHOT_DIR passed on.
RunResult runBrowserScript(const std::string& script, const std::vector<std::string>& args,
                           std::chrono::milliseconds timeout = std::chrono::seconds(90));

}  // namespace hydra::test
