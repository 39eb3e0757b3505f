#include "control-plane/db/statements.hpp"

namespace hydra::cp::db {
namespace {

// Column lists shared by the statements that return whole rows; rows.cpp reads them by name.
#define CONNECTION_COLUMNS                                                                        \
  "id, customer_id, provider, name, auth_type, scopes::text AS scopes, "                          \
  "metadata_json::text AS metadata_json, status, error_message, expires_at, last_used_at, "       \
  "created_at, updated_at"
#define GRANT_COLUMNS "id, connection_id, instance_id, capabilities::text AS capabilities, granted_at, expires_at"
#define PROXY_KEY_COLUMNS \
  "id, instance_id, created_at, expires_at, revoked_at, array_to_string(allowed_cidrs, ' ') AS allowed_cidrs"
// A grant's end ($5 an RFC 3339 time, or $6 seconds from now; neither: none).
#define GRANT_EXPIRY \
  "CASE WHEN $5::text IS NOT NULL THEN $5::timestamptz" \
  " WHEN $6::bigint IS NOT NULL THEN now() + make_interval(secs => $6::bigint) END"

}  // namespace

void prepareStatements(pqxx::connection& c) {
  // Customers
  c.prepare("customer_insert", "INSERT INTO customers (name) VALUES ($1) RETURNING id, name, created_at");
  c.prepare("customer_exists", "SELECT 1 FROM customers WHERE id = $1");

  // API keys
  c.prepare("api_key_insert",
            "INSERT INTO api_keys (customer_id, name, key_hash) VALUES ($1, $2, $3) "
            "RETURNING id, name, created_at, revoked_at");
  c.prepare("api_key_list",
            "SELECT id, name, created_at, revoked_at FROM api_keys WHERE customer_id = $1 ORDER BY created_at, id");
  c.prepare("api_key_revoke",
            "UPDATE api_keys SET revoked_at = now() WHERE customer_id = $1 AND id = $2 AND revoked_at IS NULL");
  c.prepare("api_key_customer_by_hash", "SELECT customer_id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL");

  // Instances
  c.prepare("instance_insert",
            "INSERT INTO instances (customer_id, name) VALUES ($1, $2) RETURNING id, name, created_at, disabled");
  c.prepare("instance_list",
            "SELECT id, name, created_at, disabled FROM instances WHERE customer_id = $1 ORDER BY created_at, id");
  c.prepare("instance_update",
            "UPDATE instances SET name = coalesce($3, name), disabled = coalesce($4, disabled)"
            " WHERE customer_id = $1 AND id = $2 RETURNING id, name, created_at, disabled");
  c.prepare("instance_exists", "SELECT 1 FROM instances WHERE customer_id = $1 AND id = $2");
  c.prepare("instance_delete", "DELETE FROM instances WHERE customer_id = $1 AND id = $2");

  // Proxy keys (what runtimes present to the broker)
  c.prepare("proxy_key_insert",
            "INSERT INTO proxy_keys (customer_id, instance_id, key_hash, expires_at, allowed_cidrs) "
            "VALUES ($1, $2, $3, now() + make_interval(secs => $4::bigint), $5::cidr[]) "
            "RETURNING " PROXY_KEY_COLUMNS);
  c.prepare("proxy_key_list",
            "SELECT " PROXY_KEY_COLUMNS " FROM proxy_keys "
            "WHERE customer_id = $1 AND instance_id = $2 ORDER BY created_at, id");
  c.prepare("proxy_key_revoke",
            "UPDATE proxy_keys SET revoked_at = now() "
            "WHERE customer_id = $1 AND instance_id = $2 AND id = $3 AND revoked_at IS NULL");

  // Audit trail (written by the broker), newest first; $2 is the cursor (NULL: from the newest).
  c.prepare("audit_event_list",
            "SELECT id, occurred_at, instance_id, proxy_key_id, connection_id, provider, name, capability, "
            "outcome, reason, request_id, peer FROM audit_events "
            "WHERE customer_id = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3");

  // Connections
  c.prepare("connection_insert",
            "INSERT INTO connections (customer_id, provider, name, auth_type, scopes, metadata_json, expires_at) "
            "VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7::timestamptz) RETURNING " CONNECTION_COLUMNS);
  c.prepare("connection_get", "SELECT " CONNECTION_COLUMNS " FROM connections WHERE customer_id = $1 AND id = $2");
  c.prepare("connection_list",
            "SELECT " CONNECTION_COLUMNS " FROM connections "
            "WHERE customer_id = $1 AND ($2::text IS NULL OR provider = $2) AND ($3::text IS NULL OR status = $3) "
            "ORDER BY created_at, id LIMIT $4 OFFSET $5");
  c.prepare("connection_count",
            "SELECT count(*) FROM connections "
            "WHERE customer_id = $1 AND ($2::text IS NULL OR provider = $2) AND ($3::text IS NULL OR status = $3)");
  // $3 (name) and $4 (scopes) are NULL for "leave unchanged"; $5 says whether metadata_json is
  // replaced by $6 (may be NULL); $7 whether the credentials were replaced, which makes the
  // connection usable again, with the new token's expiry $8.
  c.prepare("connection_update",
            "UPDATE connections SET "
            " name = COALESCE($3, name),"
            " scopes = COALESCE($4::jsonb, scopes),"
            " metadata_json = CASE WHEN $5::boolean THEN $6::jsonb ELSE metadata_json END,"
            " status = CASE WHEN $7::boolean THEN 'active' ELSE status END,"
            " error_message = CASE WHEN $7::boolean THEN NULL ELSE error_message END,"
            " expires_at = CASE WHEN $7::boolean THEN $8::timestamptz ELSE expires_at END,"
            " updated_at = now() "
            "WHERE customer_id = $1 AND id = $2 RETURNING " CONNECTION_COLUMNS);
  c.prepare("connection_delete", "DELETE FROM connections WHERE customer_id = $1 AND id = $2");

  // Secrets: the control plane writes ciphertext and may not read it back (its database role
  // has no SELECT on the column), so these statements never mention it outside SET/VALUES.
  c.prepare("connection_secret_insert",
            "INSERT INTO connection_secrets (connection_id, key_id, ciphertext) VALUES ($1, $2, $3)");
  // Lock order: a connection's secret row before its connection row, as the broker's token
  // refresh takes them (it holds the secret row while it calls the provider, then updates the
  // connection); replacing credentials or deleting the connection in the other order would
  // deadlock with a refresh in flight.
  c.prepare("connection_secret_lock",
            "SELECT 1 FROM connection_secrets s JOIN connections c ON c.id = s.connection_id"
            " WHERE c.customer_id = $1 AND s.connection_id = $2 FOR UPDATE OF s");
  c.prepare("connection_secret_replace",
            "UPDATE connection_secrets SET key_id = $2, ciphertext = $3, updated_at = now() WHERE connection_id = $1");

  // Grants
  c.prepare("grant_insert",
            "INSERT INTO grants (customer_id, connection_id, instance_id, capabilities, expires_at) "
            "VALUES ($1, $2, $3, $4::jsonb, " GRANT_EXPIRY ") RETURNING " GRANT_COLUMNS);
  // $4: new capabilities or NULL; $7: whether the expiry changes (to $5/$6, or to none).
  c.prepare("grant_update",
            "UPDATE grants SET capabilities = coalesce($4::jsonb, capabilities),"
            " expires_at = CASE WHEN $7 THEN " GRANT_EXPIRY " ELSE expires_at END"
            " WHERE customer_id = $1 AND connection_id = $2 AND id = $3 RETURNING " GRANT_COLUMNS);
  c.prepare("grant_list_by_connections",
            "SELECT " GRANT_COLUMNS " FROM grants WHERE customer_id = $1 AND connection_id = ANY($2::uuid[]) "
            "ORDER BY granted_at, id");
  c.prepare("grant_delete", "DELETE FROM grants WHERE customer_id = $1 AND connection_id = $2 AND id = $3");
}

}  // namespace hydra::cp::db
