// The proxy route (issue 19), continued from test_proxy.cpp: every built-in capability's rules
// as enforced end to end, path spellings, revocation while calls are running, a refresh before a
// call, the size and in-flight limits, secrets kept out of answers and logs, and api_key and
// basic connections. One mock provider stands in for every provider: each one's registry entry
// has its "proxy" replaced by {"base_url": <mock>}, so the built-in capability rules are the
// ones enforced (deputy's host and xero's tenant header are unit-tested in test_provider_registry).
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <fstream>
#include <map>
#include <thread>
#include <vector>

#include "tests/support/broker.hpp"
#include "tests/support/oauth_fixture.hpp"
#include "tests/support/proxy_fixture.hpp"

using namespace hydra::test;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

const std::string kAcmeTokenUrl = "https://auth.acme.example/oauth/token";  // never called

/// Every provider the tests call, going to `provider`. `gmail_token_fields`: members added to
/// gmail's entry (its token endpoint, for the refresh test), e.g. R"("token_url": "...", )".
std::string providersFile(const TempDir& dir, const MockProvider& provider, const std::string& gmail_token_fields) {
  const auto proxy = [&](const std::string& api_key) {
    return R"("proxy": {"base_url": ")" + provider.baseUrl() + "\"" + api_key + "}";
  };
  const std::string orders = R"("capabilities": {"read_orders": {"allow": ["GET /orders", "GET /orders/*"]}})";
  const auto acme = [&](const std::string& api_key) {
    return R"({"token_url": ")" + kAcmeTokenUrl + "\", " + proxy(api_key) + ", " + orders + "}";
  };
  const auto path = dir.path("providers.json");
  std::ofstream(path) << R"({"providers": {)"
                      << R"("gmail": {)" << gmail_token_fields << proxy("") << "},"
                      << R"("google_calendar": {)" << proxy("") << "},"
                      << R"("xero": {)" << proxy("") << "},"
                      << R"("deputy": {)" << proxy("") << "},"
                      << R"("acme": )" << acme(R"(, "api_key": {"header": "X-Api-Key"})") << ","
                      << R"("acme_query": )" << acme(R"(, "api_key": {"query": "key"})") << ","
                      << R"("acme_basic": )" << acme("") << ","
                      << R"("acme_tenant": )"
                      << acme(R"(, "header_from_metadata": {"field": "tenant_id", "header": "Acme-Tenant"})") << "}}";
  return path;
}

/// The token of the oauth2 connection `connect()` makes for `provider` by default.
std::string tokenOf(const std::string& provider) { return "ya29.CANARY-" + provider + "-TOKEN"; }

std::string oauthCredentials(const std::string& access_token) {
  return R"({"access_token":")" + access_token + R"(","token_type":"Bearer","expires_at":4102444800})";
}

/// A mock provider, a broker calling it for every provider above, and a tenant.
struct RulesStack {
  explicit RulesStack(const Environment& extra = {}, const std::string& gmail_token_fields = "")
      : s(withSettings({{"HYDRA_PROVIDERS_FILE", providersFile(dir, provider, gmail_token_fields)},
                        {"HYDRA_PROXY_CA_FILE", provider.caFile()},
                        {"HYDRA_PROXY_ALLOWED_CIDRS", "127.0.0.0/8,::1/128"}},
                       extra)),
        tenant(s.newTenant()) {}

  /// A connection of `provider`; its id.
  std::string connect(const std::string& provider, const std::string& name, const std::string& auth_type,
                      const std::string& credentials) const {
    return s.createConnection(tenant, R"({"provider":")" + provider + R"(","name":")" + name + R"(","auth_type":")" +
                                          auth_type + R"(","credentials":)" + credentials + "}");
  }
  /// An oauth2 connection of `provider` holding tokenOf(provider); its id.
  std::string connect(const std::string& provider) const {
    return connect(provider, "main", "oauth2", oauthCredentials(tokenOf(provider)));
  }
  /// Grants `connection_id` to `runtime` with `capabilities` (a JSON array) and `options`
  /// (more members, starting with ','); the grant's id.
  std::string grant(const std::string& connection_id, const Runtime& runtime, const std::string& capabilities,
                    const std::string& options = "") const {
    const auto r = s.as(tenant, "POST", tenant.path() + "/connections/" + connection_id + "/grants",
                        R"({"instance_id":")" + runtime.instance_id + R"(","capabilities":)" + capabilities +
                            options + "}");
    expectStatus(r, 201, "grant");
    return text(r.json, "id");
  }

  static std::string path(const Runtime& runtime, const std::string& provider_name, const std::string& below) {
    return "/internal/v1/instances/" + runtime.instance_id + "/proxy/" + provider_name + below;
  }
  /// A proxied call as `runtime` (its proxy key as the bearer token).
  Response call(const Runtime& runtime, const std::string& provider_name, const std::string& method,
                const std::string& below, const std::string& body = "", Headers headers = {}) const {
    headers.emplace_back("Authorization", "Bearer " + runtime.proxy_key);
    return s.runtime.request(method, path(runtime, provider_name, below), body, headers);
  }

  MockProvider provider;
  TempDir dir;
  BrokerStack s;
  Tenant tenant;
};

std::string bodyFor(const std::string& method) { return method == "GET" || method == "DELETE" ? "" : "{}"; }

struct Endpoint {
  std::string method, path;
};

/// One built-in capability: a call its rules allow, and calls they do not.
struct CapabilityCase {
  std::string provider, capability;
  Endpoint allowed;
  std::vector<Endpoint> refused;
};

// Refused calls are chosen next to what is allowed: the same path with another method, the
// neighbouring endpoint, another capability's endpoint, gmail's settings (how a mailbox is made
// to leak) and its permanent deletes, calendar sharing and push channels, other Xero APIs.
const std::vector<CapabilityCase> kCapabilityCases = {
    {"gmail", "send_mail", {"POST", "/gmail/v1/users/me/messages/send"},
     {{"GET", "/gmail/v1/users/me/messages"},
      {"POST", "/gmail/v1/users/me/messages/send/x"},
      {"POST", "/gmail/v1/users/me/settings/forwardingAddresses"},
      {"DELETE", "/gmail/v1/users/me/messages/18c0"},
      {"POST", "/gmail/v1/users/other@example.com/messages/send"}}},
    {"gmail", "read_mail", {"GET", "/gmail/v1/users/me/messages/18c0"},
     {{"POST", "/gmail/v1/users/me/messages/send"},
      {"GET", "/gmail/v1/users/me/settings/filters"},
      {"GET", "/gmail/v1/users/me/settings/forwardingAddresses"},
      {"DELETE", "/gmail/v1/users/me/messages/18c0"},
      {"GET", "/gmail/v1/users/someone@example.com/messages"},
      {"GET", "/gmail/v1/users/me/drafts"}}},
    {"gmail", "organize_mail", {"POST", "/gmail/v1/users/me/messages/18c0/trash"},
     {{"DELETE", "/gmail/v1/users/me/messages/18c0"},
      {"DELETE", "/gmail/v1/users/me/threads/t1"},
      {"POST", "/gmail/v1/users/me/messages/batchDelete"},
      {"GET", "/gmail/v1/users/me/messages/18c0"},
      {"PUT", "/gmail/v1/users/me/settings/autoForwarding"},
      {"POST", "/gmail/v1/users/me/watch"}}},
    {"gmail", "manage_labels", {"POST", "/gmail/v1/users/me/labels"},
     {{"DELETE", "/gmail/v1/users/me/messages/18c0"},
      {"GET", "/gmail/v1/users/me/messages"},
      {"POST", "/gmail/v1/users/me/messages/18c0/modify"},
      {"GET", "/gmail/v1/users/me/settings/sendAs"}}},
    {"gmail", "manage_drafts", {"POST", "/gmail/v1/users/me/drafts"},
     {{"POST", "/gmail/v1/users/me/drafts/send"},
      {"DELETE", "/gmail/v1/users/me/messages/18c0"},
      {"POST", "/gmail/v1/users/me/settings/delegates"},
      {"GET", "/gmail/v1/users/me/messages/18c0"}}},
    {"google_calendar", "read_events", {"GET", "/calendar/v3/calendars/primary/events"},
     {{"POST", "/calendar/v3/calendars/primary/events"},
      {"GET", "/calendar/v3/calendars/primary/acl"},
      {"DELETE", "/calendar/v3/calendars/primary/events/e1"},
      {"GET", "/calendar/v3/users/other@example.com/calendarList"}}},
    {"google_calendar", "write_events", {"POST", "/calendar/v3/calendars/primary/events"},
     {{"GET", "/calendar/v3/calendars/primary/events"},
      {"POST", "/calendar/v3/calendars/primary/acl"},
      {"POST", "/calendar/v3/calendars/primary/events/watch"},
      {"DELETE", "/calendar/v3/calendars/primary"},
      {"POST", "/calendar/v3/calendars"}}},
    {"xero", "read_accounting", {"GET", "/api.xro/2.0/Invoices"},
     {{"POST", "/api.xro/2.0/Invoices"},
      {"DELETE", "/api.xro/2.0/Invoices/inv-1"},
      {"GET", "/payroll.xro/1.0/Employees"},
      {"GET", "/api.xro/2.0"}}},
    {"xero", "write_accounting", {"POST", "/api.xro/2.0/Invoices"},
     {{"GET", "/api.xro/2.0/Invoices"},
      {"DELETE", "/api.xro/2.0/Invoices/inv-1"},
      {"POST", "/payroll.xro/1.0/Employees"},
      {"GET", "/connections"}}},
    {"deputy", "read_workforce", {"GET", "/api/v1/resource/Employee/7"},
     {{"POST", "/api/v1/resource/Employee"},
      {"DELETE", "/api/v1/resource/Employee/7"},
      {"GET", "/api/v1/admin/settings"}}},
    {"deputy", "write_workforce", {"POST", "/api/v1/resource/Employee"},
     {{"GET", "/api/v1/resource/Employee/7"},
      {"DELETE", "/api/v1/resource/Employee/7"},
      {"POST", "/api/v1/resource/Employee/7/8/9"},
      {"GET", "/api/v1/me"}}},
};

}  // namespace

TEST_CASE("proxy: each built-in capability allows its calls and refuses its neighbours' with 403, the provider never called") {
  RulesStack p;
  std::map<std::string, std::string> connections;
  for (const auto* provider : {"gmail", "google_calendar", "xero", "deputy"}) connections[provider] = p.connect(provider);

  for (const auto& c : kCapabilityCases) {
    CAPTURE(c.capability);
    const auto runtime = p.s.newRuntime(p.tenant, c.capability);
    p.grant(connections.at(c.provider), runtime, R"([")" + c.capability + R"("])");
    p.provider.reset();

    const auto allowed = p.call(runtime, c.provider, c.allowed.method, c.allowed.path, bodyFor(c.allowed.method));
    CHECK(allowed.status == 200);
    CHECK(allowed.header("Hydra-Capability").value_or("") == c.capability);
    for (const auto& e : c.refused) {
      CAPTURE(e.method);
      CAPTURE(e.path);
      const auto r = p.call(runtime, c.provider, e.method, e.path, bodyFor(e.method));
      CHECK(r.status == 403);
      CHECK(errorDetail(r) == "The grant's capabilities (" + c.capability + ") do not allow " + e.method + " " + e.path);
    }
    const auto seen = p.provider.requests();
    REQUIRE(seen.size() == 1);  // the allowed call only
    CHECK(seen[0].method == c.allowed.method);
    CHECK(seen[0].target == c.allowed.path);
    CHECK(seen[0].header("Authorization") == "Bearer " + tokenOf(c.provider));
  }
}

TEST_CASE("proxy: case, encoded slashes and backslashes, NUL and over-long paths never reach the provider") {
  RulesStack p;
  const auto runtime = p.s.newRuntime(p.tenant);
  // read_mail allows GET /gmail/v1/users/me/messages/<one segment>: each spelling below would
  // be one segment (or a case variant of an allowed path) if it were passed on as written.
  p.grant(p.connect("gmail"), runtime, R"(["send_mail","read_mail"])");

  // Rules are case-sensitive, as the provider's paths are.
  const auto upper = p.call(runtime, "gmail", "POST", "/gmail/v1/users/me/Messages/send", "{}");
  CHECK(upper.status == 403);
  CHECK(errorDetail(upper) ==
        "The grant's capabilities (send_mail, read_mail) do not allow POST /gmail/v1/users/me/Messages/send");
  CHECK(p.call(runtime, "gmail", "GET", "/GMAIL/v1/users/me/messages").status == 403);

  for (const std::string& below : std::vector<std::string>{"/gmail/v1/users/me/messages/a%2Fb", "/gmail/v1/users/me/messages/a%2fb", "/gmail/v1/users/me%2fmessages/send",
        "/gmail/v1/users/me/messages/a%5Cb", "/gmail/v1/users/me/messages/a%5cb", "/gmail/v1/users/me/messages/a\\b",
        "/gmail/v1/users/me/messages/a%00b", "/gmail/v1/users/me/messages/%00",
        "/gmail/v1/users/me/messages/" + std::string(3000, 'a')}) {
    CAPTURE(below.substr(0, 60));
    const auto r = p.call(runtime, "gmail", "GET", below);
    CHECK(r.status == 400);
    CHECK(errorDetail(r).rfind("Path refused: ", 0) == 0);
  }
  // Longer than the server takes a request head: refused before any route.
  const auto huge = p.call(runtime, "gmail", "GET", "/gmail/v1/users/me/messages/" + std::string(20000, 'a'));
  CHECK(refusal(huge, 431) == "");
  CHECK(p.provider.requests().empty());

  // The same checks let the plain spelling through (the grant and the route are right).
  CHECK(p.call(runtime, "gmail", "GET", "/gmail/v1/users/me/messages/ab").status == 200);
  CHECK(p.provider.requests().size() == 1);
}

TEST_CASE("proxy: a grant deleted under load refuses every call that starts after the delete, and proxy_only does not stop the proxy") {
  RulesStack p;
  const auto connection = p.connect("gmail");
  const auto runtime = p.s.newRuntime(p.tenant);
  const auto grant = p.grant(connection, runtime, R"(["read_mail"])");
  const auto grant_path = p.tenant.path() + "/connections/" + connection + "/grants/" + grant;

  struct Attempt {
    std::string tag;
    Clock::time_point start;
    Response response;
  };
  std::atomic<bool> stop{false};
  // Two runtimes' worth of calls at once, each tagged in its query so the provider's record
  // says which call it was.
  std::vector<std::vector<Attempt>> attempts(2);
  std::vector<std::thread> load;
  for (std::size_t t = 0; t < attempts.size(); ++t) {
    load.emplace_back([&, t] {
      for (int n = 0; !stop; ++n) {
        const auto tag = std::to_string(t) + "-" + std::to_string(n);
        const auto start = Clock::now();
        auto r = p.call(runtime, "gmail", "GET", "/gmail/v1/users/me/labels?call=" + tag);
        attempts[t].push_back({tag, start, std::move(r)});
      }
    });
  }
  std::this_thread::sleep_for(400ms);
  const auto patch_sent = Clock::now();
  const auto patched = p.s.as(p.tenant, "PATCH", grant_path, R"({"proxy_only":true})");
  const auto patch_done = Clock::now();
  const auto fetch = p.s.fetch(runtime, "provider=gmail");
  std::this_thread::sleep_for(400ms);
  const auto delete_sent = Clock::now();
  const auto deleted = p.s.as(p.tenant, "DELETE", grant_path);
  const auto delete_done = Clock::now();
  std::this_thread::sleep_for(500ms);
  stop = true;
  for (auto& t : load) t.join();

  CHECK(patched.status == 200);
  CHECK(fetch.status == 403);  // proxy-only: the fetch is stopped at once
  REQUIRE(deleted.status == 204);

  std::map<std::string, Clock::time_point> started;
  std::size_t before_patch = 0, proxy_only = 0, not_found = 0, after_delete = 0, answered = 0;
  for (const auto& list : attempts) {
    for (const auto& a : list) {
      CAPTURE(a.tag);
      started[a.tag] = a.start;
      if (a.response.status == 200) ++answered;
      if (a.start < delete_sent) {
        // Nothing narrowed the proxy yet: proxy_only stops fetches only.
        CHECK(a.response.status == 200);
        if (a.start < patch_sent) ++before_patch;
        if (a.start > patch_done) ++proxy_only;
      } else {
        if (a.response.status == 404) ++not_found;
        if (a.start > delete_done) {
          // 404, until the key has had enough refusals that the broker's throttle answers first.
          const bool throttled =
              a.response.status == 429 && errorDetail(a.response).rfind("Too many refused requests", 0) == 0;
          if (!throttled) CHECK(refusal(a.response, 404) == "");
          ++after_delete;
        }
      }
    }
  }
  // The timeline had calls in each phase, or the test proves nothing.
  CHECK(before_patch >= 3);
  CHECK(proxy_only >= 3);
  CHECK(not_found >= 1);  // (the DELETE waits out the brokers' staleness bound: most are refused meanwhile)
  CHECK(after_delete >= 3);

  // The provider saw exactly the calls answered 200, none started after the delete returned.
  const auto seen = p.provider.requests();
  CHECK(seen.size() == answered);
  for (const auto& request : seen) {
    const auto tag = request.target.substr(request.target.find("call=") + 5);
    CAPTURE(tag);
    REQUIRE(started.count(tag) == 1);
    CHECK(started[tag] < delete_done);
  }
}

TEST_CASE("proxy: an access token due within the refresh skew is refreshed before the call, which carries the new token") {
  MockOAuth oauth;
  oauth.seed({"rt-due"});
  TempDir secrets;
  const auto secret = secrets.path("gmail-secret");
  std::ofstream(secret) << "registry-secret";
  REQUIRE(::chmod(secret.c_str(), 0600) == 0);
  // The background loop looks only every 600 s: a refresh in this test is one the call asked for.
  RulesStack p(Environment{{"HYDRA_REFRESH_INTERVAL_SECONDS", "600"}},
               R"("token_url": ")" + oauth.tokenUrl() + R"(", "client_id": "hydra-client", "client_secret_file": ")" +
                   secret + R"(", )");
  // Valid for 30 s more: within the default 120 s skew.
  const auto expires_at = std::to_string(std::time(nullptr) + 30);
  const auto connection =
      p.connect("gmail", "inbox", "oauth2",
                R"({"access_token":"at-due-old","refresh_token":"rt-due","token_type":"Bearer","expires_at":)" +
                    expires_at + "}");
  const auto runtime = p.s.newRuntime(p.tenant);
  p.grant(connection, runtime, R"(["read_mail"])");
  p.provider.configure(R"({"default":{"status":200,"body":"{\"labels\":[]}"}})");

  const auto r = p.call(runtime, "gmail", "GET", "/gmail/v1/users/me/labels");
  CHECK(r.status == 200);
  CHECK(r.body == R"({"labels":[]})");
  CHECK(oauth.calls() == 1);
  const auto issued = oauth.list("issued_access_tokens");
  REQUIRE(issued.size() == 1);
  auto seen = p.provider.requests();
  REQUIRE(seen.size() == 1);  // refreshed first: the old token was never sent
  CHECK(seen[0].header("Authorization") == "Bearer " + issued[0]);

  // The new token is stored: the next call uses it without another refresh.
  CHECK(p.call(runtime, "gmail", "GET", "/gmail/v1/users/me/labels").status == 200);
  CHECK(oauth.calls() == 1);
  seen = p.provider.requests();
  REQUIRE(seen.size() == 2);
  CHECK(seen[1].header("Authorization") == "Bearer " + issued[0]);
}

TEST_CASE("proxy: a body over HYDRA_PROXY_MAX_REQUEST_BYTES is a JSON 413 and an answer over HYDRA_PROXY_MAX_RESPONSE_BYTES a 502 naming the provider") {
  RulesStack p(Environment{{"HYDRA_PROXY_MAX_REQUEST_BYTES", "4096"}, {"HYDRA_PROXY_MAX_RESPONSE_BYTES", "1024"}});
  const auto runtime = p.s.newRuntime(p.tenant);
  p.grant(p.connect("gmail"), runtime, R"(["send_mail","read_mail"])");

  const auto big = p.call(runtime, "gmail", "POST", "/gmail/v1/users/me/messages/send", std::string(5000, 'x'),
                          {{"Content-Type", "application/octet-stream"}});
  CHECK(refusal(big, 413) == "");
  CHECK(p.provider.requests().empty());
  // At the limit: passed on whole.
  CHECK(p.call(runtime, "gmail", "POST", "/gmail/v1/users/me/messages/send", std::string(4096, 'x'),
               {{"Content-Type", "application/octet-stream"}})
            .status == 200);
  auto seen = p.provider.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].body.size() == 4096);

  p.provider.configure(R"({"answers":[{"status":200,"body_size":1024}],"default":{"status":200,"body_size":5000}})");
  const auto fits = p.call(runtime, "gmail", "GET", "/gmail/v1/users/me/labels");
  CHECK(fits.status == 200);
  CHECK(fits.body.size() == 1024);
  const auto over = p.call(runtime, "gmail", "GET", "/gmail/v1/users/me/labels");
  CHECK(refusal(over, 502) == "");
  CHECK(errorDetail(over).rfind("gmail: ", 0) == 0);
  CHECK(over.body.find(tokenOf("gmail")) == std::string::npos);
  CHECK(p.provider.requests().size() == 3);
}

TEST_CASE("proxy: over HYDRA_PROXY_MAX_IN_FLIGHT_PER_GRANT a grant's call is 429 with Retry-After, another grant of the connection unaffected") {
  RulesStack p(Environment{{"HYDRA_PROXY_MAX_IN_FLIGHT_PER_GRANT", "1"}});
  const auto connection = p.connect("gmail");
  const auto first = p.s.newRuntime(p.tenant, "first");
  const auto second = p.s.newRuntime(p.tenant, "second");
  p.grant(connection, first, R"(["read_mail"])");
  p.grant(connection, second, R"(["read_mail"])");
  // The first call is held 5 s by the provider; the rest are answered at once.
  p.provider.configure(R"({"answers":[{"status":200,"body":"{}","delay_ms":5000}],"default":{"status":200,"body":"{}"}})");

  Response held;
  std::thread holder([&] { held = p.call(first, "gmail", "GET", "/gmail/v1/users/me/labels"); });
  REQUIRE(p.provider.await(1).size() == 1);  // in flight at the provider
  const auto start = Clock::now();
  const auto refused = p.call(first, "gmail", "GET", "/gmail/v1/users/me/labels");
  CHECK(refusal(refused, 429) == "");
  const auto retry = std::stoi(refused.header("Retry-After").value_or("0"));
  CHECK(retry >= 1);
  CHECK(retry <= 60);
  // Another grant of the same connection has slots of its own (16 per connection by default).
  const auto other = p.call(second, "gmail", "GET", "/gmail/v1/users/me/labels");
  CHECK(other.status == 200);
  CHECK(Clock::now() - start < 4s);  // neither waited for the held call
  holder.join();
  CHECK(held.status == 200);
  CHECK(p.provider.requests().size() == 2);  // the refused call never left the broker
  // With the slot free again, the grant's calls go through.
  CHECK(p.call(first, "gmail", "GET", "/gmail/v1/users/me/labels").status == 200);
}

TEST_CASE("proxy: neither the access token nor the proxy key appears in an answer or the broker's log, nor the proxy key at the provider") {
  RulesStack p(Environment{{"HYDRA_LOG_LEVEL", "debug"}});
  const auto token = tokenOf("gmail");
  const auto runtime = p.s.newRuntime(p.tenant);
  p.grant(p.connect("gmail"), runtime, R"(["send_mail","read_mail"])");
  // A provider echoing what it can: headers and a body that name the request.
  p.provider.configure(R"({"answers":[)"
                       R"({"status":200,"headers":[["Content-Type","application/json"],["WWW-Authenticate","Bearer"]],"body":"{}"},)"
                       R"({"status":200,"body":"{}","drop":true},)"
                       R"({"status":200,"body_size":64,"framing":"chunked"},)"
                       R"({"status":401,"headers":[["WWW-Authenticate","Bearer error=\"invalid_token\""]],"body":"{\"error\":\"invalid_token\"}"}]})");

  std::vector<Response> answers;
  const Headers extra{{"Content-Type", "application/json"}, {"X-Goog-Api-Key", runtime.proxy_key}};
  answers.push_back(p.call(runtime, "gmail", "POST", "/gmail/v1/users/me/messages/send", R"({"raw":"UmF3"})",
                           extra));                                                   // allowed
  // Dropped on the kept connection: a POST is not made again (a GET would be, on a new one).
  answers.push_back(p.call(runtime, "gmail", "POST", "/gmail/v1/users/me/messages/send", "{}"));  // 502
  answers.push_back(p.call(runtime, "gmail", "GET", "/gmail/v1/users/me/messages"));  // allowed
  answers.push_back(p.call(runtime, "gmail", "DELETE", "/gmail/v1/users/me/messages/1"));          // 403
  answers.push_back(p.call(runtime, "gmail", "GET", "/gmail/v1/users/me/messages/a%2Fb"));          // 400
  answers.push_back(p.call(runtime, "google_calendar", "GET", "/calendar/v3/colors"));              // 404
  answers.push_back(p.s.runtime.request("GET", RulesStack::path(runtime, "gmail", "/gmail/v1/users/me/labels"), "",
                                        {{"Authorization", "Bearer " + runtime.proxy_key + "x"}}));  // 401
  answers.push_back(p.call(runtime, "gmail", "GET", "/gmail/v1/users/me/labels"));  // the provider's 401
  std::vector<int> statuses;
  for (const auto& a : answers) statuses.push_back(a.status);
  CHECK(statuses == std::vector<int>{200, 502, 200, 403, 400, 404, 401, 401});

  for (const auto& a : answers) {
    CAPTURE(a.status);
    CHECK(a.body.find(token) == std::string::npos);
    CHECK(a.body.find(runtime.proxy_key) == std::string::npos);
    for (const auto& [name, value] : a.headers) {
      CAPTURE(name);
      CHECK(value.find(token) == std::string::npos);
      CHECK(value.find(runtime.proxy_key) == std::string::npos);
    }
  }
  const auto seen = p.provider.requests();
  REQUIRE(seen.size() >= 4);
  for (const auto& request : seen) {
    CAPTURE(request.target);
    CHECK(request.target.find(runtime.proxy_key) == std::string::npos);
    CHECK(request.body.find(runtime.proxy_key) == std::string::npos);
    for (const auto& [name, value] : request.headers) {
      CAPTURE(name);
      CHECK(value.find(runtime.proxy_key) == std::string::npos);
    }
  }
  p.s.awaitShipped();
  const auto log = p.s.broker.log();
  CHECK(!log.empty());
  CHECK(log.find(token) == std::string::npos);
  CHECK(log.find(runtime.proxy_key) == std::string::npos);
  // The key's secret part alone, should a log line cut its prefix off.
  CHECK(log.find(runtime.proxy_key.substr(runtime.proxy_key.size() - 24)) == std::string::npos);
}

TEST_CASE("proxy: api_key connections get their key in the registry's header or query parameter, basic ones HTTP Basic") {
  RulesStack p;
  const auto header_key = "acme-HEADER-KEY-CANARY";
  const auto query_key = "acme-QUERY-KEY-CANARY";
  const auto runtime = p.s.newRuntime(p.tenant);
  // Provider names the registry knows only from the file are accepted by the control plane.
  p.grant(p.connect("acme", "shop", "api_key", R"({"api_key":")" + std::string(header_key) + R"("})"), runtime,
          R"(["read_orders"])");
  p.grant(p.connect("acme_query", "shop", "api_key", R"({"api_key":")" + std::string(query_key) + R"("})"), runtime,
          R"(["read_orders"])");
  p.grant(p.connect("acme_basic", "shop", "basic", R"({"username":"svc-user","password":"s3cret:colon"})"), runtime,
          R"(["read_orders"])");

  // In a header: the runtime's own X-Api-Key is dropped, the connection's is the only one.
  CHECK(p.call(runtime, "acme", "GET", "/orders/7", "", {{"X-Api-Key", "attacker"}}).status == 200);
  // In the query: the runtime's key parameter (however spelt) is dropped, the rest kept.
  CHECK(p.call(runtime, "acme_query", "GET", "/orders?key=attacker&x=1&k%65y=attacker2").status == 200);
  CHECK(p.call(runtime, "acme_basic", "GET", "/orders").status == 200);
  // Their capability's rules apply as to any provider.
  CHECK(p.call(runtime, "acme", "DELETE", "/orders/7").status == 403);
  CHECK(p.call(runtime, "acme_query", "GET", "/customers").status == 403);

  const auto seen = p.provider.requests();
  REQUIRE(seen.size() == 3);
  CHECK(seen[0].target == "/orders/7");
  CHECK(seen[0].count("X-Api-Key") == 1);
  CHECK(seen[0].header("X-Api-Key") == header_key);
  CHECK(seen[0].count("Authorization") == 0);  // never the proxy key

  CHECK(seen[1].target == std::string("/orders?x=1&key=") + query_key);
  CHECK(seen[1].target.find("attacker") == std::string::npos);
  CHECK(seen[1].count("Authorization") == 0);

  CHECK(seen[2].target == "/orders");
  CHECK(seen[2].count("Authorization") == 1);
  CHECK(seen[2].header("Authorization") == "Basic c3ZjLXVzZXI6czNjcmV0OmNvbG9u");  // svc-user:s3cret:colon
}

TEST_CASE("proxy: a header the registry sets from the connection's metadata carries the stored value, never the runtime's") {
  RulesStack p;
  const auto runtime = p.s.newRuntime(p.tenant);
  const auto tenant_connection = p.s.createConnection(
      p.tenant, R"({"provider":"acme_tenant","name":"t","auth_type":"oauth2","credentials":)" +
                    oauthCredentials("tok-tenant") + R"(,"metadata_json":{"tenant_id":"t-123"}})");
  p.grant(tenant_connection, runtime, R"(["read_orders"])");
  CHECK(p.call(runtime, "acme_tenant", "GET", "/orders", "", {{"Acme-Tenant", "t-evil"}}).status == 200);
  const auto seen = p.provider.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].header("Acme-Tenant") == "t-123");
  CHECK(seen[0].count("Acme-Tenant") == 1);
  // A connection whose metadata lacks the field is refused before any connection is made.
  const auto other = p.s.newRuntime(p.tenant, "other");
  p.grant(p.connect("acme_tenant", "bare", "oauth2", oauthCredentials("tok-bare")), other, R"(["read_orders"])");
  const auto refused = p.call(other, "acme_tenant", "GET", "/orders");
  CHECK(refused.status == 409);
  CHECK(errorDetail(refused).find("\"tenant_id\"") != std::string::npos);
  CHECK(p.provider.requests().size() == 1);
}
