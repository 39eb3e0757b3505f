#include "tests/support/audit.hpp"

namespace hydra::test {

std::string auditBinary() { return binaryUnderTest("HYDRA_TEST_AUDIT_BIN", HYDRA_AUDIT_BIN); }

RunResult runAudit(const std::vector<std::string>& args) {
  return run(auditBinary(), args, {}, std::chrono::seconds(30));
}

}  // namespace hydra::test
