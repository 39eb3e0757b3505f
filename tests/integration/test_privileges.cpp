// Least privilege in PostgreSQL (issue 3): plain SQL as each service role on a migrated
// database. The control plane manages everything but never reads a ciphertext; the broker
// reads what a fetch needs and writes only usage, status, refreshed ciphertext and audit
// records; nobody, not even the superuser, updates or deletes an audit record.
#include <doctest/doctest.h>

#include <memory>

#include "tests/support/pg.hpp"

using namespace hydra::test;

namespace {

const std::string kCustomer = "'11111111-1111-4111-8111-111111111111'";
const std::string kInstance = "'22222222-2222-4222-8222-222222222222'";
const std::string kConnection = "'33333333-3333-4333-8333-333333333333'";
const std::string kBareConnection = "'44444444-4444-4444-8444-444444444444'";  // no secret yet
const std::string kGrant = "'55555555-5555-4555-8555-555555555555'";

/// One row in every table, written as superuser.
void seed(const TestDatabase& db) {
  for (const auto& sql : {
           "INSERT INTO customers (id, name) VALUES (" + kCustomer + ", 'acme')",
           "INSERT INTO api_keys (customer_id, key_hash) VALUES (" + kCustomer + ", sha256('hck_x'))",
           "INSERT INTO instances (id, customer_id, name) VALUES (" + kInstance + ", " + kCustomer + ", 'runtime')",
           "INSERT INTO connections (id, customer_id, provider, name, auth_type) VALUES (" + kConnection + ", " +
               kCustomer + ", 'gmail', 'inbox', 'oauth2'), (" + kBareConnection + ", " + kCustomer +
               ", 'xero', 'books', 'api_key')",
           "INSERT INTO connection_secrets (connection_id, key_id, ciphertext) VALUES (" + kConnection +
               ", 'key-a', '\\x0102')",
           "INSERT INTO grants (id, customer_id, connection_id, instance_id, capabilities) VALUES (" + kGrant + ", " +
               kCustomer + ", " + kConnection + ", " + kInstance + ", '[\"send_mail\"]')",
           "INSERT INTO proxy_keys (customer_id, instance_id, key_hash) VALUES (" + kCustomer + ", " + kInstance +
               ", sha256('hcp_x'))",
           "INSERT INTO audit_events (customer_id, outcome, reason, request_id) VALUES (" + kCustomer +
               ", 'allowed', 'granted', 'seed')",
       }) {
    db.exec(sql);
  }
}

/// A session as one role, running each statement on its own (autocommit).
class Session {
 public:
  Session(const TestDatabase& db, const std::string& role)
      : connection_(std::make_unique<pqxx::connection>(role.empty() ? db.url() : db.urlAs(role))) {}

  /// "ok", "permission denied" (SQLSTATE 42501), or the error.
  std::string run(const std::string& sql) {
    pqxx::nontransaction tx(*connection_);
    try {
      tx.exec(sql);
      return "ok";
    } catch (const pqxx::insufficient_privilege&) {
      return "permission denied";
    } catch (const std::exception& e) {
      return e.what();
    }
  }

 private:
  std::unique_ptr<pqxx::connection> connection_;
};

void checkAll(Session& session, const std::vector<std::string>& statements, const std::string& expected) {
  for (const auto& sql : statements) {
    CAPTURE(sql);
    CHECK(session.run(sql) == expected);
  }
}

/// Statements that would change or remove audit records.
std::vector<std::string> auditRewrites() {
  return {"UPDATE audit_events SET reason = 'nothing happened'", "UPDATE audit_events SET outcome = 'denied'",
          "UPDATE audit_events SET path = '/gmail/v1/users/me/settings', method = 'GET'",
          "DELETE FROM audit_events", "DELETE FROM audit_events WHERE request_id = 'seed'", "TRUNCATE audit_events"};
}

}  // namespace

TEST_CASE("privileges: the control plane manages everything but can never read a ciphertext") {
  const TestDatabase db;
  seed(db);
  Session cp(db, "hydracore_control_plane");
  checkAll(cp,
           {
               "SELECT ciphertext FROM connection_secrets",
               "SELECT * FROM connection_secrets",
               "SELECT length(ciphertext) FROM connection_secrets",
               // Not even by probing it in a WHERE clause or getting it back from a write.
               "SELECT key_id FROM connection_secrets WHERE ciphertext = '\\x0102'",
               "UPDATE connection_secrets SET key_id = 'key-a' WHERE ciphertext = '\\x0102'",
               "UPDATE connection_secrets SET key_id = 'key-a' RETURNING ciphertext",
               "DELETE FROM connection_secrets WHERE connection_id = " + kConnection + " RETURNING ciphertext",
               // It reads the trail but writes none of it.
               "INSERT INTO audit_events (outcome, reason, request_id) VALUES ('allowed', 'forged', 'x')",
           },
           "permission denied");
  checkAll(cp,
           {
               "SELECT connection_id, key_id, updated_at FROM connection_secrets",
               "INSERT INTO connection_secrets (connection_id, key_id, ciphertext) VALUES (" + kBareConnection +
                   ", 'key-a', '\\x01')",
               "UPDATE connection_secrets SET key_id = 'key-b', ciphertext = '\\x02', updated_at = now() "
               "WHERE connection_id = " + kBareConnection,
               "DELETE FROM connection_secrets WHERE connection_id = " + kBareConnection,
               "SELECT * FROM customers, api_keys, instances, connections, grants, proxy_keys",
               "UPDATE connections SET name = 'renamed', status = 'active' WHERE id = " + kConnection,
               "UPDATE grants SET capabilities = '[]' WHERE id = " + kGrant,
               "UPDATE grants SET proxy_only = true, rate_limit_requests = 600, rate_limit_per_seconds = 60",
               "UPDATE proxy_keys SET revoked_at = now()",
               "UPDATE api_keys SET revoked_at = now()",
               "SELECT * FROM audit_events",
           },
           "ok");
  // The update above did replace the ciphertext it cannot read.
  CHECK(db.exec("SELECT count(*) FROM connection_secrets WHERE ciphertext = '\\x0102'")[0][0].as<int>() == 1);
  checkAll(cp, {"DELETE FROM grants WHERE id = " + kGrant, "DELETE FROM connections WHERE id = " + kConnection}, "ok");
  CHECK(db.exec("SELECT count(*) FROM connection_secrets")[0][0].as<int>() == 0);  // went with its connection
}

TEST_CASE("privileges: the broker reads what a fetch needs and writes only usage, status, ciphertext and audit") {
  const TestDatabase db;
  seed(db);
  Session broker(db, "hydracore_broker");
  checkAll(broker,
           {
               "DELETE FROM grants",
               "INSERT INTO grants (customer_id, connection_id, instance_id) VALUES (" + kCustomer + ", " +
                   kBareConnection + ", " + kInstance + ")",
               "UPDATE grants SET capabilities = '[\"everything\"]'",
               "UPDATE grants SET proxy_only = false, rate_limit_requests = NULL, rate_limit_per_seconds = NULL",
               "TRUNCATE grants",
               "SELECT * FROM api_keys",
               "SELECT key_hash FROM api_keys",
               "UPDATE api_keys SET revoked_at = NULL",
               "SELECT * FROM customers",
               "UPDATE connections SET name = 'renamed'",
               "UPDATE connections SET provider = 'xero', customer_id = customer_id",
               "INSERT INTO connections (customer_id, provider, name, auth_type) VALUES (" + kCustomer +
                   ", 'slack', 'x', 'oauth2')",
               "DELETE FROM connections",
               "DELETE FROM connection_secrets",
               "DELETE FROM instances",
               "INSERT INTO instances (customer_id, name) VALUES (" + kCustomer + ", 'rogue')",
               // A revoked key stays revoked; the broker cannot mint keys either.
               "UPDATE proxy_keys SET revoked_at = NULL",
               "UPDATE proxy_keys SET expires_at = NULL",
               "INSERT INTO proxy_keys (customer_id, instance_id, key_hash) VALUES (" + kCustomer + ", " + kInstance +
                   ", sha256('hcp_rogue'))",
               "DELETE FROM proxy_keys",
               "SELECT * FROM proxy_keys",  // created_at is not needed, so not granted
               // It appends to the trail, nothing more.
               "SELECT * FROM audit_events",
               "UPDATE audit_events SET reason = 'x'",
               "DELETE FROM audit_events",
               // Nothing a fetch or a proxied call does not need: instances, or when a connection
               // was created.
               "SELECT * FROM instances",
               "SELECT created_at FROM connections",
           },
           "permission denied");
  checkAll(broker,
           {
               "SELECT * FROM grants, connection_secrets",
               "SELECT id, customer_id, provider, name, auth_type, status, error_message, expires_at, last_used_at "
               "FROM connections",
               // The proxy's upstream may depend on it (schema/0021).
               "SELECT metadata_json FROM connections",
               "SELECT id, customer_id, instance_id, key_hash, expires_at, revoked_at FROM proxy_keys",
               "INSERT INTO audit_events (customer_id, instance_id, outcome, reason, request_id, peer) VALUES (" +
                   kCustomer + ", " + kInstance + ", 'denied', 'test', 'r1', '127.0.0.1')",
               // A proxied call's record (issue 19, schema/0020).
               "INSERT INTO audit_events (customer_id, instance_id, outcome, reason, request_id, peer, method, path,"
               " upstream_status, request_bytes, response_bytes, duration_us) VALUES (" +
                   kCustomer + ", " + kInstance + ", 'allowed', 'proxied', 'r2', '127.0.0.1', 'POST', '/x', 200, 1, 2, 3)",
               "UPDATE connections SET last_used_at = now(), status = 'error', error_message = 'refresh failed', "
               "expires_at = now(), updated_at = now() WHERE id = " + kConnection,
               "UPDATE connection_secrets SET key_id = 'key-b', ciphertext = '\\x0203', updated_at = now() "
               "WHERE connection_id = " + kConnection + " AND key_id = 'key-a' AND ciphertext = '\\x0102'",
               // The connect flow's exchange stores the first secret of a connection it made (schema/0025).
               "INSERT INTO connection_secrets (connection_id, key_id, ciphertext) VALUES (" + kBareConnection +
                   ", 'k', '\\x01')",
           },
           "ok");
  CHECK(db.exec("SELECT count(*) FROM grants")[0][0].as<int>() == 1);
  CHECK(db.exec("SELECT count(*) FROM audit_events")[0][0].as<int>() == 3);
  CHECK(db.exec("SELECT count(*) FROM connection_secrets")[0][0].as<int>() == 2);
  CHECK(db.exec("SELECT key_id FROM connection_secrets WHERE connection_id = " + kConnection)[0][0].as<std::string>() ==
        "key-b");
}

TEST_CASE("privileges: no role, not even the superuser, updates, deletes or truncates audit records") {
  const TestDatabase db;
  seed(db);
  for (const auto* role : {"hydracore_control_plane", "hydracore_broker"}) {
    CAPTURE(role);
    Session session(db, role);
    checkAll(session, auditRewrites(), "permission denied");
    CHECK(session.run("ALTER TABLE audit_events DISABLE TRIGGER USER") == "permission denied");
  }
  // The superuser passes every privilege check; the append-only triggers still refuse.
  Session superuser(db, "");
  for (const auto& sql : auditRewrites()) {
    CAPTURE(sql);
    CHECK(superuser.run(sql) == "permission denied");
  }
  pqxx::connection connection(db.url());
  pqxx::nontransaction tx(connection);
  try {
    tx.exec("DELETE FROM audit_events");
    FAIL("the superuser deleted audit records");
  } catch (const pqxx::insufficient_privilege& e) {
    CHECK(std::string(e.what()).find("append-only") != std::string::npos);
  }
  CHECK(db.exec("SELECT count(*) FROM audit_events WHERE request_id = 'seed' AND reason = 'granted'")[0][0].as<int>() ==
        1);
}

TEST_CASE("privileges: the audit trail's partitions are the owner's alone, and the broker may only have a week's made") {
  const TestDatabase db;
  seed(db);
  db.exec("SELECT audit_events_create_partition('2031-03-05T12:00:00Z')");
  const std::vector<std::string> partitions{
      "audit_events_20310303", db.exec("SELECT tableoid::regclass::text FROM audit_events")[0][0].c_str()};
  for (const auto* role : {"hydracore_control_plane", "hydracore_broker"}) {
    CAPTURE(role);
    Session session(db, role);
    for (const auto& partition : partitions) {
      // Only through audit_events: nothing on a partition itself, and no dropping or detaching.
      checkAll(session,
               {"SELECT count(*) FROM " + partition, "INSERT INTO " + partition +
                    " (customer_id, outcome, reason, request_id) VALUES (" + kCustomer + ", 'allowed', 'x', 'y')",
                "TRUNCATE " + partition, "ALTER TABLE audit_events DETACH PARTITION " + partition},
               "permission denied");
      CHECK(session.run("DROP TABLE " + partition) == "permission denied");  // must be owner
    }
    CHECK(session.run("DELETE FROM audit_retention") == "permission denied");
    CHECK(session.run("INSERT INTO audit_retention (journal_id, tree_size, frontier, covering_tree_size, dropped_before,"
                      " partitions) VALUES ('j', 1, '{}', 1, now(), '{}')") == "permission denied");
  }
  Session broker(db, "hydracore_broker");
  CHECK(broker.run("SELECT audit_events_create_partition('2031-04-09T12:00:00Z')") == "ok");
  CHECK(broker.run("SELECT journal_id, tree_size FROM audit_retention") == "ok");
  CHECK(broker.run("SELECT frontier FROM audit_retention") == "permission denied");
  Session control_plane(db, "hydracore_control_plane");
  CHECK(control_plane.run("SELECT audit_events_create_partition('2031-05-07T12:00:00Z')") == "permission denied");
  CHECK(control_plane.run("SELECT * FROM audit_retention") == "ok");
  CHECK(db.exec("SELECT to_regclass('audit_events_20310407') IS NOT NULL AND to_regclass('audit_events_20310505') IS NULL")
            [0][0].as<bool>());
}

namespace {

const std::string kEndpoint = "'66666666-6666-4666-8666-666666666666'";

/// A webhook endpoint of the seeded customer listening to status changes, written as superuser.
void seedWebhookEndpoint(const TestDatabase& db) {
  db.exec("INSERT INTO webhook_endpoints (id, customer_id, url, events, secret) VALUES (" + kEndpoint + ", " +
          kCustomer + ", 'https://example.com/h', ARRAY['connection.status_changed'], '\\x" + std::string(64, 'a') + "')");
}

}  // namespace

TEST_CASE("privileges: the broker gains nothing from webhooks, and its status change reaches the outbox by the trigger") {
  const TestDatabase db;
  seed(db);
  seedWebhookEndpoint(db);
  Session broker(db, "hydracore_broker");
  checkAll(broker,
           {
               "SELECT * FROM webhook_endpoints",
               "SELECT secret FROM webhook_endpoints",
               "SELECT * FROM webhook_messages",
               "SELECT * FROM webhook_deliveries",
               "INSERT INTO webhook_messages (webhook_id, customer_id, event_type, payload) VALUES ('msg_x', " + kCustomer +
                   ", 'connection.created', '{}')",
               "UPDATE webhook_endpoints SET url = 'https://attacker.example/'",
               "UPDATE webhook_deliveries SET state = 'delivered'",
               "DELETE FROM webhook_deliveries",
               // Not even through the functions the trigger uses.
               "SELECT webhook_emit(" + kCustomer + ", 'connection.created', '{}')",
               "SELECT webhook_connection_json(c) FROM connections c",
           },
           "permission denied");
  // A temporary table cannot stand in for the outbox inside the trigger's function.
  CHECK(broker.run("CREATE TEMP TABLE webhook_messages (id bigint)") == "ok");
  // The broker's own UPDATE (as its refresh marks a connection error) writes one message and one
  // delivery, in its transaction.
  CHECK(broker.run("UPDATE connections SET status = 'error', error_message = 'Token refresh failed: invalid_grant', "
                   "updated_at = now() WHERE id = " + kConnection) == "ok");
  const auto messages = db.exec("SELECT event_type, payload::jsonb -> 'data' ->> 'status', "
                                "payload::jsonb -> 'data' ->> 'error_message' FROM webhook_messages");
  REQUIRE(messages.size() == 1);
  CHECK(messages[0][0].as<std::string>() == "connection.status_changed");
  CHECK(messages[0][1].as<std::string>() == "error");
  CHECK(messages[0][2].as<std::string>() == "Token refresh failed: invalid_grant");
  CHECK(db.exec("SELECT count(*) FROM webhook_deliveries WHERE state = 'pending'")[0][0].as<int>() == 1);
  // No status change, no event: usage updates and a second 'error' stay silent.
  CHECK(broker.run("UPDATE connections SET last_used_at = now() WHERE id = " + kConnection) == "ok");
  CHECK(broker.run("UPDATE connections SET status = 'error', error_message = 'again' WHERE id = " + kConnection) == "ok");
  CHECK(db.exec("SELECT count(*) FROM webhook_messages")[0][0].as<int>() == 1);
}

TEST_CASE("privileges: the control plane manages webhook endpoints and delivers, through the outbox it may write") {
  const TestDatabase db;
  seed(db);
  seedWebhookEndpoint(db);
  Session cp(db, "hydracore_control_plane");
  checkAll(cp,
           {
               "SELECT id, secret, previous_secret FROM webhook_endpoints",
               "UPDATE webhook_endpoints SET description = 'x', enabled = true WHERE id = " + kEndpoint,
               "SELECT webhook_emit(" + kCustomer + ", 'connection.status_changed', '{\"id\":1}')",
               "SELECT * FROM webhook_messages, webhook_deliveries",
               "UPDATE webhook_deliveries SET attempts = attempts + 1, lease_expires_at = now()",
               "UPDATE connections SET status = 'expired' WHERE id = " + kConnection,  // the trigger, as the control plane
           },
           "ok");
  CHECK(db.exec("SELECT count(*) FROM webhook_messages")[0][0].as<int>() == 2);
  // The trigger's helper is the schema's own business.
  CHECK(cp.run("SELECT webhook_connection_json(c) FROM connections c") == "permission denied");
  checkAll(cp, {"DELETE FROM webhook_messages", "DELETE FROM webhook_endpoints WHERE id = " + kEndpoint}, "ok");
}

namespace {

const std::string kOAuthClient = "'66666666-6666-4666-8666-666666666666'";
const std::string kSession = "'77777777-7777-4777-8777-777777777777'";

/// The connect flow's rows (schema/0025): a provider, a customer's OAuth client, settings, and a
/// session the callback left exchanging.
void seedConnect(const TestDatabase& db) {
  seed(db);
  for (const auto& sql : {
           std::string("INSERT INTO connect_providers (provider, authorization_url, pkce) VALUES ('gmail', "
                       "'https://accounts.google.com/o/oauth2/v2/auth', true)"),
           "INSERT INTO oauth_clients (id, customer_id, provider, client_id, secret_key_id, secret_ciphertext) VALUES (" +
               kOAuthClient + ", " + kCustomer + ", 'gmail', 'app', 'key-a', '\\x0a0b')",
           "INSERT INTO connect_settings (customer_id, allowed_redirect_urls) VALUES (" + kCustomer +
               ", '[\"https://app.example/done\"]')",
           "INSERT INTO connect_sessions (id, customer_id, token_hash, provider, connection_id, oauth_client_id, status,"
           " state_hash, browser_hash, code_key_id, code_ciphertext, expires_at) VALUES (" + kSession + ", " + kCustomer +
               ", sha256('link'), 'gmail', " + kBareConnection + ", " + kOAuthClient +
               ", 'exchanging', sha256('state'), sha256('cookie'), 'key-a', '\\x0c0d', now() + interval '1 hour')",
       }) {
    db.exec(sql);
  }
}

}  // namespace

TEST_CASE("privileges: connect flow: the broker reads a session's sealed code and client secret, and writes only their end") {
  const TestDatabase db;
  seedConnect(db);
  Session broker(db, "hydracore_broker");
  checkAll(broker,
           {
               // Not the link's, state's or cookie's hashes, where the browser goes, or the grants to make.
               "SELECT * FROM connect_sessions",
               "SELECT token_hash FROM connect_sessions",
               "SELECT state_hash, browser_hash FROM connect_sessions",
               "SELECT success_url, error_url, grants, metadata_json, connection_name FROM connect_sessions",
               "INSERT INTO connect_sessions (customer_id, token_hash, provider, connection_name, expires_at) VALUES (" +
                   kCustomer + ", sha256('x'), 'gmail', 'n', now())",
               "UPDATE connect_sessions SET connection_id = NULL",
               "UPDATE connect_sessions SET success_url = 'https://evil.example'",
               "UPDATE connect_sessions SET oauth_client_id = NULL",
               "DELETE FROM connect_sessions",
               // A customer's clients: read to exchange; only their sealed secret rewrapped (below).
               "SELECT * FROM oauth_clients",
               "SELECT authorization_params FROM oauth_clients",
               "UPDATE oauth_clients SET client_id = 'other'",
               "UPDATE oauth_clients SET scopes = '[]', secret_key_id = secret_key_id",
               "INSERT INTO oauth_clients (customer_id, provider, client_id, secret_key_id, secret_ciphertext) VALUES (" +
                   kCustomer + ", 'gmail', 'x', 'k', '\\x01')",
               "DELETE FROM oauth_clients",
               "SELECT * FROM connect_settings",
               "UPDATE connect_settings SET allowed_redirect_urls = '[]'",
               "DELETE FROM connect_providers",
           },
           "permission denied");
  checkAll(broker,
           {
               "SELECT id, customer_id, provider, connection_id, oauth_client_id, code_key_id, code_ciphertext"
               " FROM connect_sessions WHERE status = 'exchanging' ORDER BY updated_at LIMIT 1 FOR UPDATE SKIP LOCKED",
               "SELECT provider, client_id, secret_key_id, secret_ciphertext, scopes FROM oauth_clients",
               "SELECT * FROM connect_providers",
               "INSERT INTO connect_providers (provider, authorization_url, pkce, shared_client_id) VALUES"
               " ('gmail', 'https://accounts.google.com/o/oauth2/v2/auth', true, 'shared') ON CONFLICT (provider)"
               " DO UPDATE SET shared_client_id = EXCLUDED.shared_client_id, updated_at = now()",
               "INSERT INTO connection_secrets (connection_id, key_id, ciphertext) VALUES (" + kBareConnection +
                   ", 'key-a', '\\x01') ON CONFLICT (connection_id) DO UPDATE SET key_id = EXCLUDED.key_id,"
                   " ciphertext = EXCLUDED.ciphertext, updated_at = now()",
               "UPDATE connect_sessions SET status = 'connected', error = NULL, code_key_id = NULL,"
               " code_ciphertext = NULL, updated_at = now() WHERE id = " + kSession,
               // Key rotation (rewrap): the sealed secret, and nothing else of the client.
               "UPDATE oauth_clients SET secret_key_id = secret_key_id, secret_ciphertext = secret_ciphertext",
           },
           "ok");
  // The exchange's audit records (schema/0026), and nothing but the known outcomes.
  for (const auto* outcome : {"connected", "connect_failed"}) {
    CHECK(broker.run("INSERT INTO audit_events (customer_id, connection_id, provider, outcome, reason, request_id)"
                     " VALUES (" + kCustomer + ", " + kBareConnection + ", 'gmail', '" + outcome +
                     "', 'authorization code exchanged', 'connect-x')") == "ok");
  }
  CHECK(broker.run("INSERT INTO audit_events (customer_id, outcome, reason, request_id) VALUES (" + kCustomer +
                   ", 'connecting', 'x', 'connect-y')")
            .find("audit_events_outcome_check") != std::string::npos);
  CHECK(db.exec("SELECT code_ciphertext IS NULL FROM connect_sessions")[0][0].as<bool>());
  CHECK(db.exec("SELECT shared_client_id FROM connect_providers")[0][0].as<std::string>() == "shared");
}

TEST_CASE("privileges: connect flow: the control plane writes sealed codes and client secrets but never reads them") {
  const TestDatabase db;
  seedConnect(db);
  Session cp(db, "hydracore_control_plane");
  checkAll(cp,
           {
               "SELECT * FROM oauth_clients",
               "SELECT secret_ciphertext FROM oauth_clients",
               "SELECT id FROM oauth_clients WHERE secret_ciphertext = '\\x0a0b'",
               "DELETE FROM oauth_clients RETURNING secret_ciphertext",
               "UPDATE oauth_clients SET client_id = 'other'",
               "SELECT * FROM connect_sessions",
               "SELECT code_ciphertext FROM connect_sessions",
               "SELECT id FROM connect_sessions WHERE code_ciphertext = '\\x0c0d'",
               "UPDATE connect_sessions SET status = 'exchanging' RETURNING code_ciphertext",
               "DELETE FROM connect_sessions",
               // What the brokers publish is theirs to write.
               "INSERT INTO connect_providers (provider, authorization_url, pkce) VALUES ('evil', 'https://evil.example', false)",
               "UPDATE connect_providers SET authorization_url = 'https://evil.example'",
           },
           "permission denied");
  checkAll(cp,
           {
               "SELECT * FROM connect_providers",
               "SELECT id, customer_id, provider, client_id, secret_key_id, scopes, authorization_params, created_at"
               " FROM oauth_clients",
               "SELECT id, status, error, code_key_id, token_hash, state_hash, browser_hash, grants FROM connect_sessions",
               "UPDATE connect_sessions SET status = 'exchanging', code_key_id = 'key-b', code_ciphertext = '\\x0e',"
               " updated_at = now() WHERE id = " + kSession,
               "INSERT INTO oauth_clients (customer_id, provider, client_id, secret_key_id, secret_ciphertext) VALUES (" +
                   kCustomer + ", 'gmail', 'app2', 'key-a', '\\x01')",
               "DELETE FROM oauth_clients WHERE client_id = 'app2'",
               "SELECT * FROM connect_settings",
               "UPDATE connect_settings SET allowed_redirect_urls = '[]', updated_at = now()",
           },
           "ok");
}
