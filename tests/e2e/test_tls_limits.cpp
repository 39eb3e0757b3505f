// HTTPS on both binaries and the limits that hold before authentication (issue 12, items 2
// and 6): a throwaway CA made with openssl at test time, curl as the client.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/broker.hpp"
#include "tests/support/pg.hpp"

using namespace hydra::test;
using namespace std::chrono_literals;

namespace {

struct Pki {
  std::string ca, server_cert, server_key, client_cert, client_key, other_client_cert, other_client_key;
};

void openssl(const std::vector<std::string>& args) {
  const auto r = run("/usr/bin/openssl", args, {});
  if (r.exit_code != 0) throw std::runtime_error("openssl failed: " + r.err);
}

// A CA, a server certificate for 127.0.0.1 and a client certificate from it, and a client
// certificate from another CA; keys mode 0600.
Pki makePki(const TempDir& dir) {
  Pki p{dir.path("ca.pem"), dir.path("server.pem"), dir.path("server-key.pem"), dir.path("client.pem"),
        dir.path("client-key.pem"), dir.path("other.pem"), dir.path("other-key.pem")};
  const auto ec = std::vector<std::string>{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"};
  auto args = std::vector<std::string>{"req", "-x509", "-days", "1", "-subj", "/CN=hydra-test-ca",
                                       "-keyout", dir.path("ca-key.pem"), "-out", p.ca};
  args.insert(args.begin() + 2, ec.begin(), ec.end());
  openssl(args);
  const auto issue = [&](const std::string& cn, const std::string& ext, const std::string& cert, const std::string& key,
                         const std::string& ca, const std::string& ca_key) {
    auto req = std::vector<std::string>{"req", "-subj", "/CN=" + cn, "-keyout", key, "-out", cert + ".csr"};
    req.insert(req.begin() + 1, ec.begin(), ec.end());
    openssl(req);
    std::ofstream(cert + ".ext") << ext << "\n";
    openssl({"x509", "-req", "-in", cert + ".csr", "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-days", "1",
             "-extfile", cert + ".ext", "-out", cert});
    chmod(key.c_str(), 0600);
  };
  issue("127.0.0.1", "subjectAltName=IP:127.0.0.1", p.server_cert, p.server_key, p.ca, dir.path("ca-key.pem"));
  issue("runtime", "extendedKeyUsage=clientAuth", p.client_cert, p.client_key, p.ca, dir.path("ca-key.pem"));
  auto other_ca = std::vector<std::string>{"req", "-x509", "-days", "1", "-subj", "/CN=other-ca",
                                           "-keyout", dir.path("other-ca-key.pem"), "-out", dir.path("other-ca.pem")};
  other_ca.insert(other_ca.begin() + 2, ec.begin(), ec.end());
  openssl(other_ca);
  issue("intruder", "extendedKeyUsage=clientAuth", p.other_client_cert, p.other_client_key, dir.path("other-ca.pem"),
        dir.path("other-ca-key.pem"));
  return p;
}

Environment tlsSettings(const Pki& p, bool client_certificates = false) {
  Environment env{{"HYDRA_TLS_CERT_FILE", p.server_cert}, {"HYDRA_TLS_KEY_FILE", p.server_key}};
  if (client_certificates) env["HYDRA_TLS_CLIENT_CA_FILE"] = p.ca;
  return env;
}

RunResult curl(const std::vector<std::string>& args) {
  std::vector<std::string> all{"-sS", "--max-time", "10", "-w", "\n%{http_code}"};
  all.insert(all.end(), args.begin(), args.end());
  return run("/usr/bin/curl", all, {});
}

std::string fetchUrl(std::uint16_t port, const Runtime& r) {
  return "https://127.0.0.1:" + std::to_string(port) + "/internal/v1/instances/" + r.instance_id +
         "/connections?provider=gmail&capability=send_mail";
}

// A granted api_key connection and the runtime that may fetch it.
Runtime grantedRuntime(BrokerStack& s) {
  const auto t = s.newTenant();
  const auto id = s.createConnection(
      t, R"({"provider":"gmail","name":"inbox","auth_type":"api_key","credentials":{"api_key":"tls-secret"}})");
  return s.grantedRuntime(t, id);
}

int connectTo(std::uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  return fd;
}

// Whether the server closed `fd` within `timeout` (without sending anything first).
bool closedByServer(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
  char byte;
  return recv(fd, &byte, 1, 0) <= 0;
}

}  // namespace

TEST_CASE("tls: the broker serves HTTPS end to end with a throwaway CA, TLS 1.2 or later only, and refuses plain HTTP") {
  TempDir dir;
  const auto pki = makePki(dir);
  BrokerStack s(tlsSettings(pki));
  const auto r = grantedRuntime(s);
  const auto fetched = curl({"--cacert", pki.ca, "-H", "Authorization: Bearer " + r.proxy_key, fetchUrl(s.broker.port(), r)});
  CAPTURE(fetched.err);
  CHECK(fetched.exit_code == 0);
  CHECK(fetched.out.find("tls-secret") != std::string::npos);
  CHECK(fetched.out.substr(fetched.out.rfind('\n') + 1) == "200");

  // Plain HTTP on the same port gets no answer.
  const auto plain = curl({"http://127.0.0.1:" + std::to_string(s.broker.port()) + "/healthz"});
  CHECK(plain.exit_code != 0);
  CHECK(plain.out.find("\"ok\"") == std::string::npos);
  // TLS 1.1 and a TLS 1.2 suite without forward secrecy or AEAD are refused.
  const auto base = "https://127.0.0.1:" + std::to_string(s.broker.port()) + "/healthz";
  CHECK(curl({"--cacert", pki.ca, "--tlsv1.1", "--tls-max", "1.1", base}).exit_code != 0);
  CHECK(curl({"--cacert", pki.ca, "--tls-max", "1.2", "--ciphers", "AES128-SHA", base}).exit_code != 0);
  CHECK(curl({"--cacert", pki.ca, "--tlsv1.2", "--tls-max", "1.2", base}).exit_code == 0);

  // The broker sees each client's own address through TLS: a key bound to 127.0.0.1 works
  // from there only.
  const auto t = s.newTenant();
  const auto id = s.createConnection(
      t, R"({"provider":"gmail","name":"bound","auth_type":"api_key","credentials":{"api_key":"tls-bound"}})");
  const auto unbound = s.grantedRuntime(t, id);
  const auto bound = s.newProxyKey(t, unbound.instance_id, R"({"allowed_cidrs":["127.0.0.1/32"]})");
  const auto fetchBound = [&](const std::string& from) {
    const auto r = curl({"--cacert", pki.ca, "--interface", from, "-H", "Authorization: Bearer " + bound.proxy_key,
                         fetchUrl(s.broker.port(), bound)});
    return r.out.substr(r.out.rfind('\n') + 1);
  };
  CHECK(fetchBound("127.0.0.1") == "200");
  CHECK(fetchBound("127.0.0.2") == "403");
}

TEST_CASE("tls: a broker requiring client certificates refuses a client without one or with a foreign one") {
  TempDir dir;
  const auto pki = makePki(dir);
  BrokerStack s(tlsSettings(pki, true));
  const auto r = grantedRuntime(s);
  const auto url = fetchUrl(s.broker.port(), r);
  const auto auth = "Authorization: Bearer " + r.proxy_key;
  const auto none = curl({"--cacert", pki.ca, "-H", auth, url});
  CHECK(none.exit_code != 0);
  CHECK(none.out.find("tls-secret") == std::string::npos);
  const auto foreign = curl({"--cacert", pki.ca, "--cert", pki.other_client_cert, "--key", pki.other_client_key, "-H", auth, url});
  CHECK(foreign.exit_code != 0);
  CHECK(foreign.out.find("tls-secret") == std::string::npos);

  const auto with = curl({"--cacert", pki.ca, "--cert", pki.client_cert, "--key", pki.client_key, "-H", auth, url});
  CAPTURE(with.err);
  CHECK(with.exit_code == 0);
  CHECK(with.out.find("tls-secret") != std::string::npos);
  // The certificate is in addition to the proxy key, not instead of it.
  const auto no_key = curl({"--cacert", pki.ca, "--cert", pki.client_cert, "--key", pki.client_key, url});
  CHECK(no_key.out.substr(no_key.out.rfind('\n') + 1) == "401");
}

TEST_CASE("tls: the control plane serves HTTPS, and a TLS key file others can read stops start-up") {
  TempDir dir;
  const auto pki = makePki(dir);
  TestDatabase db;
  auto env = ControlPlane::environment(db.url());
  for (const auto& [name, value] : tlsSettings(pki)) env[name] = value;
  {
    ControlPlane cp(env);
    const auto r = curl({"--cacert", pki.ca, "https://127.0.0.1:" + std::to_string(cp.port()) + "/healthz"});
    CAPTURE(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.substr(r.out.rfind('\n') + 1) == "200");
    CHECK(curl({"http://127.0.0.1:" + std::to_string(cp.port()) + "/healthz"}).exit_code != 0);
  }
  chmod(pki.server_key.c_str(), 0644);
  const auto refused = runControlPlane({"serve"}, env);
  CHECK(refused.exit_code == 2);
  CHECK(refused.err.find("HYDRA_TLS_KEY_FILE") != std::string::npos);
  env["HYDRA_TLS_CLIENT_CA_FILE"] = pki.ca;  // only the broker takes client certificates
  CHECK(runControlPlane({"serve"}, env).exit_code == 2);
}

TEST_CASE("limits: one peer address holds at most HYDRA_MAX_CONNECTIONS_PER_PEER connections, more are closed at once") {
  TestDatabase db;
  auto env = ControlPlane::environment(db.url());
  env["HYDRA_MAX_CONNECTIONS_PER_PEER"] = "4";
  ControlPlane cp(env);
  std::vector<int> held;
  for (int i = 0; i < 4; ++i) held.push_back(connectTo(cp.port()));
  std::this_thread::sleep_for(200ms);
  const int extra = connectTo(cp.port());
  CHECK(closedByServer(extra, 3s));
  close(extra);
  for (const int fd : held) CHECK_FALSE(closedByServer(fd, 100ms));
  // The ones it holds still work; once one is gone, a new one is taken again.
  const std::string request = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  REQUIRE(send(held[0], request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size()));
  char buffer[512];
  const auto n = recv(held[0], buffer, sizeof buffer, 0);
  REQUIRE(n > 0);
  CHECK(std::string(buffer, static_cast<std::size_t>(n)).rfind("HTTP/1.1 200", 0) == 0);
  close(held.back());
  held.pop_back();
  std::this_thread::sleep_for(300ms);
  const int again = connectTo(cp.port());
  CHECK_FALSE(closedByServer(again, 500ms));
  close(again);
  for (const int fd : held) close(fd);
  CHECK(HttpClient(cp.port()).request("GET", "/healthz").status == 200);
}

TEST_CASE("limits: an unauthenticated client streaming a huge body is refused at the route limit, not buffered") {
  TestDatabase db;
  ControlPlane cp(db.url());
  const int fd = connectTo(cp.port());
  const std::string head = "POST /v1/admin/customers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                           "Content-Length: 67108864\r\n\r\n";
  REQUIRE(send(fd, head.data(), head.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(head.size()));
  const std::string chunk(64 * 1024, 'x');
  std::size_t sent = 0;
  bool answered = false;
  while (sent < 16u * 1024 * 1024 && !answered) {
    const auto n = send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
    pollfd p{fd, POLLIN, 0};
    answered = poll(&p, 1, 20) > 0;
  }
  CAPTURE(sent);
  REQUIRE(answered);
  CHECK(sent < 3u * 1024 * 1024);  // the limit is 1 MiB of body and 16 KiB of headers
  char buffer[256];
  const auto n = recv(fd, buffer, sizeof buffer, 0);
  REQUIRE(n > 0);
  CHECK(std::string(buffer, static_cast<std::size_t>(n)).rfind("HTTP/1.1 413", 0) == 0);
  close(fd);
  CHECK(HttpClient(cp.port()).request("GET", "/healthz").status == 200);
}

namespace {

// A client that connects and sends the start of a ClientHello one byte a second, for at most
// `for_at_most`; `cut_after` is when the server closed the connection (or for_at_most if never).
struct Dripper {
  std::chrono::milliseconds cut_after{0};
  std::thread thread;
  Dripper(std::uint16_t port, std::chrono::milliseconds for_at_most) {
    thread = std::thread([this, port, for_at_most] {
      // A TLS 1.2+ handshake record, then a ClientHello's first bytes: a server reads on.
      const std::string hello = std::string("\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03", 11) + std::string(32, '*');
      const auto start = std::chrono::steady_clock::now();
      const int fd = connectTo(port);
      cut_after = for_at_most;
      for (std::size_t i = 0; std::chrono::steady_clock::now() - start < for_at_most; ++i) {
        if (send(fd, &hello[i % hello.size()], 1, MSG_NOSIGNAL) != 1 || closedByServer(fd, 1s)) {
          cut_after = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
          break;
        }
      }
      close(fd);
    });
  }
};

}  // namespace

TEST_CASE("tls: clients dripping a ClientHello are cut at the handshake deadline and delay no one else") {
  TempDir dir;
  const auto pki = makePki(dir);
  BrokerStack s(tlsSettings(pki));
  TestDatabase db;
  auto env = ControlPlane::environment(db.url());
  for (const auto& [name, value] : tlsSettings(pki)) env[name] = value;
  ControlPlane cp(env);

  constexpr auto kDripping = 8s;
  std::vector<std::unique_ptr<Dripper>> drippers;
  for (const auto port : {cp.port(), s.broker.port()}) {
    for (int i = 0; i < 4; ++i) drippers.push_back(std::make_unique<Dripper>(port, kDripping));
  }
  std::this_thread::sleep_for(300ms);  // the drippers are connected and dripping

  // An honest client is answered within 1 s all along (curl's own time: connect to the end).
  const auto start = std::chrono::steady_clock::now();
  int answered = 0;
  while (std::chrono::steady_clock::now() - start < kDripping - 1s) {
    for (const auto port : {cp.port(), s.broker.port()}) {
      const auto r = curl({"--cacert", pki.ca, "--max-time", "3", "-o", "/dev/null", "-w", "%{http_code} %{time_total}",
                           "https://127.0.0.1:" + std::to_string(port) + "/healthz"});
      CAPTURE(r.err);
      CAPTURE(r.out);
      CHECK(r.exit_code == 0);
      if (r.exit_code != 0) break;  // stalled (the drippers are still joined below)
      CHECK(r.out.rfind("200 ", 0) == 0);
      CHECK(std::stod(r.out.substr(r.out.rfind(' ') + 1)) < 1.0);
      ++answered;
    }
    std::this_thread::sleep_for(200ms);
  }
  CHECK(answered >= 8);
  // Each dripper was cut at the 5 s deadline (slack for a loaded machine), though it kept sending.
  for (auto& d : drippers) {
    d->thread.join();
    CHECK(d->cut_after >= 4s);
    CHECK(d->cut_after <= 7500ms);
  }
}
