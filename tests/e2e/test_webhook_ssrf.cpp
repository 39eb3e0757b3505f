// Webhook URLs are the customer's, the network is ours (issue 10): every refused range is refused
// when the URL is a literal address (at creation) and when a name resolves to it (at delivery),
// unless the operator allows it; plain http only to loopback hosts when the operator allows it;
// TLS verified for the URL's host name while connecting to the checked address.
#include <doctest/doctest.h>

#include <thread>

#include "tests/support/broker.hpp"
#include "tests/support/oauth_fixture.hpp"
#include "tests/support/webhook_fixture.hpp"

using namespace hydra::test;
using namespace std::chrono_literals;

namespace {

/// The one problem of a 422 at ["body","url"], or what else came back.
std::string urlProblem(const Response& r) {
  if (r.status != 422) return "status " + std::to_string(r.status) + " " + r.body;
  const auto problems = validationProblems(r);
  if (problems.size() != 1 || problems[0].loc != R"(["body","url"])") return r.body;
  return problems[0].msg;
}

Response createEndpoint(const Stack& s, const Tenant& t, const std::string& url) {
  return s.as(t, "POST", t.path() + "/webhook-endpoints", R"({"url":")" + url + R"("})");
}

/// The last error of the endpoint's only delivery once it has `attempts` attempts.
std::string lastErrorAfter(const Stack& s, const Tenant& t, const std::string& endpoint_id, long long attempts) {
  std::string error;
  eventually(
      [&] {
        const auto r = s.as(t, "GET", t.path() + "/webhook-endpoints/" + endpoint_id + "/deliveries");
        const auto list = items(member(r.json, "deliveries"));
        if (list.size() != 1 || member(*list[0], "attempts").GetInt64() < attempts) return false;
        error = member(*list[0], "last_error").IsString() ? text(*list[0], "last_error") : "null";
        return text(*list[0], "state") != "pending";
      },
      20s);
  return error;
}

}  // namespace

TEST_CASE("webhook SSRF: a literal address in every refused range is refused at creation") {
  Stack s;  // no operator allowances
  const auto t = s.newTenant();
  const std::vector<std::pair<std::string, std::string>> refused{
      {"https://127.0.0.1/h", "127.0.0.1 is loopback"},
      {"https://127.255.0.9:8443/h", "127.255.0.9 is loopback"},
      {"https://10.0.0.5/h", "10.0.0.5 is private"},
      {"https://172.16.9.9/h", "172.16.9.9 is private"},
      {"https://192.168.1.10/h", "192.168.1.10 is private"},
      {"https://169.254.169.254/latest/meta-data/", "169.254.169.254 is link-local"},
      {"https://100.64.0.1/h", "100.64.0.1 is CGNAT (shared address space)"},
      {"https://224.0.0.251/h", "224.0.0.251 is multicast"},
      {"https://0.0.0.0/h", "0.0.0.0 is unspecified"},
      {"https://240.1.2.3/h", "240.1.2.3 is reserved"},
      {"https://192.0.2.10/h", "192.0.2.10 is reserved"},
      {"https://198.18.0.1/h", "198.18.0.1 is reserved"},
      {"https://[::1]/h", "::1 is loopback"},
      {"https://[::]/h", ":: is unspecified"},
      {"https://[fe80::1]/h", "fe80::1 is link-local"},
      {"https://[fd00:ec2::254]/h", "fd00:ec2::254 is private"},
      {"https://[ff02::1]/h", "ff02::1 is multicast"},
      {"https://[2001:db8::1]/h", "2001:db8::1 is reserved"},
      {"https://[::ffff:127.0.0.1]/h", "127.0.0.1 is loopback"},
      {"https://[::ffff:a9fe:a9fe]/h", "169.254.169.254 is link-local"},
      {"https://[64:ff9b::a00:1]/h", "64:ff9b::a00:1 is private"},
  };
  for (const auto& [url, why] : refused) {
    CAPTURE(url);
    CHECK(urlProblem(createEndpoint(s, t, url)) == "Value error, URL host " + why + ", which webhooks may not reach");
  }
  // Names and public addresses are accepted here (names are checked when delivering).
  for (const char* url : {"https://93.184.216.34/h", "https://[2606:4700:4700::1111]/h", "https://localhost/h",
                          "https://metadata.google.internal/h"}) {
    CAPTURE(url);
    CHECK(createEndpoint(s, t, url).status == 201);
  }
  // A PATCH is held to the same rules.
  const auto id = text(createEndpoint(s, t, "https://example.com/h").json, "id");
  const auto patched = s.as(t, "PATCH", t.path() + "/webhook-endpoints/" + id, R"({"url":"https://10.1.1.1/h"})");
  CHECK(urlProblem(patched) == "Value error, URL host 10.1.1.1 is private, which webhooks may not reach");
}

TEST_CASE(
    "webhook SSRF: https only (plain http to loopback when the operator allows it), no credentials, 2048 characters") {
  Stack s;
  const auto t = s.newTenant();
  CHECK(urlProblem(createEndpoint(s, t, "http://example.com/h")) == "Value error, URL must use https");
  CHECK(urlProblem(createEndpoint(s, t, "http://localhost:9/h")) == "Value error, URL must use https");
  CHECK(urlProblem(createEndpoint(s, t, "https://user:pw@example.com/h")) ==
        "Value error, URL must not contain credentials");
  CHECK(urlProblem(createEndpoint(s, t, "https://example.com/" + std::string(2029, 'a'))) ==
        "String should have at most 2048 characters");
  CHECK(createEndpoint(s, t, "https://example.com/" + std::string(2028, 'a')).status == 201);

  Stack dev("", {{"HYDRA_WEBHOOK_ALLOW_LOOPBACK", "1"}});
  const auto d = dev.newTenant();
  CHECK(createEndpoint(dev, d, "http://localhost:9/h").status == 201);
  CHECK(urlProblem(createEndpoint(dev, d, "http://example.com/h")) ==
        "Value error, URL must use https (plain http is allowed only to loopback hosts)");
  // The http allowance does not open loopback addresses: that takes HYDRA_WEBHOOK_ALLOWED_CIDRS.
  CHECK(urlProblem(createEndpoint(dev, d, "http://127.0.0.1:9/h")) ==
        "Value error, URL host 127.0.0.1 is loopback, which webhooks may not reach");
}

TEST_CASE("webhook SSRF: a name that resolves to loopback is refused at delivery unless the operator allows it") {
  WebhookReceiver receiver;
  const auto localhost_url = receiver.url("/hooks/name", "localhost");

  SUBCASE("no allowance: https to localhost is accepted, then refused when delivering") {
    Stack s("", {{"HYDRA_WEBHOOK_RETRY_SCHEDULE", "0,1"}});
    const auto t = s.newTenant();
    const auto https_url = "https://localhost:" + std::to_string(receiver.port()) + "/hooks/name";
    const auto created = createEndpoint(s, t, https_url);
    REQUIRE(created.status == 201);
    s.createConnection(t, "gmail", "inbox");
    const auto error = lastErrorAfter(s, t, text(created.json, "id"), 2);
    CHECK(error.rfind("refused: localhost resolves to ", 0) == 0);
    CHECK(error.find(" is loopback, which webhooks may not reach") != std::string::npos);
  }
  SUBCASE("plain http allowed for loopback hosts, but loopback addresses not allowed: refused when delivering") {
    Stack s("", {{"HYDRA_WEBHOOK_ALLOW_LOOPBACK", "1"}, {"HYDRA_WEBHOOK_RETRY_SCHEDULE", "0"}});
    const auto t = s.newTenant();
    const auto created = createEndpoint(s, t, localhost_url);
    REQUIRE(created.status == 201);
    s.createConnection(t, "gmail", "inbox");
    CHECK(lastErrorAfter(s, t, text(created.json, "id"), 1).find("is loopback, which webhooks may not reach") !=
          std::string::npos);
  }
  SUBCASE("loopback allowed by HYDRA_WEBHOOK_ALLOWED_CIDRS (and plain http to it): delivered") {
    Stack s("", webhookSettings());
    const auto t = s.newTenant();
    const auto created = createEndpoint(s, t, localhost_url);
    REQUIRE(created.status == 201);
    receiver.configure("/hooks/name", {text(created.json, "secret")});
    s.createConnection(t, "gmail", "inbox");
    const auto got = receiver.await("/hooks/name", 1);
    REQUIRE(got.size() == 1);
    CHECK(got[0].verified);
    CHECK(got[0].host == "localhost:" + std::to_string(receiver.port()));
    CHECK(lastErrorAfter(s, t, text(created.json, "id"), 1) == "null");
  }
  // Refused deliveries never reached the receiver.
  for (const auto& r : receiver.received("/hooks/name")) CHECK(r.verified);
}

TEST_CASE("webhook SSRF: an allowed range does not open the others") {
  // Only 10.0.0.0/8 is allowed: a name resolving to loopback is still refused.
  WebhookReceiver receiver;
  Stack s("", {{"HYDRA_WEBHOOK_ALLOW_LOOPBACK", "1"},
               {"HYDRA_WEBHOOK_ALLOWED_CIDRS", "10.0.0.0/8"},
               {"HYDRA_WEBHOOK_RETRY_SCHEDULE", "0"}});
  const auto t = s.newTenant();
  CHECK(createEndpoint(s, t, "https://10.9.8.7/h").status == 201);
  const auto created = createEndpoint(s, t, receiver.url("/hooks/x", "localhost"));
  REQUIRE(created.status == 201);
  s.createConnection(t, "gmail", "inbox");
  CHECK(lastErrorAfter(s, t, text(created.json, "id"), 1).find("is loopback") != std::string::npos);
  CHECK(receiver.received().empty());
}

TEST_CASE("webhook SSRF: TLS is verified for the URL's host name on the connection to the checked address") {
  TempDir dir;
  // A certificate for the name localhost only (no IP address in it), trusted through
  // HYDRA_WEBHOOK_CA_FILE as a private CA would be.
  const auto cert = dir.path("cert.pem"), key = dir.path("key.pem");
  const auto made = run("/usr/bin/openssl",
                        {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                         "-addext", "subjectAltName=DNS:localhost", "-keyout", key, "-out", cert},
                        {});
  REQUIRE(made.exit_code == 0);
  WebhookReceiver receiver({"--tls-cert", cert, "--tls-key", key});
  const auto port = std::to_string(receiver.port());

  SUBCASE("trusted, the name matches: delivered over TLS to 127.0.0.1") {
    Stack s("", webhookSettings({{"HYDRA_WEBHOOK_CA_FILE", cert}}));
    const auto t = s.newTenant();
    const auto created = createEndpoint(s, t, "https://localhost:" + port + "/hooks/tls");
    REQUIRE(created.status == 201);
    receiver.configure("/hooks/tls", {text(created.json, "secret")});
    s.createConnection(t, "gmail", "inbox");
    const auto got = receiver.await("/hooks/tls", 1);
    REQUIRE(got.size() == 1);
    CHECK(got[0].verified);
    CHECK(lastErrorAfter(s, t, text(created.json, "id"), 1) == "null");
  }
  SUBCASE("trusted, but the URL names the address the certificate does not carry: refused") {
    Stack s("", webhookSettings({{"HYDRA_WEBHOOK_CA_FILE", cert}, {"HYDRA_WEBHOOK_RETRY_SCHEDULE", "0"}}));
    const auto t = s.newTenant();
    const auto created = createEndpoint(s, t, "https://127.0.0.1:" + port + "/hooks/tls");
    REQUIRE(created.status == 201);
    s.createConnection(t, "gmail", "inbox");
    const auto error = lastErrorAfter(s, t, text(created.json, "id"), 1);
    CHECK(error.find("Unacceptable certificate from 127.0.0.1") != std::string::npos);
    CHECK(receiver.received("/hooks/tls").empty());
  }
  SUBCASE("not trusted by the system's CAs: refused") {
    Stack s("", webhookSettings({{"HYDRA_WEBHOOK_RETRY_SCHEDULE", "0"}}));
    const auto t = s.newTenant();
    const auto created = createEndpoint(s, t, "https://localhost:" + port + "/hooks/tls");
    REQUIRE(created.status == 201);
    s.createConnection(t, "gmail", "inbox");
    const auto error = lastErrorAfter(s, t, text(created.json, "id"), 1);
    CHECK(error.find("certificate verify failed") != std::string::npos);  // an allowed address; TLS refused it
    CHECK(receiver.received("/hooks/tls").empty());
  }
}

TEST_CASE("webhook SSRF: the operator's settings are checked at start-up, naming the variable") {
  TestDatabase db;
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, std::string>>{{"HYDRA_WEBHOOK_ALLOWED_CIDRS", "10.1.0.0/8"},
                                                        {"HYDRA_WEBHOOK_ALLOWED_CIDRS", "not-a-range"},
                                                        {"HYDRA_WEBHOOK_ALLOW_LOOPBACK", "yes"},
                                                        {"HYDRA_WEBHOOK_RETRY_SCHEDULE", "5,10"},
                                                        {"HYDRA_WEBHOOK_TIMEOUT_SECONDS", "0"},
                                                        {"HYDRA_WEBHOOK_WORKERS", "-1"},
                                                        {"HYDRA_WEBHOOK_MAX_PER_CUSTOMER", "0"},
                                                        {"HYDRA_WEBHOOK_RESOLVE_TIMEOUT_SECONDS", "11"},
                                                        {"HYDRA_WEBHOOK_CA_FILE", "/nonexistent/ca.pem"}}) {
    CAPTURE(name);
    CAPTURE(value);
    auto env = ControlPlane::environment(db.url());
    env[name] = value;
    const auto r = runControlPlane({"serve"}, env);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("configuration error: " + name) != std::string::npos);
  }
}
