// The control plane's revocation wait (issue 18, points 2 and 10): a narrowing change answers B
// (HYDRA_AUTHZ_STALENESS_MS) after its database work, without holding a server thread meanwhile,
// and every answer of such a route waits - a second revoke's 404 included - since brokers may
// serve from memory for up to B after the change.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/broker.hpp"

using namespace hydra::test;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kStaleness = std::chrono::milliseconds(1000);  // sleeping threads would stall visibly
const Environment kSettings{{"HYDRA_AUTHZ_STALENESS_MS", "1000"}};

double millisecondsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

/// The 99th percentile of 100 reads of `tenant`'s connections, in ms (the second slowest).
double readP99(const Stack& s, const Tenant& tenant) {
  std::vector<double> latencies;
  const auto started = Clock::now();
  while (latencies.size() < 100 && Clock::now() - started < std::chrono::seconds(10)) {
    const auto start = Clock::now();
    const auto r = s.as(tenant, "GET", tenant.path() + "/connections");
    latencies.push_back(millisecondsSince(start));
    if (r.status != 200) throw std::runtime_error("read answered " + std::to_string(r.status));
  }
  std::sort(latencies.begin(), latencies.end());
  return latencies.size() < 100 ? latencies.back() : latencies[98];
}

}  // namespace

TEST_CASE(
    "revocation wait: a flood of narrowing PATCHes from one customer does not slow another's reads, "
    "and is bounded (429 before the change)") {
  Stack s("", kSettings);  // 4 server threads (the default)
  const auto flooder = s.newTenant("flooder");
  const auto connection = s.createConnection(flooder, "gmail", "inbox");
  const auto instance = s.createInstance(flooder);
  const auto grant = s.createGrant(flooder, connection, instance, R"(["send_mail","read_mail"])");
  const auto grant_path = flooder.path() + "/connections/" + connection + "/grants/" + grant;
  const auto reader = s.newTenant("reader");
  s.createConnection(reader, "slack", "team");

  // The machine may be busy with other tests: what the flood may add is measured against reads
  // without it (a few ms on an idle machine; with sleeping server threads it is seconds).
  const auto baseline_p99 = readP99(s, reader);

  std::atomic<bool> flooding{true};
  std::atomic<int> done{0}, refused{0}, other{0};
  std::mutex refusal_mutex;
  Response a_refusal;
  std::vector<std::thread> flood;
  for (int i = 0; i < 24; ++i) {
    flood.emplace_back([&] {
      while (flooding) {
        // Narrows (a no-op after the first, which still waits: it may race a wider change).
        const auto r = s.as(flooder, "PATCH", grant_path, R"({"capabilities":["send_mail"]})");
        if (r.status == 200) {
          ++done;
        } else if (r.status == 429) {
          ++refused;
          {
            std::lock_guard<std::mutex> lock(refusal_mutex);
            a_refusal.status = r.status;
            a_refusal.body = r.body;
            a_refusal.headers = r.headers;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(200));  // a client that backs off a little
        } else {
          ++other;
        }
      }
    });
  }

  // Once the flood has filled its places, another customer's reads are served at once.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto flooded_p99 = readP99(s, reader);
  flooding = false;
  for (auto& t : flood) t.join();

  CAPTURE(baseline_p99);
  CHECK(flooded_p99 < baseline_p99 + 50.0);
  CHECK(other.load() == 0);
  CHECK(done.load() > 0);
  // 24 concurrent narrowing changes against a bound of 16 pending waits: some are refused,
  // FastAPI-shaped with Retry-After.
  REQUIRE(refused.load() > 0);
  a_refusal.json.Parse(a_refusal.body.c_str());
  a_refusal.is_json = !a_refusal.json.HasParseError();
  CHECK(refusal(a_refusal, 429) == "");
  CHECK(a_refusal.header("Retry-After").value_or("") == "1");
}

TEST_CASE(
    "revocation wait: two concurrent DELETEs of one proxy key both answer after B, and no fetch is "
    "released after either answer") {
  BrokerStack s(kSettings, kSettings);
  const auto t = s.newTenant();
  const auto connection = s.createConnection(t, connectionBody("gmail", "inbox", R"({"access_token":"v1"})"));
  const auto runtime = s.grantedRuntime(t, connection);
  const std::string query = "provider=gmail&name=inbox&capability=send_mail";
  REQUIRE(s.fetch(runtime, query).status == 200);

  // Fetch load: the broker's memory holds the key as allowed until the change reaches it. It
  // stops at the first refusal, so the address's failed-authentication budget is not spent.
  std::atomic<bool> loading{true};
  std::thread load([&] {
    while (loading && s.fetch(runtime, query).status == 200) {
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));

  const auto path = t.path() + "/instances/" + runtime.instance_id + "/proxy-keys/" + runtime.key_id;
  struct Answer {
    int status = 0;
    double after_ms = 0;   // since both requests were started
    int fetch_status = 0;  // a fetch with the key right after the answer
  };
  Answer answers[2];
  const auto start = Clock::now();
  std::vector<std::thread> deletes;
  for (auto& answer : answers) {
    deletes.emplace_back([&] {
      const auto r = s.as(t, "DELETE", path);
      answer.after_ms = millisecondsSince(start);
      answer.fetch_status = s.fetch(runtime, query).status;
      answer.status = r.status;
    });
  }
  for (auto& d : deletes) d.join();
  loading = false;
  load.join();

  std::vector<int> statuses{answers[0].status, answers[1].status};
  std::sort(statuses.begin(), statuses.end());
  CHECK(statuses == std::vector<int>{204, 404});
  for (const auto& answer : answers) {
    CAPTURE(answer.status);
    CHECK(answer.after_ms >= static_cast<double>(kStaleness.count()));
    CHECK(answer.fetch_status == 401);
  }
}
