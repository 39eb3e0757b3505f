#include "control-plane/db/statements.hpp"

#include <string>

#include "shared/audit/stored_record.hpp"

namespace hydra::cp::db {
namespace {

// Column lists shared by the statements that return whole rows; rows.cpp reads them by name.
#define CONNECTION_COLUMNS                                                                        \
  "id, customer_id, provider, name, auth_type, scopes::text AS scopes, "                          \
  "metadata_json::text AS metadata_json, status, error_message, expires_at, last_used_at, "       \
  "created_at, updated_at"
#define GRANT_COLUMNS                                                                            \
  "id, connection_id, instance_id, capabilities::text AS capabilities, granted_at, expires_at, " \
  "proxy_only, rate_limit_requests, rate_limit_per_seconds"
#define PROXY_KEY_COLUMNS \
  "id, instance_id, created_at, expires_at, revoked_at, array_to_string(allowed_cidrs, ' ') AS allowed_cidrs"
// A grant's end ($5 an RFC 3339 time, or $6 seconds from now; neither: none).
#define GRANT_EXPIRY \
  "CASE WHEN $5::text IS NOT NULL THEN $5::timestamptz" \
  " WHEN $6::bigint IS NOT NULL THEN now() + make_interval(secs => $6::bigint) END"
#define WEBHOOK_ENDPOINT_COLUMNS                                                                  \
  "id, url, description, array_to_json(events)::text AS events, enabled, disabled_reason, "      \
  "CASE WHEN previous_secret_expires_at > now() THEN previous_secret_expires_at END AS previous_secret_expires_at, " \
  "created_at, updated_at"

// The listing and the export read the same rows: newest first before a cursor, or oldest first
// after one, the filters ANDed, in one of three ways (bench/audit_scale.sh measured each; the
// indexes are schema/0023's and 0027's, each holding occurred_at):
//  - No filter, or an outcome only, and no time bound: the rows as the index finds them.
//  - A time bound, and no connection or instance: the page's first and last ids from the index
//    alone (walking a customer's ids to the window's edge reads index entries, not a row each),
//    then the rows between those two ids, which the same filters select again: exactly the page
//    (every matching row from the first id on, up to the limit), and as good as nothing else,
//    since only the time is checked outside the index and ids follow time closely.
//  - A connection or an instance, with any other filters and time bound: the page's ids from
//    an index alone (a week that has ended: its connection or instance index; the week being
//    written, which has neither: the customer index, which holds both; a rare outcome's index
//    holds both too), then each row by primary key (id and occurred_at: one partition each).
//    Reading the rows between the ids instead would read every row of the customer's, or of
//    the first filter's, in between to check the others (schema/0027).
// The rare outcomes repeat "outcome <> 'allowed'" so the planner can use the partial index that
// holds only them with the value still a parameter.
#define AUDIT_EVENT_COLUMNS(e)                                                                     \
  e "id, " e "occurred_at, " e "instance_id, " e "proxy_key_id, " e "connection_id, " e "provider, " e \
  "name, " e "capability, " e "outcome, " e "reason, " e "request_id, " e "peer, " e "method, " e    \
  "path, " e "upstream_status, " e "request_bytes, " e "response_bytes, " e "duration_us"
std::string auditEventSql(const AuditEventQuery& q) {
  std::string where = q.oldest_first ? "customer_id = $1 AND id > $2" : "customer_id = $1 AND id < $2";
  int n = 3;
  if (q.timed) {
    where += " AND occurred_at >= $4::timestamptz AND occurred_at < $5::timestamptz";
    n = 5;
  }
  if (q.connection) where += " AND connection_id = $" + std::to_string(++n) + "::uuid";
  if (q.instance) where += " AND instance_id = $" + std::to_string(++n) + "::uuid";
  if (q.outcome == AuditEventQuery::Outcome::kAllowed) where += " AND outcome = 'allowed'";
  if (q.outcome == AuditEventQuery::Outcome::kOther) {
    where += " AND outcome = $" + std::to_string(++n) + " AND outcome <> 'allowed'";
  }
  const std::string order = q.oldest_first ? " ORDER BY id LIMIT $3" : " ORDER BY id DESC LIMIT $3";
  if (q.connection || q.instance) {
    return "SELECT " AUDIT_EVENT_COLUMNS("e.") " FROM (SELECT id, occurred_at FROM audit_events WHERE " + where +
           order + ") page JOIN audit_events e ON e.id = page.id AND e.occurred_at = page.occurred_at" +
           (q.oldest_first ? " ORDER BY e.id" : " ORDER BY e.id DESC");
  }
  const std::string rows = "SELECT " AUDIT_EVENT_COLUMNS("") " FROM audit_events WHERE " + where;
  if (!q.timed) return rows + order;
  return "WITH page AS (SELECT id FROM audit_events WHERE " + where + order + ") " + rows +
         " AND id >= (SELECT min(id) FROM page) AND id <= (SELECT max(id) FROM page)" + order;
}


// The connect flow (schema/0025). The control plane's role may not read oauth_clients'
// secret_ciphertext nor connect_sessions' code_ciphertext: no statement here names them
// outside INSERT or SET.
#define OAUTH_CLIENT_COLUMNS \
  "id, provider, client_id, scopes::text AS scopes, authorization_params::text AS authorization_params, created_at"
// "expired" is no stored status: a pending or authorizing session past its end.
#define SESSION_STATUS(s) \
  "CASE WHEN " s "status IN ('pending', 'authorizing') AND " s "expires_at <= now() THEN 'expired' ELSE " s "status END"
#define SESSION_COLUMNS \
  "id, provider, " SESSION_STATUS("") " AS status, connection_id, error, expires_at, created_at, updated_at"
void prepareConnectStatements(pqxx::connection& c) {
  c.prepare("connect_provider_get",
            "SELECT provider, authorization_url, pkce, shared_client_id, default_scopes::text AS default_scopes "
            "FROM connect_providers WHERE provider = $1");

  // The id first: it is part of the secret's associated data (crypto::oauthClientAad).
  c.prepare("oauth_client_new_id", "SELECT gen_random_uuid()::text");
  c.prepare("oauth_client_insert",
            "INSERT INTO oauth_clients (id, customer_id, provider, client_id, secret_key_id, secret_ciphertext, scopes,"
            " authorization_params) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb) RETURNING " OAUTH_CLIENT_COLUMNS);
  c.prepare("oauth_client_get",
            "SELECT " OAUTH_CLIENT_COLUMNS " FROM oauth_clients WHERE customer_id = $1 AND id = $2");
  c.prepare("oauth_client_list",
            "SELECT " OAUTH_CLIENT_COLUMNS " FROM oauth_clients WHERE customer_id = $1"
            " AND ($2::text IS NULL OR provider = $2) ORDER BY created_at, id LIMIT $3 OFFSET $4");
  c.prepare("oauth_client_count",
            "SELECT count(*) FROM oauth_clients WHERE customer_id = $1 AND ($2::text IS NULL OR provider = $2)");
  c.prepare("oauth_client_delete", "DELETE FROM oauth_clients WHERE customer_id = $1 AND id = $2 RETURNING id");
  // The sessions a deleted client leaves: without this the schema's ON DELETE SET NULL would
  // send their browsers to the provider with the operator's shared client instead.
  c.prepare("connect_session_fail_by_client",
            "UPDATE connect_sessions SET status = 'failed', error = 'oauth_client_deleted', updated_at = now()"
            " WHERE customer_id = $1 AND oauth_client_id = $2 AND status IN ('pending', 'authorizing')");

  c.prepare("connect_settings_get",
            "SELECT allowed_redirect_urls::text AS allowed_redirect_urls, updated_at FROM connect_settings"
            " WHERE customer_id = $1");
  c.prepare("connect_settings_put",
            "INSERT INTO connect_settings (customer_id, allowed_redirect_urls) VALUES ($1, $2::jsonb)"
            " ON CONFLICT (customer_id) DO UPDATE SET allowed_redirect_urls = EXCLUDED.allowed_redirect_urls,"
            " updated_at = now() RETURNING allowed_redirect_urls::text AS allowed_redirect_urls, updated_at");

  c.prepare("connection_name_taken",
            "SELECT 1 FROM connections WHERE customer_id = $1 AND provider = $2 AND name = $3");
  c.prepare("connect_session_insert",
            "INSERT INTO connect_sessions (customer_id, token_hash, provider, connection_name, connection_id,"
            " oauth_client_id, scopes, metadata_json, grants, success_url, error_url, expires_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9::jsonb, $10, $11,"
            " now() + make_interval(secs => $12::bigint)) RETURNING " SESSION_COLUMNS);
  c.prepare("connect_session_get",
            "SELECT " SESSION_COLUMNS " FROM connect_sessions WHERE customer_id = $1 AND id = $2");

  // The link's page and its Continue: the session by its token, with what the page shows and
  // what the redirect to the provider needs (the client: the customer's own, or the shared one).
  c.prepare("connect_session_by_token",
            "SELECT s.id, s.customer_id, cu.name AS customer_name, s.provider, s.scopes::text AS scopes,"
            " " SESSION_STATUS("s.") " AS status, s.success_url, s.error_url, s.oauth_client_id,"
            " o.client_id AS own_client_id, o.authorization_params::text AS authorization_params,"
            " p.authorization_url, p.pkce, p.shared_client_id, p.scope_descriptions::text AS scope_descriptions "
            "FROM connect_sessions s JOIN customers cu ON cu.id = s.customer_id"
            " LEFT JOIN oauth_clients o ON o.customer_id = s.customer_id AND o.id = s.oauth_client_id"
            " LEFT JOIN connect_providers p ON p.provider = s.provider WHERE s.token_hash = $1");
  // Continue and Cancel: each only from pending, before the end, once (whoever comes second
  // changes nothing).
  c.prepare("connect_session_begin",
            "UPDATE connect_sessions SET status = 'authorizing', state_hash = $2, browser_hash = $3, updated_at = now()"
            " WHERE id = $1 AND status = 'pending' AND expires_at > now() RETURNING id");
  c.prepare("connect_session_cancel",
            "UPDATE connect_sessions SET status = 'failed', error = 'access_denied', updated_at = now()"
            " WHERE id = $1 AND status = 'pending' AND expires_at > now() RETURNING id");

  // The callback: the session by its state, locked until the code is stored or refused.
  c.prepare("connect_session_by_state",
            "SELECT s.id, s.customer_id, s.provider, s.connection_name, s.connection_id, s.scopes::text AS scopes,"
            " s.metadata_json::text AS metadata_json, s.grants::text AS grants, s.success_url, s.error_url,"
            " s.status, s.browser_hash, s.expires_at <= now() AS expired, coalesce(p.pkce, false) AS pkce "
            "FROM connect_sessions s LEFT JOIN connect_providers p ON p.provider = s.provider"
            " WHERE s.state_hash = $1 FOR UPDATE OF s");
  c.prepare("connect_session_fail",
            "UPDATE connect_sessions SET status = 'failed', error = $2, updated_at = now()"
            " WHERE id = $1 AND status IN ('pending', 'authorizing')");
  c.prepare("connect_session_exchange",
            "UPDATE connect_sessions SET status = 'exchanging', code_key_id = $2, code_ciphertext = $3,"
            " connection_id = coalesce($4, connection_id), updated_at = now() WHERE id = $1");
  // A connection the flow makes: pending (nothing releases it) until the broker has its tokens.
  c.prepare("connection_insert_pending",
            "INSERT INTO connections (customer_id, provider, name, auth_type, scopes, metadata_json, status)"
            " VALUES ($1, $2, $3, 'oauth2', $4::jsonb, $5::jsonb, 'pending') RETURNING " CONNECTION_COLUMNS);

  // The waiting page's poll (authenticated by the browser's cookie, compared by the caller).
  c.prepare("connect_session_status",
            "SELECT id, " SESSION_STATUS("") " AS status, browser_hash, connection_id, error, success_url, error_url"
            " FROM connect_sessions WHERE id = $1");
}
}  // namespace

std::string auditEventStatement(const AuditEventQuery& q) {
  static const char* const kOutcome[] = {"", "_allowed", "_outcome"};
  return std::string(q.oldest_first ? "audit_event_export" : "audit_event_list") + (q.timed ? "_timed" : "") +
         (q.connection ? "_connection" : "") + (q.instance ? "_instance" : "") + kOutcome[static_cast<int>(q.outcome)];
}

void prepareStatements(pqxx::connection& c) {
  // Customers
  c.prepare("customer_insert", "INSERT INTO customers (name) VALUES ($1) RETURNING id, name, created_at");
  c.prepare("customer_exists", "SELECT 1 FROM customers WHERE id = $1");
  c.prepare("customer_lock", "SELECT 1 FROM customers WHERE id = $1 FOR NO KEY UPDATE");

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
  // Deleting takes the row first, so no grant can join it between listing its grants (each
  // announced as grant.deleted) and the delete.
  c.prepare("instance_lock", "SELECT 1 FROM instances WHERE customer_id = $1 AND id = $2 FOR UPDATE");
  c.prepare("instance_delete",
            "DELETE FROM instances WHERE customer_id = $1 AND id = $2 RETURNING id, name, created_at, disabled");

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
            "WHERE customer_id = $1 AND instance_id = $2 AND id = $3 AND revoked_at IS NULL RETURNING " PROXY_KEY_COLUMNS);

  // Audit trail (written by the broker): the listing and the export, one statement per set of
  // filters (statements.hpp).
  for (const bool oldest_first : {false, true}) {
    for (const bool timed : {false, true}) {
      for (const bool connection : {false, true}) {
        for (const bool instance : {false, true}) {
          for (const auto outcome : {AuditEventQuery::Outcome::kAny, AuditEventQuery::Outcome::kAllowed,
                                     AuditEventQuery::Outcome::kOther}) {
            const AuditEventQuery query{oldest_first, timed, connection, instance, outcome};
            c.prepare(auditEventStatement(query), auditEventSql(query));
          }
        }
      }
    }
  }

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
  // Taken after the secret row (lock order below) when deleting: no grant can join the
  // connection between listing its grants (each announced as grant.deleted) and the delete.
  c.prepare("connection_lock", "SELECT 1 FROM connections WHERE customer_id = $1 AND id = $2 FOR UPDATE");
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
  // $7: proxy-only; $8 requests per $9 seconds, or both NULL (no rate limit).
  c.prepare("grant_insert",
            "INSERT INTO grants (customer_id, connection_id, instance_id, capabilities, expires_at, proxy_only,"
            " rate_limit_requests, rate_limit_per_seconds) "
            "VALUES ($1, $2, $3, $4::jsonb, " GRANT_EXPIRY ", $7, $8, $9) RETURNING " GRANT_COLUMNS);
  // $4: new capabilities or NULL; $7: whether the expiry changes (to $5/$6, or to none); $8:
  // proxy-only or NULL (unchanged); $9: whether the rate limit changes (to $10 per $11 seconds,
  // or to none when they are NULL).
  c.prepare("grant_update",
            "UPDATE grants SET capabilities = coalesce($4::jsonb, capabilities),"
            " expires_at = CASE WHEN $7 THEN " GRANT_EXPIRY " ELSE expires_at END,"
            " proxy_only = coalesce($8::boolean, proxy_only),"
            " rate_limit_requests = CASE WHEN $9 THEN $10::integer ELSE rate_limit_requests END,"
            " rate_limit_per_seconds = CASE WHEN $9 THEN $11::integer ELSE rate_limit_per_seconds END"
            " WHERE customer_id = $1 AND connection_id = $2 AND id = $3 RETURNING " GRANT_COLUMNS);
  c.prepare("grant_list_by_connections",
            "SELECT " GRANT_COLUMNS " FROM grants WHERE customer_id = $1 AND connection_id = ANY($2::uuid[]) "
            "ORDER BY granted_at, id");
  c.prepare("grant_delete",
            "DELETE FROM grants WHERE customer_id = $1 AND connection_id = $2 AND id = $3 RETURNING " GRANT_COLUMNS);
  // The grants that go with their connection or instance, deleted explicitly (rather than by
  // the cascade) so that each one's grant.deleted event can carry it.
  c.prepare("grant_delete_by_connection",
            "DELETE FROM grants WHERE customer_id = $1 AND connection_id = $2 RETURNING " GRANT_COLUMNS);
  c.prepare("grant_delete_by_instance",
            "DELETE FROM grants WHERE customer_id = $1 AND instance_id = $2 RETURNING " GRANT_COLUMNS);

  // Webhook outbox (schema/0014_webhooks.sql): an event in the caller's transaction; nothing is
  // stored when no enabled endpoint of the customer listens to the type.
  c.prepare("webhook_event_emit", "SELECT webhook_emit($1, $2, $3::jsonb)");

  // Webhook endpoints. Events go in as a JSON array of names and come out as one.
  c.prepare("webhook_endpoint_insert",
            "INSERT INTO webhook_endpoints (customer_id, url, description, events, secret) "
            "VALUES ($1, $2, $3, ARRAY(SELECT jsonb_array_elements_text($4::jsonb)), $5) "
            "RETURNING " WEBHOOK_ENDPOINT_COLUMNS);
  c.prepare("webhook_endpoint_count", "SELECT count(*) FROM webhook_endpoints WHERE customer_id = $1");
  c.prepare("webhook_endpoint_list",
            "SELECT " WEBHOOK_ENDPOINT_COLUMNS " FROM webhook_endpoints WHERE customer_id = $1 ORDER BY created_at, id");
  c.prepare("webhook_endpoint_get",
            "SELECT " WEBHOOK_ENDPOINT_COLUMNS " FROM webhook_endpoints WHERE customer_id = $1 AND id = $2");
  // NULL leaves a field unchanged. Disabling records why (unless it was already disabled, e.g.
  // by a 410); enabling clears the reason.
  c.prepare("webhook_endpoint_update",
            "UPDATE webhook_endpoints SET "
            " url = COALESCE($3, url),"
            " description = COALESCE($4, description),"
            " events = CASE WHEN $5::jsonb IS NULL THEN events ELSE ARRAY(SELECT jsonb_array_elements_text($5::jsonb)) END,"
            " disabled_reason = CASE WHEN $6::boolean IS NULL THEN disabled_reason WHEN $6::boolean THEN NULL"
            "                   WHEN enabled THEN 'Disabled through the API' ELSE disabled_reason END,"
            " enabled = COALESCE($6::boolean, enabled),"
            " updated_at = now() "
            "WHERE customer_id = $1 AND id = $2 RETURNING " WEBHOOK_ENDPOINT_COLUMNS);
  c.prepare("webhook_endpoint_delete", "DELETE FROM webhook_endpoints WHERE customer_id = $1 AND id = $2");
  // The old key keeps signing, beside the new one, for 24 hours.
  c.prepare("webhook_endpoint_rotate_secret",
            "UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_expires_at = now() + interval '24 hours',"
            " secret = $3, updated_at = now() WHERE customer_id = $1 AND id = $2 RETURNING " WEBHOOK_ENDPOINT_COLUMNS);
  // A 410 from the receiver.
  c.prepare("webhook_endpoint_disable",
            "UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2, updated_at = now() WHERE id = $1 AND enabled");
  // A disabled endpoint gets nothing more: what was still pending for it fails.
  c.prepare("webhook_delivery_fail_pending",
            "UPDATE webhook_deliveries SET state = 'failed', next_attempt_at = NULL, lease_expires_at = NULL,"
            " last_error = COALESCE(last_error || '; ', '') || 'endpoint disabled'"
            " WHERE endpoint_id = $1 AND state = 'pending'");
  // Newest first; $3 is the cursor (NULL: from the newest).
  c.prepare("webhook_delivery_list",
            "SELECT d.id, m.webhook_id, m.event_type, d.state, d.attempts, d.last_status_code, d.last_error,"
            " d.last_response, d.last_attempt_at, d.next_attempt_at, d.created_at"
            " FROM webhook_deliveries d JOIN webhook_messages m ON m.id = d.message_id"
            " WHERE d.customer_id = $1 AND d.endpoint_id = $2 AND ($3::bigint IS NULL OR d.id < $3)"
            " ORDER BY d.id DESC LIMIT $4");

  // Webhook delivery (webhooks/dispatcher.cpp). Claiming is two statements in one short
  // transaction: due deliveries locked with SKIP LOCKED (several control planes share the work,
  // none waits for another); then the ones picked leased for $2 seconds and counted as an
  // attempt, with what sending needs. The previous secret signs too while its 24 hours last.
  // Fairness: an endpoint with a delivery in flight offers none (one at a time per endpoint),
  // and each other endpoint only its oldest; a customer with $2 deliveries in flight (leases of
  // every control plane) offers none, and at most $2 minus those in flight. Customers take
  // turns: each one's first candidate comes before anyone's second, oldest first among equals.
  // (FOR UPDATE cannot lock a windowed query's rows: the ranking picks ids, the outer query
  // locks them. The outer query repeats the conditions on the delivery itself: a row another
  // process leased after this statement's snapshot is checked again when locked, on its new
  // version, and skipped.)
  c.prepare("webhook_delivery_due",
            "WITH in_flight AS ("
            "  SELECT e.customer_id, count(*) AS n FROM webhook_deliveries b"
            "  JOIN webhook_endpoints e ON e.id = b.endpoint_id"
            "  WHERE b.state = 'pending' AND b.lease_expires_at > now() GROUP BY e.customer_id),"
            " oldest AS ("
            "  SELECT DISTINCT ON (d.endpoint_id) d.id, d.endpoint_id, d.next_attempt_at, e.customer_id"
            "  FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id"
            "  WHERE d.state = 'pending' AND d.next_attempt_at <= now() AND e.enabled"
            "    AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= now())"
            "    AND NOT EXISTS (SELECT 1 FROM webhook_deliveries b WHERE b.endpoint_id = d.endpoint_id"
            "                    AND b.state = 'pending' AND b.lease_expires_at > now())"
            "  ORDER BY d.endpoint_id, d.next_attempt_at, d.id),"
            " ranked AS ("
            "  SELECT o.id, o.next_attempt_at, coalesce(f.n, 0) + row_number() OVER"
            "    (PARTITION BY o.customer_id ORDER BY o.next_attempt_at, o.id) AS turn"
            "  FROM oldest o LEFT JOIN in_flight f ON f.customer_id = o.customer_id)"
            " SELECT d.id, d.endpoint_id FROM webhook_deliveries d JOIN ranked r ON r.id = d.id"
            " WHERE r.turn <= $2 AND d.state = 'pending' AND d.next_attempt_at <= now()"
            "   AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= now())"
            " ORDER BY r.turn, r.next_attempt_at, d.id LIMIT $1 FOR UPDATE OF d SKIP LOCKED");
  c.prepare("webhook_delivery_lease",
            "UPDATE webhook_deliveries d SET attempts = d.attempts + 1, last_attempt_at = now(),"
            " lease_expires_at = now() + make_interval(secs => $2::bigint)"
            " FROM webhook_messages m, webhook_endpoints e"
            " WHERE d.id = ANY($1::bigint[]) AND m.id = d.message_id AND e.id = d.endpoint_id"
            " RETURNING d.id, d.attempts, d.endpoint_id, e.url, e.secret,"
            "  CASE WHEN e.previous_secret_expires_at > now() THEN e.previous_secret END AS previous_secret,"
            "  m.webhook_id, m.payload");
  // The result of the attempt counted as $2: ignored if the lease was lost meanwhile (another
  // worker took the delivery over), except a success, which stands. $3 'pending' schedules the
  // next attempt $4 seconds from now.
  c.prepare("webhook_delivery_record",
            "UPDATE webhook_deliveries SET state = $3,"
            " next_attempt_at = CASE WHEN $3 = 'pending' THEN now() + make_interval(secs => $4::double precision) END,"
            " lease_expires_at = NULL, last_status_code = $5, last_error = $6, last_response = $7"
            " WHERE id = $1 AND state = 'pending' AND (attempts = $2 OR $3 = 'delivered')");
  // Delivered and failed history is kept for 30 days.
  c.prepare("webhook_message_trim",
            "DELETE FROM webhook_messages WHERE id IN ("
            " SELECT m.id FROM webhook_messages m WHERE m.created_at < now() - interval '30 days'"
            " AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.message_id = m.id AND d.state = 'pending')"
            " LIMIT 1000)");

  prepareConnectStatements(c);
}

void prepareRetentionStatements(pqxx::connection& c) {
  // The statements that build the listing indexes of the weeks that have ended (schema/0027).
  c.prepare("audit_week_index_statements", "SELECT audit_events_week_index_statements(true)");
  // The weeks of audit_events (schema/0022, 0027) that ended $1 days ago or earlier, by their end.
  c.prepare("retention_weeks",
            "SELECT partition_name, until::text FROM audit_events_weeks()"
            " WHERE until <= now() - make_interval(days => $1) ORDER BY until");
  // Their records per journal ($1: the end of the last of them; partition pruning keeps these
  // to the weeks being dropped).
  c.prepare("retention_journals",
            "SELECT journal_id, min(seq), max(seq), count(*) FROM audit_events"
            " WHERE occurred_at < $1::timestamptz AND journal_id IS NOT NULL GROUP BY journal_id ORDER BY journal_id");
  c.prepare("retention_unjournaled",
            "SELECT count(*) FROM audit_events WHERE occurred_at < $1::timestamptz AND journal_id IS NULL");
  c.prepare("retention_kept_before",
            "SELECT count(*) FROM audit_events WHERE journal_id = $1 AND seq <= $2 AND occurred_at >= $3::timestamptz");
  c.prepare("retention_last",
            "SELECT tree_size, array_to_string(frontier, ' ') FROM audit_retention WHERE journal_id = $1"
            " ORDER BY tree_size DESC LIMIT 1");
  c.prepare("retention_covering_checkpoint",
            "SELECT note, tree_size FROM audit_checkpoints WHERE journal_id = $1 AND tree_size > $2"
            " ORDER BY tree_size LIMIT 1");
  c.prepare("retention_records",
            std::string("SELECT ") + audit::kStoredRecordColumns +
                " FROM audit_events WHERE journal_id = $1 AND seq >= $2 AND seq < $3 ORDER BY seq, id LIMIT $4");
  c.prepare("retention_record",
            "INSERT INTO audit_retention (journal_id, tree_size, frontier, covering_tree_size, dropped_before, partitions)"
            " VALUES ($1, $2, $3::text[], $4, $5::timestamptz, $6::text[])");
}

}  // namespace hydra::cp::db
