// The broker's one lookup per fetch (fetch_lookup, broker/db/statements.cpp), prepared by the
// broker's own code and run as hydracore_broker, as the broker runs it (issue 12 item 5): an
// ambiguous fetch (several granted connections of the provider and no name) is refused, so no
// ciphertext leaves the database for it; a fetch with one candidate gets that one's ciphertext.
#include <doctest/doctest.h>

#include <optional>
#include <set>
#include <utility>

#include "broker/db/statements.hpp"
#include "tests/support/pg.hpp"

using namespace hydra::test;

namespace {

const std::string kCustomer = "11111111-1111-4111-8111-111111111111";
const std::string kInstance = "22222222-2222-4222-8222-222222222222";
const std::string kInbox = "33333333-3333-4333-8333-333333333333";
const std::string kSupport = "44444444-4444-4444-8444-444444444444";
const std::string kUngranted = "55555555-5555-4555-8555-555555555555";
const std::string kProxyKey = "hcp_fetch_lookup";

/// Three gmail connections of one customer, each with a ciphertext of its own; the first two
/// granted to the instance, the third not; and a proxy key of the instance. Written as superuser.
void seed(const TestDatabase& db) {
  db.exec("INSERT INTO customers (id, name) VALUES ($1, 'acme')", kCustomer);
  db.exec("INSERT INTO instances (id, customer_id, name) VALUES ($1, $2, 'runtime')", kInstance, kCustomer);
  const std::pair<std::string, std::string> connections[] = {
      {kInbox, "inbox"}, {kSupport, "support"}, {kUngranted, "ungranted"}};
  for (const auto& [id, name] : connections) {
    db.exec("INSERT INTO connections (id, customer_id, provider, name, auth_type) VALUES ($1, $2, 'gmail', $3, 'api_key')",
            id, kCustomer, name);
    db.exec("INSERT INTO connection_secrets (connection_id, key_id, ciphertext) VALUES ($1, 'key-a', convert_to($2, 'UTF8'))",
            id, "ciphertext-of-" + name);
  }
  for (const auto& id : {kInbox, kSupport}) {
    db.exec("INSERT INTO grants (customer_id, connection_id, instance_id, capabilities) VALUES ($1, $2, $3, '[\"send_mail\"]')",
            kCustomer, id, kInstance);
  }
  db.exec("INSERT INTO proxy_keys (customer_id, instance_id, key_hash) VALUES ($1, $2, sha256(convert_to($3, 'UTF8')))",
          kCustomer, kInstance, kProxyKey);
}

/// fetch_lookup for gmail (and `name`) with the seeded key, as the broker runs it.
pqxx::result lookup(const TestDatabase& db, const std::optional<std::string>& name) {
  pqxx::connection connection(db.urlAs("hydracore_broker"));
  hydra::broker::db::prepareStatements(connection);
  pqxx::nontransaction tx(connection);
  // The key's SHA-256 in bytea hex input form, as the broker passes it (shared/db/bytea.hpp).
  const auto hash = tx.exec_params1("SELECT '\\x' || encode(sha256(convert_to($1, 'UTF8')), 'hex')", kProxyKey)[0]
                        .as<std::string>();
  return tx.exec_prepared("fetch_lookup", hash, kInstance, "gmail", name ? name->c_str() : nullptr);
}

}  // namespace

TEST_CASE("authz: fetch_lookup returns no ciphertext when several granted connections match and no name is given") {
  TestDatabase db;
  seed(db);
  const auto rows = lookup(db, std::nullopt);
  REQUIRE(rows.size() == 2);  // both granted connections, as candidates for the 409's names
  std::set<std::string> names;
  for (const auto& row : rows) {
    CAPTURE(row["name"].c_str());
    names.insert(row["name"].c_str());
    CHECK(row["proxy_key_id"].is_null() == false);
    CHECK(row["connection_id"].is_null() == false);
    CHECK(row["ciphertext"].is_null());
  }
  CHECK(names == std::set<std::string>{"inbox", "support"});
}

TEST_CASE("authz: fetch_lookup returns the ciphertext of the one candidate chosen by name") {
  TestDatabase db;
  seed(db);
  for (const auto* name : {"inbox", "support"}) {
    CAPTURE(name);
    const auto rows = lookup(db, std::string(name));
    REQUIRE(rows.size() == 1);
    CHECK(std::string(rows[0]["name"].c_str()) == name);
    REQUIRE_FALSE(rows[0]["ciphertext"].is_null());
    CHECK(pqxx::binarystring(rows[0]["ciphertext"]).str() == std::string("ciphertext-of-") + name);
  }
  // A connection of the provider that is not granted is no candidate: the key's row only.
  const auto ungranted = lookup(db, std::string("ungranted"));
  REQUIRE(ungranted.size() == 1);
  CHECK(ungranted[0]["connection_id"].is_null());
  CHECK(ungranted[0]["ciphertext"].is_null());
}
