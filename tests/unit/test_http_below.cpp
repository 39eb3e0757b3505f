// Routes below a prefix (Server::anyBelowAsync) and what the framing screen hands a handler
// (request.hpp: requestHeaders, rawQuery, pathBelow), on a real server on a loopback port.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <Poco/Channel.h>
#include <Poco/Message.h>
#include <pistache/router.h>

#include "shared/http/openapi.hpp"
#include "shared/http/request.hpp"
#include "shared/http/server.hpp"
#include "shared/log/log.hpp"

namespace http = hydra::http;

namespace {

constexpr const char* kPrefix = "/v1/things/:thing_id/proxy/:provider";

// Sends `request` on a new connection and reads until the server closes it.
std::string roundTrip(std::uint16_t port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size()));
  std::string out;
  char buffer[4096];
  for (;;) {
    const auto n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

int statusOf(const std::string& response) {
  return response.size() > 12 ? std::stoi(response.substr(9, 3)) : 0;
}

std::string bodyOf(const std::string& response) {
  const auto end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

std::string get(std::uint16_t port, const std::string& target, const std::string& method = "GET",
                const std::string& headers = "") {
  return roundTrip(port, method + " " + target + " HTTP/1.1\r\nHost: x\r\n" + headers + "Connection: close\r\n\r\n");
}

// Collects the access lines.
class Capture : public Poco::Channel {
 public:
  void log(const Poco::Message& msg) override {
    std::lock_guard<std::mutex> lock(mutex);
    lines.push_back(msg.getText());
  }
  std::mutex mutex;
  std::vector<std::string> lines;
};

// The handler's view of a request, one field per line.
http::Reply echo(const Pistache::Rest::Request& req) {
  std::string out = req.method() == Pistache::Http::Method::Get ? "GET" : "other";
  out += "\npath=" + http::pathBelow(req, kPrefix) + "\nquery=" + http::rawQuery(req) + "\n";
  for (const auto& [name, value] : http::requestHeaders(req)) out += name + ": " + value + "\n";
  http::Reply reply{200, out, {{"Content-Type", "text/plain"}}};
  return reply;
}

struct Served {
  Served() : server(options()) {
    http::RouteDoc doc;
    doc.summary = "Below";
    doc.path.push_back({"provider", R"({"type":"string"})", ""});
    server.anyBelowAsync({"GET", "POST"}, kPrefix,
                         [](const Pistache::Rest::Request& req, http::Responder respond) { respond(echo(req)); }, doc);
    server.get("/v1/things/:thing_id", [](const Pistache::Rest::Request&) { return http::json(200, "{}"); });
    server.start();
  }
  ~Served() { server.stop(std::chrono::milliseconds(200)); }
  static http::ServerOptions options() {
    http::ServerOptions o;
    o.listen = {"127.0.0.1", 0};
    o.threads = 1;
    return o;
  }
  std::uint16_t port() const { return server.port(); }
  http::Server server;
};

}  // namespace

TEST_CASE("pistache: a splat matches exactly one path segment") {
  Pistache::Rest::SegmentTreeNode root;
  const std::string route = "a/*";
  std::shared_ptr<char> kept(new char[route.size()], std::default_delete<char[]>());
  std::memcpy(kept.get(), route.data(), route.size());
  root.addRoute(std::string_view(kept.get(), route.size()),
                [](const Pistache::Rest::Request&, Pistache::Http::ResponseWriter) {
                  return Pistache::Rest::Route::Result::Ok;
                },
                kept);
  CHECK(std::get<0>(root.findRoute("a/b")) != nullptr);
  CHECK(std::get<0>(root.findRoute("a/b/c")) == nullptr);
  CHECK(std::get<0>(root.findRoute("a")) == nullptr);
}

TEST_CASE("server: a route below a prefix serves every depth up to the maximum, with the path as written") {
  Served s;
  const auto deep = [](std::size_t n) {
    std::string p;
    for (std::size_t i = 0; i < n; ++i) p += "/s" + std::to_string(i);
    return p;
  };
  const auto one = get(s.port(), "/v1/things/1/proxy/google/messages");
  CHECK(statusOf(one) == 200);
  CHECK(bodyOf(one).find("path=/messages\nquery=\n") != std::string::npos);
  const auto odd = get(s.port(), "/v1/things/1/proxy/google/a//b%2Fc/?x=1");
  CHECK(bodyOf(odd).find("path=/a//b%2Fc/\nquery=x=1\n") != std::string::npos);
  CHECK(statusOf(get(s.port(), "/v1/things/1/proxy/google" + deep(http::Server::kMaxSegmentsBelow))) == 200);
  const auto too_deep = get(s.port(), "/v1/things/1/proxy/google" + deep(http::Server::kMaxSegmentsBelow + 1));
  CHECK(statusOf(too_deep) == 404);
  CHECK(bodyOf(too_deep) == R"({"detail":"Not Found"})");
  CHECK(statusOf(get(s.port(), "/v1/things/1/proxy/google")) == 404);
  CHECK(statusOf(get(s.port(), "/v1/things/1/proxy/google/x", "POST", "Content-Length: 0\r\n")) == 200);
}

TEST_CASE("server: other methods below the prefix are 405 naming the served ones, other routes unchanged") {
  Served s;
  const auto put = get(s.port(), "/v1/things/1/proxy/google/x/y", "PUT", "Content-Length: 0\r\n");
  CHECK(statusOf(put) == 405);
  CHECK(put.find("Allow: GET, POST\r\n") != std::string::npos);
  const auto post = get(s.port(), "/v1/things/1", "POST", "Content-Length: 0\r\n");
  CHECK(statusOf(post) == 405);
  CHECK(post.find("Allow: GET\r\n") != std::string::npos);
  CHECK(statusOf(get(s.port(), "/v1/things/1")) == 200);
  CHECK(statusOf(get(s.port(), "/v1/nothing")) == 404);
}

TEST_CASE("server: a route below a prefix is listed once per method and logged by its template") {
  auto capture = Poco::AutoPtr<Capture>(new Capture);
  auto& logger = hydra::log::http();
  const auto old_level = logger.getLevel();
  Poco::AutoPtr<Poco::Channel> old_channel(logger.getChannel(), true);
  logger.setChannel(capture);
  logger.setLevel(Poco::Message::PRIO_INFORMATION);
  {
    Served s;
    std::vector<std::string> listed;
    for (const auto& r : s.server.routes()) listed.push_back(r.method + " " + r.route);
    CHECK(listed == std::vector<std::string>{"GET /v1/things/:thing_id/proxy/:provider/:path",
                                             "POST /v1/things/:thing_id/proxy/:provider/:path",
                                             "GET /v1/things/:thing_id"});
    const auto doc = http::openApiDocument("t", "1", s.server.routes(), "{}");
    CHECK(doc.find(R"("/v1/things/{thing_id}/proxy/{provider}/{path}":{"get")") != std::string::npos);
    CHECK(doc.find(R"({"name":"provider","in":"path","required":true,"schema":{"type":"string"}})") != std::string::npos);
    CHECK(doc.find(R"({"name":"path","in":"path","required":true,"schema":{"type":"string"},"description":)") !=
          std::string::npos);
    CHECK(doc.find(R"({"name":"thing_id","in":"path","required":true,"schema":{"type":"string","format":"uuid"}})") !=
          std::string::npos);
    REQUIRE(statusOf(get(s.port(), "/v1/things/1/proxy/google/a/b/c")) == 200);
  }
  logger.setChannel(old_channel);
  logger.setLevel(old_level);
  bool logged = false;
  for (const auto& line : capture->lines) {
    CHECK(line.find("/a/b/c") == std::string::npos);
    logged = logged || line.rfind("GET /v1/things/:thing_id/proxy/:provider/:path 200 ", 0) == 0;
  }
  CHECK(logged);
}

TEST_CASE("server: a handler reads every header the client sent, renamed ones restored, and the query as written") {
  Served s;
  const auto r = get(s.port(), "/v1/things/1/proxy/google/m?labelIds=A&labelIds=B&q=a%20b&empty",
                     "GET",
                     "Accept: application/json\r\ncontent-type: text/plain; charset=utf-8\r\nX-Custom: 1\r\n"
                     "accept: text/html\r\nUser-Agent: agent/1.0\r\nCookie: a=1\r\nCookie: b=2\r\n");
  REQUIRE(statusOf(r) == 200);
  CHECK(bodyOf(r) == "GET\npath=/m\nquery=labelIds=A&labelIds=B&q=a%20b&empty\n"
                     "Accept: application/json, text/html\n"
                     "Connection: close\n"
                     "content-type: text/plain; charset=utf-8\n"
                     "Cookie: a=1; b=2\n"
                     "Host: x\n"
                     "User-Agent: agent/1.0\n"
                     "X-Custom: 1\n");
}

TEST_CASE("server: a client's own Hydra-Screened- header is refused in JSON") {
  Served s;
  const auto r = get(s.port(), "/v1/things/1/proxy/google/m", "GET", "hydra-screened-query: a=1\r\n");
  CHECK(statusOf(r) == 400);
  CHECK(bodyOf(r) == R"({"detail":"Reserved header field: hydra-screened-query"})");
}
