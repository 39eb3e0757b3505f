#include "broker/db/statements.hpp"

namespace hydra::broker::db {

void prepareStatements(pqxx::connection& c) {
  // Everything a fetch needs, in one round trip: the unrevoked proxy key ($1: its SHA-256) and,
  // when it belongs to the instance in the path ($2), that instance's granted connections of
  // provider $3 (and name $4). No row: no such key. One row with a NULL connection_id: the key
  // is of another instance, or nothing is granted. Expiries, networks and the instance's kill
  // switch are returned, not filtered: the broker decides them at each request
  // (services/decision.cpp), whether the answer comes from here or from memory. A ciphertext is returned only when exactly one
  // connection matches: an ambiguous fetch is refused and moves no ciphertext. A connection the
  // connect flow made is 'pending' and has no secret row until the broker exchanged its code (and
  // never gets one if the exchange failed: 'error'): it is found, so that the decision can say
  // so (409) rather than "not granted"; an active connection is never without its secret.
  c.prepare("fetch_lookup",
            "WITH key AS ("
            "  SELECT k.id, k.instance_id, k.customer_id, k.expires_at, k.allowed_cidrs, i.disabled FROM proxy_keys k"
            "  JOIN instances i ON i.id = k.instance_id AND i.customer_id = k.customer_id"
            "  WHERE k.key_hash = $1 AND k.revoked_at IS NULL)"
            " SELECT k.id AS proxy_key_id, k.instance_id AS key_instance_id, k.customer_id,"
            "        (extract(epoch FROM k.expires_at) * 1000000)::bigint AS key_expires_micros,"
            "        array_to_string(k.allowed_cidrs, ' ') AS allowed_cidrs, k.disabled AS instance_disabled, m.*"
            " FROM key k LEFT JOIN LATERAL ("
            "  SELECT c.id AS connection_id, c.name, c.auth_type, c.status, c.error_message,"
            "         c.metadata_json::text AS metadata,"
            "         g.capabilities::text AS capabilities,"
            "         (extract(epoch FROM g.expires_at) * 1000000)::bigint AS grant_expires_micros,"
            "         g.proxy_only, g.rate_limit_requests, g.rate_limit_per_seconds, s.key_id,"
            "         CASE WHEN count(*) OVER () = 1 THEN s.ciphertext END AS ciphertext"
            "  FROM grants g"
            "  JOIN connections c ON c.id = g.connection_id AND c.customer_id = g.customer_id"
            "  LEFT JOIN connection_secrets s ON s.connection_id = c.id"
            "  WHERE k.instance_id = $2 AND g.instance_id = k.instance_id AND g.customer_id = k.customer_id"
            "    AND (s.connection_id IS NOT NULL OR c.status <> 'active')"
            "    AND c.provider = $3 AND ($4::text IS NULL OR c.name = $4)"
            "  ORDER BY c.name LIMIT 20) m ON true");

  // Audit shipping (audit/shipper.cpp): where it stands for journal $1 ...
  // (the first record PostgreSQL neither holds nor dropped by retention, schema/0022) ...
  c.prepare("audit_shipped_position",
            "SELECT greatest((SELECT coalesce(max(seq) + 1, 0) FROM audit_events WHERE journal_id = $1),"
            "                (SELECT coalesce(max(tree_size), 0) FROM audit_retention WHERE journal_id = $1)),"
            "       (SELECT coalesce(max(tree_size), -1) FROM audit_checkpoints WHERE journal_id = $1)");
  // ... the week's partition of audit_events for a record of time $1 (made if missing) ...
  c.prepare("audit_partition_create", "SELECT audit_events_create_partition($1::timestamptz)");
  // ... the last use of the connections a batch of journal records released (the records
  // themselves go in by COPY, audit/shipment.cpp), in the batch's transaction. last_used_at
  // moves only when it is more than 30 seconds (audit::kLastUseStep) older than a use, and the
  // broker sends each connection's use at most once per 30 seconds: correct to the minute,
  // without rewriting (and firing the triggers of) a connections row for nearly every fetch.
  c.prepare("connection_last_used",
            "UPDATE connections c SET last_used_at = u.used_at"
            " FROM unnest($1::uuid[], $2::timestamptz[]) AS u(id, used_at)"
            " WHERE c.id = u.id AND (c.last_used_at IS NULL OR c.last_used_at < u.used_at - interval '30 seconds')");
  c.prepare("audit_checkpoint_ship",
            "INSERT INTO audit_checkpoints (journal_id, tree_size, note) VALUES ($1, $2, $3)"
            " ON CONFLICT (journal_id, tree_size) DO NOTHING");

  // Token refresh (services/refresher.cpp): the secret row stays locked from reading the
  // refresh token until the new tokens are committed, so one broker refreshes at a time.
  c.prepare("secret_lock_for_refresh",
            "SELECT s.key_id, s.ciphertext, c.status, c.error_message FROM connection_secrets s"
            " JOIN connections c ON c.id = s.connection_id WHERE s.connection_id = $1 FOR UPDATE OF s");
  c.prepare("connection_status", "SELECT status, error_message FROM connections WHERE id = $1");
  c.prepare("secret_store_refreshed",
            "UPDATE connection_secrets SET key_id = $2, ciphertext = $3, updated_at = now() WHERE connection_id = $1");
  c.prepare("connection_set_expiry",
            "UPDATE connections SET expires_at = $2::timestamptz, updated_at = now() WHERE id = $1");
  c.prepare("connection_mark_error",
            "UPDATE connections SET status = 'error', error_message = $2, updated_at = now() WHERE id = $1");
  c.prepare("connection_mark_expired",
            "UPDATE connections SET status = 'expired', error_message = $2, updated_at = now() WHERE id = $1");
  // Background refresh: active oauth2 connections whose token expires within $1 seconds, of
  // the providers it can refresh ($3), leaving out those backing off ($4): connections it
  // cannot refresh must not crowd the others out of the batch. At most $5 of each (customer,
  // provider), most urgent first, the first of every group before the second of any: one
  // customer's thousands of connections cannot fill the $2 rows.
  c.prepare("connection_list_refresh_due",
            "SELECT id, customer_id, provider FROM ("
            "  SELECT id, customer_id, provider, expires_at,"
            "         row_number() OVER (PARTITION BY customer_id, provider ORDER BY expires_at, id) AS turn"
            "  FROM connections"
            "  WHERE auth_type = 'oauth2' AND status = 'active' AND expires_at < now() + make_interval(secs => $1::bigint)"
            "  AND provider = ANY($3::text[]) AND NOT (id = ANY($4::uuid[]))) due"
            " WHERE turn <= $5 ORDER BY turn, expires_at LIMIT $2");

  // The connect flow (issue 20). At start-up each broker publishes what its registry says of
  // the providers the flow can use (providers/publish.cpp); the control plane only reads it.
  c.prepare("connect_provider_upsert",
            "INSERT INTO connect_providers"
            " (provider, authorization_url, pkce, shared_client_id, default_scopes, scope_descriptions, updated_at)"
            " VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, now())"
            " ON CONFLICT (provider) DO UPDATE SET authorization_url = EXCLUDED.authorization_url,"
            "  pkce = EXCLUDED.pkce, shared_client_id = EXCLUDED.shared_client_id,"
            "  default_scopes = EXCLUDED.default_scopes, scope_descriptions = EXCLUDED.scope_descriptions,"
            "  updated_at = now()");
  // The code exchange (services/connect_exchange.cpp): one session to exchange, locked for the
  // whole exchange; a session another broker holds is skipped, so each is exchanged once.
  c.prepare("connect_session_claim",
            "SELECT id, customer_id, provider, connection_id, oauth_client_id, code_key_id, code_ciphertext"
            " FROM connect_sessions WHERE status = 'exchanging'"
            " ORDER BY updated_at LIMIT 1 FOR UPDATE SKIP LOCKED");
  c.prepare("oauth_client_for_exchange",
            "SELECT provider, client_id, secret_key_id, secret_ciphertext FROM oauth_clients"
            " WHERE id = $1 AND customer_id = $2");
  // The connection the tokens go to, locked: a concurrent refresh or exchange of it waits.
  c.prepare("connection_lock_for_exchange",
            "SELECT provider, status FROM connections WHERE id = $1 AND customer_id = $2 FOR UPDATE");
  // A re-authorised connection's secret row, locked before the provider is asked: a refresh of
  // it under way ends first (a lock that does not come in time leaves the code unused for the
  // next look), and one that starts meanwhile waits for the new tokens.
  c.prepare("secret_lock_for_exchange", "SELECT 1 FROM connection_secrets WHERE connection_id = $1 FOR UPDATE");
  // A connection the flow made has no secret row yet; a re-authorised one has.
  c.prepare("secret_store_exchanged",
            "INSERT INTO connection_secrets (connection_id, key_id, ciphertext) VALUES ($1, $2, $3)"
            " ON CONFLICT (connection_id) DO UPDATE SET key_id = EXCLUDED.key_id, ciphertext = EXCLUDED.ciphertext,"
            "  updated_at = now()");
  c.prepare("connection_mark_connected",
            "UPDATE connections SET status = 'active', error_message = NULL, expires_at = $2::timestamptz,"
            " updated_at = now() WHERE id = $1");
  // Only a connection the flow made and still waits for its tokens: a re-authorised one keeps
  // working with what it had.
  c.prepare("connection_mark_connect_failed",
            "UPDATE connections SET status = 'error', error_message = $2, updated_at = now()"
            " WHERE id = $1 AND status = 'pending'");
  // Ends a session; the sealed code is erased either way.
  c.prepare("connect_session_end",
            "UPDATE connect_sessions SET status = $2, error = $3, code_key_id = NULL, code_ciphertext = NULL,"
            " updated_at = now() WHERE id = $1");

  // Key rotation (services/rewrap.cpp), the same three statements for each sealed column: the
  // ciphertexts not under the current key ($1), after row id $2 ...
  c.prepare("secret_list_to_rewrap",
            "SELECT s.connection_id AS id, c.customer_id, s.key_id, s.ciphertext FROM connection_secrets s"
            " JOIN connections c ON c.id = s.connection_id"
            " WHERE s.key_id <> $1 AND s.connection_id > $2 ORDER BY s.connection_id LIMIT $3");
  c.prepare("secret_count_not_under", "SELECT count(*) FROM connection_secrets WHERE key_id <> $1");
  // ... replacing one only if nobody changed the row meanwhile (the control plane may have).
  c.prepare("secret_rewrap",
            "UPDATE connection_secrets SET key_id = $2, ciphertext = $3, updated_at = now()"
            " WHERE connection_id = $1 AND key_id = $4 AND ciphertext = $5");
  c.prepare("oauth_client_list_to_rewrap",
            "SELECT id, customer_id, secret_key_id AS key_id, secret_ciphertext AS ciphertext FROM oauth_clients"
            " WHERE secret_key_id <> $1 AND id > $2 ORDER BY id LIMIT $3");
  c.prepare("oauth_client_count_not_under", "SELECT count(*) FROM oauth_clients WHERE secret_key_id <> $1");
  c.prepare("oauth_client_rewrap",
            "UPDATE oauth_clients SET secret_key_id = $2, secret_ciphertext = $3"
            " WHERE id = $1 AND secret_key_id = $4 AND secret_ciphertext = $5");
}

}  // namespace hydra::broker::db
