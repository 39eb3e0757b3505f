// Webhook delivery (issue 10): signed per Standard Webhooks and verified by the receiver's own
// implementation, retried on 5xx and 429 (honouring Retry-After) with the same webhook-id, 410
// disabling the endpoint, other answers final, a hanging receiver holding up no one else,
// rotation signing with both secrets, and a control plane that stops promptly.
#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <thread>

#include "tests/support/oauth_fixture.hpp"
#include "tests/support/webhook_fixture.hpp"

using namespace hydra::test;
using namespace std::chrono_literals;

namespace {

long long member64(const rapidjson::Value& v, const char* key) {
  const auto& m = member(v, key);
  if (!m.IsInt64()) throw std::runtime_error(std::string(key) + " is not an integer: " + jsonText(v));
  return m.GetInt64();
}

/// The spec's example (tests/data/standard-webhooks.json).
rapidjson::Document specExample() {
  std::ifstream in(testDataPath("standard-webhooks.json"));
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  if (doc.HasParseError()) throw std::runtime_error("standard-webhooks.json is not JSON");
  return doc;
}

}  // namespace

TEST_CASE("webhooks: the receiver's own verifier accepts the specification's example and nothing else") {
  const WebhookReceiver receiver;
  const auto v = specExample();
  receiver.configure("/spec", {text(v, "secret")}, R"("tolerance_seconds":0)");
  const auto send = [&](const std::string& body, const std::string& signature) {
    Headers headers{{"webhook-id", text(v, "webhook_id")},
                    {"webhook-timestamp", std::to_string(member(v, "webhook_timestamp").GetInt64())},
                    {"webhook-signature", signature}};
    HttpClient(receiver.port()).request("POST", "/spec", body, headers);
  };
  send(text(v, "body"), text(v, "webhook_signature"));
  send(text(v, "body") + " ", text(v, "webhook_signature"));                 // body changed
  send(text(v, "body"), "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OF=");  // signature changed
  send(text(v, "body"), "v2," + text(v, "webhook_signature").substr(3));     // unknown version
  send(text(v, "body"), "v1,bm9wZQ== " + text(v, "webhook_signature"));      // one of several
  const auto got = receiver.received("/spec");
  REQUIRE(got.size() == 5);
  CHECK(got[0].verified);
  CHECK_FALSE(got[1].verified);
  CHECK_FALSE(got[2].verified);
  CHECK_FALSE(got[3].verified);
  CHECK(got[4].verified);
}

TEST_CASE(
    "webhooks: a change is delivered once, signed per Standard Webhooks, with the resource as the API returns it") {
  WebhookStack s;
  const auto endpoint = s.addEndpoint("/hooks/a");
  const auto connection = s.createConnection(s.tenant, "gmail", "inbox");
  const auto got = s.receiver.await("/hooks/a", 1);
  REQUIRE(got.size() == 1);
  const auto& r = got[0];
  CHECK(r.verified);
  CHECK(r.matched_secrets == std::vector<int>{0});
  CHECK(std::regex_match(r.webhook_id, std::regex("msg_[0-9a-f]{32}")));
  CHECK(std::llabs(std::stoll(r.webhook_timestamp) - static_cast<long long>(now())) < 30);
  CHECK(std::regex_match(r.webhook_signature, std::regex(R"(v1,[A-Za-z0-9+/]{43}=)")));
  CHECK(r.content_type == "application/json");
  CHECK(r.host == "127.0.0.1:" + std::to_string(s.receiver.port()));

  const auto payload = payloadOf(r);
  CHECK(keys(payload) == std::set<std::string>{"type", "timestamp", "data"});
  CHECK(text(payload, "type") == "connection.created");
  CHECK(isUtcTimestamp(text(payload, "timestamp")));
  const auto api = s.as(s.tenant, "GET", s.tenant.path() + "/connections/" + connection);
  CHECK(member(payload, "data") == api.json);
  CHECK(r.body.find("tok") == std::string::npos);  // the credentials' access_token

  REQUIRE(s.awaitState(endpoint.id, r.webhook_id, "delivered"));
  const auto d = s.delivery(endpoint.id, r.webhook_id);
  CHECK(keys(d) == std::set<std::string>{"attempts", "created_at", "event_type", "id", "last_attempt_at", "last_error",
                                         "last_response", "last_status_code", "next_attempt_at", "state",
                                         "webhook_id"});
  CHECK(member64(d, "attempts") == 1);
  CHECK(member64(d, "last_status_code") == 200);
  CHECK(text(d, "event_type") == "connection.created");
  CHECK(member(d, "next_attempt_at").IsNull());
  CHECK(member(d, "last_error").IsNull());
  CHECK(text(d, "last_response") == R"({"ok":true})");
  std::this_thread::sleep_for(1500ms);  // nothing more comes
  CHECK(s.receiver.received("/hooks/a").size() == 1);
}

TEST_CASE("webhooks: 500 twice then 200 is delivered on the third attempt with the same webhook-id and body") {
  WebhookStack s;
  const auto endpoint = s.addEndpoint("/hooks/flaky", "", R"("mode":"fail","times":2,"status":500)");
  s.createInstance(s.tenant);
  const auto instance = s.createInstance(s.tenant, "second");
  s.as(s.tenant, "DELETE", s.tenant.path() + "/instances/" + instance);  // instance.deleted
  const auto got = s.receiver.await("/hooks/flaky", 3);
  REQUIRE(got.size() == 3);
  CHECK(got[0].answered == 500);
  CHECK(got[1].answered == 500);
  CHECK(got[2].answered == 200);
  for (const auto& r : got) {
    CHECK(r.verified);
    CHECK(r.webhook_id == got[0].webhook_id);
    CHECK(r.body == got[0].body);
  }
  // The schedule's 1 s (with jitter of at most 10%) between attempts.
  CHECK(got[1].received_ms - got[0].received_ms >= 850);
  CHECK(got[2].received_ms - got[1].received_ms >= 850);
  REQUIRE(s.awaitState(endpoint.id, got[0].webhook_id, "delivered"));
  const auto d = s.delivery(endpoint.id, got[0].webhook_id);
  CHECK(member64(d, "attempts") == 3);
  CHECK(member64(d, "last_status_code") == 200);
  CHECK(text(d, "event_type") == "instance.deleted");
}

TEST_CASE("webhooks: when the schedule is used up the delivery fails, keeping a bounded excerpt of the answer") {
  WebhookStack s;
  const auto endpoint = s.addEndpoint("/hooks/down", "", R"("mode":"status","status":503,"answer_size":5000)");
  s.createConnection(s.tenant, "gmail", "inbox");
  const auto got = s.receiver.await("/hooks/down", 3);
  REQUIRE(got.size() == 3);
  REQUIRE(s.awaitState(endpoint.id, got[0].webhook_id, "failed"));
  const auto d = s.delivery(endpoint.id, got[0].webhook_id);
  CHECK(member64(d, "attempts") == 3);
  CHECK(member64(d, "last_status_code") == 503);
  CHECK(member(d, "next_attempt_at").IsNull());
  CHECK(text(d, "last_response") == std::string(1024, 'x'));
  std::this_thread::sleep_for(2s);
  CHECK(s.receiver.received("/hooks/down").size() == 3);
  // The endpoint stays enabled: only a 410 disables it.
  CHECK(member(s.as(s.tenant, "GET", s.tenant.path() + "/webhook-endpoints/" + endpoint.id).json, "enabled").IsTrue());
}

TEST_CASE("webhooks: 429 is retried no sooner than its Retry-After") {
  WebhookStack s;
  const auto endpoint = s.addEndpoint("/hooks/busy", "", R"("mode":"fail","times":1,"status":429,"retry_after":"3")");
  s.createInstance(s.tenant);
  const auto instance = s.createInstance(s.tenant, "other");
  s.as(s.tenant, "DELETE", s.tenant.path() + "/instances/" + instance);
  const auto got = s.receiver.await("/hooks/busy", 2);
  REQUIRE(got.size() == 2);
  CHECK(got[0].answered == 429);
  CHECK(got[1].answered == 200);
  CHECK(got[1].received_ms - got[0].received_ms >= 2900);  // the schedule alone says 1 s
  CHECK(s.awaitState(endpoint.id, got[0].webhook_id, "delivered"));
}

TEST_CASE("webhooks: 410 disables the endpoint, fails what was pending for it, and nothing more is sent") {
  WebhookStack s;
  const auto endpoint = s.addEndpoint("/hooks/gone", "", R"("mode":"gone")");
  const auto other = s.addEndpoint("/hooks/fine");
  s.createConnection(s.tenant, "gmail", "inbox");
  const auto got = s.receiver.await("/hooks/gone", 1);
  REQUIRE(got.size() == 1);
  REQUIRE(s.awaitState(endpoint.id, got[0].webhook_id, "failed"));
  const auto d = s.delivery(endpoint.id, got[0].webhook_id);
  CHECK(member64(d, "attempts") == 1);
  CHECK(member64(d, "last_status_code") == 410);
  const auto e = s.as(s.tenant, "GET", s.tenant.path() + "/webhook-endpoints/" + endpoint.id);
  CHECK(member(e.json, "enabled").IsFalse());
  CHECK(text(e.json, "disabled_reason") == "The endpoint answered 410 Gone");

  s.createConnection(s.tenant, "gmail", "second");
  CHECK(s.receiver.await("/hooks/fine", 2).size() == 2);
  CHECK(s.receiver.received("/hooks/gone").size() == 1);
  CHECK(items(member(s.deliveries(endpoint.id).json, "deliveries")).size() == 1);
  (void)other;

  // Enabled again by the customer, it receives what happens from then on.
  REQUIRE(
      s.as(s.tenant, "PATCH", s.tenant.path() + "/webhook-endpoints/" + endpoint.id, R"({"enabled":true})").status ==
      200);
  s.receiver.configure("/hooks/gone", {endpoint.secret});  // answers 200 now
  s.createConnection(s.tenant, "gmail", "third");
  const auto after = s.receiver.await("/hooks/gone", 2);
  REQUIRE(after.size() == 2);
  CHECK(text(payloadOf(after[1]), "type") == "connection.created");
  CHECK(member(s.as(s.tenant, "GET", s.tenant.path() + "/webhook-endpoints/" + endpoint.id).json, "disabled_reason")
            .IsNull());
}

TEST_CASE("webhooks: other 4xx answers and redirects are final after one attempt") {
  WebhookStack s;
  const auto not_found = s.addEndpoint("/hooks/404", "", R"("mode":"status","status":404)");
  const auto redirect = s.addEndpoint("/hooks/302", "", R"("mode":"status","status":302)");
  s.createConnection(s.tenant, "gmail", "inbox");
  const auto a = s.receiver.await("/hooks/404", 1);
  const auto b = s.receiver.await("/hooks/302", 1);
  REQUIRE(a.size() == 1);
  REQUIRE(b.size() == 1);
  REQUIRE(s.awaitState(not_found.id, a[0].webhook_id, "failed"));
  REQUIRE(s.awaitState(redirect.id, b[0].webhook_id, "failed"));
  CHECK(member64(s.delivery(not_found.id, a[0].webhook_id), "last_status_code") == 404);
  const auto r = s.delivery(redirect.id, b[0].webhook_id);
  CHECK(member64(r, "last_status_code") == 302);
  CHECK(text(r, "last_error") == "redirects are not followed");
  std::this_thread::sleep_for(2500ms);
  CHECK(s.receiver.received("/hooks/404").size() == 1);
  CHECK(s.receiver.received("/hooks/302").size() == 1);
}

TEST_CASE("webhooks: a hanging receiver holds one worker and does not hold up another customer's deliveries") {
  // Two workers, and the hanging endpoint with several messages due: it still gets one at a time.
  WebhookStack s(webhookSettings({{"HYDRA_WEBHOOK_WORKERS", "2"}, {"HYDRA_WEBHOOK_TIMEOUT_SECONDS", "8"}}));
  const auto hanging = s.addEndpoint("/hooks/hang", "", R"("mode":"hang","hang_ms":30000)");
  for (int i = 0; i < 4; ++i) s.createInstance(s.tenant, "i" + std::to_string(i));
  for (const auto* i : items(member(s.as(s.tenant, "GET", s.tenant.path() + "/instances").json, "instances"))) {
    s.as(s.tenant, "DELETE", s.tenant.path() + "/instances/" + text(*i, "id"));
  }
  REQUIRE(s.receiver.await("/hooks/hang", 1).size() >= 1);

  // Another customer, another endpoint: delivered at once while the first one hangs (waiting
  // behind it would take at least its 8 s timeout).
  const auto other = s.newTenant("other");
  s.addEndpoint(other, "/hooks/other");
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) s.createConnection(other, "gmail", "c" + std::to_string(i));
  const auto got = s.receiver.await("/hooks/other", 3, 5s);
  CHECK(got.size() == 3);
  CHECK(std::chrono::steady_clock::now() - started < 5s);
  for (const auto& r : got) CHECK(r.verified);

  // One attempt at a time to the hanging endpoint: the next starts only when the previous one
  // was cut at the timeout.
  const auto hung = s.receiver.await("/hooks/hang", 3, 30s);
  REQUIRE(hung.size() >= 3);
  for (std::size_t i = 1; i < hung.size(); ++i) CHECK(hung[i].received_ms - hung[i - 1].received_ms >= 7900);
  const auto d = s.delivery(hanging.id, hung[0].webhook_id);
  CHECK(text(d, "last_error") == "timed out after 8 s");
  CHECK(member(d, "last_status_code").IsNull());
}

TEST_CASE("webhooks: one customer's 20 hanging endpoints do not take every worker from another customer") {
  // The default worker count; attempts long enough that waiting behind them would show.
  WebhookStack s(webhookSettings({{"HYDRA_WEBHOOK_TIMEOUT_SECONDS", "10"}}));
  for (int i = 0; i < 20; ++i) s.addEndpoint("/hooks/slow" + std::to_string(i), "", R"("mode":"hang","hang_ms":30000)");
  s.createConnection(s.tenant, "gmail", "busy");  // one delivery to each of the 20 endpoints
  const auto hanging_seen = [&] {
    std::size_t n = 0;
    for (int i = 0; i < 20; ++i) n += s.receiver.received("/hooks/slow" + std::to_string(i)).size();
    return n;
  };
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (hanging_seen() == 0 && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(50ms);
  REQUIRE(hanging_seen() >= 1);
  std::this_thread::sleep_for(1s);  // the claim loop has had its chance to fill every worker

  const auto other = s.newTenant("other");
  s.addEndpoint(other, "/hooks/other");
  const auto started = std::chrono::steady_clock::now();
  s.createConnection(other, "gmail", "c");
  const auto got = s.receiver.await("/hooks/other", 1, 5s);
  REQUIRE(got.size() == 1);
  CHECK(got[0].verified);
  CHECK(std::chrono::steady_clock::now() - started < 5s);
  // The busy customer holds at most its cap (half of the 4 workers) in flight.
  CHECK(hanging_seen() <= 2);
}

TEST_CASE("webhooks: customers take turns: one customer's backlog does not delay another's first delivery") {
  // The cap as high as the workers, so only the order can keep the other customer waiting: a
  // backlog of 200 deliveries at 200 ms each takes 4 workers about 10 s.
  WebhookStack s(webhookSettings({{"HYDRA_WEBHOOK_MAX_PER_CUSTOMER", "4"}}));
  for (int i = 0; i < 20; ++i) s.addEndpoint("/hooks/busy" + std::to_string(i), "", R"("mode":"hang","hang_ms":200)");
  for (int i = 0; i < 10; ++i) s.createConnection(s.tenant, "gmail", "c" + std::to_string(i));
  REQUIRE(s.receiver.await("/hooks/busy0", 1, 10s).size() == 1);

  const auto other = s.newTenant("other");
  s.addEndpoint(other, "/hooks/other");
  const auto started = std::chrono::steady_clock::now();
  s.createConnection(other, "gmail", "c");
  REQUIRE(s.receiver.await("/hooks/other", 1, 5s).size() == 1);
  CHECK(std::chrono::steady_clock::now() - started < 4s);
  std::size_t backlog_done = 0;
  for (int i = 0; i < 20; ++i) backlog_done += s.receiver.received("/hooks/busy" + std::to_string(i)).size();
  CHECK(backlog_done < 150);  // it came well before the backlog was through
}

TEST_CASE("webhooks: after a secret rotation deliveries carry signatures of the new and the old secret") {
  WebhookStack s;
  const auto endpoint = s.addEndpoint("/hooks/rotate");
  const auto rotated = s.as(s.tenant, "POST", s.tenant.path() + "/webhook-endpoints/" + endpoint.id + "/rotate-secret");
  REQUIRE(rotated.status == 200);
  CHECK(rotated.header("Cache-Control") == "no-store");
  const auto new_secret = text(rotated.json, "secret");
  CHECK(new_secret != endpoint.secret);
  CHECK(std::regex_match(new_secret, std::regex(R"(whsec_[A-Za-z0-9+/]{43}=)")));
  const auto expires = parseUtc(text(rotated.json, "previous_secret_expires_at"));
  CHECK(std::llabs(expires - (now() + 24 * 3600)) < 60);

  // The receiver knows both: each signature verifies with one of them.
  s.receiver.configure("/hooks/rotate", {new_secret, endpoint.secret});
  s.createConnection(s.tenant, "gmail", "inbox");
  const auto got = s.receiver.await("/hooks/rotate", 1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].verified);
  CHECK(got[0].matched_secrets == std::vector<int>{0, 1});
  const auto space = got[0].webhook_signature.find(' ');
  REQUIRE(space != std::string::npos);
  CHECK(got[0].webhook_signature.find(' ', space + 1) == std::string::npos);  // exactly two

  // A receiver that still has only the old secret verifies too, during the 24 hours.
  s.receiver.configure("/hooks/rotate", {endpoint.secret});
  s.createConnection(s.tenant, "gmail", "second");
  const auto old_only = s.receiver.await("/hooks/rotate", 2);
  REQUIRE(old_only.size() == 2);
  CHECK(old_only[1].verified);

  // Once the 24 hours are over, only the new secret signs.
  s.db.exec("UPDATE webhook_endpoints SET previous_secret_expires_at = now() - interval '1 second' WHERE id = $1",
            endpoint.id);
  s.receiver.configure("/hooks/rotate", {new_secret, endpoint.secret});
  s.createConnection(s.tenant, "gmail", "third");
  const auto later = s.receiver.await("/hooks/rotate", 3);
  REQUIRE(later.size() == 3);
  CHECK(later[2].matched_secrets == std::vector<int>{0});
  CHECK(later[2].webhook_signature.find(' ') == std::string::npos);
  CHECK(member(s.as(s.tenant, "GET", s.tenant.path() + "/webhook-endpoints/" + endpoint.id).json,
               "previous_secret_expires_at")
            .IsNull());
}

TEST_CASE("webhooks: SIGTERM stops a control plane promptly mid-delivery and hands the delivery back") {
  const auto settings = webhookSettings({{"HYDRA_WEBHOOK_TIMEOUT_SECONDS", "15"}});
  WebhookStack s(settings);
  s.addEndpoint("/hooks/slow", "", R"("mode":"hang","times":1,"hang_ms":60000)");
  s.createConnection(s.tenant, "gmail", "inbox");
  const auto first = s.receiver.await("/hooks/slow", 1);
  REQUIRE(first.size() == 1);

  // Not the 15 s the attempt may take: the attempt in flight is cut short.
  const auto started = std::chrono::steady_clock::now();
  CHECK(s.server.stop() == 0);
  CHECK(std::chrono::steady_clock::now() - started < 3s);
  const auto row = s.db.exec(
      "SELECT state, attempts, last_error, lease_expires_at IS NULL, next_attempt_at <= now() FROM webhook_deliveries");
  REQUIRE(row.size() == 1);
  CHECK(row[0][0].as<std::string>() == "pending");
  CHECK(row[0][1].as<int>() == 1);
  CHECK(row[0][2].as<std::string>() == "interrupted: the control plane stopped");
  CHECK(row[0][3].as<bool>());  // no lease left to wait for
  CHECK(row[0][4].as<bool>());  // due now

  // The next control plane delivers it at once, with the same webhook-id.
  const ControlPlane next(withSettings(ControlPlane::environment(s.db.urlAs("hydracore_control_plane")), settings));
  const auto got = s.receiver.await("/hooks/slow", 2, 5s);
  REQUIRE(got.size() == 2);
  CHECK(got[1].webhook_id == first[0].webhook_id);
  CHECK(got[1].answered == 200);
  CHECK(got[1].verified);
  CHECK(eventually(
      [&] { return s.db.exec("SELECT state FROM webhook_deliveries")[0][0].as<std::string>() == "delivered"; }, 5s));
}
