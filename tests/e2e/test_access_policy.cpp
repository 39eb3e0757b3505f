// Access policy for agents (issue 11): grants that expire, proxy keys bound to source networks
// (IPv4 and IPv6, X-Forwarded-For only behind trusted proxies), and a kill switch per instance;
// each a revocation like any other, on the very next fetch.
#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "tests/support/broker.hpp"
#include "tests/support/raw_http.hpp"

using namespace hydra::test;
using namespace std::chrono_literals;

namespace {

const std::string kCredentials = R"({"token":"POLICY-CANARY"})";

/// A tenant with gmail/inbox granted (send_mail, read_mail) to a runtime.
struct Policy {
  explicit Policy(const Environment& settings = {}) : s(settings) {}
  BrokerStack s;
  Tenant t = s.newTenant();
  std::string connection = s.createConnection(t, connectionBody("gmail", "inbox", kCredentials));
  Runtime runtime = s.grantedRuntime(t, connection, R"(["send_mail","read_mail"])");

  std::string grantPath(const std::string& grant_id) const {
    return t.path() + "/connections/" + connection + "/grants/" + grant_id;
  }
  std::string grantId() const {
    const auto grants = s.as(t, "GET", t.path() + "/connections/" + connection + "/grants");
    return text(*items(member(grants.json, "grants")).at(0), "id");
  }
  std::string instancePath() const { return t.path() + "/instances/" + runtime.instance_id; }
  /// The reason recorded for a request.
  std::string reasonOf(const Response& r) const { return text(eventFor(s.auditEvents(t), requestId(r)), "reason"); }
};

}  // namespace

TEST_CASE("access policy: a grant with expires_in_seconds shows its end, and refuses after it (403, audited)") {
  Policy p;
  const auto other = p.s.createInstance(p.t, "other");
  const auto r = p.s.as(p.t, "POST", p.t.path() + "/connections/" + p.connection + "/grants",
                        R"({"instance_id":")" + other + R"(","capabilities":["send_mail"],"expires_in_seconds":3600})");
  REQUIRE(r.status == 201);
  const auto expires_at = text(r.json, "expires_at");
  CHECK(isUtcTimestamp(expires_at));
  CHECK(p.s.db.exec("SELECT abs(extract(epoch FROM $1::timestamptz - now()) - 3600) < 60", expires_at)[0][0].as<bool>());
  CHECK(jsonText(member(findById(member(p.s.as(p.t, "GET", p.t.path() + "/connections/" + p.connection + "/grants")
                                            .json,
                                        "grants"),
                                 text(r.json, "id")),
                        "expires_at")) == "\"" + expires_at + "\"");
  const auto runtime = p.s.newProxyKey(p.t, other);
  CHECK(p.s.fetch(runtime, "provider=gmail").status == 200);

  // Its end comes (moved into the past directly in the database): refused at once.
  p.s.db.exec("UPDATE grants SET expires_at = now() - interval '1 second' WHERE id = $1", text(r.json, "id"));
  waitOutStaleness();
  const auto refused = p.s.fetch(runtime, "provider=gmail");
  CHECK(refusal(refused, 403) == "");
  CHECK(errorDetail(refused).find("expired") != std::string::npos);
  CHECK(refused.body.find("POLICY-CANARY") == std::string::npos);
  CHECK(p.reasonOf(refused) == "The grant has expired");
  CHECK(text(eventFor(p.s.auditEvents(p.t), requestId(refused)), "outcome") == "denied");
  // Other grants are not affected.
  CHECK(p.s.fetch(p.runtime, "provider=gmail").status == 200);
}

TEST_CASE("access policy: a grant's end is validated: RFC 3339 in the future or 60..31536000 seconds, not both") {
  Policy p;
  const auto instance = p.s.createInstance(p.t, "validated");
  const auto grant = [&](const std::string& extra) {
    return p.s.as(p.t, "POST", p.t.path() + "/connections/" + p.connection + "/grants",
                  R"({"instance_id":")" + instance + R"(","capabilities":[])" + extra + "}");
  };
  CHECK(problemLocTypes(grant(R"(,"expires_in_seconds":59)")) ==
        std::vector<std::string>{R"(["body","expires_in_seconds"] greater_than_equal)"});
  CHECK(problemLocTypes(grant(R"(,"expires_in_seconds":31536001)")) ==
        std::vector<std::string>{R"(["body","expires_in_seconds"] less_than_equal)"});
  CHECK(problemLocTypes(grant(R"(,"expires_at":"2001-01-01T00:00:00Z")")) ==
        std::vector<std::string>{R"(["body","expires_at"] datetime_future)"});
  CHECK(problemLocTypes(grant(R"(,"expires_at":"tomorrow")")) ==
        std::vector<std::string>{R"(["body","expires_at"] datetime_parsing)"});
  CHECK(problemLocTypes(grant(R"(,"expires_at":"2099-01-01T00:00:00Z","expires_in_seconds":60)")) ==
        std::vector<std::string>{R"(["body"] value_error)"});
  const auto at = grant(R"(,"expires_at":"2099-01-01T00:00:00+02:00")");
  REQUIRE(at.status == 201);
  CHECK(text(at.json, "expires_at") == "2098-12-31T22:00:00Z");
  CHECK(jsonText(member(p.s.as(p.t, "GET", p.t.path() + "/connections/" + p.connection + "/grants").json, "grants")
                     .GetArray()[0]["expires_at"]) == "null");  // the first grant has none
}

TEST_CASE("access policy: PATCH a grant: capabilities and expiry, narrowing on the next fetch, null removes the end") {
  Policy p;
  const auto path = p.grantPath(p.grantId());
  REQUIRE(p.s.fetch(p.runtime, "provider=gmail&capability=read_mail").status == 200);  // memory knows it

  const auto narrowed = p.s.as(p.t, "PATCH", path, R"({"capabilities":["send_mail"]})");
  REQUIRE(narrowed.status == 200);
  CHECK(jsonText(member(narrowed.json, "capabilities")) == R"(["send_mail"])");
  CHECK(refusal(p.s.fetch(p.runtime, "provider=gmail&capability=read_mail"), 403) == "");
  CHECK(p.s.fetch(p.runtime, "provider=gmail&capability=send_mail").status == 200);

  const auto ending = p.s.as(p.t, "PATCH", path, R"({"expires_in_seconds":120})");
  REQUIRE(ending.status == 200);
  CHECK(isUtcTimestamp(text(ending.json, "expires_at")));
  CHECK(jsonText(member(ending.json, "capabilities")) == R"(["send_mail"])");  // untouched
  const auto endless = p.s.as(p.t, "PATCH", path, R"({"expires_at":null})");
  REQUIRE(endless.status == 200);
  CHECK(jsonText(member(endless.json, "expires_at")) == "null");
  const auto widened = p.s.as(p.t, "PATCH", path, R"({"capabilities":["send_mail","read_mail"]})");
  REQUIRE(widened.status == 200);
  CHECK(p.s.fetch(p.runtime, "provider=gmail&capability=read_mail").status == 200);  // an addition: at once

  CHECK(p.s.as(p.t, "PATCH", p.grantPath(randomUuid()), R"({"capabilities":[]})").status == 404);
  CHECK(problemLocTypes(p.s.as(p.t, "PATCH", path, R"({"capabilities":"send_mail"})")) ==
        std::vector<std::string>{R"(["body","capabilities"] list_type)"});
  CHECK(problemLocTypes(p.s.as(p.t, "PATCH", path, R"({"expires_at":"2001-01-01T00:00:00Z"})")) ==
        std::vector<std::string>{R"(["body","expires_at"] datetime_future)"});
}

TEST_CASE("access policy: a key bound to networks works from inside them only, and the refusal is audited with the peer") {
  Policy p;
  const auto bound = p.s.newProxyKey(p.t, p.runtime.instance_id, R"({"allowed_cidrs":["127.0.0.1/32","10.0.0.0/8"]})");
  const auto list = p.s.as(p.t, "GET", p.instancePath() + "/proxy-keys");
  CHECK(jsonText(member(findById(member(list.json, "proxy_keys"), bound.key_id), "allowed_cidrs")) ==
        R"(["127.0.0.1/32","10.0.0.0/8"])");
  CHECK(jsonText(member(findById(member(list.json, "proxy_keys"), p.runtime.key_id), "allowed_cidrs")) == "null");

  CHECK(p.s.fetch(bound, "provider=gmail").status == 200);  // from 127.0.0.1
  const HttpClient from_elsewhere(p.s.broker.port(), "127.0.0.1", "127.0.0.2");
  const auto refused = fetchFrom(from_elsewhere, bound.instance_id, bound.proxy_key, "provider=gmail");
  CHECK(refusal(refused, 403) == "");
  CHECK(errorDetail(refused) == "Proxy key not allowed from this address");
  const auto& event = eventFor(p.s.auditEvents(p.t), requestId(refused));
  CHECK(text(event, "outcome") == "denied");
  CHECK(text(event, "peer") == "127.0.0.2");
  // An unbound key of the same instance works from anywhere.
  CHECK(fetchFrom(from_elsewhere, p.runtime.instance_id, p.runtime.proxy_key, "provider=gmail").status == 200);
}

TEST_CASE("access policy: IPv6 and IPv4 bindings on a dual-stack broker: ::1 is not 127.0.0.1") {
  Policy p(Environment{{"HYDRA_LISTEN", "[::]:0"}, {"HYDRA_ALLOW_PLAINTEXT", "1"}});
  const auto v6 = p.s.newProxyKey(p.t, p.runtime.instance_id, R"({"allowed_cidrs":["::1/128"]})");
  const auto v4 = p.s.newProxyKey(p.t, p.runtime.instance_id, R"({"allowed_cidrs":["127.0.0.0/8"]})");
  const HttpClient over_v6(p.s.broker.port(), "::1");
  const HttpClient over_v4(p.s.broker.port(), "127.0.0.1");
  CHECK(fetchFrom(over_v6, v6.instance_id, v6.proxy_key, "provider=gmail").status == 200);
  CHECK(refusal(fetchFrom(over_v4, v6.instance_id, v6.proxy_key, "provider=gmail"), 403) == "");
  // An IPv4 client of a dual-stack socket arrives as ::ffff:127.0.0.1: it is 127.0.0.1.
  const auto ok = fetchFrom(over_v4, v4.instance_id, v4.proxy_key, "provider=gmail");
  CHECK(ok.status == 200);
  CHECK(refusal(fetchFrom(over_v6, v4.instance_id, v4.proxy_key, "provider=gmail"), 403) == "");
  CHECK(text(eventFor(p.s.auditEvents(p.t), requestId(ok)), "peer") == "127.0.0.1");
}

TEST_CASE("access policy: allowed_cidrs is validated per entry, at most 32") {
  Policy p;
  const auto create = [&](const std::string& body) { return p.s.as(p.t, "POST", p.instancePath() + "/proxy-keys", body); };
  CHECK(problemLocTypes(create(R"({"allowed_cidrs":["10.0.0.0/8","10.0.0.1/8","nope","::1/129"]})")) ==
        std::vector<std::string>{R"(["body","allowed_cidrs",1] ip_any_network)",
                                 R"(["body","allowed_cidrs",2] ip_any_network)",
                                 R"(["body","allowed_cidrs",3] ip_any_network)"});
  std::string many = "[";
  for (int i = 0; i < 33; ++i) many += std::string(i ? "," : "") + "\"10.0.0." + std::to_string(i) + "\"";
  CHECK(problemLocTypes(create(R"({"allowed_cidrs":)" + many + "]}")) ==
        std::vector<std::string>{R"(["body","allowed_cidrs"] too_long)"});
  CHECK(problemLocTypes(create(R"({"allowed_cidrs":[]})")) ==
        std::vector<std::string>{R"(["body","allowed_cidrs"] too_short)"});
  CHECK(problemLocTypes(create(R"({"allowed_cidrs":[10]})")) ==
        std::vector<std::string>{R"(["body","allowed_cidrs",0] string_type)"});
  const auto single = create(R"({"allowed_cidrs":["2001:DB8::1"]})");
  REQUIRE(single.status == 201);
  CHECK(jsonText(member(single.json, "allowed_cidrs")) == R"(["2001:db8::1/128"])");
}

TEST_CASE("access policy: X-Forwarded-For decides the peer only behind a trusted proxy") {
  const auto bound_body = R"({"allowed_cidrs":["203.0.113.0/24"]})";
  const auto forwarded = [](const std::string& chain) { return Headers{{"X-Forwarded-For", chain}}; };
  {
    Policy p(Environment{{"HYDRA_TRUSTED_PROXIES", "127.0.0.1/32"}});
    const auto key = p.s.newProxyKey(p.t, p.runtime.instance_id, bound_body);
    const auto fetch = [&](const Headers& extra) {
      auto headers = bearer(key.proxy_key);
      headers.insert(headers.end(), extra.begin(), extra.end());
      return p.s.runtime.request("GET", "/internal/v1/instances/" + key.instance_id + "/connections?provider=gmail", "",
                                 headers);
    };
    const auto inside = fetch(forwarded("203.0.113.9"));
    CHECK(inside.status == 200);
    CHECK(text(eventFor(p.s.auditEvents(p.t), requestId(inside)), "peer") == "203.0.113.9");
    CHECK(fetch(forwarded("198.51.100.1")).status == 403);
    CHECK(fetch(forwarded("203.0.113.9, 198.51.100.1")).status == 403);  // the right-most untrusted counts
    CHECK(fetch(forwarded("198.51.100.1, 203.0.113.9")).status == 200);
    CHECK(fetch({}).status == 403);  // the proxy itself is not in the block
    // From a peer that is not a trusted proxy, the header is ignored.
    const HttpClient untrusted(p.s.broker.port(), "127.0.0.1", "127.0.0.2");
    auto headers = bearer(key.proxy_key);
    headers.emplace_back("X-Forwarded-For", "203.0.113.9");
    CHECK(untrusted.request("GET", "/internal/v1/instances/" + key.instance_id + "/connections?provider=gmail", "",
                            headers)
              .status == 403);
  }
  {
    Policy p;  // no trusted proxies: X-Forwarded-For is never believed
    const auto key = p.s.newProxyKey(p.t, p.runtime.instance_id, bound_body);
    auto headers = bearer(key.proxy_key);
    headers.emplace_back("X-Forwarded-For", "203.0.113.9");
    CHECK(p.s.runtime.request("GET", "/internal/v1/instances/" + key.instance_id + "/connections?provider=gmail", "",
                              headers)
              .status == 403);
  }
}

TEST_CASE("access policy: repeated X-Forwarded-For lines are one list: the proxy's appended line decides") {
  // The client forges a line with an address inside the key's networks; its proxy (trusted)
  // appends a line of its own with the address it really saw.
  Policy p(Environment{{"HYDRA_TRUSTED_PROXIES", "127.0.0.1/32"}});
  const auto key = p.s.newProxyKey(p.t, p.runtime.instance_id, R"({"allowed_cidrs":["203.0.113.0/24"]})");
  const auto fetch = [&](const std::string& forwarded_lines) {
    RawConnection c(p.s.broker.port());
    REQUIRE(c.send("GET /internal/v1/instances/" + key.instance_id + "/connections?provider=gmail HTTP/1.1\r\n"
                   "Host: x\r\nAuthorization: Bearer " + key.proxy_key + "\r\n" + forwarded_lines + "\r\n"));
    const auto read = c.readResponse(10s);
    REQUIRE_MESSAGE(completeResponseLength(read.data) > 0, "no complete answer: " << read.data.substr(0, 200));
    return parseResponse(read.data);
  };
  const auto forged = fetch("X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-For: 198.51.100.1\r\n");
  CHECK(refusal(forged, 403) == "");
  CHECK(errorDetail(forged) == "Proxy key not allowed from this address");
  CHECK(text(eventFor(p.s.auditEvents(p.t), requestId(forged)), "peer") == "198.51.100.1");
  // The other way round, the proxy's line is inside: allowed, recorded with that address.
  const auto allowed = fetch("X-Forwarded-For: 198.51.100.1\r\nx-forwarded-for: 203.0.113.9\r\n");
  CHECK(allowed.status == 200);
  CHECK(text(eventFor(p.s.auditEvents(p.t), requestId(allowed)), "peer") == "203.0.113.9");
}

TEST_CASE("access policy: the kill switch refuses at once under load, audited, and re-enabling restores the same keys") {
  Policy p;
  Broker second(p.s.brokerEnvironment());
  const HttpClient brokers[] = {p.s.runtime, HttpClient(second.port())};
  using Clock = std::chrono::steady_clock;
  struct Outcome {
    Clock::time_point started;
    int status;
  };
  std::mutex mutex;
  std::vector<Outcome> outcomes;
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int i = 0; i < 4; ++i) {
    clients.emplace_back([&, i] {
      while (!stop) {
        const auto started = Clock::now();
        const auto r = fetchFrom(brokers[i % 2], p.runtime.instance_id, p.runtime.proxy_key, "provider=gmail");
        std::lock_guard<std::mutex> lock(mutex);
        outcomes.push_back({started, r.status});
      }
    });
  }
  std::this_thread::sleep_for(500ms);
  const auto disabled = p.s.as(p.t, "PATCH", p.instancePath(), R"({"disabled":true})");
  const auto answered = Clock::now();
  std::this_thread::sleep_for(500ms);
  stop = true;
  for (auto& c : clients) c.join();
  REQUIRE(disabled.status == 200);
  CHECK(member(disabled.json, "disabled").IsTrue());
  std::size_t before = 0, after = 0;
  for (const auto& o : outcomes) {
    if (o.started < answered && o.status == 200) ++before;
    if (o.started > answered) {
      ++after;
      // No fetch that started after the answer got anything (429: the key's refusals are throttled).
      CHECK((o.status == 403 || o.status == 429));
    }
  }
  CHECK(before > 10);
  CHECK(after > 10);

  std::this_thread::sleep_for(2100ms);  // the load used up the key's refusals: they come back one a second
  const auto refused = p.s.fetch(p.runtime, "provider=gmail");
  CHECK(errorDetail(refused) == "Instance disabled");
  CHECK(p.reasonOf(refused) == "Instance disabled");
  const auto list = p.s.as(p.t, "GET", p.t.path() + "/instances");
  CHECK(member(findById(member(list.json, "instances"), p.runtime.instance_id), "disabled").IsTrue());

  const auto enabled = p.s.as(p.t, "PATCH", p.instancePath(), R"({"disabled":false,"name":"renamed"})");
  REQUIRE(enabled.status == 200);
  CHECK(text(enabled.json, "name") == "renamed");
  const auto again = p.s.fetch(p.runtime, "provider=gmail");
  CHECK(again.status == 200);
  CHECK(sameJson(member(again.json, "credentials"), kCredentials));
  CHECK(fetchFrom(brokers[1], p.runtime.instance_id, p.runtime.proxy_key, "provider=gmail").status == 200);

  CHECK(problemLocTypes(p.s.as(p.t, "PATCH", p.instancePath(), R"({"disabled":"yes"})")) ==
        std::vector<std::string>{R"(["body","disabled"] bool_type)"});
  CHECK(p.s.as(p.t, "PATCH", p.t.path() + "/instances/" + randomUuid(), R"({"disabled":true})").status == 404);
}
