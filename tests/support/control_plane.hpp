#pragma once
// The real service binaries as child processes: for the CLI and migration tests (run to
// completion) and the end-to-end tests (`serve` on a free port). Service is what both
// binaries have in common; ControlPlane here, Broker in broker.hpp.

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace hydra::test {

/// Environment variables for a child. It also inherits ours, minus every HYDRA_* variable,
/// so that only what a test sets here configures the binary.
using Environment = std::map<std::string, std::string>;

/// `env` with every entry of `settings` added or replaced.
Environment withSettings(Environment env, const Environment& settings);

/// The binary under test and the test keys (tests/data, test-only, committed). The binaries
/// are those built beside the tests unless HYDRA_TEST_CONTROL_PLANE_BIN / HYDRA_TEST_BROKER_BIN /
/// HYDRA_TEST_AUDIT_BIN name others: scripts/test.sh runs the end-to-end suite again against the sanitizer build's.
std::string binaryUnderTest(const char* variable, const char* built);
std::string controlPlaneBinary();
std::string testDataPath(const std::string& file);

/// A random token of `chars` lower-case hex characters.
std::string randomToken(std::size_t chars);

/// A child process whose stdout and stderr are drained continuously into memory by threads
/// (a full pipe would block it). It dies with the test: SIGTERM from the destructor, and
/// PR_SET_PDEATHSIG should the test process itself die.
class ChildProcess {
 public:
  ChildProcess(const std::string& binary, const std::vector<std::string>& args, const Environment& env);
  /// hydracore-control-plane with `args`.
  ChildProcess(const std::vector<std::string>& args, const Environment& env)
      : ChildProcess(controlPlaneBinary(), args, env) {}
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  std::string out() const;
  std::string err() const;

  /// Waits until `ready(stderr so far)` is true or the child's output ends; false on timeout.
  bool waitForErr(const std::function<bool(const std::string&)>& ready, std::chrono::milliseconds timeout);

  /// The exit code (128 + signal if killed by one), or nullopt if still running after `timeout`.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running();
  /// SIGTERM, then SIGKILL after 5 s; returns the exit code.
  int terminate();
  /// SIGKILL now (a crash: nothing is cleaned up); returns the exit code.
  int kill();

 private:
  void drain(int fd, std::string& into);

  std::string binary_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::string out_, err_;
  int open_streams_ = 2;
  std::thread out_thread_, err_thread_;
};

/// The first sanitizer report (AddressSanitizer, LeakSanitizer, UndefinedBehaviorSanitizer) in
/// a process's output, from its first line on; nullopt if there is none. A ChildProcess that
/// printed one fails the running test case when it is destroyed.
std::optional<std::string> sanitizerReport(const std::string& output);

/// Runs the binary to completion (at most `timeout`, then it is killed and the test fails).
struct RunResult {
  int exit_code = -1;
  std::string out, err;
};
RunResult run(const std::string& binary, const std::vector<std::string>& args, const Environment& env,
              std::chrono::milliseconds timeout = std::chrono::seconds(30));
RunResult runControlPlane(const std::vector<std::string>& args, const Environment& env,
                          std::chrono::milliseconds timeout = std::chrono::seconds(30));

/// `<binary> serve` with `env` (which should listen on 127.0.0.1:0). Returns once the service
/// logged "<name> listening on 127.0.0.1:<port>,"; throws with its output if it does not.
class Service {
 public:
  Service(const std::string& binary, const std::string& name, const Environment& env);

  std::uint16_t port() const { return port_; }
  /// Everything the service printed so far (stdout and stderr).
  std::string log() const { return child_.out() + child_.err(); }
  bool running() { return child_.running(); }
  pid_t pid() const { return child_.pid(); }
  /// Stops it now (SIGTERM) and returns its exit code.
  int stop() { return child_.terminate(); }
  /// Kills it (SIGKILL), as a crash would; returns its exit code.
  int kill() { return child_.kill(); }

 private:
  ChildProcess child_;
  std::uint16_t port_ = 0;
};

/// Settings every ControlPlane::environment() of this test process adds (or replaces), e.g.
/// a log format for the control plane a whole Stack starts.
Environment& controlPlaneDefaults();

/// `hydracore-control-plane serve` on 127.0.0.1 with a free port, a random admin token and
/// the test broker key.
class ControlPlane : public Service {
 public:
  /// The environment `serve` gets for `database_url`; tests may change it before starting.
  static Environment environment(const std::string& database_url);

  explicit ControlPlane(const std::string& database_url);
  explicit ControlPlane(const Environment& env);

  const std::string& adminToken() const { return admin_token_; }

 private:
  std::string admin_token_;
};

}  // namespace hydra::test
