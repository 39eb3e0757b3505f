// hydracore-audit's command line (issue 21): --help on the binary and each command, usage errors
// (exit 2, one line on stderr) before anything is read, and the broker pointing to it for the
// commands it no longer has.
#include <doctest/doctest.h>

#include <algorithm>

#include "tests/support/audit.hpp"
#include "tests/support/broker.hpp"

using namespace hydra::test;

TEST_CASE("audit cli: --help on the binary and each command exits 0 with its usage and options") {
  const auto top = runAudit({"--help"});
  CHECK(top.exit_code == 0);
  CHECK(top.out.find("usage: hydracore-audit") != std::string::npos);
  CHECK(top.out.find("-h, --help") != std::string::npos);
  const std::vector<std::pair<std::string, std::vector<std::string>>> commands{
      {"verify", {"--journal", "--database", "--proof", "--verifier-key", "--expect", "--checkpoints",
                  "--max-uncovered-seconds", "--allow-unjournaled"}},
      {"proof", {"--journal", "--seq"}},
      {"checkpoint", {"--journal", "--database", "--origin", "--verifier-key"}}};
  for (const auto& [command, options] : commands) {
    CAPTURE(command);
    CHECK(top.out.find(command) != std::string::npos);
    for (const auto* help : {"--help", "-h"}) {
      const auto run = runAudit({command, help});
      CHECK(run.exit_code == 0);
      CHECK(run.out.find("usage: hydracore-audit " + command) != std::string::npos);
      for (const auto& option : options) {
        CAPTURE(option);
        CHECK(run.out.find("\n" + option) != std::string::npos);  // a line of its own
      }
    }
  }
}

TEST_CASE("audit cli: a wrong command line exits 2 with one line saying what is wrong") {
  const auto key = testAuditKey().verifier_key;
  const std::vector<std::pair<std::vector<std::string>, std::string>> wrong{
      {{}, "a command is needed"},
      {{"frobnicate"}, "unknown command 'frobnicate'"},
      {{"verify", "--journal", "/nonexistent"}, "verify takes one of"},
      {{"verify", "--journal", "/a", "--database", "postgresql://x/y", "--verifier-key", key}, "verify takes one of"},
      {{"verify", "--journal", "/a", "--expect", "o", "--verifier-key", key},
       "--expect, --checkpoints, --max-uncovered-seconds and --allow-unjournaled go with --database"},
      {{"verify", "--database", "postgresql://x/y", "--expect", "a b", "--verifier-key", key}, "--expect takes"},
      {{"verify", "--database", "postgresql://x/y", "--max-uncovered-seconds", "soon", "--verifier-key", key},
       "--max-uncovered-seconds must be a whole number"},
      {{"verify", "--bogus"}, "unknown argument '--bogus'"},
      {{"proof", "--journal", "/a"}, "proof takes --journal DIR and --seq N"},
      {{"proof", "--journal", "/a", "--seq", "-1"}, "--seq must be a whole number"},
      {{"proof", "--journal"}, "--journal needs a value"},
      {{"checkpoint"}, "checkpoint takes one of --journal DIR and --database URL"},
      {{"checkpoint", "--journal", "/a", "--origin", "o"}, "--origin goes with --database"},
      {{"checkpoint", "--journal", "/a", "--seq", "1"}, "unknown argument '--seq'"}};
  for (const auto& [args, message] : wrong) {
    CAPTURE(message);
    const auto run = runAudit(args);
    CAPTURE(run.err);
    CHECK(run.exit_code == 2);
    CHECK(run.out.empty());
    CHECK(std::count(run.err.begin(), run.err.end(), '\n') == 1);
    CHECK(run.err.find("hydracore-audit: " + message) != std::string::npos);
  }
}

TEST_CASE("audit cli: what cannot be read fails with exit 1 naming it") {
  const auto verify = runAudit({"verify", "--journal", "/nonexistent-journal", "--verifier-key", "/nonexistent-key"});
  CHECK(verify.exit_code == 1);
  CHECK(verify.out.find("FAILED: cannot read /nonexistent-key") != std::string::npos);
  const auto checkpoint = runAudit({"checkpoint", "--journal", "/nonexistent-journal"});
  CHECK(checkpoint.exit_code == 1);
  CHECK(checkpoint.out.empty());
  CHECK(checkpoint.err.find("FAILED: /nonexistent-journal/origin is missing") != std::string::npos);
}

TEST_CASE("audit cli: the broker no longer verifies, and says where that went") {
  for (const auto* command : {"verify", "proof"}) {
    CAPTURE(command);
    const auto run = runBroker({"audit", command, "--journal", "/a", "--verifier-key", testAuditKey().verifier_key}, {});
    CHECK(run.exit_code == 2);
    CHECK(run.out.empty());
    CHECK(run.err.find("moved to hydracore-audit") != std::string::npos);
  }
  const auto help = runBroker({"--help"}, {});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("audit verify") == std::string::npos);
  CHECK(help.out.find("audit proof") == std::string::npos);
  CHECK(help.out.find("verified with hydracore-audit") != std::string::npos);
}
