// Webhook events (issue 10): each change is announced with the resource as the API returns it
// (never a credential, token, secret or proxy key), in the transaction of the change (a grant's
// and an instance's PATCH of the access policy included); endpoints
// get only the types they chose; connection.status_changed comes from the schema's trigger for
// every status change, the broker's refresh ending in invalid_grant or an expired token included,
// and is never sent twice.
#include <doctest/doctest.h>

#include <map>
#include <set>
#include <thread>

#include "tests/support/oauth_fixture.hpp"
#include "tests/support/webhook_fixture.hpp"

using namespace hydra::test;
using namespace std::chrono_literals;

namespace {

/// The types of what `path` received, in order.
std::vector<std::string> typesOf(const std::vector<ReceivedWebhook>& got) {
  std::vector<std::string> out;
  for (const auto& r : got) out.push_back(text(payloadOf(r), "type"));
  return out;
}

/// The data of the one delivery of `type` in `got`; throws unless there is exactly one.
rapidjson::Document dataOf(const std::vector<ReceivedWebhook>& got, const std::string& type,
                           const std::string& id = "") {
  std::vector<rapidjson::Document> found;
  for (const auto& r : got) {
    auto payload = payloadOf(r);
    if (text(payload, "type") != type) continue;
    if (!id.empty() && text(member(payload, "data"), "id") != id) continue;
    rapidjson::Document data;
    data.CopyFrom(member(payload, "data"), data.GetAllocator());
    found.push_back(std::move(data));
  }
  if (found.size() != 1) throw std::runtime_error(std::to_string(found.size()) + " deliveries of " + type + " " + id);
  return std::move(found[0]);
}

}  // namespace

TEST_CASE("webhook events: every change of the API is announced with the resource as the API returns it") {
  WebhookStack s;
  s.addEndpoint("/hooks/all");
  const auto t = s.tenant;
  const auto base = t.path();

  const auto created =
      s.as(t, "POST", base + "/connections",
           connectionBody("gmail", "inbox", R"({"access_token":"SECRET-ACCESS","refresh_token":"SECRET-REFRESH"})"));
  REQUIRE(created.status == 201);
  const auto connection = text(created.json, "id");
  const auto updated = s.as(t, "PATCH", base + "/connections/" + connection, R"({"name":"renamed"})");
  REQUIRE(updated.status == 200);
  const auto instance = s.createInstance(t, "runtime");
  const auto grant = s.as(t, "POST", base + "/connections/" + connection + "/grants",
                          R"({"instance_id":")" + instance + R"(","capabilities":["send_mail"]})");
  REQUIRE(grant.status == 201);
  const auto key = s.as(t, "POST", base + "/instances/" + instance + "/proxy-keys", "");
  REQUIRE(key.status == 201);
  const auto proxy_key = text(key.json, "proxy_key");
  REQUIRE(s.as(t, "DELETE", base + "/instances/" + instance + "/proxy-keys/" + text(key.json, "id")).status == 204);
  const auto revoked_keys = s.as(t, "GET", base + "/instances/" + instance + "/proxy-keys");
  REQUIRE(s.as(t, "DELETE", base + "/connections/" + connection + "/grants/" + text(grant.json, "id")).status == 204);
  // A second grant goes with its instance, a third with its connection.
  const auto instance2 = s.createInstance(t, "second");
  const auto grant2 = s.createGrant(t, connection, instance2);
  const auto instance3 = s.createInstance(t, "third");
  const auto grant3 = s.createGrant(t, connection, instance3);
  const auto connection_before_delete = s.as(t, "GET", base + "/connections/" + connection);
  const auto instances_before_delete = s.as(t, "GET", base + "/instances");
  REQUIRE(s.as(t, "DELETE", base + "/instances/" + instance2).status == 204);
  const auto connection_at_delete = s.as(t, "GET", base + "/connections/" + connection);
  REQUIRE(s.as(t, "DELETE", base + "/connections/" + connection).status == 204);

  const auto got = s.receiver.await("/hooks/all", 12);
  REQUIRE(got.size() == 12);
  // Sent in no guaranteed order; every one once.
  std::multiset<std::string> types;
  for (const auto& type : typesOf(got)) types.insert(type);
  CHECK(types == std::multiset<std::string>{"connection.created", "connection.updated", "grant.created",
                                            "proxy_key.created", "proxy_key.revoked", "grant.deleted", "grant.created",
                                            "grant.created", "grant.deleted", "instance.deleted", "grant.deleted",
                                            "connection.deleted"});
  std::set<std::string> ids;
  for (const auto& r : got) {
    CHECK(r.verified);
    ids.insert(r.webhook_id);
    // Never a credential, a token or a key.
    for (const auto& secret : {std::string("SECRET-ACCESS"), std::string("SECRET-REFRESH"), proxy_key, t.api_key}) {
      CHECK(r.body.find(secret) == std::string::npos);
    }
    CHECK(r.body.find("credentials") == std::string::npos);
  }
  CHECK(ids.size() == 12);

  // The data is what the API returned.
  CHECK(dataOf(got, "connection.created") == created.json);
  CHECK(dataOf(got, "connection.updated") == updated.json);
  CHECK(dataOf(got, "grant.created", text(grant.json, "id")) == grant.json);
  CHECK(dataOf(got, "grant.deleted", text(grant.json, "id")) == grant.json);
  // The key as created, without the key itself.
  const auto announced_key = dataOf(got, "proxy_key.created");
  auto key_fields = keys(key.json);
  key_fields.erase("proxy_key");
  CHECK(keys(announced_key) == key_fields);
  for (const auto& field : key_fields) CHECK(member(announced_key, field.c_str()) == member(key.json, field.c_str()));
  CHECK(dataOf(got, "proxy_key.revoked") == *items(member(revoked_keys.json, "proxy_keys"))[0]);
  CHECK(isUtcTimestamp(text(dataOf(got, "proxy_key.revoked"), "revoked_at")));
  CHECK(dataOf(got, "grant.deleted", grant2) == findById(member(connection_before_delete.json, "grants"), grant2));
  CHECK(dataOf(got, "grant.deleted", grant3) == findById(member(connection_at_delete.json, "grants"), grant3));
  CHECK(dataOf(got, "instance.deleted") == findById(member(instances_before_delete.json, "instances"), instance2));
  CHECK(dataOf(got, "connection.deleted") == connection_at_delete.json);
}

TEST_CASE("webhook events: a grant's or an instance's PATCH is announced with the resource after it") {
  WebhookStack s;
  s.addEndpoint("/hooks/updates", R"("events":["grant.updated","instance.updated"])");
  const auto t = s.tenant;
  const auto connection = s.createConnection(t, "gmail", "inbox");
  const auto instance = s.createInstance(t);
  const auto grant = s.createGrant(t, connection, instance, R"(["send_mail","read_mail"])");
  const auto narrowed = s.as(t, "PATCH", t.path() + "/connections/" + connection + "/grants/" + grant,
                             R"({"capabilities":["read_mail"],"expires_in_seconds":3600})");
  REQUIRE(narrowed.status == 200);
  const auto killed = s.as(t, "PATCH", t.path() + "/instances/" + instance, R"({"disabled":true})");
  REQUIRE(killed.status == 200);
  const auto got = s.receiver.await("/hooks/updates", 2);
  REQUIRE(got.size() == 2);
  CHECK(dataOf(got, "grant.updated") == narrowed.json);
  CHECK(dataOf(got, "instance.updated") == killed.json);
  CHECK(member(dataOf(got, "instance.updated"), "disabled").IsTrue());
}

TEST_CASE("webhook events: an endpoint gets only the types it chose") {
  WebhookStack s;
  s.addEndpoint("/hooks/grants", R"("events":["grant.created","grant.deleted"])");
  s.addEndpoint("/hooks/all");
  const auto connection = s.createConnection(s.tenant, "gmail", "inbox");
  const auto instance = s.createInstance(s.tenant);
  s.createGrant(s.tenant, connection, instance);
  REQUIRE(s.receiver.await("/hooks/all", 2).size() == 2);
  const auto got = s.receiver.await("/hooks/grants", 1);
  REQUIRE(got.size() == 1);
  CHECK(text(payloadOf(got[0]), "type") == "grant.created");
  // The same event to two endpoints is one message: the same webhook-id.
  const auto all = s.receiver.received("/hooks/all");
  CHECK(
      std::any_of(all.begin(), all.end(), [&](const ReceivedWebhook& r) { return r.webhook_id == got[0].webhook_id; }));
  std::this_thread::sleep_for(1500ms);
  CHECK(s.receiver.received("/hooks/grants").size() == 1);
}

TEST_CASE("webhook events: nothing is written without a listening endpoint, nor for a change that failed") {
  WebhookStack s;
  const auto connection = s.createConnection(s.tenant, "gmail", "inbox");
  CHECK(s.db.exec("SELECT count(*) FROM webhook_messages")[0][0].as<int>() == 0);
  s.addEndpoint("/hooks/a", R"("events":["connection.created"])");
  // A duplicate (409) and a change of a type nobody listens to (connection.updated).
  CHECK(s.as(s.tenant, "POST", s.tenant.path() + "/connections", connectionBody("gmail", "inbox")).status == 409);
  CHECK(s.as(s.tenant, "PATCH", s.tenant.path() + "/connections/" + connection, R"({"name":"x"})").status == 200);
  CHECK(s.db.exec("SELECT count(*) FROM webhook_messages")[0][0].as<int>() == 0);
  // A disabled endpoint listens to nothing.
  const auto endpoints = s.as(s.tenant, "GET", s.tenant.path() + "/webhook-endpoints");
  const auto id = text(*items(member(endpoints.json, "webhook_endpoints"))[0], "id");
  REQUIRE(s.as(s.tenant, "PATCH", s.tenant.path() + "/webhook-endpoints/" + id, R"({"enabled":false})").status == 200);
  s.createConnection(s.tenant, "gmail", "second");
  CHECK(s.db.exec("SELECT count(*) FROM webhook_messages")[0][0].as<int>() == 0);
}

TEST_CASE("webhook events: a refresh ending in invalid_grant announces connection.status_changed with status error") {
  OAuthStack s(quietLoop(), {ProviderEntry{kMockProvider}}, webhookSettings());
  WebhookReceiver receiver;
  const auto created = s.as(s.tenant, "POST", s.tenant.path() + "/webhook-endpoints",
                            R"({"url":")" + receiver.url("/hooks/status") +
                                R"(","events":["connection.status_changed","connection.updated"]})");
  REQUIRE(created.status == 201);
  receiver.configure("/hooks/status", {text(created.json, "secret")});

  const auto c = s.connect(oauthCredentials("at-old", "rt-unknown-to-the-provider", now() - 60));
  CHECK(s.fetch(c).status == 409);  // the provider said invalid_grant: the connection is broken
  const auto got = receiver.await("/hooks/status", 1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].verified);
  const auto payload = payloadOf(got[0]);
  CHECK(text(payload, "type") == "connection.status_changed");
  const auto& data = member(payload, "data");
  CHECK(text(data, "status") == "error");
  CHECK(text(data, "error_message").find("invalid_grant") != std::string::npos);
  // The same resource the API shows (the trigger encodes it in SQL).
  CHECK(data == s.connection(c).json);

  // New credentials make it active again: connection.updated from the control plane and one
  // status_changed from the trigger, not two.
  REQUIRE(s.patchCredentials(c, oauthCredentials("at-new", "rt-new", now() + 3600)).status == 200);
  const auto after = receiver.await("/hooks/status", 3);
  REQUIRE(after.size() == 3);
  std::this_thread::sleep_for(1500ms);
  const auto all = receiver.received("/hooks/status");
  REQUIRE(all.size() == 3);
  std::map<std::string, int> count;
  for (const auto& type : typesOf(all)) ++count[type];
  CHECK(count["connection.status_changed"] == 2);
  CHECK(count["connection.updated"] == 1);
  CHECK(text(member(payloadOf(all[1]), "data"), "status") == "active");
  CHECK(text(member(payloadOf(all[2]), "data"), "status") == "active");
  for (const auto& r : all) CHECK(r.body.find("at-new") == std::string::npos);
}

TEST_CASE(
    "webhook events: an expired token without a refresh token announces connection.status_changed with status "
    "expired") {
  OAuthStack s(quietLoop(), {ProviderEntry{kMockProvider}}, webhookSettings());
  WebhookReceiver receiver;
  const auto created =
      s.as(s.tenant, "POST", s.tenant.path() + "/webhook-endpoints",
           R"({"url":")" + receiver.url("/hooks/status") + R"(","events":["connection.status_changed"]})");
  REQUIRE(created.status == 201);
  receiver.configure("/hooks/status", {text(created.json, "secret")});
  const auto c = s.connect(oauthCredentials("at-old", "", now() - 60));
  CHECK(s.fetch(c).status == 409);
  const auto got = receiver.await("/hooks/status", 1);
  REQUIRE(got.size() == 1);
  const auto payload = payloadOf(got[0]);
  CHECK(text(member(payload, "data"), "status") == "expired");
  CHECK(member(payload, "data") == s.connection(c).json);
}
