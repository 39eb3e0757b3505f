// Graceful shutdown (issue 9): on SIGTERM a service turns unready, stops accepting connections,
// answers every request it accepted (bounded by HYDRA_SHUTDOWN_GRACE_SECONDS), flushes the
// audit trail (broker) and exits 0. Checked under steady load from clients that open a new
// connection per request and from clients that keep theirs alive.
#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <regex>
#include <thread>

#include "tests/support/broker.hpp"
#include "tests/support/raw_http.hpp"

using namespace hydra::test;
using namespace std::chrono_literals;

namespace {

struct LoadResult {
  std::atomic<int> completed{0}, completed_after_signal{0}, refused{0};
  std::atomic<int> ready_503{0};
  std::string readiness_end;  // how the readiness poller stopped without a 503 (its thread only)
  std::mutex mutex;
  std::vector<std::string> failures;  // a request sent on an accepted connection without a complete answer

  void fail(const std::string& what) {
    std::lock_guard<std::mutex> lock(mutex);
    if (failures.size() < 20) failures.push_back(what);
  }
};

// Runs `clients` threads sending `request` (a complete HTTP/1.1 request without a Connection
// header) until the service stops accepting; half open a connection per request, half keep
// theirs. One more keeps asking /readyz on its own connection. `terminate` is called once the
// load runs; its result is returned as the service's exit code.
int underLoad(std::uint16_t port, const std::string& request, const std::function<int()>& terminate,
              LoadResult& result) {
  std::atomic<bool> signalled{false};
  std::atomic<bool> done{false};
  const auto client = [&](bool keep_alive) {
    std::unique_ptr<RawConnection> connection;
    while (!done) {
      if (!connection) {
        try {
          connection = std::make_unique<RawConnection>(port);
        } catch (const std::exception&) {
          ++result.refused;  // not accepted: the service stopped listening
          return;
        }
      }
      if (!connection->send(request)) {
        result.fail("send failed on an open connection");
        return;
      }
      const auto read = connection->readResponse(15s);
      const auto length = completeResponseLength(read.data);
      if (length == 0) {
        result.fail(std::string("no complete answer (") + (read.reset ? "reset" : read.eof ? "end of stream" : "timeout") +
                    "): " + read.data.substr(0, 100));
        return;
      }
      const auto response = parseResponse(read.data);
      if (response.status != 200) result.fail("status " + std::to_string(response.status) + ": " + response.body);
      ++result.completed;
      if (signalled) ++result.completed_after_signal;
      const bool server_closes = response.header("Connection") == "Close";
      if (!keep_alive || server_closes) {
        if (server_closes && !connection->readAll(5s).eof) result.fail("Connection: Close but the connection stayed open");
        connection.reset();
      }
    }
  };
  const auto readiness = [&] {
    try {
      RawConnection connection(port);
      std::string last = "none";
      while (!done) {
        if (!connection.send("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")) {
          result.readiness_end = "send failed after: " + last;
          return;
        }
        const auto read = connection.readResponse(10s);
        if (completeResponseLength(read.data) == 0) {
          result.readiness_end = "no complete answer after: " + last;
          return;
        }
        const auto response = parseResponse(read.data);
        if (response.status == 503 && response.body.find("shutting_down") != std::string::npos) {
          ++result.ready_503;
          return;
        }
        last = std::to_string(response.status) + " Connection: " + response.header("Connection").value_or("-") + " " + response.body;
        std::this_thread::sleep_for(20ms);
      }
      result.readiness_end = "stopped polling after: " + last;
    } catch (const std::exception& e) {
      result.readiness_end = e.what();
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) threads.emplace_back(client, i % 2 == 0);
  threads.emplace_back(readiness);
  std::this_thread::sleep_for(1500ms);
  const int before = result.completed;
  signalled = true;
  const int exit_code = terminate();
  done = true;
  for (auto& t : threads) t.join();
  CHECK(before > 0);
  return exit_code;
}

std::string get(const std::string& path, const std::string& token) {
  return "GET " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + "\r\n\r\n";
}

}  // namespace

TEST_CASE("shutdown: the control plane under load answers every request it accepted, turns unready, exits 0") {
  Stack s;
  const auto tenant = s.newTenant();
  s.createConnection(tenant, "gmail", "inbox");
  LoadResult result;
  const auto exit_code = underLoad(s.server.port(), get(tenant.path() + "/connections", tenant.api_key),
                                   [&] { return s.server.stop(); }, result);
  CHECK(exit_code == 0);
  CHECK(result.failures.empty());
  for (const auto& f : result.failures) MESSAGE(f);
  CHECK(result.refused > 0);  // it stopped accepting before it exited
  CHECK_MESSAGE(result.ready_503 == 1, result.readiness_end);
  MESSAGE("completed " << result.completed.load() << ", after SIGTERM " << result.completed_after_signal.load() << ", refused " << result.refused.load());
  CHECK(s.server.log().find("shutting down") != std::string::npos);
  CHECK(s.server.log().find("stopped") != std::string::npos);
}

TEST_CASE("shutdown: the broker under load answers every fetch it accepted, ships its audit trail, exits 0") {
  BrokerStack s;
  const auto tenant = s.newTenant();
  const auto connection = s.createConnection(tenant, "gmail", "inbox");
  const auto runtime = s.grantedRuntime(tenant, connection);
  LoadResult result;
  const auto exit_code =
      underLoad(s.broker.port(),
                get("/internal/v1/instances/" + runtime.instance_id + "/connections?provider=gmail", runtime.proxy_key),
                [&] { return s.broker.stop(); }, result);
  CHECK(exit_code == 0);
  CHECK(result.failures.empty());
  for (const auto& f : result.failures) MESSAGE(f);
  CHECK(result.refused > 0);
  CHECK_MESSAGE(result.ready_503 == 1, result.readiness_end);
  // Every answer released had its record journaled, and the last checkpoint shipped them all.
  const auto journaled = journalLines(s.broker_env.at("HYDRA_AUDIT_DIR")).size();
  CHECK(journaled >= static_cast<std::size_t>(result.completed.load()));
  CHECK(s.db.exec("SELECT count(*) FROM audit_events")[0][0].as<std::size_t>() == journaled);
}

TEST_CASE("shutdown: HYDRA_SHUTDOWN_GRACE_SECONDS bounds the wait for a client that never finishes its request") {
  TestDatabase db;
  auto env = ControlPlane::environment(db.url());
  env["HYDRA_SHUTDOWN_GRACE_SECONDS"] = "1";
  ControlPlane cp(env);
  RawConnection stalled(cp.port());
  REQUIRE(stalled.send("POST /v1/admin/customers HTTP/1.1\r\nContent-Length: 100\r\n\r\n{"));
  std::this_thread::sleep_for(200ms);
  const auto started = std::chrono::steady_clock::now();
  CHECK(cp.stop() == 0);
  CHECK(std::chrono::steady_clock::now() - started < 4s);
  CHECK(cp.log().find("after the grace period") != std::string::npos);
}
