// Every non-validation error is {"detail": "<message>"} with the right status: 401 on every
// customer endpoint, 404 for unknown routes, 405 with Allow, 413 just over 1 MiB; and bad
// input never becomes a 500 or takes the server down.
#include <doctest/doctest.h>

#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include <tuple>

#include "tests/support/api.hpp"

using namespace hydra::test;

namespace {

constexpr std::size_t kMiB = 1024 * 1024;

/// A valid connection body of exactly `size` bytes (the credentials carry the padding).
std::string connectionBodyOfSize(std::size_t size, const std::string& name) {
  const auto frame = connectionBody("big", name, R"({"blob":""})");
  REQUIRE(size >= frame.size());
  return connectionBody("big", name, R"({"blob":")" + std::string(size - frame.size(), 'x') + R"("})");
}

PathIds randomIds() { return {randomUuid(), randomUuid(), randomUuid(), randomUuid(), randomUuid()}; }

}  // namespace

TEST_CASE("every customer endpoint is 401 with WWW-Authenticate: Bearer without a valid key") {
  Stack s;
  const auto t = s.newTenant();
  const auto revoked = s.as(t, "POST", t.path() + "/api-keys", R"({"name":"r"})");
  REQUIRE(s.as(t, "DELETE", t.path() + "/api-keys/" + text(revoked.json, "id")).status == 204);

  const std::vector<std::pair<std::string, Headers>> credentials{
      {"no key", {}},
      {"unknown key (Bearer)", bearer("hck_" + std::string(43, 'A'))},
      {"unknown key (X-Api-Key)", {{"X-Api-Key", "hck_" + std::string(43, 'B')}}},
      {"revoked key", bearer(text(revoked.json, "api_key"))},
      {"empty Bearer", {{"Authorization", "Bearer "}}},
      {"another scheme", {{"Authorization", "Basic " + t.api_key}}},
      {"the admin token", bearer(s.server.adminToken())},
  };
  for (const auto& endpoint : customerEndpoints(t.id, randomIds())) {
    for (const auto& entry : credentials) {
      const auto& what = std::get<0>(entry);
      const auto& headers = std::get<1>(entry);
      // The admin token is good for API keys (bootstrap), and for nothing else under a customer.
      const bool api_keys = endpoint.path.find("/api-keys") != std::string::npos;
      if (api_keys && what == "the admin token") continue;
      CAPTURE(endpoint.method);
      CAPTURE(endpoint.path);
      CAPTURE(what);
      const auto r = s.http.request(endpoint.method, endpoint.path, endpoint.body, headers);
      CHECK(r.status == 401);
      CHECK(r.header("WWW-Authenticate") == "Bearer");
      CHECK_FALSE(errorDetail(r).empty());
      if (what == "no key") CHECK(errorDetail(r) == "Not authenticated");
    }
  }
  // Only the tenant's own objects exist: nothing was created by the refused calls.
  CHECK(s.db.exec("SELECT count(*) FROM connections")[0][0].as<int>() == 0);
  CHECK(s.db.exec("SELECT count(*) FROM instances")[0][0].as<int>() == 0);
  CHECK(s.db.exec("SELECT count(*) FROM api_keys")[0][0].as<int>() == 2);
}

TEST_CASE("GET /healthz is 200 without credentials") {
  Stack s;
  const auto r = s.http.request("GET", "/healthz");
  CHECK(r.status == 200);
  CHECK(r.body == R"({"status":"ok"})");
  CHECK(r.header("Content-Type") == "application/json");
}

TEST_CASE("unknown routes are 404 with a JSON detail") {
  Stack s;
  const auto t = s.newTenant();
  for (const auto& entry : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/"},
           {"GET", "/nope"},
           {"GET", "/v1/customers"},
           {"POST", "/v1/admin"},
           {"GET", t.path()},
           {"GET", t.path() + "/unknown"},
           {"GET", t.path() + "/connections/" + randomUuid() + "/grants/" + randomUuid() + "/extra"},
       }) {
    const auto& method = std::get<0>(entry);
    const auto& path = std::get<1>(entry);
    CAPTURE(method);
    CAPTURE(path);
    const auto r = s.http.request(method, path, "", t.auth());
    CHECK(r.status == 404);
    CHECK(r.header("Content-Type") == "application/json");
    CHECK(errorDetail(r) == "Not Found");
  }
}

TEST_CASE("a known path with another method is 405 with Allow and a JSON detail") {
  Stack s;
  const auto t = s.newTenant();
  const auto connection = t.path() + "/connections/" + randomUuid();
  for (const auto& entry : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"PUT", connection, "DELETE, GET, PATCH"},
           {"POST", connection, "DELETE, GET, PATCH"},
           {"DELETE", t.path() + "/connections", "GET, POST"},
           {"PATCH", t.path() + "/instances", "GET, POST"},
           {"GET", connection + "/grants/" + randomUuid(), "DELETE, PATCH"},
           {"PUT", connection + "/grants", "GET, POST"},
           {"GET", t.path() + "/instances/" + randomUuid(), "DELETE, PATCH"},
           {"POST", "/healthz", "GET"},
       }) {
    const auto& method = std::get<0>(entry);
    const auto& path = std::get<1>(entry);
    const auto& allow = std::get<2>(entry);
    CAPTURE(method);
    CAPTURE(path);
    const auto r = s.http.request(method, path, "", t.auth());
    CHECK(r.status == 405);
    CHECK(r.header("Allow") == allow);
    CHECK(errorDetail(r) == "Method Not Allowed");
  }
}

TEST_CASE("a body just over 1 MiB is 413 with a JSON detail and the server keeps serving") {
  Stack s;
  const auto t = s.newTenant();
  const auto r = s.as(t, "POST", t.path() + "/connections", connectionBodyOfSize(kMiB + 100, "too-big"));
  CHECK(r.status == 413);
  CHECK_FALSE(errorDetail(r).empty());
  CHECK(s.db.exec("SELECT count(*) FROM connections")[0][0].as<int>() == 0);

  CHECK(s.server.running());
  CHECK(s.http.request("GET", "/healthz").status == 200);
  CHECK(s.as(t, "POST", t.path() + "/connections", connectionBody("small", "after")).status == 201);
}

TEST_CASE("a body of exactly 1 MiB is accepted") {
  Stack s;
  const auto t = s.newTenant();
  const auto r = s.as(t, "POST", t.path() + "/connections", connectionBodyOfSize(kMiB, "limit"));
  CHECK(r.status == 201);
}

TEST_CASE("a body of several MiB is 413, refused before it is buffered, and the server keeps serving") {
  // The edge refuses it from its Content-Length, before any handler (authentication included)
  // runs and before the body is read (shared/http/framing.hpp), in JSON.
  Stack s;
  const auto t = s.newTenant();
  const auto r = s.as(t, "POST", t.path() + "/connections", connectionBodyOfSize(4 * kMiB, "huge"));
  CHECK(r.status == 413);
  CHECK_FALSE(errorDetail(r).empty());
  CHECK(s.server.running());
  CHECK(s.as(t, "GET", t.path() + "/connections").status == 200);
}

TEST_CASE("odd input is never a 500") {
  Stack s;
  const auto t = s.newTenant();
  const auto list = t.path() + "/connections";
  CHECK(s.as(t, "GET", list + "?offset=2147483647").status == 200);
  CHECK(problemLocTypes(s.as(t, "GET", list + "?offset=99999999999999999999")) ==
        std::vector<std::string>{R"(["query","offset"] int_parsing)"});
  CHECK(problemLocTypes(s.as(t, "GET", list + "?limit=1e2")) ==
        std::vector<std::string>{R"(["query","limit"] int_parsing)"});
  CHECK(s.as(t, "GET", list + "?provider=%ZZ").status == 200);
  CHECK(s.as(t, "GET", list + "?provider=g%C3%A9").status == 200);
  CHECK(problemLocTypes(s.as(t, "GET", "/v1/customers/%00/connections")) ==
        std::vector<std::string>{R"(["path","customer_id"] uuid_parsing)"});

  const auto long_key = s.http.request("GET", list, "", bearer("hck_" + std::string(8000, 'k')));
  CHECK(long_key.status == 401);
  const auto binary_key = s.http.request("GET", list, "", {{"X-Api-Key", "\x01\x02\xff"}});
  CHECK(binary_key.status == 401);

  // A NUL inside a JSON string is data, not the end of it.  CHECK(s.server.running());
}

TEST_CASE("a NUL character in a name is stored as sent or refused, never cut short") {
  // JSON allows \u0000; PostgreSQL text does not. Truncating "a\0b" to "a" would silently
  // change the name (and make "a\0b" and "a\0c" collide).
  Stack s;
  const auto t = s.newTenant();
  const auto r = s.as(t, "POST", t.path() + "/connections", R"({"provider":"p","name":"a\u0000b","credentials":{}})");
  CAPTURE(r.body);
  CHECK((r.status == 201 || r.status == 422));
  if (r.status == 201) CHECK(jsonText(member(r.json, "name")) == R"("a\u0000b")");
  CHECK(s.db.exec("SELECT count(*) FROM connections WHERE name = 'a'")[0][0].as<int>() == 0);
}

TEST_CASE("HTTP/1.1 connections stay open for the next request") {
  Stack s;
  Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", s.server.port()));
  socket.setReceiveTimeout(Poco::Timespan(10, 0));
  const std::string request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  const std::string expected_body = R"({"status":"ok"})";
  std::string received;
  for (int i = 0; i < 2; ++i) {
    CAPTURE(i);
    socket.sendBytes(request.data(), static_cast<int>(request.size()));
    // Read until this response's body has arrived.
    const auto before = received.size();
    char buffer[4096];
    while (received.find(expected_body, before) == std::string::npos) {
      const int n = socket.receiveBytes(buffer, sizeof buffer);
      REQUIRE(n > 0);  // 0: the server closed the connection
      received.append(buffer, static_cast<std::size_t>(n));
    }
    const auto response = received.substr(before);
    CHECK(response.rfind("HTTP/1.1 200", 0) == 0);
    CHECK(response.find("Connection: Close") == std::string::npos);
  }
}
