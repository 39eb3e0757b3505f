// /v1/customers/{customer_id}/webhook-endpoints (issue 10): create (the secret shown only
// there), list, get, PATCH, DELETE, rotate-secret, the deliveries list and its paging, and how
// the secret is kept.
#include <doctest/doctest.h>

#include <regex>
#include <set>

#include "tests/support/webhook_fixture.hpp"

using namespace hydra::test;

namespace {

const std::set<std::string> kEndpointFields{
    "created_at", "description", "disabled_reason", "enabled", "events", "id", "previous_secret_expires_at",
    "updated_at", "url"};
const std::string kAllEvents =
    R"(["connection.created","connection.updated","connection.deleted","connection.status_changed","grant.created",)"
    R"("grant.updated","grant.deleted","proxy_key.created","proxy_key.revoked","instance.updated","instance.deleted",)"
    R"("connect_session.connected","connect_session.failed"])";

std::string endpointsPath(const Tenant& t) { return t.path() + "/webhook-endpoints"; }

}  // namespace

TEST_CASE("webhook endpoints: create returns the endpoint and its secret, shown only there") {
  Stack s;
  const auto t = s.newTenant();
  const auto r = s.as(t, "POST", endpointsPath(t), R"({"url":"https://hooks.example.com/in","description":"ops"})");
  REQUIRE(r.status == 201);
  CHECK(r.header("Cache-Control") == "no-store");
  auto with_secret = kEndpointFields;
  with_secret.insert("secret");
  CHECK(keys(r.json) == with_secret);
  const auto id = text(r.json, "id");
  const auto secret = text(r.json, "secret");
  CHECK(isUuid(id));
  CHECK(std::regex_match(secret, std::regex(R"(whsec_[A-Za-z0-9+/]{43}=)")));
  CHECK(text(r.json, "url") == "https://hooks.example.com/in");
  CHECK(text(r.json, "description") == "ops");
  CHECK(jsonText(member(r.json, "events")) == kAllEvents);  // default: every event
  CHECK(member(r.json, "enabled").IsTrue());
  CHECK(member(r.json, "disabled_reason").IsNull());
  CHECK(member(r.json, "previous_secret_expires_at").IsNull());
  CHECK(isUtcTimestamp(text(r.json, "created_at")));
  CHECK(isUtcTimestamp(text(r.json, "updated_at")));

  // Never again: not in GET, the list, or a PATCH.
  const auto got = s.as(t, "GET", endpointsPath(t) + "/" + id);
  REQUIRE(got.status == 200);
  CHECK(keys(got.json) == kEndpointFields);
  const auto list = s.as(t, "GET", endpointsPath(t));
  REQUIRE(list.status == 200);
  CHECK(keys(list.json) == std::set<std::string>{"webhook_endpoints"});
  CHECK(keys(findById(member(list.json, "webhook_endpoints"), id)) == kEndpointFields);
  const auto patched = s.as(t, "PATCH", endpointsPath(t) + "/" + id, R"({"description":"x"})");
  CHECK(keys(patched.json) == kEndpointFields);
  for (const auto* body : {&got.body, &list.body, &patched.body})
    CHECK(body->find(secret.substr(6, 20)) == std::string::npos);

  // Stored as the key's bytes for the control plane to sign with; never as the whsec_ text.
  CHECK(s.db.dump().find("whsec_") == std::string::npos);
  const auto stored = s.db.exec("SELECT length(secret) FROM webhook_endpoints WHERE id = $1", id);
  CHECK(stored[0][0].as<int>() == 32);
}

TEST_CASE("webhook endpoints: chosen events, list order, PATCH of each field, DELETE") {
  Stack s;
  const auto t = s.newTenant();
  const auto a = s.as(t, "POST", endpointsPath(t),
                      R"({"url":"https://a.example.com/","events":["grant.created","grant.deleted","grant.created"]})");
  REQUIRE(a.status == 201);
  CHECK(jsonText(member(a.json, "events")) == R"(["grant.created","grant.deleted"])");
  const auto b = s.as(t, "POST", endpointsPath(t), R"({"url":"https://b.example.com/"})");
  REQUIRE(b.status == 201);
  const auto a_id = text(a.json, "id"), b_id = text(b.json, "id");
  std::vector<std::string> listed;
  for (const auto* e : items(member(s.as(t, "GET", endpointsPath(t)).json, "webhook_endpoints"))) {
    listed.push_back(text(*e, "id"));
  }
  CHECK(listed == std::vector<std::string>{a_id, b_id});  // oldest first

  const auto p = s.as(
      t, "PATCH", endpointsPath(t) + "/" + a_id,
      R"({"url":"https://c.example.com/x?y=1","events":["instance.deleted"],"description":"new","enabled":false})");
  REQUIRE(p.status == 200);
  CHECK(text(p.json, "url") == "https://c.example.com/x?y=1");
  CHECK(jsonText(member(p.json, "events")) == R"(["instance.deleted"])");
  CHECK(text(p.json, "description") == "new");
  CHECK(member(p.json, "enabled").IsFalse());
  CHECK(text(p.json, "disabled_reason") == "Disabled through the API");
  // null and absent leave fields unchanged.
  const auto same = s.as(t, "PATCH", endpointsPath(t) + "/" + a_id, R"({"url":null,"events":null})");
  REQUIRE(same.status == 200);
  CHECK(text(same.json, "url") == "https://c.example.com/x?y=1");
  CHECK(jsonText(member(same.json, "events")) == R"(["instance.deleted"])");
  CHECK(member(same.json, "enabled").IsFalse());
  const auto enabled = s.as(t, "PATCH", endpointsPath(t) + "/" + a_id, R"({"enabled":true})");
  CHECK(member(enabled.json, "enabled").IsTrue());
  CHECK(member(enabled.json, "disabled_reason").IsNull());

  CHECK(s.as(t, "DELETE", endpointsPath(t) + "/" + a_id).status == 204);
  const auto gone = s.as(t, "GET", endpointsPath(t) + "/" + a_id);
  CHECK(gone.status == 404);
  CHECK(errorDetail(gone) == "Webhook endpoint not found");
  CHECK(s.as(t, "DELETE", endpointsPath(t) + "/" + a_id).status == 404);
  CHECK(s.as(t, "PATCH", endpointsPath(t) + "/" + a_id, R"({"enabled":true})").status == 404);
  CHECK(s.as(t, "POST", endpointsPath(t) + "/" + a_id + "/rotate-secret").status == 404);
  CHECK(s.as(t, "GET", endpointsPath(t) + "/" + a_id + "/deliveries").status == 404);
}

TEST_CASE("webhook endpoints: validation is a FastAPI 422 per problem") {
  Stack s;
  const auto t = s.newTenant();
  const auto r = s.as(t, "POST", endpointsPath(t), R"({"events":["grant.created","grant.exploded"],"description":7})");
  CHECK(problemLocTypes(r) == std::vector<std::string>{R"(["body","description"] string_type)",
                                                       R"(["body","events",1] literal_error)",
                                                       R"(["body","url"] missing)"});
  CHECK(problemLocTypes(s.as(t, "POST", endpointsPath(t), R"({"url":"https://example.com","events":[]})")) ==
        std::vector<std::string>{R"(["body","events"] too_short)"});
  CHECK(problemLocTypes(s.as(t, "POST", endpointsPath(t), "[]")) ==
        std::vector<std::string>{R"(["body"] model_attributes_type)"});
  CHECK(problemLocTypes(s.as(t, "PATCH", endpointsPath(t) + "/not-a-uuid", R"({"enabled":true})")) ==
        std::vector<std::string>{R"(["path","endpoint_id"] uuid_parsing)"});
  const auto id = text(s.as(t, "POST", endpointsPath(t), R"({"url":"https://example.com"})").json, "id");
  CHECK(problemLocTypes(s.as(t, "PATCH", endpointsPath(t) + "/" + id, R"({"enabled":"yes","url":"ftp://x"})")) ==
        std::vector<std::string>{R"(["body","enabled"] bool_type)", R"(["body","url"] value_error)"});
  CHECK(problemLocTypes(s.as(t, "GET", endpointsPath(t) + "/" + id + "/deliveries?limit=0&before=x")) ==
        std::vector<std::string>{R"(["query","before"] int_parsing)", R"(["query","limit"] greater_than_equal)"});
}

TEST_CASE("webhook endpoints: at most 20 per customer") {
  Stack s;
  const auto t = s.newTenant();
  for (int i = 0; i < 20; ++i) {
    REQUIRE(s.as(t, "POST", endpointsPath(t), R"({"url":"https://example.com/)" + std::to_string(i) + R"("})").status ==
            201);
  }
  const auto r = s.as(t, "POST", endpointsPath(t), R"({"url":"https://example.com/21"})");
  CHECK(r.status == 409);
  CHECK(errorDetail(r) == "A customer may have at most 20 webhook endpoints");
  // Another customer is not affected.
  const auto other = s.newTenant("other");
  CHECK(s.as(other, "POST", endpointsPath(other), R"({"url":"https://example.com/"})").status == 201);
}

TEST_CASE("webhook endpoints: deliveries are listed newest first and paged with before") {
  WebhookStack s;
  const auto endpoint = s.addEndpoint("/hooks/page", R"("events":["connection.created"])");
  for (int i = 0; i < 5; ++i) s.createConnection(s.tenant, "gmail", "c" + std::to_string(i));
  REQUIRE(s.receiver.await("/hooks/page", 5).size() == 5);
  const auto first = s.deliveries(endpoint.id, "limit=2");
  const auto page1 = items(member(first.json, "deliveries"));
  REQUIRE(page1.size() == 2);
  CHECK(member(*page1[0], "id").GetInt64() > member(*page1[1], "id").GetInt64());
  const auto before = member(first.json, "next_before").GetInt64();
  CHECK(before == member(*page1[1], "id").GetInt64());
  const auto second = s.deliveries(endpoint.id, "limit=2&before=" + std::to_string(before));
  const auto page2 = items(member(second.json, "deliveries"));
  REQUIRE(page2.size() == 2);
  CHECK(member(*page2[0], "id").GetInt64() < before);
  const auto third =
      s.deliveries(endpoint.id, "limit=2&before=" + std::to_string(member(second.json, "next_before").GetInt64()));
  CHECK(items(member(third.json, "deliveries")).size() == 1);
  CHECK(member(third.json, "next_before").IsNull());
  std::set<std::string> ids;
  for (const auto& page : {page1, page2, items(member(third.json, "deliveries"))}) {
    for (const auto* d : page) ids.insert(text(*d, "webhook_id"));
  }
  CHECK(ids.size() == 5);
  // Deleting the endpoint deletes its history.
  REQUIRE(s.as(s.tenant, "DELETE", s.tenant.path() + "/webhook-endpoints/" + endpoint.id).status == 204);
  CHECK(s.db.exec("SELECT count(*) FROM webhook_deliveries")[0][0].as<int>() == 0);
}
