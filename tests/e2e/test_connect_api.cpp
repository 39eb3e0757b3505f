// The connect flow's API (issue 20), control plane side: customers' OAuth clients (the secret
// sealed to the broker, never returned), the redirect allow-list, and the validation of connect
// sessions. The control plane logs in as its own role, as in production; the connect_providers
// rows a broker would publish are written here as the owner.
#include <doctest/doctest.h>

#include "shared/crypto/open.hpp"
#include "shared/crypto/private_key_file.hpp"
#include "tests/e2e/connect_support.hpp"

using namespace hydra::test;

TEST_CASE("connect api: OAuth clients are created, listed, read and deleted - the secret is never returned") {
  ConnectStack s;
  const auto t = s.newTenant();
  const auto secret = "CLIENT-SECRET-CANARY-" + randomToken(16);
  const auto created = s.as(t, "POST", t.path() + "/oauth-clients",
                            R"({"provider":"gmail","client_id":"my-app","client_secret":")" + secret +
                                R"(","scopes":["openid","email"],"authorization_params":{"access_type":"offline","prompt":"consent"}})");
  REQUIRE(created.status == 201);
  CHECK(created.body.find(secret) == std::string::npos);
  CHECK(keys(created.json) == std::set<std::string>{"authorization_params", "client_id", "created_at", "id", "provider", "scopes"});
  CHECK(sameJson(member(created.json, "scopes"), R"(["openid","email"])"));
  CHECK(sameJson(member(created.json, "authorization_params"), R"({"access_type":"offline","prompt":"consent"})"));
  const auto id = text(created.json, "id");

  // Sealed to the broker's key, bound to this row: the test private key opens it.
  const auto row = s.db.exec("SELECT secret_key_id, encode(secret_ciphertext, 'hex') FROM oauth_clients WHERE id = $1", id);
  REQUIRE(row.size() == 1);
  CHECK(openSealed(row[0][0].c_str(), row[0][1].c_str(), hydra::crypto::oauthClientAad(t.id, id)) == secret);
  CHECK_THROWS(openSealed(row[0][0].c_str(), row[0][1].c_str(), hydra::crypto::oauthClientAad(t.id, randomUuid())));

  const auto one = s.as(t, "GET", t.path() + "/oauth-clients/" + id);
  REQUIRE(one.status == 200);
  CHECK(one.body.find(secret) == std::string::npos);
  CHECK(text(one.json, "client_id") == "my-app");
  s.as(t, "POST", t.path() + "/oauth-clients", R"({"provider":"xero","client_id":"x","client_secret":"s"})");
  const auto list = s.as(t, "GET", t.path() + "/oauth-clients?limit=1");
  REQUIRE(list.status == 200);
  CHECK(member(list.json, "total").GetInt() == 2);
  CHECK(items(member(list.json, "oauth_clients")).size() == 1);
  const auto xero = s.as(t, "GET", t.path() + "/oauth-clients?provider=xero");
  CHECK(member(xero.json, "total").GetInt() == 1);
  CHECK(list.body.find("secret") == std::string::npos);

  // Another customer sees none of it.
  const auto other = s.newTenant("other");
  CHECK(s.as(other, "GET", t.path() + "/oauth-clients/" + id).status == 403);
  CHECK(s.as(other, "GET", other.path() + "/oauth-clients/" + id).status == 404);

  CHECK(s.as(t, "DELETE", t.path() + "/oauth-clients/" + id).status == 204);
  CHECK(s.as(t, "GET", t.path() + "/oauth-clients/" + id).status == 404);
  CHECK(s.as(t, "DELETE", t.path() + "/oauth-clients/" + id).status == 404);
}

TEST_CASE("connect api: OAuth client bodies are validated (reserved authorization params, scopes, required fields)") {
  ConnectStack s;
  const auto t = s.newTenant();
  const auto bad = s.as(t, "POST", t.path() + "/oauth-clients",
                        R"({"provider":"gmail","client_id":"a","client_secret":"s","scopes":["has space"],)"
                        R"("authorization_params":{"state":"x","redirect_uri":"y","prompt":7}})");
  REQUIRE(bad.status == 422);
  CHECK(problemLocTypes(bad) == std::vector<std::string>{
                                    R"(["body","authorization_params","prompt"] string_type)",
                                    R"(["body","authorization_params","redirect_uri"] value_error)",
                                    R"(["body","authorization_params","state"] value_error)",
                                    R"(["body","scopes",0] value_error)"});
  const auto missing = s.as(t, "POST", t.path() + "/oauth-clients", R"({"provider":"gmail"})");
  REQUIRE(missing.status == 422);
  CHECK(problemLocTypes(missing) ==
        std::vector<std::string>{R"(["body","client_id"] missing)", R"(["body","client_secret"] missing)"});
  for (const auto& reserved : {"response_type", "client_id", "scope", "code_challenge", "code_challenge_method"}) {
    CHECK(s.as(t, "POST", t.path() + "/oauth-clients",
               R"({"provider":"gmail","client_id":"a","client_secret":"s","authorization_params":{")" +
                   std::string(reserved) + R"(":"v"}})")
              .status == 422);
  }
}

TEST_CASE("connect api: connect settings: the redirect allow-list is replaced whole and validated") {
  ConnectStack s;
  const auto t = s.newTenant();
  const auto empty = s.as(t, "GET", t.path() + "/connect-settings");
  REQUIRE(empty.status == 200);
  CHECK(sameJson(empty.json, R"({"allowed_redirect_urls":[],"updated_at":null})"));
  const auto put = s.as(t, "PUT", t.path() + "/connect-settings",
                        R"({"allowed_redirect_urls":["https://app.example.com/done","http://localhost:3000/cb?x=1","https://app.example.com/done"]})");
  REQUIRE(put.status == 200);
  CHECK(sameJson(member(put.json, "allowed_redirect_urls"), R"(["https://app.example.com/done","http://localhost:3000/cb?x=1"])"));
  CHECK(isUtcTimestamp(text(put.json, "updated_at")));
  CHECK(sameJson(member(s.as(t, "GET", t.path() + "/connect-settings").json, "allowed_redirect_urls"),
                 R"(["https://app.example.com/done","http://localhost:3000/cb?x=1"])"));

  const auto bad = s.as(t, "PUT", t.path() + "/connect-settings",
                        R"({"allowed_redirect_urls":["/relative","ftp://x.example/","https://a.example/#frag","https://u:p@a.example/","https://a.example/ space"]})");
  REQUIRE(bad.status == 422);
  CHECK(problemLocTypes(bad) == std::vector<std::string>{
                                    R"(["body","allowed_redirect_urls",0] value_error)",
                                    R"(["body","allowed_redirect_urls",1] value_error)",
                                    R"(["body","allowed_redirect_urls",2] value_error)",
                                    R"(["body","allowed_redirect_urls",3] value_error)",
                                    R"(["body","allowed_redirect_urls",4] value_error)"});
  std::string many = R"({"allowed_redirect_urls":[)";
  for (int i = 0; i < 21; ++i) many += (i ? "," : "") + std::string(R"("https://a.example/)") + std::to_string(i) + "\"";
  CHECK(s.as(t, "PUT", t.path() + "/connect-settings", many + "]}").status == 422);
  CHECK(s.as(t, "PUT", t.path() + "/connect-settings", "{}").status == 422);
  const auto other = s.newTenant("other");
  CHECK(s.as(other, "PUT", t.path() + "/connect-settings", R"({"allowed_redirect_urls":[]})").status == 403);
}

TEST_CASE("connect api: connect sessions are validated: provider, client, connection, grants, redirect URLs, name") {
  ConnectStack s;
  const auto t = s.newTenant();
  s.addProvider("gmail", true, "shared-gmail-client");
  s.addProvider("byo", false, std::nullopt);  // customers must bring their own client
  s.allowRedirects(t, {"https://app.example.com/done", "https://app.example.com/failed"});
  const auto instance = s.createInstance(t);
  const auto other = s.newTenant("other");
  const auto foreign_instance = s.createInstance(other);
  const auto sessions = t.path() + "/connect-sessions";

  const auto expect422 = [&](const std::string& body, const std::vector<std::string>& locs) {
    const auto r = s.as(t, "POST", sessions, body);
    INFO(body);
    INFO(r.body);
    REQUIRE(r.status == 422);
    CHECK(problemLocTypes(r) == locs);
  };
  expect422(R"({"provider":"nope","name":"a"})", {R"(["body","provider"] value_error)"});
  expect422(R"({"provider":"gmail"})", {R"(["body"] value_error)"});
  expect422(R"({"provider":"gmail","name":"a","connection_id":")" + randomUuid() + R"("})", {R"(["body"] value_error)"});
  expect422(R"({"provider":"gmail","name":"a","success_url":"https://evil.example/steal"})",
            {R"(["body","success_url"] value_error)"});
  expect422(R"({"provider":"gmail","name":"a","error_url":"https://app.example.com/done/"})",
            {R"(["body","error_url"] value_error)"});
  expect422(R"({"provider":"gmail","name":"a","grants":[{"instance_id":")" + foreign_instance +
                R"(","capabilities":["read"]}]})",
            {R"(["body","grants",0,"instance_id"] value_error)"});
  expect422(R"({"provider":"gmail","name":"a","grants":[{"instance_id":")" + instance +
                R"(","capabilities":"read","rate_limit":{"requests":0,"per_seconds":1}},7]})",
            {R"(["body","grants",0,"capabilities"] list_type)", R"(["body","grants",0,"rate_limit","requests"] greater_than_equal)",
             R"(["body","grants",1] dict_type)"});
  expect422(R"({"provider":"byo","name":"a"})", {R"(["body","oauth_client_id"] value_error)"});
  expect422(R"({"provider":"gmail","name":"a","oauth_client_id":")" + randomUuid() + R"("})",
            {R"(["body","oauth_client_id"] value_error)"});
  const auto byo_client = s.oauthClient(t, "byo");
  expect422(R"({"provider":"gmail","name":"a","oauth_client_id":")" + byo_client + R"("})",
            {R"(["body","oauth_client_id"] value_error)"});
  expect422(R"({"provider":"gmail","connection_id":")" + randomUuid() + R"("})", {R"(["body","connection_id"] value_error)"});
  const auto xero_connection = s.createConnection(t, "xero", "books");
  expect422(R"({"provider":"gmail","connection_id":")" + xero_connection + R"("})",
            {R"(["body","connection_id"] value_error)"});

  s.createConnection(t, "gmail", "taken");
  const auto conflict = s.as(t, "POST", sessions, R"({"provider":"gmail","name":"taken"})");
  CHECK(conflict.status == 409);

  // Valid: with the customer's own client, a re-authorisation, and the shared client.
  const auto own = s.as(t, "POST", sessions, R"({"provider":"byo","name":"a","oauth_client_id":")" + byo_client + R"("})");
  REQUIRE(own.status == 201);
  const auto reauth = s.createConnection(t, "gmail", "inbox");
  const auto again = s.as(t, "POST", sessions, R"({"provider":"gmail","connection_id":")" + reauth + R"("})");
  REQUIRE(again.status == 201);
  CHECK(text(again.json, "status") == "pending");
  const auto created = s.as(t, "POST", sessions,
                            R"({"provider":"gmail","name":"new","success_url":"https://app.example.com/done",)"
                            R"("error_url":"https://app.example.com/failed","grants":[{"instance_id":")" + instance +
                                R"(","capabilities":["read"]}]})");
  REQUIRE(created.status == 201);
  CHECK(created.header("Cache-Control") == "no-store");
  CHECK(keys(created.json) == std::set<std::string>{"connect_url", "connection_id", "created_at", "error", "expires_at",
                                                    "id", "provider", "status", "updated_at"});
  const auto url = text(created.json, "connect_url");
  REQUIRE(url.rfind(std::string(kPublicUrl) + "/connect/", 0) == 0);
  const auto token = url.substr(std::string(kPublicUrl).size() + 9);
  CHECK(token.size() == 43);
  // Stored as its hash only; the lifetime is HYDRA_CONNECT_SESSION_SECONDS (default 1800).
  CHECK(s.db.exec("SELECT count(*) FROM connect_sessions WHERE token_hash = sha256(convert_to($1, 'UTF8'))", token)[0][0]
            .as<int>() == 1);
  CHECK(s.db.dump().find(token) == std::string::npos);
  const auto lifetime = s.db.exec("SELECT extract(epoch FROM expires_at - created_at)::int FROM connect_sessions WHERE id = $1",
                                  text(created.json, "id"))[0][0].as<int>();
  CHECK(lifetime >= 1799);
  CHECK(lifetime <= 1801);

  const auto got = s.as(t, "GET", sessions + "/" + text(created.json, "id"));
  REQUIRE(got.status == 200);
  CHECK(text(got.json, "status") == "pending");
  CHECK_FALSE(got.json.HasMember("connect_url"));
  CHECK(s.as(other, "GET", other.path() + "/connect-sessions/" + text(created.json, "id")).status == 404);
}

TEST_CASE("connect api: without HYDRA_PUBLIC_URL sessions are refused (501) - a bad one stops the process") {
  Stack s("hydracore_control_plane");
  const auto t = s.newTenant();
  const auto r = s.as(t, "POST", t.path() + "/connect-sessions", R"({"provider":"gmail","name":"a"})");
  CHECK(r.status == 501);
  for (const auto& bad : {"http://connect.example.com", "ftp://x", "https://x.example/?q=1", "https://u@x.example"}) {
    auto env = ControlPlane::environment(s.db.url());
    env["HYDRA_PUBLIC_URL"] = bad;
    const auto run = runControlPlane({"serve"}, env, std::chrono::seconds(20));
    CHECK(run.exit_code == 2);
    CHECK(run.err.find("HYDRA_PUBLIC_URL") != std::string::npos);
  }
  auto env = ControlPlane::environment(s.db.url());
  env["HYDRA_CONNECT_SESSION_SECONDS"] = "5";
  const auto run = runControlPlane({"serve"}, env, std::chrono::seconds(20));
  CHECK(run.exit_code == 2);
  CHECK(run.err.find("HYDRA_CONNECT_SESSION_SECONDS") != std::string::npos);
}
