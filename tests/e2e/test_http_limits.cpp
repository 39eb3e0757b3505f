// HTTP limits at the edge (issue 9), on both binaries: a head too large is a JSON 431, a body
// over the limit a JSON 413 before it is read, malformed framing a JSON 400, each closing the
// connection; slow and idle connections cannot starve others; failed authentications on the
// control plane are throttled per peer address.
#include <doctest/doctest.h>

#include <sys/resource.h>

#include <algorithm>
#include <memory>
#include <thread>

#include "tests/support/broker.hpp"
#include "tests/support/raw_http.hpp"

using namespace hydra::test;
using namespace std::chrono_literals;

namespace {

// Sends `request` on a new connection; returns the answer, which must be complete and
// followed by the end of the stream.
Response refusedWith(std::uint16_t port, const std::string& request, int status) {
  RawConnection c(port);
  c.send(request);  // may fail part way: the server answers before reading everything
  const auto read = c.readResponse(5s);
  REQUIRE_MESSAGE(completeResponseLength(read.data) > 0, "no complete answer: " << read.data.substr(0, 200));
  auto r = parseResponse(read.data);
  CHECK(r.status == status);
  CHECK(r.header("Content-Type") == "application/json");
  CHECK(r.header("Connection") == "Close");
  CHECK_FALSE(errorDetail(r).empty());
  const auto rest = c.readAll(5s);
  CHECK(rest.eof);  // closed: nothing more is read from this client
  CHECK_FALSE(rest.reset);
  return r;
}

void checkLimits(std::uint16_t port, const std::string& post_path, std::size_t max_body) {
  SUBCASE("request line too large") {
    refusedWith(port, "GET /" + std::string(20000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", 431);
  }
  SUBCASE("headers too large") {
    refusedWith(port, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: " + std::string(20000, 'a') + "\r\n\r\n", 431);
  }
  SUBCASE("too many header lines") {
    std::string many = "GET /healthz HTTP/1.1\r\n";
    for (int i = 0; i < 200; ++i) many += "X-" + std::to_string(i) + ": y\r\n";
    refusedWith(port, many + "\r\n", 431);
  }
  SUBCASE("a body over the limit, refused at once: the rest is never read") {
    RawConnection c(port);
    // Announces 50 MiB, sends 1 KiB of it, and waits: the answer comes without the rest.
    REQUIRE(c.send("POST " + post_path + " HTTP/1.1\r\nHost: x\r\nContent-Length: 52428800\r\n\r\n" +
                   std::string(1024, 'x')));
    const auto read = c.readResponse(3s);
    REQUIRE(completeResponseLength(read.data) > 0);
    const auto r = parseResponse(read.data);
    CHECK(r.status == 413);
    CHECK_FALSE(errorDetail(r).empty());
    CHECK(c.readAll(3s).eof);
  }
  SUBCASE("a body just over the limit") {
    refusedWith(port,
                "POST " + post_path + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(max_body + 1) +
                    "\r\n\r\n" + std::string(max_body + 1, 'x'),
                413);
  }
  SUBCASE("a chunked body growing past the limit") {
    std::string chunks;
    while (chunks.size() < max_body + 4096) chunks += "400\r\n" + std::string(1024, 'x') + "\r\n";
    refusedWith(port, "POST " + post_path + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks, 413);
  }
  SUBCASE("malformed framing") {
    for (const std::string& framing : {std::string("Content-Length: -1\r\n"), std::string("Content-Length: 12abc\r\n"),
                                       std::string("Content-Length: 2\r\nContent-Length: 3\r\n"),
                                       std::string("Content-Length: 2\r\nTransfer-Encoding: chunked\r\n"),
                                       std::string("Transfer-Encoding: chunked, gzip\r\n")}) {
      CAPTURE(framing);
      refusedWith(port, "POST " + post_path + " HTTP/1.1\r\nHost: x\r\n" + framing + "\r\nab", 400);
    }
    refusedWith(port, "POST " + post_path + " HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nnot-hex\r\n", 400);
    refusedWith(port, "POST " + post_path + " HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n", 400);
    refusedWith(port, "GET /healthz HTTP/1.1\r\nBad Header Line\r\n\r\n", 400);
    refusedWith(port, "NOT-A-REQUEST-LINE\r\n\r\n", 400);
    refusedWith(port, "BREW /healthz HTTP/1.1\r\n\r\n", 501);
    refusedWith(port, "GET /healthz HTTP/3.0\r\n\r\n", 505);
  }
  SUBCASE("a repeated credential header: Pistache would read the first, a proxy perhaps the other") {
    const std::string two_bearers = "Authorization: Bearer a\r\nauthorization: Bearer b\r\n";
    CHECK(errorDetail(refusedWith(port, "GET /healthz HTTP/1.1\r\n" + two_bearers + "\r\n", 400)) ==
          "Repeated Authorization header");
    CHECK(errorDetail(refusedWith(port, "GET /healthz HTTP/1.1\r\nX-Api-Key: a\r\nX-Api-Key: b\r\n\r\n", 400)) ==
          "Repeated X-Api-Key header");
  }
  SUBCASE("header values Pistache's own parsers refuse (in plain text, some with a 500) never reach them") {
    for (const char* header : {"Host: a:b:c", "Host: x:99999999999", "Date: not a date", "Cache-Control: max-age=abc",
                               "Content-Type: !!!", "Accept: ???;;"}) {
      CAPTURE(header);
      RawConnection c(port);
      REQUIRE(c.send(std::string("GET /healthz HTTP/1.1\r\n") + header + "\r\n\r\n"));
      const auto read = c.readResponse(5s);
      REQUIRE(completeResponseLength(read.data) > 0);
      const auto r = parseResponse(read.data);
      CHECK(r.status == 200);
      CHECK(r.is_json);
    }
  }
  SUBCASE("well-formed requests still pass: chunked, pipelined, a client's request id") {
    RawConnection c(port);
    REQUIRE(c.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: pipelined-1\r\n\r\n"
                   "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: pipelined-2\r\n\r\n"));
    for (const char* id : {"pipelined-1", "pipelined-2"}) {
      const auto read = c.readResponse(5s);
      REQUIRE(completeResponseLength(read.data) > 0);
      const auto r = parseResponse(read.data);
      CHECK(r.status == 200);
      CHECK(r.header("X-Request-Id") == id);
    }
  }
}

}  // namespace

TEST_CASE("limits: the control plane answers oversized and malformed requests with JSON and closes") {
  Stack s;
  checkLimits(s.server.port(), "/v1/admin/customers", 1024 * 1024);
}

TEST_CASE("limits: the broker answers oversized and malformed requests with JSON and closes") {
  // Its body limit is the proxy's (default 8 MiB), here at its least.
  BrokerStack s(Environment{{"HYDRA_PROXY_MAX_REQUEST_BYTES", "4096"}});
  checkLimits(s.broker.port(), "/internal/v1/instances/" + randomUuid() + "/proxy/gmail/gmail/v1/users/me/labels", 4096);
}

TEST_CASE("limits: a chunked request body reaches its route") {
  Stack s;
  RawConnection c(s.server.port());
  const std::string body = R"({"name":"chunked-customer"})";
  REQUIRE(c.send("POST /v1/admin/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + s.server.adminToken() +
                 "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + "5;ext=1\r\n" +
                 body.substr(0, 5) + "\r\n" + [&] {
                   char size[16];
                   std::snprintf(size, sizeof size, "%zx", body.size() - 5);
                   return std::string(size);
                 }() + "\r\n" + body.substr(5) + "\r\n0\r\nX-Trailer: t\r\n\r\n"));
  const auto read = c.readResponse(5s);
  REQUIRE(completeResponseLength(read.data) > 0);
  const auto r = parseResponse(read.data);
  CHECK(r.status == 201);
  CHECK(text(r.json, "name") == "chunked-customer");
}

TEST_CASE("limits: with 500 idle or half-sent connections open, a request is served in its usual time") {
  // The test and the service each hold 500+ descriptors.
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = std::min<rlim_t>(files.rlim_max, 4096);
  setrlimit(RLIMIT_NOFILE, &files);
  TestDatabase db;
  auto env = ControlPlane::environment(db.url());
  env["HYDRA_MAX_CONNECTIONS_PER_PEER"] = "1000";
  ControlPlane cp(env);
  HttpClient http(cp.port());

  const auto timed = [&] {
    std::vector<double> ms;
    for (int i = 0; i < 20; ++i) {
      const auto started = std::chrono::steady_clock::now();
      CHECK(http.request("GET", "/healthz").status == 200);
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count());
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
  };
  const auto usual = timed();

  std::vector<std::unique_ptr<RawConnection>> idle, half_sent;
  for (int i = 0; i < 250; ++i) idle.push_back(std::make_unique<RawConnection>(cp.port()));
  for (int i = 0; i < 250; ++i) {
    half_sent.push_back(std::make_unique<RawConnection>(cp.port()));
    half_sent.back()->send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ");
  }
  // A keep-alive connection that answered once and then idles.
  RawConnection kept(cp.port());
  REQUIRE(kept.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  REQUIRE(completeResponseLength(kept.readResponse(5s).data) > 0);
  const auto started = std::chrono::steady_clock::now();
  const auto meanwhile = timed();
  MESSAGE("median /healthz: " << usual << " ms alone, " << meanwhile << " ms beside 500 slow connections");
  CHECK(meanwhile < usual + 20);

  // Headers must arrive within the header timeout (5 s): the slow ones are answered 408 and
  // closed, and so are connections that never sent anything.
  for (auto* group : {&idle, &half_sent}) {
    for (std::size_t i = 0; i < group->size(); i += 50) {
      const auto read = (*group)[i]->readAll(10s);
      CHECK(read.eof);
      CHECK(read.data.rfind("HTTP/1.1 408", 0) == 0);
    }
  }
  CHECK(std::chrono::steady_clock::now() - started < 9s);
  // An idle keep-alive connection is closed after the keep-alive timeout (15 s), silently.
  const auto rest = kept.readAll(20s);
  CHECK(rest.eof);
  CHECK(rest.data.empty());
}

namespace {

Response requestFrom(std::uint16_t port, const std::string& source, const std::string& method, const std::string& path,
                     const std::string& token, const std::string& extra_headers = "") {
  RawConnection c(port, source);
  REQUIRE(c.send(method + " " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + "\r\n" +
                 extra_headers + "Content-Length: 0\r\n\r\n"));
  const auto read = c.readResponse(5s);
  REQUIRE(completeResponseLength(read.data) > 0);
  return parseResponse(read.data);
}

}  // namespace

TEST_CASE("limits: failed authentications on the control plane are throttled per peer address") {
  TestDatabase db;
  auto env = ControlPlane::environment(db.url());
  env["HYDRA_AUTH_FAILURE_BURST"] = "5";
  ControlPlane cp(env);
  HttpClient http(cp.port());
  const auto customer = http.request("POST", "/v1/admin/customers", R"({"name":"acme"})", bearer(cp.adminToken()));
  REQUIRE(customer.status == 201);
  const auto path = "/v1/customers/" + text(customer.json, "id");
  const auto key = http.request("POST", path + "/api-keys", R"({"name":"k"})", bearer(cp.adminToken()));
  REQUIRE(key.status == 201);
  const auto api_key = text(key.json, "api_key");
  const auto before = db.exec("SELECT count(*) FROM api_keys")[0][0].as<int>();

  // 127.0.0.2 sends garbage keys: 5 are looked up and refused, then it must wait.
  for (int i = 0; i < 5; ++i) {
    CHECK(requestFrom(cp.port(), "127.0.0.2", "GET", path + "/connections", "hck_garbage" + std::to_string(i)).status ==
          401);
  }
  const auto throttled = requestFrom(cp.port(), "127.0.0.2", "GET", path + "/connections", "hck_garbage");
  CHECK(throttled.status == 429);
  CHECK(throttled.header("Retry-After") == "1");
  CHECK_FALSE(errorDetail(throttled).empty());
  // Before anything is looked up: even a valid key waits, from that address.
  CHECK(requestFrom(cp.port(), "127.0.0.2", "GET", path + "/connections", api_key).status == 429);
  // Other peers are unaffected.
  CHECK(requestFrom(cp.port(), "127.0.0.3", "GET", path + "/connections", api_key).status == 200);
  // Wrong admin tokens count the same; the admin token, known valid, is not refused for them.
  for (int i = 0; i < 5; ++i) {
    CHECK(requestFrom(cp.port(), "127.0.0.4", "POST", "/v1/admin/customers", "not-the-admin-token" + std::to_string(i))
              .status == 401);
  }
  CHECK(requestFrom(cp.port(), "127.0.0.4", "POST", "/v1/admin/customers", "not-the-admin-token").status == 429);
  const auto admin = requestFrom(cp.port(), "127.0.0.4", "POST", "/v1/admin/customers", cp.adminToken()).status;
  CHECK(admin != 401);
  CHECK(admin != 429);  // refused for its empty body, not for the others' failures
  // One attempt a second comes back.
  std::this_thread::sleep_for(1100ms);
  CHECK(requestFrom(cp.port(), "127.0.0.2", "GET", path + "/connections", api_key).status == 200);
  CHECK(db.exec("SELECT count(*) FROM api_keys")[0][0].as<int>() == before);
}

TEST_CASE("limits: a revoked proxy key retried 1,000 times does not delay another runtime's first fetch") {
  // Both runtimes behind one address (127.0.0.1: a node, a NAT). The revoked key is looked up
  // once, then refused from the throttle's memory, and counts once towards the address's budget.
  BrokerStack s(Environment{{"HYDRA_AUTH_FAILURE_BURST", "5"}});
  const auto t = s.newTenant();
  const auto connection = s.createConnection(t, "gmail", "inbox");
  const auto revoked = s.grantedRuntime(t, connection);
  const auto other = s.grantedRuntime(t, connection);
  expectStatus(s.as(t, "DELETE", t.path() + "/instances/" + revoked.instance_id + "/proxy-keys/" + revoked.key_id),
               204, "revoke");
  int unauthenticated = 0;
  for (int i = 0; i < 1000; ++i) {
    if (s.fetch(revoked, "provider=gmail").status == 401) ++unauthenticated;
  }
  CHECK(unauthenticated == 1000);
  const auto started = std::chrono::steady_clock::now();
  const auto first = s.fetch(other, "provider=gmail");
  CHECK(first.status == 200);
  CHECK(std::chrono::steady_clock::now() - started < 2s);
}

TEST_CASE("limits: garbage proxy keys from one address are throttled, a runtime's valid key from it is not") {
  // No memory: every fetch of the valid key is a lookup, as on a memory miss.
  BrokerStack s(Environment{{"HYDRA_AUTH_FAILURE_BURST", "5"}, {"HYDRA_AUTHZ_MEMORY_ENTRIES", "0"}});
  const auto t = s.newTenant();
  const auto runtime = s.grantedRuntime(t, s.createConnection(t, "gmail", "inbox"));
  CHECK(s.fetch(runtime, "provider=gmail").status == 200);
  for (int i = 0; i < 5; ++i) {
    CHECK(s.fetch(runtime.instance_id, "hpk_garbage" + std::to_string(i), "provider=gmail").status == 401);
  }
  const auto throttled = s.fetch(runtime.instance_id, "hpk_garbage_new", "provider=gmail");
  CHECK(throttled.status == 429);
  CHECK(throttled.header("Retry-After") == "1");
  CHECK(s.fetch(runtime, "provider=gmail").status == 200);
}

TEST_CASE("limits: a revoked API key retried 1,000 times does not lock out another customer's key on the control plane") {
  TestDatabase db;
  auto env = ControlPlane::environment(db.url());
  env["HYDRA_AUTH_FAILURE_BURST"] = "5";
  ControlPlane cp(env);
  HttpClient http(cp.port());
  std::string paths[2], keys[2], key_ids[2];
  for (int i = 0; i < 2; ++i) {
    const auto customer = http.request("POST", "/v1/admin/customers", R"({"name":"c"})", bearer(cp.adminToken()));
    REQUIRE(customer.status == 201);
    paths[i] = "/v1/customers/" + text(customer.json, "id");
    const auto key = http.request("POST", paths[i] + "/api-keys", R"({"name":"k"})", bearer(cp.adminToken()));
    REQUIRE(key.status == 201);
    keys[i] = text(key.json, "api_key");
    key_ids[i] = text(key.json, "id");
  }
  REQUIRE(http.request("DELETE", paths[0] + "/api-keys/" + key_ids[0], "", bearer(cp.adminToken())).status == 204);

  // One client behind a shared egress (127.0.0.2) retries its revoked key.
  int unauthenticated = 0;
  for (int i = 0; i < 1000; ++i) {
    if (requestFrom(cp.port(), "127.0.0.2", "GET", paths[0] + "/connections", keys[0]).status == 401) ++unauthenticated;
  }
  CHECK(unauthenticated == 1000);
  const auto started = std::chrono::steady_clock::now();
  CHECK(requestFrom(cp.port(), "127.0.0.2", "GET", paths[1] + "/connections", keys[1]).status == 200);
  CHECK(std::chrono::steady_clock::now() - started < 2s);
  // Garbage keys, each new, are still throttled.
  for (int i = 0; i < 4; ++i) {
    CHECK(requestFrom(cp.port(), "127.0.0.2", "GET", paths[1] + "/connections", "hck_garbage" + std::to_string(i))
              .status == 401);
  }
  CHECK(requestFrom(cp.port(), "127.0.0.2", "GET", paths[1] + "/connections", "hck_garbage").status == 429);
  // The customer's key, known valid, is not refused for them.
  CHECK(requestFrom(cp.port(), "127.0.0.2", "GET", paths[1] + "/connections", keys[1]).status == 200);
}

TEST_CASE("limits: behind a trusted proxy, the control plane throttles the client, not the proxy") {
  TestDatabase db;
  auto env = ControlPlane::environment(db.url());
  env["HYDRA_AUTH_FAILURE_BURST"] = "5";
  env["HYDRA_TRUSTED_PROXIES"] = "127.0.0.5/32";
  ControlPlane cp(env);
  HttpClient http(cp.port());
  const auto customer = http.request("POST", "/v1/admin/customers", R"({"name":"acme"})", bearer(cp.adminToken()));
  REQUIRE(customer.status == 201);
  const auto path = "/v1/customers/" + text(customer.json, "id") + "/connections";
  const auto key = http.request("POST", "/v1/customers/" + text(customer.json, "id") + "/api-keys", R"({"name":"k"})",
                                bearer(cp.adminToken()));
  REQUIRE(key.status == 201);
  for (int i = 0; i < 5; ++i) {
    CHECK(requestFrom(cp.port(), "127.0.0.5", "GET", path, "hck_garbage" + std::to_string(i),
                      "X-Forwarded-For: 10.0.0.1\r\n")
              .status == 401);
  }
  CHECK(requestFrom(cp.port(), "127.0.0.5", "GET", path, "hck_garbage", "X-Forwarded-For: 10.0.0.1\r\n").status == 429);
  // Another client of the same proxy presents a key never seen: its own budget.
  CHECK(requestFrom(cp.port(), "127.0.0.5", "GET", path, text(key.json, "api_key"), "X-Forwarded-For: 10.0.0.2\r\n")
            .status == 200);
}
