// No plaintext credential, API key or admin token reaches the database or the service's log.
// Distinctive canary values are sent through every path that carries credentials, then the
// whole database (every table, every column, bytea as raw bytes) and the log are searched.
#include <doctest/doctest.h>

#include <regex>

#include "tests/support/api.hpp"

using namespace hydra::test;

namespace {

/// Counts the places `needle` occurs in `haystack`, for a readable failure.
std::size_t occurrences(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("no credential value, API key or admin token appears in the database or the log") {
  Stack s;
  const auto t = s.newTenant();
  const auto canary = "PLAINTEXT-CANARY-" + randomToken(16);
  const auto patched_canary = "PATCHED-CANARY-" + randomToken(16);
  const auto malformed_canary = "MALFORMED-CANARY-" + randomToken(16);

  // Credentials of every auth type, nested and in arrays; and a replacement via PATCH.
  const auto oauth = s.createConnection(
      t, R"({"provider":"gmail","name":"a","credentials":{"access_token":")" + canary +
             R"(","refresh_token":")" + canary + R"(-refresh","nested":{"list":[")" + canary + R"("]}}})");
  s.createConnection(t, R"({"provider":"xero","name":"b","auth_type":"api_key","credentials":{"api_key":")" + canary +
                            R"("}})");
  s.createConnection(t, R"({"provider":"deputy","name":"c","auth_type":"basic","credentials":{"username":"u",)"
                         R"("password":")" + canary + R"("}})");
  const auto patched = s.as(t, "PATCH", t.path() + "/connections/" + oauth,
                            R"({"credentials":{"access_token":")" + patched_canary + R"("}})");
  REQUIRE(patched.status == 200);
  // Requests that fail must not leak either: a duplicate, a 422 with a bad field, malformed JSON.
  CHECK(s.as(t, "POST", t.path() + "/connections",
             R"({"provider":"gmail","name":"a","credentials":{"access_token":")" + malformed_canary + R"("}})")
            .status == 409);
  CHECK(s.as(t, "POST", t.path() + "/connections",
             R"({"provider":"gmail","name":7,"credentials":{"access_token":")" + malformed_canary + R"("}})")
            .status == 422);
  CHECK(s.as(t, "POST", t.path() + "/connections",
             R"({"provider":"gmail","credentials":{"access_token":")" + malformed_canary + R"(")")
            .status == 422);
  // A second API key, and a wrong key presented (it is a secret of someone too).
  const auto second = s.as(t, "POST", t.path() + "/api-keys", R"({"name":"second"})");
  const auto second_key = text(second.json, "api_key");
  const auto wrong_key = "hck_WRONG" + randomToken(30);
  CHECK(s.http.request("GET", t.path() + "/connections", "", bearer(wrong_key)).status == 401);
  CHECK(s.http.request("GET", t.path() + "/connections", "", {{"X-Api-Key", second_key}}).status == 200);

  const auto dump = s.db.dump();
  REQUIRE(dump.find("connection_secrets") != std::string::npos);  // the dump did see the tables
  REQUIRE(dump.find(oauth) != std::string::npos);                 // and their rows
  CHECK(occurrences(dump, "CANARY") == 0);
  CHECK(occurrences(dump, canary) == 0);
  CHECK(occurrences(dump, patched_canary) == 0);
  CHECK(occurrences(dump, malformed_canary) == 0);
  CHECK(occurrences(dump, t.api_key) == 0);
  CHECK(occurrences(dump, second_key) == 0);
  CHECK(occurrences(dump, second_key.substr(4)) == 0);  // not even without its prefix
  CHECK(occurrences(dump, s.server.adminToken()) == 0);

  // Keys are stored as their SHA-256 only.
  for (const auto& key : {t.api_key, second_key}) {
    CHECK(s.db.exec("SELECT count(*) FROM api_keys WHERE key_hash = sha256(convert_to($1, 'UTF8'))", key)[0][0]
              .as<int>() == 1);
  }
  // Each connection has exactly one sealed secret, under the key the service announced.
  static const std::regex announced(R"(sealing to broker key (\S+))");
  std::smatch match;
  const auto log = s.server.log();
  REQUIRE(std::regex_search(log, match, announced));
  const auto rows = s.db.exec("SELECT c.id, s.key_id, length(s.ciphertext) FROM connections c "
                              "LEFT JOIN connection_secrets s ON s.connection_id = c.id");
  REQUIRE(rows.size() == 3);
  for (const auto& row : rows) {
    CAPTURE(row[0].c_str());
    CHECK(std::string(row[1].c_str()) == match[1].str());
    CHECK(row[2].as<int>() > 32);  // at least an encapsulated key and a tag
  }

  CHECK(occurrences(log, "CANARY") == 0);
  CHECK(occurrences(log, t.api_key) == 0);
  CHECK(occurrences(log, second_key) == 0);
  CHECK(occurrences(log, wrong_key) == 0);
  CHECK(occurrences(log, s.server.adminToken()) == 0);
  CHECK(occurrences(log, "access_token") == 0);
  // The log did record the requests (so the search above searched something).
  CHECK(occurrences(log, "POST /v1/customers/:customer_id/connections 201") == 3);

  // And the dump would have shown a canary had one reached a bytea column.
  s.db.exec("UPDATE connection_secrets SET ciphertext = convert_to($1, 'UTF8') WHERE connection_id = $2", canary, oauth);
  CHECK(occurrences(s.db.dump(), canary) == 1);
}

TEST_CASE("no response ever carries credentials") {
  Stack s;
  const auto t = s.newTenant();
  const auto canary = "RESPONSE-CANARY-" + randomToken(16);
  const auto id = s.createConnection(t, connectionBody("gmail", "a", R"({"token":")" + canary + R"("})"));
  const auto instance = s.createInstance(t);
  s.createGrant(t, id, instance);
  for (const auto& r : {s.as(t, "GET", t.path() + "/connections/" + id), s.as(t, "GET", t.path() + "/connections"),
                        s.as(t, "GET", t.path() + "/connections/" + id + "/grants"),
                        s.as(t, "PATCH", t.path() + "/connections/" + id, R"({"name":"renamed"})"),
                        s.as(t, "PATCH", t.path() + "/connections/" + id,
                             R"({"credentials":{"token":")" + canary + R"(-2"}})")}) {
    CAPTURE(r.body);
    CHECK(r.status == 200);
    CHECK(r.body.find(canary) == std::string::npos);
    CHECK(r.body.find("credentials") == std::string::npos);
  }
}

TEST_CASE("under its own database role the control plane serves every endpoint and cannot read ciphertext") {
  // Deployments (scripts/run.sh, compose.yaml) run it as hydracore_control_plane, which may
  // write ciphertext but never read it.
  Stack s("hydracore_control_plane");
  const auto t = s.newTenant();
  const auto id = s.createConnection(t, "gmail", "inbox");
  const auto instance = s.createInstance(t);
  const auto grant = s.createGrant(t, id, instance);
  const auto connection = t.path() + "/connections/" + id;
  CHECK(s.as(t, "GET", t.path() + "/connections?provider=gmail").status == 200);
  CHECK(s.as(t, "GET", connection).status == 200);
  CHECK(s.as(t, "PATCH", connection, R"({"name":"renamed","credentials":{"token":"new"}})").status == 200);
  CHECK(s.as(t, "GET", connection + "/grants").status == 200);
  CHECK(s.as(t, "DELETE", connection + "/grants/" + grant).status == 204);
  CHECK(s.as(t, "GET", t.path() + "/instances").status == 200);
  CHECK(s.as(t, "DELETE", t.path() + "/instances/" + instance).status == 204);
  CHECK(s.as(t, "GET", t.path() + "/api-keys").status == 200);
  const auto second = s.as(t, "POST", t.path() + "/api-keys", R"({"name":"second"})");
  CHECK(s.as(t, "DELETE", t.path() + "/api-keys/" + text(second.json, "id")).status == 204);
  CHECK(s.as(t, "DELETE", connection).status == 204);
  CHECK(s.db.exec("SELECT count(*) FROM connection_secrets")[0][0].as<int>() == 0);

  pqxx::connection as_role(s.db.urlAs("hydracore_control_plane"));
  pqxx::nontransaction tx(as_role);
  CHECK_THROWS_AS(tx.exec("SELECT ciphertext FROM connection_secrets"), pqxx::insufficient_privilege);
}
