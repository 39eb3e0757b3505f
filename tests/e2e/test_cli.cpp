// The binary's command line: --help, and start-up refusing a missing or invalid setting with
// one stderr line naming it and a non-zero exit.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "tests/support/api.hpp"
#include "tests/support/broker.hpp"

using namespace hydra::test;

namespace {

/// Non-empty lines of `text`.
std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

/// A valid `serve` environment; the database is never reached before the checks fail.
Environment serveEnv() { return ControlPlane::environment("postgresql://postgres@127.0.0.1:1/none"); }

/// Runs `serve` with `env` and checks it refuses to start, naming `variable` in one line.
void checkRefused(const Environment& env, const std::string& variable) {
  const auto run = runControlPlane({"serve"}, env, std::chrono::seconds(10));
  CAPTURE(run.err);
  CHECK(run.exit_code != 0);
  const auto err_lines = lines(run.err);
  REQUIRE(err_lines.size() == 1);
  CHECK(err_lines[0].find(variable) != std::string::npos);
  CHECK(run.out.empty());
}

/// A file in a fresh temporary directory, removed with it.
struct TempFile {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("hydra-cli-" + randomToken(12));
  std::filesystem::path path = dir / "key.pem";
  explicit TempFile(const std::string& content) {
    std::filesystem::create_directories(dir);
    std::ofstream(path) << content;
  }
  ~TempFile() { std::filesystem::remove_all(dir); }
};

}  // namespace

TEST_CASE("--help prints usage for the binary and each subcommand and exits 0") {
  for (const std::vector<std::string>& args : {std::vector<std::string>{"--help"}, {"-h"}, {"serve", "--help"}}) {
    CAPTURE(args.front());
    const auto run = runControlPlane(args, {});
    CHECK(run.exit_code == 0);
    CHECK(run.out.find("usage") != std::string::npos);
    CHECK(run.out.find("migrate") != std::string::npos);
    CHECK(run.out.find("HYDRA_DATABASE_URL") != std::string::npos);
    CHECK(run.out.find("HYDRA_ADMIN_TOKEN") != std::string::npos);
    CHECK(run.out.find("HYDRA_BROKER_PUBLIC_KEY") != std::string::npos);
    CHECK(run.out.find("HYDRA_LISTEN") != std::string::npos);
  }
  const auto migrate = runControlPlane({"migrate", "--help"}, {});
  CHECK(migrate.exit_code == 0);
  CHECK(migrate.out.find("usage") != std::string::npos);
  CHECK(migrate.out.find("migrate") != std::string::npos);
  CHECK(migrate.out.find("HYDRA_DATABASE_URL") != std::string::npos);
  CHECK(migrate.out != runControlPlane({"--help"}, {}).out);  // its own text
}

TEST_CASE("an unknown argument is refused with a non-zero exit") {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"frobnicate"}, {"--frob"}, {"serve", "migrate"}, {"migrate", "extra"}}) {
    CAPTURE(args.back());
    const auto run = runControlPlane(args, serveEnv(), std::chrono::seconds(10));
    CHECK(run.exit_code != 0);
    CHECK(run.err.find(args.back()) != std::string::npos);
  }
}

TEST_CASE("serve refuses to start without each required variable") {
  for (const char* variable : {"HYDRA_DATABASE_URL", "HYDRA_ADMIN_TOKEN", "HYDRA_BROKER_PUBLIC_KEY"}) {
    CAPTURE(variable);
    auto env = serveEnv();
    env.erase(variable);
    checkRefused(env, variable);
    env[variable] = "";  // set but empty counts as missing
    checkRefused(env, variable);
  }
}

TEST_CASE("serve refuses invalid settings naming the variable") {
  const auto with = [](const std::string& variable, const std::string& value) {
    auto env = serveEnv();
    env[variable] = value;
    return env;
  };
  checkRefused(with("HYDRA_ADMIN_TOKEN", "short-token-15c"), "HYDRA_ADMIN_TOKEN");
  checkRefused(with("HYDRA_DATABASE_URL", "this is not a connection string"), "HYDRA_DATABASE_URL");
  for (const char* listen : {"nonsense", "127.0.0.1", "127.0.0.1:99999", "127.0.0.1:http", ":8080", "127.0.0.1:-1"}) {
    CAPTURE(listen);
    checkRefused(with("HYDRA_LISTEN", listen), "HYDRA_LISTEN");
  }
  checkRefused(with("HYDRA_BROKER_PUBLIC_KEY", "/nonexistent/broker.pem"), "HYDRA_BROKER_PUBLIC_KEY");
  checkRefused(with("HYDRA_BROKER_PUBLIC_KEY", std::filesystem::temp_directory_path().string()),
               "HYDRA_BROKER_PUBLIC_KEY");
  const TempFile garbage("this is not a PEM file\n");
  checkRefused(with("HYDRA_BROKER_PUBLIC_KEY", garbage.path.string()), "HYDRA_BROKER_PUBLIC_KEY");
  // A private key is PEM, but not the public key the control plane may hold.
  checkRefused(with("HYDRA_BROKER_PUBLIC_KEY", testDataPath("test-broker-private.pem")), "HYDRA_BROKER_PUBLIC_KEY");
}

TEST_CASE("serve refuses a listen host that is no address, naming HYDRA_LISTEN") {
  for (const char* listen : {"256.0.0.1:8080", "not-a-host.invalid:8080"}) {
    CAPTURE(listen);
    auto env = serveEnv();
    env["HYDRA_LISTEN"] = listen;
    checkRefused(env, "HYDRA_LISTEN");
  }
}

TEST_CASE("plain HTTP off loopback is refused by both binaries unless HYDRA_ALLOW_PLAINTEXT=1, and then logged") {
  for (const std::string listen : {"0.0.0.0:0", "[::]:0"}) {
    CAPTURE(listen);
    auto env = serveEnv();
    env["HYDRA_LISTEN"] = listen;
    checkRefused(env, "HYDRA_LISTEN");
    env["HYDRA_ALLOW_PLAINTEXT"] = "yes";
    checkRefused(env, "HYDRA_ALLOW_PLAINTEXT");
    // The broker refuses before it reads a key file.
    auto broker_env = Broker::environment("postgresql://postgres@127.0.0.1:1/none", {"/nonexistent/key.pem"});
    broker_env["HYDRA_LISTEN"] = listen;
    const auto broker = runBroker({"serve"}, broker_env, std::chrono::seconds(10));
    CAPTURE(broker.err);
    CHECK(broker.exit_code != 0);
    CHECK(lines(broker.err).size() == 1);
    CHECK(broker.err.find("HYDRA_LISTEN") != std::string::npos);
  }
  // Loopback names and addresses need no TLS.
  auto loopback = serveEnv();
  loopback["HYDRA_LISTEN"] = "localhost:0";
  ChildProcess local({"serve"}, loopback);
  CHECK(local.waitForErr([](const std::string& err) { return err.find("listening on") != std::string::npos; },
                         std::chrono::seconds(20)));
  CHECK(local.err().find("plain HTTP") == std::string::npos);

  // Allowed (TLS ends at a proxy in front): both serve, and say so.
  const Environment allowed{{"HYDRA_LISTEN", "0.0.0.0:0"}, {"HYDRA_ALLOW_PLAINTEXT", "1"}};
  BrokerStack s(allowed, allowed);
  CHECK(HttpClient(s.server.port()).request("GET", "/healthz").status == 200);
  CHECK(HttpClient(s.broker.port()).request("GET", "/healthz").status == 200);
  for (const auto& log : {s.server.log(), s.broker.log()}) {
    CHECK(log.find("serving plain HTTP on 0.0.0.0:") != std::string::npos);
    CHECK(log.find("HYDRA_ALLOW_PLAINTEXT=1") != std::string::npos);
  }
}

TEST_CASE("migrate needs only HYDRA_DATABASE_URL and fails cleanly when it cannot connect") {
  const auto missing = runControlPlane({"migrate"}, {});
  CHECK(missing.exit_code != 0);
  REQUIRE(lines(missing.err).size() == 1);
  CHECK(missing.err.find("HYDRA_DATABASE_URL") != std::string::npos);

  const auto unreachable =
      runControlPlane({"migrate"}, {{"HYDRA_DATABASE_URL", "postgresql://hydra:PASSWORD-CANARY@127.0.0.1:1/x"}});
  CHECK(unreachable.exit_code != 0);
  CHECK_FALSE(unreachable.err.empty());
  CHECK(unreachable.err.find("PASSWORD-CANARY") == std::string::npos);
}

TEST_CASE("SIGTERM stops the service cleanly") {
  TestDatabase db;
  ControlPlane server(db.url());
  CHECK(HttpClient(server.port()).request("GET", "/healthz").status == 200);
  CHECK(server.stop() == 0);
  CHECK(server.log().find("shutting down") != std::string::npos);
}
