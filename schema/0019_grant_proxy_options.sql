-- Grant options for the egress proxy (issue 19). A proxy-only grant never releases its
-- connection's credentials through the fetch: its capabilities are usable only through the
-- broker's proxy, which is what makes them binding. A rate limit (requests per period) is
-- enforced by each broker on proxied calls.
ALTER TABLE grants
  ADD COLUMN proxy_only boolean NOT NULL DEFAULT false,
  ADD COLUMN rate_limit_requests integer CHECK (rate_limit_requests BETWEEN 1 AND 1000000),
  ADD COLUMN rate_limit_per_seconds integer CHECK (rate_limit_per_seconds BETWEEN 1 AND 86400),
  ADD CONSTRAINT grants_rate_limit_whole CHECK ((rate_limit_requests IS NULL) = (rate_limit_per_seconds IS NULL));

-- Nothing else to change, and why:
--  - privileges: 0009 grants SELECT on the whole table to the broker and SELECT, INSERT, UPDATE
--    on the whole table to the control plane; table-level privileges cover columns added later;
--  - notifications: grants_notify (0012) fires on every UPDATE of a grant, whatever the column,
--    so setting proxy_only (a narrowing: a revocation of the fetch) reaches every broker's memory
--    like any other grant change, and grants_notify_truncate (0017) covers TRUNCATE.

-- connection.status_changed carries the connection's grants as GET .../connections/{id} shows
-- them (model/encode.cpp): with the new fields too. CREATE OR REPLACE keeps the function's owner
-- and privileges (0014 revoked PUBLIC's) but not its settings: the search_path is set again.
CREATE OR REPLACE FUNCTION webhook_connection_json(c connections) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'auth_type', c.auth_type, 'created_at', webhook_time(c.created_at), 'customer_id', c.customer_id,
    'error_message', c.error_message, 'expires_at', webhook_time(c.expires_at),
    'grants', COALESCE((SELECT jsonb_agg(jsonb_build_object(
                          'capabilities', g.capabilities, 'connection_id', g.connection_id,
                          'expires_at', webhook_time(g.expires_at), 'granted_at', webhook_time(g.granted_at),
                          'id', g.id, 'instance_id', g.instance_id, 'proxy_only', g.proxy_only,
                          'rate_limit', CASE WHEN g.rate_limit_requests IS NOT NULL THEN jsonb_build_object(
                                          'per_seconds', g.rate_limit_per_seconds,
                                          'requests', g.rate_limit_requests) END)
                        ORDER BY g.granted_at, g.id)
                        FROM grants g WHERE g.customer_id = c.customer_id AND g.connection_id = c.id), '[]'::jsonb),
    'id', c.id, 'last_used_at', webhook_time(c.last_used_at), 'metadata_json', c.metadata_json, 'name', c.name,
    'provider', c.provider, 'scopes', c.scopes, 'status', c.status, 'updated_at', webhook_time(c.updated_at))
$$;

DO $$
BEGIN
  EXECUTE format('ALTER FUNCTION webhook_connection_json(connections) SET search_path = %I, pg_temp', current_schema());
END $$;
