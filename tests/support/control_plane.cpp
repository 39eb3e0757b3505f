#include "tests/support/control_plane.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <random>
#include <regex>
#include <stdexcept>

#include <doctest/doctest.h>

extern char** environ;

namespace hydra::test {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> childEnvironment(const Environment& env) {
  std::vector<std::string> out;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    if (entry.rfind("HYDRA_", 0) != 0) out.push_back(entry);
  }
  for (const auto& [name, value] : env) out.push_back(name + "=" + value);
  return out;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

Environment withSettings(Environment env, const Environment& settings) {
  for (const auto& [name, value] : settings) env[name] = value;
  return env;
}

std::string binaryUnderTest(const char* variable, const char* built) {
  const char* other = std::getenv(variable);
  return other != nullptr && *other != '\0' ? other : built;
}

std::string controlPlaneBinary() { return binaryUnderTest("HYDRA_TEST_CONTROL_PLANE_BIN", HYDRA_CONTROL_PLANE_BIN); }
std::string testDataPath(const std::string& file) { return std::string(HYDRA_TEST_DATA_DIR) + "/" + file; }

std::string randomToken(std::size_t chars) {
  std::random_device rd;
  std::string out;
  while (out.size() < chars) out += "0123456789abcdef"[rd() % 16];
  return out;
}

ChildProcess::ChildProcess(const std::string& binary, const std::vector<std::string>& args, const Environment& env) {
  // Everything the child needs is prepared before fork: after it, only async-signal-safe calls.
  binary_ = binary;
  std::vector<std::string> argv_strings{binary};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  auto env_strings = childEnvironment(env);
  auto argv = pointers(argv_strings);
  auto envp = pointers(env_strings);
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  const int dev_null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t parent = getpid();

  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test
    if (getppid() != parent) _exit(127);
    dup2(dev_null, 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(dev_null);
  close(out_pipe[1]);
  close(err_pipe[1]);
  out_thread_ = std::thread([this, fd = out_pipe[0]] { drain(fd, out_); });
  err_thread_ = std::thread([this, fd = err_pipe[0]] { drain(fd, err_); });
}

ChildProcess::~ChildProcess() {
  terminate();
  if (out_thread_.joinable()) out_thread_.join();
  if (err_thread_.joinable()) err_thread_.join();
  // In the sanitizer build (scripts/test.sh) a child's report fails the test that started it,
  // even when the test never looked at the child again or the report came at its exit.
  if (const auto report = sanitizerReport(err_)) {
    const std::string message =
        "sanitizer report from " + binary_ + " (pid " + std::to_string(pid_) + "):\n" + *report;
    FAIL_CHECK(message);
  }
}

std::optional<std::string> sanitizerReport(const std::string& output) {
  static const std::regex kReport(R"((ERROR|SUMMARY): (Address|Leak|UndefinedBehavior|Thread|Memory)Sanitizer)");
  std::smatch match;
  if (!std::regex_search(output, match, kReport)) return std::nullopt;
  // From the start of that line: the report and whatever followed it (usually nothing).
  const auto line = output.rfind('\n', static_cast<std::size_t>(match.position(0)));
  constexpr std::size_t kMaxReport = 16 * 1024;
  return output.substr(line == std::string::npos ? 0 : line + 1, kMaxReport);
}

void ChildProcess::drain(int fd, std::string& into) {
  char buffer[4096];
  for (;;) {
    const auto n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    std::lock_guard<std::mutex> lock(mutex_);
    into.append(buffer, static_cast<std::size_t>(n));
    changed_.notify_all();
  }
  close(fd);
  std::lock_guard<std::mutex> lock(mutex_);
  --open_streams_;
  changed_.notify_all();
}

std::string ChildProcess::out() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return out_;
}

std::string ChildProcess::err() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return err_;
}

bool ChildProcess::waitForErr(const std::function<bool(const std::string&)>& ready, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait_for(lock, timeout, [&] { return ready(err_) || open_streams_ == 0; });
  return ready(err_);
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!exit_code_) {
    int status = 0;
    const pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      // The pipes close with the child: collect the rest of its output.
      if (out_thread_.joinable()) out_thread_.join();
      if (err_thread_.joinable()) err_thread_.join();
      break;
    }
    if (done < 0) throw std::runtime_error("waitpid failed");
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(5ms);
  }
  return exit_code_;
}

bool ChildProcess::running() { return !wait(0ms); }

int ChildProcess::terminate() {
  if (pid_ <= 0) return -1;
  if (!exit_code_) {
    ::kill(pid_, SIGTERM);
    if (!wait(5s)) {
      ::kill(pid_, SIGKILL);
      wait(60s);
    }
  }
  return *exit_code_;
}

int ChildProcess::kill() {
  if (pid_ <= 0) return -1;
  if (!exit_code_) {
    ::kill(pid_, SIGKILL);
    wait(60s);
  }
  return *exit_code_;
}

RunResult run(const std::string& binary, const std::vector<std::string>& args, const Environment& env,
              std::chrono::milliseconds timeout) {
  ChildProcess child(binary, args, env);
  const auto code = child.wait(timeout);
  if (!code) {
    child.terminate();
    throw std::runtime_error(binary + " did not exit within the timeout; stderr: " + child.err());
  }
  return {*code, child.out(), child.err()};
}

RunResult runControlPlane(const std::vector<std::string>& args, const Environment& env,
                          std::chrono::milliseconds timeout) {
  return run(controlPlaneBinary(), args, env, timeout);
}

Service::Service(const std::string& binary, const std::string& name, const Environment& env)
    : child_(binary, {"serve"}, env) {
  const std::regex listening(name + R"( listening on (?:127\.0\.0\.1|0\.0\.0\.0|\[::1?\]):(\d+),)");
  std::string port;
  const auto listens = [&](const std::string& err) {
    std::smatch match;
    if (!std::regex_search(err, match, listening)) return false;
    port = match[1].str();
    return true;
  };
  if (!child_.waitForErr(listens, 10s)) {
    child_.terminate();
    throw std::runtime_error(binary + " serve did not start; its output:\n" + log());
  }
  port_ = static_cast<std::uint16_t>(std::stoi(port));
}

Environment& controlPlaneDefaults() {
  static Environment defaults;
  return defaults;
}

Environment ControlPlane::environment(const std::string& database_url) {
  Environment env{
      {"HYDRA_DATABASE_URL", database_url},
      {"HYDRA_LISTEN", "127.0.0.1:0"},
      {"HYDRA_ADMIN_TOKEN", randomToken(32)},
      {"HYDRA_BROKER_PUBLIC_KEY", testDataPath("test-broker-public.pem")},
      // Tests make many failing requests from one address on purpose; the throttle's own
      // test sets a small burst.
      {"HYDRA_AUTH_FAILURE_BURST", "100000"},
  };
  for (const auto& [name, value] : controlPlaneDefaults()) env[name] = value;
  return env;
}

ControlPlane::ControlPlane(const std::string& database_url) : ControlPlane(environment(database_url)) {}

ControlPlane::ControlPlane(const Environment& env)
    : Service(controlPlaneBinary(), "control plane", env),
      admin_token_(env.count("HYDRA_ADMIN_TOKEN") != 0 ? env.at("HYDRA_ADMIN_TOKEN") : "") {}

}  // namespace hydra::test
