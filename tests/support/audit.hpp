#pragma once
// The real hydracore-audit for the end-to-end tests: the security team's verifier, a binary
// apart from the broker (built beside the tests unless HYDRA_TEST_AUDIT_BIN names another:
// scripts/test.sh runs it sanitized).

#include <string>
#include <vector>

#include "tests/support/control_plane.hpp"

namespace hydra::test {

std::string auditBinary();
/// hydracore-audit with `args` (at most 30 s); it needs no environment: every input is an argument.
RunResult runAudit(const std::vector<std::string>& args);

}  // namespace hydra::test
