// The connect flow end to end in a real browser (issue 20): headless Chromium (tests/browser/
// connect.mjs) opens a connect link of the real control plane, presses Continue, approves (or
// denies) at hydra-mock-oauth's consent page, and lands where the session said; the real broker
// exchanges the code at the mock's token endpoint, and the runtime then fetches the new tokens.
// The cases the control plane decides alone (replays, cookies, expiry, the allow-list) are
// test_connect_pages.cpp's, over HTTP; the exchange's failures are test_connect_exchange.cpp's.
#include <doctest/doctest.h>

#include <thread>

#include <Poco/Net/ServerSocket.h>

#include "tests/support/browser.hpp"
#include "tests/support/oauth_fixture.hpp"
#include "tests/support/webhook_fixture.hpp"

using namespace hydra::test;
using namespace std::chrono_literals;

namespace {

// A port nothing listens on now, for a control plane whose HYDRA_PUBLIC_URL must name it before
// it starts (the browser follows the links the control plane makes from it).
std::uint16_t unusedPort() {
  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
  return socket.address().port();
}

std::string origin(std::uint16_t port) { return "http://127.0.0.1:" + std::to_string(port); }

ProviderEntry consentProvider() {
  ProviderEntry entry{kMockProvider};
  entry.extra = R"("authorization_url":"{mock}/authorize","pkce":true,"default_scopes":["mail.read"],)"
                R"("scope_descriptions":{"mail.read":"Read your mail"})";
  return entry;
}

struct BrowserStack : OAuthStack {
  explicit BrowserStack(std::uint16_t port)
      : OAuthStack(quietLoop(), {consentProvider()},
                   webhookSettings({{"HYDRA_LISTEN", "127.0.0.1:" + std::to_string(port)},
                                    {"HYDRA_PUBLIC_URL", origin(port)}})) {
    // The customer hears of each session's end.
    const auto r = as(tenant, "POST", tenant.path() + "/webhook-endpoints",
                      R"({"url":")" + receiver.url("/hook") +
                          R"(","events":["connect_session.connected","connect_session.failed"]})");
    REQUIRE(r.status == 201);
    receiver.configure("/hook", {text(r.json, "secret")});
  }
  WebhookReceiver receiver;

  /// The data of the connect_session.* event the receiver got for session `id` (verified).
  rapidjson::Document sessionEvent(const std::string& id, const std::string& type) const {
    for (int attempt = 0; attempt < 100; ++attempt) {
      for (const auto& got : receiver.received("/hook")) {
        auto body = payloadOf(got);
        if (text(body, "type") == type && text(member(body, "data"), "id") == id) {
          CHECK(got.verified);
          rapidjson::Document data;
          data.CopyFrom(body["data"], data.GetAllocator());
          return data;
        }
      }
      std::this_thread::sleep_for(100ms);
    }
    FAIL("no " << type << " event for session " << id);
    return {};
  }

  std::string done() const { return origin(mock.port()) + "/done"; }

  /// The customer's redirect allow-list: where sessions may send the browser afterwards.
  void allowRedirects(const std::string& success, const std::string& error) const {
    const auto r = as(tenant, "PUT", tenant.path() + "/connect-settings",
                      R"({"allowed_redirect_urls":[")" + success + R"(",")" + error + R"("]})");
    REQUIRE(r.status == 200);
  }

  /// A connect session for a new connection `name`, granted to `runtime`; returns its link (and
  /// its id in `id`).
  std::string link(const std::string& name, const Runtime& runtime, std::string* id = nullptr) const {
    const auto body = R"({"provider":")" + std::string(kMockProvider) + R"(","name":")" + name +
                      R"(","grants":[{"instance_id":")" + runtime.instance_id +
                      R"(","capabilities":["read"]}],"success_url":")" + done() + R"(","error_url":")" + done() +
                      R"(/error"})";
    const auto r = as(tenant, "POST", tenant.path() + "/connect-sessions", body);
    REQUIRE(r.status == 201);
    if (id) *id = text(r.json, "id");
    return text(r.json, "connect_url");
  }

  /// connect.mjs in `mode` on `link`; returns its JSON line (fails the test on any problem).
  rapidjson::Document browse(const std::string& mode, const std::string& link) const {
    const auto result = runBrowserScript("connect.mjs", {mode, link, origin(server.port()), origin(mock.port())});
    CAPTURE(result.err);
    CAPTURE(result.out);
    REQUIRE(result.exit_code == 0);
    rapidjson::Document out;
    out.Parse(result.out.c_str());
    REQUIRE(out.IsObject());
    return out;
  }

  std::string sessionStatus(const std::string& link) const {
    const auto token = link.substr(link.rfind('/') + 1);
    return db.exec("SELECT status FROM connect_sessions WHERE token_hash = sha256($1::bytea)", token)[0][0].c_str();
  }
};

}  // namespace

TEST_CASE("connect in a browser: Continue, approve at the provider, land on success_url, and the runtime fetches the tokens") {
  if (!browserAvailableOrSkip()) return;
  BrowserStack s(unusedPort());
  REQUIRE(eventually([&] { return !s.db.exec("SELECT 1 FROM connect_providers").empty(); }, 10s));
  s.allowRedirects(s.done(), s.done() + "/error");
  const auto runtime = s.newRuntime(s.tenant, "agent");
  std::string session_id;
  const auto link = s.link("inbox", runtime, &session_id);

  const auto page = s.browse("approve", link);
  const std::string url = page["url"].GetString();
  CAPTURE(url);
  REQUIRE(url.rfind(s.done() + "?connection_id=", 0) == 0);
  const auto connection_id = url.substr(url.find('=') + 1);
  CHECK(s.sessionStatus(link) == "connected");
  CHECK(s.db.exec("SELECT status FROM connections WHERE id = $1", connection_id)[0][0].as<std::string>() == "active");
  // The code went through PKCE and was exchanged once, at the broker.
  CHECK(s.mock.counter("codes_exchanged") == 1);
  const auto issued = s.mock.list("issued_access_tokens");
  REQUIRE(issued.size() == 1);
  const auto fetched = s.fetch(runtime, std::string("provider=") + kMockProvider + "&name=inbox");
  REQUIRE(fetched.status == 200);
  CHECK(jsonText(fetched.json).find(issued[0]) != std::string::npos);
  const auto event = s.sessionEvent(session_id, "connect_session.connected");
  CHECK(text(event, "connection_id") == connection_id);
  CHECK(text(event, "status") == "connected");

  // The link is single-use: opened again, it says so.
  const auto again = s.browse("reopen", link);
  CHECK(again["status"].GetInt() >= 400);
  CHECK(s.sessionStatus(link) == "connected");
}

TEST_CASE("connect in a browser: the user denies at the provider, or the state comes back changed") {
  if (!browserAvailableOrSkip()) return;
  BrowserStack s(unusedPort());
  REQUIRE(eventually([&] { return !s.db.exec("SELECT 1 FROM connect_providers").empty(); }, 10s));
  s.allowRedirects(s.done(), s.done() + "/error");
  const auto runtime = s.newRuntime(s.tenant, "agent");

  std::string denied_id;
  const auto denied = s.link("denied", runtime, &denied_id);
  const auto page = s.browse("deny", denied);
  CHECK(std::string(page["url"].GetString()) == s.done() + "/error?error=access_denied");
  CHECK(s.sessionStatus(denied) == "failed");
  CHECK(text(s.sessionEvent(denied_id, "connect_session.failed"), "error").rfind("access_denied", 0) == 0);

  const auto tampered = s.link("tampered", runtime);
  const auto error = s.browse("tamper", tampered);
  CHECK(error["status"].GetInt() >= 400);
  // No session matches the changed state; this one's code was never stored, nothing connected.
  CHECK(s.sessionStatus(tampered) == "authorizing");
  CHECK(s.mock.counter("codes_exchanged") == 0);
  CHECK(s.db.exec("SELECT count(*) FROM connections WHERE status = 'active'")[0][0].as<int>() == 0);
}
