// Both binaries make themselves non-dumpable (issue 18): no core file, and no other process of
// the user running them may read their memory or environment. The kernel shows it: the
// /proc/<pid> files of a non-dumpable process belong to root, not to the user it runs as.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "tests/support/broker.hpp"
#include "tests/support/pg.hpp"

using namespace hydra::test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// As root, /proc files belong to root whatever the process's state: the binaries then run as
// this user, through setpriv.
constexpr uid_t kUnprivileged = 65534;

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

/// The effective uid of `pid` (the second number of the Uid: line of /proc/<pid>/status).
uid_t effectiveUid(pid_t pid) {
  std::istringstream status(readFile("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("Uid:", 0) != 0) continue;
    std::istringstream numbers(line.substr(4));
    uid_t real = 0, effective = 0;
    numbers >> real >> effective;
    return effective;
  }
  FAIL("no Uid line for pid " << pid);
  return 0;
}

uid_t ownerOf(const std::string& path) {
  struct stat info {};
  REQUIRE(stat(path.c_str(), &info) == 0);
  return info.st_uid;
}

/// `binary` with `args`, as kUnprivileged when we are root.
std::unique_ptr<ChildProcess> start(const std::string& binary, const std::vector<std::string>& args,
                                    const Environment& env) {
  if (geteuid() != 0) return std::make_unique<ChildProcess>(binary, args, env);
  const auto id = std::to_string(kUnprivileged);
  std::vector<std::string> wrapped{"--reuid=" + id, "--regid=" + id, "--clear-groups", binary};
  wrapped.insert(wrapped.end(), args.begin(), args.end());
  return std::make_unique<ChildProcess>("/usr/bin/setpriv", wrapped, env);
}

void checkNonDumpable(ChildProcess& child) {
  const auto listening = [](const std::string& err) { return err.find(" listening on ") != std::string::npos; };
  REQUIRE_MESSAGE(child.waitForErr(listening, 30s), child.err());
  const auto proc = "/proc/" + std::to_string(child.pid());
  const auto uid = effectiveUid(child.pid());
  REQUIRE(uid != 0);
  // Non-dumpable: owned by root. A dumpable process's files belong to its own user.
  CHECK(ownerOf(proc + "/environ") == 0);
  CHECK(ownerOf(proc + "/mem") == 0);
  // And no core file.
  const auto limits = readFile(proc + "/limits");
  const auto core = limits.find("Max core file size");
  REQUIRE(core != std::string::npos);
  std::istringstream line(limits.substr(core + std::string("Max core file size").size()));
  std::string soft, hard;
  line >> soft >> hard;
  CHECK(soft == "0");
  CHECK(hard == "0");
}

/// A copy of `file` in `dir`: the user the binaries run as may not reach the originals (a
/// checkout under /root, say).
std::string copyInto(const TempDir& dir, const std::string& file) {
  const auto copy = dir.path(fs::path(file).filename().string());
  fs::copy_file(file, copy);
  return copy;
}

/// Gives `path` and everything under it to kUnprivileged (when we are root).
void handOver(const fs::path& path) {
  if (geteuid() != 0) return;
  REQUIRE(chown(path.c_str(), kUnprivileged, kUnprivileged) == 0);
  if (!fs::is_directory(path)) return;
  for (const auto& entry : fs::recursive_directory_iterator(path)) {
    REQUIRE(chown(entry.path().c_str(), kUnprivileged, kUnprivileged) == 0);
  }
}

}  // namespace

TEST_CASE("non-dumpable: the control plane's /proc files belong to root, not to the user it runs as") {
  TestDatabase db;
  const TempDir dir;
  const auto binary = copyInto(dir, controlPlaneBinary());
  auto env = ControlPlane::environment(db.url());
  env["HYDRA_BROKER_PUBLIC_KEY"] = copyInto(dir, env.at("HYDRA_BROKER_PUBLIC_KEY"));
  handOver(fs::path(dir.path("x")).parent_path());
  const auto server = start(binary, {"serve"}, env);
  checkNonDumpable(*server);
}

TEST_CASE("non-dumpable: the broker's /proc files belong to root, not to the user it runs as") {
  TestDatabase db;
  const TempDir dir;
  const auto binary = copyInto(dir, brokerBinary());
  const auto keys = testKeyFiles(dir);
  const auto signing_key = dir.path("audit-signing.pem");
  fs::copy_file(testAuditKey().signing_key, signing_key);
  fs::create_directories(dir.path("audit"));
  fs::permissions(dir.path("audit"), fs::perms::owner_all);
  handOver(fs::path(dir.path("x")).parent_path());
  auto env = Broker::environment(db.url(), {keys.private_key});
  env["HYDRA_AUDIT_SIGNING_KEY"] = signing_key;
  env["HYDRA_AUDIT_DIR"] = dir.path("audit");
  const auto broker = start(binary, {"serve"}, env);
  checkNonDumpable(*broker);
}
