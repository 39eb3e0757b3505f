// /v1/customers/{customer_id}/connections: the seed endpoints and the GET/PATCH additions.
#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>

#include "tests/support/api.hpp"

using namespace hydra::test;

namespace {

const std::set<std::string> kConnectionFields{
    "auth_type",     "created_at", "customer_id", "error_message", "expires_at", "grants", "id",
    "last_used_at",  "metadata_json", "name",     "provider",      "scopes",     "status", "updated_at"};

/// The ids of a connection list, in order.
std::vector<std::string> ids(const Response& list) {
  std::vector<std::string> out;
  for (const auto* c : items(member(list.json, "connections"))) out.push_back(text(*c, "id"));
  return out;
}

long long total(const Response& list) {
  const auto& t = member(list.json, "total");
  if (!t.IsInt64()) throw std::runtime_error("total is not an integer: " + list.body);
  return t.GetInt64();
}

}  // namespace

TEST_CASE("create returns the Connection with exactly the documented fields") {
  Stack s;
  const auto t = s.newTenant();
  const auto r = s.as(t, "POST", t.path() + "/connections",
                      R"({"provider":"gmail","name":"admin@iqm.com.au","auth_type":"api_key",)"
                      R"("credentials":{"api_key":"k-123"},"metadata_json":{"team":"ops","n":2},)"
                      R"("scopes":["mail.send","mail.read"]})");
  REQUIRE(r.status == 201);
  CHECK(r.header("Content-Type") == "application/json");
  CHECK(keys(r.json) == kConnectionFields);
  CHECK(isUuid(text(r.json, "id")));
  CHECK(text(r.json, "customer_id") == t.id);
  CHECK(text(r.json, "provider") == "gmail");
  CHECK(text(r.json, "name") == "admin@iqm.com.au");
  CHECK(text(r.json, "auth_type") == "api_key");
  CHECK(text(r.json, "status") == "active");
  CHECK(jsonText(member(r.json, "scopes")) == R"(["mail.send","mail.read"])");
  CHECK(sameJson(member(r.json, "metadata_json"), R"({"team":"ops","n":2})"));
  CHECK(jsonText(member(r.json, "grants")) == "[]");
  CHECK(member(r.json, "error_message").IsNull());
  CHECK(member(r.json, "expires_at").IsNull());
  CHECK(member(r.json, "last_used_at").IsNull());
  CHECK(isUtcTimestamp(text(r.json, "created_at")));
  CHECK(isUtcTimestamp(text(r.json, "updated_at")));
  CHECK(r.body.find("k-123") == std::string::npos);
  CHECK(r.body.find("credentials") == std::string::npos);

  // The credentials went to their own table, sealed.
  const auto secret = s.db.exec("SELECT length(ciphertext), key_id FROM connection_secrets WHERE connection_id = $1",
                                text(r.json, "id"));
  REQUIRE(secret.size() == 1);
  CHECK(secret[0][0].as<int>() > 0);
  CHECK_FALSE(std::string(secret[0][1].c_str()).empty());
}

TEST_CASE("create defaults auth_type to oauth2, scopes to [] and metadata_json to null") {
  Stack s;
  const auto t = s.newTenant();
  const auto r = s.as(t, "POST", t.path() + "/connections", connectionBody("xero", "books"));
  REQUIRE(r.status == 201);
  CHECK(keys(r.json) == kConnectionFields);
  CHECK(text(r.json, "auth_type") == "oauth2");
  CHECK(jsonText(member(r.json, "scopes")) == "[]");
  CHECK(member(r.json, "metadata_json").IsNull());
  // An empty credentials object is an object.
  CHECK(s.as(t, "POST", t.path() + "/connections", connectionBody("xero", "empty", "{}")).status == 201);
  for (const char* auth_type : {"oauth2", "api_key", "basic"}) {
    CAPTURE(auth_type);
    const auto typed = s.as(t, "POST", t.path() + "/connections",
                            R"({"provider":"p","name":")" + std::string(auth_type) + R"(","auth_type":")" +
                                auth_type + R"(","credentials":{}})");
    REQUIRE(typed.status == 201);
    CHECK(text(typed.json, "auth_type") == auth_type);
  }
}

TEST_CASE("scopes hold any JSON values as the API document shows") {
  // The seed document shows scopes as [null] (an untyped list), where typed lists such as
  // capabilities show ["string"]: FastAPI accepts any element there.
  Stack s;
  const auto t = s.newTenant();
  const auto r = s.as(t, "POST", t.path() + "/connections",
                      R"({"provider":"p","name":"n","credentials":{},"scopes":["read",1,null,{"k":"v"}]})");
  REQUIRE(r.status == 201);
  CHECK(sameJson(member(r.json, "scopes"), R"(["read",1,null,{"k":"v"}])"));
  const auto patched = s.as(t, "PATCH", t.path() + "/connections/" + text(r.json, "id"), R"({"scopes":[true,2]})");
  REQUIRE(patched.status == 200);
  CHECK(sameJson(member(patched.json, "scopes"), "[true,2]"));
}

TEST_CASE("unknown body fields are ignored as FastAPI does") {
  Stack s;
  const auto t = s.newTenant();
  const auto r = s.as(t, "POST", t.path() + "/connections",
                      R"({"provider":"p","name":"n","credentials":{},"status":"error","color":"blue"})");
  REQUIRE(r.status == 201);
  CHECK(keys(r.json) == kConnectionFields);
  CHECK(text(r.json, "status") == "active");
}

TEST_CASE("GET returns the connection as created") {
  Stack s;
  const auto t = s.newTenant();
  const auto created = s.as(t, "POST", t.path() + "/connections", connectionBody("gmail", "inbox"));
  REQUIRE(created.status == 201);
  const auto r = s.as(t, "GET", t.path() + "/connections/" + text(created.json, "id"));
  REQUIRE(r.status == 200);
  CHECK(jsonText(r.json) == jsonText(created.json));

  // The broker's columns come out as RFC 3339 UTC too, whatever zone they were written in.
  s.db.exec("UPDATE connections SET expires_at = '2031-02-03 04:05:06+02', last_used_at = '2030-01-01 00:00:00.5+00', "
            "status = 'expired', error_message = 'refresh token revoked' WHERE id = $1",
            text(created.json, "id"));
  const auto used = s.as(t, "GET", t.path() + "/connections/" + text(created.json, "id"));
  REQUIRE(used.status == 200);
  CHECK(text(used.json, "expires_at") == "2031-02-03T02:05:06Z");
  CHECK(text(used.json, "last_used_at") == "2030-01-01T00:00:00.5Z");
  CHECK(text(used.json, "status") == "expired");
  CHECK(text(used.json, "error_message") == "refresh token revoked");

  // Ids are case-insensitive, as UUIDs are.
  std::string upper = text(created.json, "id");
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(s.as(t, "GET", t.path() + "/connections/" + upper).status == 200);

  const auto unknown = s.as(t, "GET", t.path() + "/connections/" + randomUuid());
  CHECK(unknown.status == 404);
  CHECK(errorDetail(unknown) == "Connection not found");
}

TEST_CASE("list filters by provider and status and total counts all matches") {
  Stack s;
  const auto t = s.newTenant();
  std::vector<std::string> gmail, xero;
  for (const char* name : {"a", "b", "c"}) gmail.push_back(s.createConnection(t, "gmail", name));
  for (const char* name : {"a", "b"}) xero.push_back(s.createConnection(t, "xero", name));
  s.db.exec("UPDATE connections SET status = 'error', error_message = 'token refresh failed' WHERE id = $1", gmail[1]);
  s.db.exec("UPDATE connections SET status = 'expired' WHERE id = $1", xero[0]);
  const auto list = [&](const std::string& query) { return s.as(t, "GET", t.path() + "/connections" + query); };

  const auto all = list("");
  REQUIRE(all.status == 200);
  CHECK(keys(all.json) == std::set<std::string>{"connections", "total"});
  CHECK(total(all) == 5);
  const auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  CHECK(sorted(ids(all)) == sorted({gmail[0], gmail[1], gmail[2], xero[0], xero[1]}));
  for (const auto* c : items(member(all.json, "connections"))) CHECK(keys(*c) == kConnectionFields);

  const auto by_provider = list("?provider=gmail");
  CHECK(total(by_provider) == 3);
  const auto order = ids(by_provider);  // the order is the service's; pages must follow it
  CHECK(sorted(order) == sorted(gmail));

  const auto errored = list("?status=error");
  CHECK(total(errored) == 1);
  CHECK(ids(errored) == std::vector<std::string>{gmail[1]});
  CHECK(text(*items(member(errored.json, "connections"))[0], "error_message") == "token refresh failed");

  CHECK(ids(list("?status=expired&provider=xero")) == std::vector<std::string>{xero[0]});
  CHECK(ids(list("?status=active&provider=xero")) == std::vector<std::string>{xero[1]});
  CHECK(total(list("?status=expired&provider=gmail")) == 0);
  CHECK(total(list("?provider=deputy")) == 0);

  REQUIRE(order.size() == 3);
  const auto page = list("?provider=gmail&limit=2");
  CHECK(ids(page) == std::vector<std::string>{order[0], order[1]});
  CHECK(total(page) == 3);
  const auto next = list("?provider=gmail&limit=2&offset=2");
  CHECK(ids(next) == std::vector<std::string>{order[2]});
  CHECK(total(next) == 3);
  const auto past_the_end = list("?offset=10");
  CHECK(ids(past_the_end).empty());
  CHECK(total(past_the_end) == 5);

  CHECK(problemLocTypes(list("?status=broken")) == std::vector<std::string>{R"(["query","status"] literal_error)"});
  CHECK(problemLocTypes(list("?offset=-1")) == std::vector<std::string>{R"(["query","offset"] greater_than_equal)"});
  CHECK(problemLocTypes(list("?offset=x")) == std::vector<std::string>{R"(["query","offset"] int_parsing)"});
  CHECK(problemLocTypes(list("?provider=" + std::string(51, 'p'))) ==
        std::vector<std::string>{R"(["query","provider"] string_too_long)"});
  // One entry per problem.
  CHECK(problemLocTypes(list("?limit=0&status=nope")) ==
        std::vector<std::string>{R"(["query","limit"] greater_than_equal)", R"(["query","status"] literal_error)"});
}

TEST_CASE("list limit defaults to 50 and allows at most 500") {
  Stack s;
  const auto t = s.newTenant();
  s.db.exec("INSERT INTO connections (customer_id, provider, name, auth_type) "
            "SELECT $1, 'bulk', 'c' || lpad(g::text, 3, '0'), 'oauth2' FROM generate_series(1, 60) g",
            t.id);
  const auto list = [&](const std::string& query) { return s.as(t, "GET", t.path() + "/connections" + query); };

  const auto first_page = list("");
  REQUIRE(first_page.status == 200);
  CHECK(ids(first_page).size() == 50);
  CHECK(total(first_page) == 60);
  CHECK(ids(list("?limit=500")).size() == 60);
  CHECK(ids(list("?limit=1")).size() == 1);

  const auto over = list("?limit=501");
  REQUIRE(validationProblems(over).size() == 1);
  CHECK(validationProblems(over)[0].loc == R"(["query","limit"])");
  CHECK(validationProblems(over)[0].type == "less_than_equal");
  CHECK(validationProblems(over)[0].msg == "Input should be less than or equal to 500");

  const auto zero = list("?limit=0");
  REQUIRE(validationProblems(zero).size() == 1);
  CHECK(validationProblems(zero)[0].loc == R"(["query","limit"])");
  CHECK(validationProblems(zero)[0].type == "greater_than_equal");
  CHECK(validationProblems(zero)[0].msg == "Input should be greater than or equal to 1");

  CHECK(problemLocTypes(list("?limit=ten")) == std::vector<std::string>{R"(["query","limit"] int_parsing)"});
  CHECK(problemLocTypes(list("?limit=")) == std::vector<std::string>{R"(["query","limit"] int_parsing)"});
}

TEST_CASE("a second connection with the same customer provider and name is 409") {
  Stack s;
  const auto t = s.newTenant();
  const auto other = s.newTenant("other");
  s.createConnection(t, "gmail", "inbox");

  const auto duplicate = s.as(t, "POST", t.path() + "/connections", connectionBody("gmail", "inbox"));
  CHECK(duplicate.status == 409);
  CHECK_FALSE(errorDetail(duplicate).empty());
  CHECK(s.db.exec("SELECT count(*) FROM connections")[0][0].as<int>() == 1);
  CHECK(s.db.exec("SELECT count(*) FROM connection_secrets")[0][0].as<int>() == 1);

  // The same name under another provider, or for another customer, is a different connection.
  CHECK(s.as(t, "POST", t.path() + "/connections", connectionBody("xero", "inbox")).status == 201);
  CHECK(s.as(other, "POST", other.path() + "/connections", connectionBody("gmail", "inbox")).status == 201);
}

TEST_CASE("PATCH changes name metadata_json and scopes") {
  Stack s;
  const auto t = s.newTenant();
  const auto created = s.as(t, "POST", t.path() + "/connections",
                            R"({"provider":"gmail","name":"old","credentials":{"a":"b"},)"
                            R"("metadata_json":{"k":1},"scopes":["s1"]})");
  const auto id = text(created.json, "id");
  const auto path = t.path() + "/connections/" + id;

  const auto r = s.as(t, "PATCH", path, R"({"name":"new","metadata_json":{"k":2,"x":"y"},"scopes":["s2","s3"]})");
  REQUIRE(r.status == 200);
  CHECK(keys(r.json) == kConnectionFields);
  CHECK(text(r.json, "id") == id);
  CHECK(text(r.json, "name") == "new");
  CHECK(text(r.json, "provider") == "gmail");
  CHECK(sameJson(member(r.json, "metadata_json"), R"({"k":2,"x":"y"})"));
  CHECK(jsonText(member(r.json, "scopes")) == R"(["s2","s3"])");
  CHECK(text(r.json, "created_at") == text(created.json, "created_at"));
  CHECK(s.db.exec("SELECT updated_at > created_at FROM connections WHERE id = $1", id)[0][0].as<bool>());
  CHECK(jsonText(s.as(t, "GET", path).json) == jsonText(r.json));

  // Fields left out stay; an explicit null metadata_json clears it.
  const auto only_scopes = s.as(t, "PATCH", path, R"({"scopes":[]})");
  REQUIRE(only_scopes.status == 200);
  CHECK(text(only_scopes.json, "name") == "new");
  CHECK(jsonText(member(only_scopes.json, "scopes")) == "[]");
  CHECK(sameJson(member(only_scopes.json, "metadata_json"), R"({"k":2,"x":"y"})"));
  const auto cleared = s.as(t, "PATCH", path, R"({"metadata_json":null})");
  REQUIRE(cleared.status == 200);
  CHECK(member(cleared.json, "metadata_json").IsNull());
  const auto nothing = s.as(t, "PATCH", path, "{}");
  REQUIRE(nothing.status == 200);
  CHECK(text(nothing.json, "name") == "new");
}

TEST_CASE("PATCH renaming onto an existing provider and name is 409") {
  Stack s;
  const auto t = s.newTenant();
  s.createConnection(t, "gmail", "taken");
  const auto id = s.createConnection(t, "gmail", "mine");
  const auto r = s.as(t, "PATCH", t.path() + "/connections/" + id, R"({"name":"taken"})");
  CHECK(r.status == 409);
  CHECK_FALSE(errorDetail(r).empty());
  CHECK(text(s.as(t, "GET", t.path() + "/connections/" + id).json, "name") == "mine");
  // Renaming to its own name is no conflict.
  CHECK(s.as(t, "PATCH", t.path() + "/connections/" + id, R"({"name":"mine"})").status == 200);
}

TEST_CASE("PATCH credentials re-encrypts them and makes the connection active again") {
  Stack s;
  const auto t = s.newTenant();
  const auto id = s.createConnection(t, connectionBody("gmail", "inbox", R"({"refresh_token":"r1"})"));
  const auto path = t.path() + "/connections/" + id;
  const auto ciphertext = [&] {
    return std::string(
        s.db.exec("SELECT encode(ciphertext, 'hex') FROM connection_secrets WHERE connection_id = $1", id)[0][0]
            .c_str());
  };
  const auto key_id = [&] {
    return std::string(s.db.exec("SELECT key_id FROM connection_secrets WHERE connection_id = $1", id)[0][0].c_str());
  };
  const auto before = ciphertext();
  const auto key_before = key_id();
  s.db.exec("UPDATE connections SET status = 'error', error_message = 'x' WHERE id = $1", id);

  // Other changes leave the status alone.
  const auto renamed = s.as(t, "PATCH", path, R"({"name":"renamed"})");
  REQUIRE(renamed.status == 200);
  CHECK(text(renamed.json, "status") == "error");
  CHECK(text(renamed.json, "error_message") == "x");
  CHECK(ciphertext() == before);

  const auto r = s.as(t, "PATCH", path, R"({"credentials":{"refresh_token":"r2"}})");
  REQUIRE(r.status == 200);
  CHECK(text(r.json, "status") == "active");
  CHECK(member(r.json, "error_message").IsNull());
  CHECK(r.body.find("r2") == std::string::npos);
  CHECK(ciphertext() != before);
  CHECK(key_id() == key_before);
  CHECK(s.db.exec("SELECT count(*) FROM connection_secrets WHERE connection_id = $1", id)[0][0].as<int>() == 1);

  // The same credentials again still give a new ciphertext (fresh HPKE encapsulation).
  const auto once = ciphertext();
  REQUIRE(s.as(t, "PATCH", path, R"({"credentials":{"refresh_token":"r2"}})").status == 200);
  CHECK(ciphertext() != once);
}

TEST_CASE("PATCH validates every field and reports each problem") {
  Stack s;
  const auto t = s.newTenant();
  const auto id = s.createConnection(t, "gmail", "inbox");
  const auto patch = [&](const std::string& body) { return s.as(t, "PATCH", t.path() + "/connections/" + id, body); };

  CHECK(problemLocTypes(patch(R"({"name":""})")) == std::vector<std::string>{R"(["body","name"] string_too_short)"});
  CHECK(problemLocTypes(patch(R"({"name":")" + std::string(256, 'n') + R"("})")) ==
        std::vector<std::string>{R"(["body","name"] string_too_long)"});
  CHECK(problemLocTypes(patch(R"({"credentials":"secret"})")) ==
        std::vector<std::string>{R"(["body","credentials"] dict_type)"});
  CHECK(problemLocTypes(patch(R"({"metadata_json":[1]})")) ==
        std::vector<std::string>{R"(["body","metadata_json"] dict_type)"});
  CHECK(problemLocTypes(patch(R"({"scopes":"read"})")) == std::vector<std::string>{R"(["body","scopes"] list_type)"});
  CHECK(problemLocTypes(patch(R"({"name":5,"credentials":[],"scopes":{}})")) ==
        std::vector<std::string>{R"(["body","credentials"] dict_type)", R"(["body","name"] string_type)",
                                 R"(["body","scopes"] list_type)"});
  CHECK(problemLocTypes(patch("[]")) == std::vector<std::string>{R"(["body"] model_attributes_type)"});
  CHECK(problemLocTypes(patch("")) == std::vector<std::string>{R"(["body"] missing)"});

  // Nothing changed.
  const auto r = s.as(t, "GET", t.path() + "/connections/" + id);
  CHECK(text(r.json, "name") == "inbox");
  CHECK(jsonText(member(r.json, "scopes")) == "[]");
}

TEST_CASE("GET PATCH and DELETE of an unknown connection are 404") {
  Stack s;
  const auto t = s.newTenant();
  const auto path = t.path() + "/connections/" + randomUuid();
  for (const auto& entry : std::vector<std::pair<std::string, std::string>>{
           {"GET", ""}, {"PATCH", R"({"name":"x"})"}, {"DELETE", ""}}) {
    const auto& method = std::get<0>(entry);
    const auto& body = std::get<1>(entry);
    CAPTURE(method);
    const auto r = s.as(t, method, path, body);
    CHECK(r.status == 404);
    CHECK(errorDetail(r) == "Connection not found");
  }
}

TEST_CASE("DELETE removes the connection with its grants and its secret") {
  Stack s;
  const auto t = s.newTenant();
  const auto doomed = s.createConnection(t, "gmail", "doomed");
  const auto kept = s.createConnection(t, "gmail", "kept");
  const auto instance = s.createInstance(t);
  s.createGrant(t, doomed, instance);
  s.createGrant(t, kept, instance);
  const auto count = [&](const char* table, const std::string& id) {
    return s.db.exec(std::string("SELECT count(*) FROM ") + table + " WHERE connection_id = $1", id)[0][0].as<int>();
  };
  REQUIRE(count("grants", doomed) == 1);
  REQUIRE(count("connection_secrets", doomed) == 1);

  const auto r = s.as(t, "DELETE", t.path() + "/connections/" + doomed);
  CHECK(r.status == 204);
  CHECK(r.body.empty());
  CHECK(count("grants", doomed) == 0);
  CHECK(count("connection_secrets", doomed) == 0);
  CHECK(s.db.exec("SELECT count(*) FROM connections WHERE id = $1", doomed)[0][0].as<int>() == 0);
  CHECK(s.as(t, "GET", t.path() + "/connections/" + doomed).status == 404);
  CHECK(s.as(t, "DELETE", t.path() + "/connections/" + doomed).status == 404);

  // The other connection, its grant and the instance are untouched.
  CHECK(count("grants", kept) == 1);
  CHECK(count("connection_secrets", kept) == 1);
  CHECK(items(member(s.as(t, "GET", t.path() + "/instances").json, "instances")).size() == 1);
  CHECK(total(s.as(t, "GET", t.path() + "/connections")) == 1);
}
