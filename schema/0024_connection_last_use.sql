-- The audit shipper's last-use updates (issue 21, "Ingest"): each broker tells PostgreSQL of a
-- connection's use at most once per 30 seconds, so a busy system rewrites every active
-- connection's row about twice a minute. bench/broker.sh (10,000 connections) measured 37 us of
-- PostgreSQL time per row so rewritten, ~3.8 us per fetch: most of it the change notification's
-- WHEN, which turns both versions of the row into jsonb, and a new entry in each of the table's
-- indexes for the new version. Now:
--  - the notification trigger fires only for an UPDATE that sets some other column: the
--    shipper's statement sets last_used_at alone, so PostgreSQL does not even evaluate the
--    WHEN. The columns are listed by name; the integration suite checks that the list is every
--    column of connections but last_used_at, so a column added later cannot be left out.
--  - pages keep a tenth free, so the new version of a row fits on its page beside the old
--    one and no index changes (a HOT update). Pages filled before this migration gain that
--    room as their rows are next rewritten.
DROP TRIGGER connections_notify_update ON connections;
CREATE TRIGGER connections_notify_update
  AFTER UPDATE OF id, customer_id, provider, name, auth_type, scopes, metadata_json, status, error_message,
    expires_at, created_at, updated_at ON connections
  FOR EACH ROW WHEN (to_jsonb(OLD) - 'last_used_at' IS DISTINCT FROM to_jsonb(NEW) - 'last_used_at')
  EXECUTE FUNCTION notify_authz_change();
ALTER TABLE connections SET (fillfactor = 90);
