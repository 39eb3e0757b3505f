// The connect flow's pages (issue 20), driven with the HTTP client as the browser: the link's
// page, Continue (cookie, state, PKCE, redirect to the provider), the provider's callback (the
// code sealed to the broker with the verifier and the redirect URI, the pending connection and
// its grants), the waiting page's status, and every refusal: a replayed callback, a tampered
// state, a missing or wrong cookie, a link used twice, an expired session, the user's denial.
#include <doctest/doctest.h>

#include <rapidjson/document.h>

#include "tests/e2e/connect_support.hpp"

using namespace hydra::test;

namespace {

const std::string kSuccess = "https://app.example.com/done";
const std::string kError = "https://app.example.com/failed?from=hydra";

struct Flow {
  ConnectStack s;
  Tenant t = s.newTenant("Acme <Robots> & Co");
  std::string instance = s.createInstance(t);

  Flow() {
    s.addProvider("gmail", true, "shared-gmail-client", R"(["openid","https://mail.google.com/"])",
                  R"({"https://mail.google.com/":"Read, send and delete your <email>"})");
    s.allowRedirects(t, {kSuccess, kError});
  }

  Response create(const std::string& name = "inbox") const {
    return s.session(t, R"({"provider":"gmail","name":")" + name + R"(","success_url":")" + kSuccess + R"(","error_url":")" + kError +
                            R"(","metadata_json":{"team":"ops"},"grants":[{"instance_id":")" + instance +
                            R"(","capabilities":["send_mail"],"proxy_only":true,"rate_limit":{"requests":10,"per_seconds":60}}]})");
  }
  std::string status(const Response& created) const {
    return text(s.as(t, "GET", t.path() + "/connect-sessions/" + text(created.json, "id")).json, "status");
  }
};

struct Continued {
  std::string location, cookie, state;
};

Continued pressContinue(const Flow& f, const Response& created) {
  const auto r = f.s.http.request("POST", linkPath(created) + "/continue");
  checkPageHeaders(r);
  REQUIRE(r.status == 302);
  Continued c;
  c.location = r.header("Location").value_or("");
  c.cookie = cookieValue(r);
  c.state = queryOf(c.location).at("state");
  const auto set = r.header("Set-Cookie").value_or("");
  CHECK(set.find("HttpOnly") != std::string::npos);
  CHECK(set.find("SameSite=Lax") != std::string::npos);
  CHECK(set.find("Secure") != std::string::npos);  // HYDRA_PUBLIC_URL is https
  CHECK(set.find("Path=/connect") != std::string::npos);
  return c;
}

Response callback(const Flow& f, const std::string& query, const std::string& cookie_value) {
  return f.s.http.request("GET", "/connect/callback?" + query, "",
                          cookie_value.empty() ? Headers{} : cookie(cookie_value));
}

}  // namespace

TEST_CASE("connect pages: link, Continue and callback store the code sealed with its verifier - the connection is pending with its grants") {
  Flow f;
  const auto created = f.create();
  const auto session_id = text(created.json, "id");

  // The link's page: who asks (escaped), which provider, what access in words.
  const auto page = f.s.http.request("GET", linkPath(created));
  REQUIRE(page.status == 200);
  checkPageHeaders(page);
  CHECK(page.header("Content-Type").value_or("").rfind("text/html", 0) == 0);
  CHECK(page.body.find("Acme &lt;Robots&gt; &amp; Co") != std::string::npos);
  CHECK(page.body.find("<Robots>") == std::string::npos);
  CHECK(page.body.find("gmail") != std::string::npos);
  CHECK(page.body.find("Read, send and delete your &lt;email&gt;") != std::string::npos);
  CHECK(page.body.find("openid") != std::string::npos);
  CHECK(page.body.find("<meta name=\"viewport\"") != std::string::npos);
  CHECK(page.body.find("<script") == std::string::npos);
  CHECK(page.body.find("style=") == std::string::npos);
  // Its forms may go here, to the provider and to the error_url (browsers check redirects too).
  const auto csp = page.header("Content-Security-Policy").value_or("");
  CHECK(csp.find("form-action 'self' https://accounts.provider.test https://app.example.com") != std::string::npos);
  // Its style sheet is served from here.
  const auto css_at = page.body.find("href=\"assets/");
  REQUIRE(css_at != std::string::npos);
  const auto css = page.body.substr(css_at + 6, page.body.find('"', css_at + 6) - css_at - 6);
  const auto sheet = f.s.http.request("GET", "/connect/" + css);
  CHECK(sheet.status == 200);
  CHECK(sheet.header("Content-Type").value_or("").rfind("text/css", 0) == 0);
  CHECK(f.s.http.request("GET", "/connect/assets/swagger-ui.css").status == 404);
  CHECK(f.status(created) == "pending");

  // Continue: the cookie, and the provider's authorization URL with every parameter.
  const auto c = pressContinue(f, created);
  REQUIRE(c.location.rfind("https://accounts.provider.test/o/authorize?hl=en&", 0) == 0);
  const auto q = queryOf(c.location);
  CHECK(q.at("response_type") == "code");
  CHECK(q.at("client_id") == "shared-gmail-client");
  CHECK(q.at("redirect_uri") == std::string(kPublicUrl) + "/connect/callback");
  CHECK(q.at("scope") == "openid https://mail.google.com/");
  CHECK(q.at("code_challenge_method") == "S256");
  CHECK(q.at("code_challenge").size() == 43);
  CHECK(c.state.size() == 43);
  CHECK(f.status(created) == "authorizing");
  // Neither the state nor the cookie is stored, only their hashes.
  CHECK(f.s.db.exec("SELECT count(*) FROM connect_sessions WHERE id = $1 AND state_hash = sha256(convert_to($2, 'UTF8'))"
                    " AND browser_hash = sha256(convert_to($3, 'UTF8'))",
                    session_id, c.state, c.cookie)[0][0].as<int>() == 1);

  // The provider sends the browser back with a code.
  const auto code = "AUTH-CODE-CANARY-" + randomToken(16);
  const auto back = callback(f, "code=" + code + "&state=" + c.state + "&scope=openid", c.cookie);
  REQUIRE(back.status == 200);
  checkPageHeaders(back);
  CHECK(back.body.find("data-status-url=\"sessions/" + session_id + "/status\"") != std::string::npos);
  CHECK(back.body.find("<script defer src=\"assets/connect-wait.") != std::string::npos);
  CHECK(back.body.find(code) == std::string::npos);
  CHECK(f.status(created) == "exchanging");

  // The code, the verifier and the redirect URI, sealed to the broker and bound to this session.
  const auto row = f.s.db.exec("SELECT code_key_id, encode(code_ciphertext, 'hex'), connection_id FROM connect_sessions"
                               " WHERE id = $1", session_id);
  REQUIRE(!row[0][0].is_null());
  const auto payload = openSealed(row[0][0].c_str(), row[0][1].c_str(), hydra::crypto::connectSessionAad(f.t.id, session_id));
  rapidjson::Document sealed;
  sealed.Parse(payload.c_str());
  REQUIRE(sealed.IsObject());
  CHECK(keys(sealed) == std::set<std::string>{"code", "code_verifier", "redirect_uri"});
  CHECK(text(sealed, "code") == code);
  CHECK(text(sealed, "redirect_uri") == std::string(kPublicUrl) + "/connect/callback");
  const auto verifier = text(sealed, "code_verifier");
  CHECK(verifier.size() == 43);
  CHECK(s256(verifier) == q.at("code_challenge"));
  CHECK_THROWS(openSealed(row[0][0].c_str(), row[0][1].c_str(), hydra::crypto::connectSessionAad(f.t.id, randomUuid())));
  // Nothing of it in the clear anywhere in the database.
  const auto dump = f.s.db.dump();
  CHECK(dump.find(code) == std::string::npos);
  CHECK(dump.find(verifier) == std::string::npos);
  CHECK(dump.find(c.cookie) == std::string::npos);
  CHECK(dump.find(c.state) == std::string::npos);

  // The new connection: pending, with the session's scopes, metadata and grants.
  const auto connection_id = std::string(row[0][2].c_str());
  const auto connection = f.s.as(f.t, "GET", f.t.path() + "/connections/" + connection_id);
  REQUIRE(connection.status == 200);
  CHECK(text(connection.json, "status") == "pending");
  CHECK(text(connection.json, "name") == "inbox");
  CHECK(text(connection.json, "auth_type") == "oauth2");
  CHECK(sameJson(member(connection.json, "scopes"), R"(["openid","https://mail.google.com/"])"));
  CHECK(sameJson(member(connection.json, "metadata_json"), R"({"team":"ops"})"));
  const auto grants = items(member(connection.json, "grants"));
  REQUIRE(grants.size() == 1);
  CHECK(text(*grants[0], "instance_id") == f.instance);
  CHECK(sameJson(member(*grants[0], "capabilities"), R"(["send_mail"])"));
  CHECK(member(*grants[0], "proxy_only").GetBool());
  CHECK(sameJson(member(*grants[0], "rate_limit"), R"({"per_seconds":60,"requests":10})"));
  CHECK(f.s.db.exec("SELECT count(*) FROM connection_secrets WHERE connection_id = $1", connection_id)[0][0].as<int>() == 0);
  const auto pending = f.s.as(f.t, "GET", f.t.path() + "/connections?status=pending");
  CHECK(member(pending.json, "total").GetInt() == 1);

  // The waiting page's poll: this browser's cookie only.
  const auto status_path = "/connect/sessions/" + session_id + "/status";
  const auto waiting = f.s.http.request("GET", status_path, "", cookie(c.cookie));
  REQUIRE(waiting.status == 200);
  checkPageHeaders(waiting);
  CHECK(text(waiting.json, "status") == "exchanging");
  CHECK(member(waiting.json, "location").IsNull());
  CHECK_FALSE(waiting.header("Set-Cookie").has_value());
  CHECK(f.s.http.request("GET", status_path).status == 404);
  CHECK(f.s.http.request("GET", status_path, "", cookie("not-the-cookie")).status == 404);

  // The broker's part, as it would end it; then the page goes to success_url.
  f.s.db.exec("UPDATE connections SET status = 'active' WHERE id = $1", connection_id);
  f.s.db.exec("UPDATE connect_sessions SET status = 'connected', code_key_id = NULL, code_ciphertext = NULL WHERE id = $1",
              session_id);
  const auto done = f.s.http.request("GET", status_path, "", cookie(c.cookie));
  REQUIRE(done.status == 200);
  CHECK(text(done.json, "status") == "connected");
  CHECK(text(done.json, "connection_id") == connection_id);
  CHECK(text(done.json, "location") == kSuccess + "?connection_id=" + connection_id);
  CHECK(cookieValue(done).empty());  // cleared
  CHECK(done.header("Set-Cookie").value_or("").find("Max-Age=0") != std::string::npos);
  const auto api = f.s.as(f.t, "GET", f.t.path() + "/connect-sessions/" + session_id);
  CHECK(text(api.json, "status") == "connected");
  CHECK(text(api.json, "connection_id") == connection_id);
}

TEST_CASE("connect pages: a replayed callback, a tampered state, a missing or wrong cookie are refused") {
  Flow f;
  SUBCASE("replay") {
    const auto created = f.create();
    const auto c = pressContinue(f, created);
    REQUIRE(callback(f, "code=first&state=" + c.state, c.cookie).status == 200);
    const auto again = callback(f, "code=second&state=" + c.state, c.cookie);
    CHECK(again.status == 410);
    checkPageHeaders(again);
    CHECK(again.body.find("already") != std::string::npos);
    CHECK(f.status(created) == "exchanging");  // the first code stands
    const auto row = f.s.db.exec("SELECT code_key_id, encode(code_ciphertext, 'hex') FROM connect_sessions WHERE id = $1",
                                 text(created.json, "id"));
    CHECK(openSealed(row[0][0].c_str(), row[0][1].c_str(),
                     hydra::crypto::connectSessionAad(f.t.id, text(created.json, "id")))
              .find("\"first\"") != std::string::npos);
  }
  SUBCASE("tampered state") {
    const auto created = f.create();
    const auto c = pressContinue(f, created);
    auto tampered = c.state;
    tampered[5] = tampered[5] == 'A' ? 'B' : 'A';
    const auto r = callback(f, "code=x&state=" + tampered, c.cookie);
    CHECK(r.status == 400);
    checkPageHeaders(r);
    CHECK(f.status(created) == "authorizing");  // nothing identifies the session to fail
    CHECK(callback(f, "code=x", c.cookie).status == 400);  // no state at all
  }
  SUBCASE("missing cookie") {
    const auto created = f.create();
    const auto c = pressContinue(f, created);
    const auto r = callback(f, "code=x&state=" + c.state, "");
    CHECK(r.status == 400);
    checkPageHeaders(r);
    CHECK(f.status(created) == "failed");
    const auto api = f.s.as(f.t, "GET", f.t.path() + "/connect-sessions/" + text(created.json, "id"));
    CHECK(text(api.json, "error") == "browser_mismatch");
    // And the right browser coming afterwards finds it over.
    CHECK(callback(f, "code=x&state=" + c.state, c.cookie).status == 410);
    CHECK(f.s.db.exec("SELECT count(*) FROM connections WHERE customer_id = $1", f.t.id)[0][0].as<int>() == 0);
  }
  SUBCASE("another browser's cookie") {
    const auto created = f.create();
    const auto c = pressContinue(f, created);
    const auto other = pressContinue(f, f.create("second"));
    const auto r = callback(f, "code=x&state=" + c.state, other.cookie);
    CHECK(r.status == 400);
    CHECK(f.status(created) == "failed");
  }
}

TEST_CASE("connect pages: a link works once, and not after it expired") {
  Flow f;
  const auto created = f.create();
  pressContinue(f, created);
  const auto second = f.s.http.request("POST", linkPath(created) + "/continue");
  CHECK(second.status == 410);
  checkPageHeaders(second);
  CHECK_FALSE(second.header("Set-Cookie").has_value());
  const auto page = f.s.http.request("GET", linkPath(created));
  CHECK(page.status == 410);
  checkPageHeaders(page);
  CHECK(f.s.http.request("POST", linkPath(created) + "/cancel").status == 410);
  const auto unknown = f.s.http.request("GET", "/connect/" + randomToken(43));
  CHECK(unknown.status == 404);
  checkPageHeaders(unknown);
  CHECK(f.s.http.request("POST", "/connect/" + randomToken(43) + "/continue").status == 404);

  // Expired before Continue: the page says so, the API shows "expired".
  const auto late = f.s.session(f.t, R"({"provider":"gmail","name":"late"})");
  f.s.db.exec("UPDATE connect_sessions SET expires_at = now() - interval '1 second' WHERE id = $1", text(late.json, "id"));
  const auto expired = f.s.http.request("GET", linkPath(late));
  CHECK(expired.status == 410);
  CHECK(expired.body.find("expired") != std::string::npos);
  CHECK(f.s.http.request("POST", linkPath(late) + "/continue").status == 410);
  CHECK(f.status(late) == "expired");

  // Expired while at the provider: the callback is refused and the session fails.
  const auto slow = f.s.session(f.t, R"({"provider":"gmail","name":"slow","error_url":")" + kError + "\"}");
  const auto c = pressContinue(f, slow);
  f.s.db.exec("UPDATE connect_sessions SET expires_at = now() - interval '1 second' WHERE id = $1", text(slow.json, "id"));
  CHECK(f.status(slow) == "expired");
  const auto r = callback(f, "code=x&state=" + c.state, c.cookie);
  CHECK(r.status == 410);
  checkPageHeaders(r);
  CHECK(f.status(slow) == "failed");
  CHECK(cookieValue(r).empty());
}

TEST_CASE("connect pages: the user denies at the provider, or cancels: the session fails, the browser goes to error_url") {
  Flow f;
  const auto created = f.create();
  const auto c = pressContinue(f, created);
  const auto r = callback(f, "error=access_denied&error_description=The+user+said+%3Cno%3E&state=" + c.state, c.cookie);
  REQUIRE(r.status == 302);
  checkPageHeaders(r);
  CHECK(r.header("Location") == kError + "&error=access_denied");
  CHECK(cookieValue(r).empty());
  CHECK(f.status(created) == "failed");
  const auto api = f.s.as(f.t, "GET", f.t.path() + "/connect-sessions/" + text(created.json, "id"));
  CHECK(text(api.json, "error") == "access_denied: The user said <no>");
  CHECK(f.s.db.exec("SELECT count(*) FROM connections WHERE customer_id = $1", f.t.id)[0][0].as<int>() == 0);

  // Without an error_url the browser gets a page saying so; an odd error code is not echoed.
  const auto bare = f.s.session(f.t, R"({"provider":"gmail","name":"bare"})");
  const auto b = pressContinue(f, bare);
  const auto page = callback(f, "error=%3Cscript%3E&state=" + b.state, b.cookie);
  CHECK(page.status == 400);
  checkPageHeaders(page);
  CHECK(page.body.find("<script>") == std::string::npos);
  CHECK(page.body.find("provider_error") != std::string::npos);
  CHECK(f.status(bare) == "failed");

  // Cancel on the link's page.
  const auto cancelled = f.create("cancelled");
  const auto cancel = f.s.http.request("POST", linkPath(cancelled) + "/cancel");
  REQUIRE(cancel.status == 302);
  CHECK(cancel.header("Location") == kError + "&error=access_denied");
  CHECK(f.status(cancelled) == "failed");
  const auto plain = f.s.session(f.t, R"({"provider":"gmail","name":"plain"})");
  const auto plain_cancel = f.s.http.request("POST", linkPath(plain) + "/cancel");
  CHECK(plain_cancel.status == 200);
  checkPageHeaders(plain_cancel);
  CHECK(plain_cancel.body.find("Cancelled") != std::string::npos);
}

TEST_CASE("connect pages: a customer's own client, its authorization params, a provider without PKCE, a re-authorisation") {
  ConnectStack s;
  const auto t = s.newTenant();
  s.addProvider("byo", false, std::nullopt, R"(["default.scope"])");
  const auto client = s.oauthClient(t, "byo", R"(,"scopes":["a.read","b.write"],"authorization_params":{"access_type":"offline"})");
  const auto reauth = s.createConnection(t, "byo", "existing");
  const auto created = s.session(t, R"({"provider":"byo","connection_id":")" + reauth + R"(","oauth_client_id":")" + client + "\"}");
  const auto r = s.http.request("POST", linkPath(created) + "/continue");
  REQUIRE(r.status == 302);
  const auto q = queryOf(r.header("Location").value_or(""));
  CHECK(q.at("client_id") == "own-byo");
  CHECK(q.at("scope") == "a.read b.write");  // the client's scopes before the provider's defaults
  CHECK(q.at("access_type") == "offline");
  CHECK(q.count("code_challenge") == 0);
  const auto back = s.http.request("GET", "/connect/callback?code=c0de&state=" + q.at("state"), "", cookie(cookieValue(r)));
  REQUIRE(back.status == 200);
  const auto row = s.db.exec("SELECT code_key_id, encode(code_ciphertext, 'hex'), connection_id, status FROM connect_sessions"
                             " WHERE id = $1", text(created.json, "id"));
  CHECK(std::string(row[0][2].c_str()) == reauth);
  CHECK(std::string(row[0][3].c_str()) == "exchanging");
  const auto payload = openSealed(row[0][0].c_str(), row[0][1].c_str(),
                                  hydra::crypto::connectSessionAad(t.id, text(created.json, "id")));
  CHECK(payload == R"({"code":"c0de","redirect_uri":")" + std::string(kPublicUrl) + R"(/connect/callback"})");
  // The connection re-authorised is left as it was (the broker replaces its tokens).
  const auto connection = s.as(t, "GET", t.path() + "/connections/" + reauth);
  CHECK(text(connection.json, "status") == "active");
  CHECK(s.db.exec("SELECT count(*) FROM connections WHERE customer_id = $1", t.id)[0][0].as<int>() == 1);

  // Deleting the client fails the sessions that would still use it.
  const auto waiting = s.session(t, R"({"provider":"byo","name":"w","oauth_client_id":")" + client + "\"}");
  CHECK(s.as(t, "DELETE", t.path() + "/oauth-clients/" + client).status == 204);
  const auto api = s.as(t, "GET", t.path() + "/connect-sessions/" + text(waiting.json, "id"));
  CHECK(text(api.json, "status") == "failed");
  CHECK(text(api.json, "error") == "oauth_client_deleted");
}

TEST_CASE("connect pages: the control plane's role reads no client secret, code or verifier, not even ciphertext") {
  Flow f;
  const auto secret = "CLIENT-SECRET-CANARY-" + randomToken(16);
  f.s.as(f.t, "POST", f.t.path() + "/oauth-clients",
         R"({"provider":"gmail","client_id":"own","client_secret":")" + secret + "\"}");
  const auto created = f.create();
  const auto c = pressContinue(f, created);
  const auto code = "AUTH-CODE-CANARY-" + randomToken(16);
  REQUIRE(callback(f, "code=" + code + "&state=" + c.state, c.cookie).status == 200);
  const auto row = f.s.db.exec("SELECT code_key_id, encode(code_ciphertext, 'hex') FROM connect_sessions WHERE id = $1",
                               text(created.json, "id"));
  rapidjson::Document sealed;
  const auto payload = openSealed(row[0][0].c_str(), row[0][1].c_str(),
                                  hydra::crypto::connectSessionAad(f.t.id, text(created.json, "id")));
  sealed.Parse(payload.c_str());
  const auto verifier = text(sealed, "code_verifier");

  pqxx::connection cp(f.s.db.urlAs("hydracore_control_plane"));
  for (const auto* sql : {"SELECT secret_ciphertext FROM oauth_clients", "SELECT code_ciphertext FROM connect_sessions",
                          "SELECT * FROM oauth_clients", "SELECT * FROM connect_sessions"}) {
    INFO(sql);
    pqxx::nontransaction tx(cp);
    CHECK_THROWS_AS(tx.exec(sql), pqxx::insufficient_privilege);
  }
  // Every column of every table the role may read, each value as text (bytea as hex).
  pqxx::nontransaction tx(cp);
  const auto columns = tx.exec(
      "SELECT table_name, string_agg(quote_ident(column_name), ', ') FROM information_schema.column_privileges"
      " WHERE grantee = 'hydracore_control_plane' AND privilege_type = 'SELECT' AND table_schema = current_schema()"
      " GROUP BY table_name ORDER BY table_name");
  REQUIRE(columns.size() > 10);
  std::string seen, tables;
  for (const auto& table : columns) {
    tables += std::string(table[0].c_str()) + " ";
    for (const auto& values : tx.exec("SELECT " + std::string(table[1].c_str()) + " FROM " + tx.quote_name(table[0].c_str()))) {
      for (const auto& value : values) {
        if (!value.is_null()) seen += std::string(value.c_str()) + "\n";
      }
    }
  }
  CHECK(tables.find("connect_sessions ") != std::string::npos);
  CHECK(tables.find("oauth_clients ") != std::string::npos);
  CHECK(seen.find("shared-gmail-client") != std::string::npos);  // it did read the rows
  CHECK(seen.find(text(created.json, "id")) != std::string::npos);
  const auto hexOf = [](const std::string& s) { return Botan::hex_encode(reinterpret_cast<const std::uint8_t*>(s.data()), s.size(), false); };
  const auto token = linkPath(created).substr(9);
  for (const auto& plaintext : {secret, code, verifier, c.cookie, c.state, token}) {
    CHECK(seen.find(plaintext) == std::string::npos);
    CHECK(seen.find(hexOf(plaintext)) == std::string::npos);
    // Nor in the control plane's log (the access log names route templates, never paths).
    CHECK(f.s.server.log().find(plaintext) == std::string::npos);
  }
  CHECK(f.s.server.log().find("/connect/callback") != std::string::npos);  // the log did see the flow
}
