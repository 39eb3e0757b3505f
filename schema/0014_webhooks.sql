-- Webhooks (issue 10): endpoints that customers register, an outbox of messages written in the
-- same transaction as the change they describe, and one delivery per (message, endpoint) that
-- the control planes' delivery workers claim with FOR UPDATE SKIP LOCKED.

CREATE TABLE webhook_endpoints (
  id                         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  customer_id                uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  url                        text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
  description                text NOT NULL DEFAULT '' CHECK (length(description) <= 1024),
  -- The event types it receives, never empty; "all" is stored as the full list.
  events                     text[] NOT NULL CHECK (cardinality(events) >= 1),
  enabled                    boolean NOT NULL DEFAULT true,
  disabled_reason            text,
  -- The HMAC key of Standard Webhooks signatures (the bytes behind "whsec_..."). The control
  -- plane must read it to sign, so it is stored as it is: only the control plane's role may
  -- read this table, and the API shows it once (creation, rotation). After a rotation the old
  -- key still signs, beside the new one, until previous_secret_expires_at.
  secret                     bytea NOT NULL CHECK (length(secret) BETWEEN 24 AND 64),
  previous_secret            bytea CHECK (previous_secret IS NULL OR length(previous_secret) BETWEEN 24 AND 64),
  previous_secret_expires_at timestamptz,
  created_at                 timestamptz NOT NULL DEFAULT now(),
  updated_at                 timestamptz NOT NULL DEFAULT now(),
  UNIQUE (customer_id, id)
);
CREATE INDEX webhook_endpoints_customer_idx ON webhook_endpoints (customer_id, created_at, id);

-- One row per event that at least one endpoint subscribed to. payload is the exact body: it is
-- signed and sent byte for byte on every attempt, and webhook_id stays the same across retries
-- (and endpoints) so receivers can de-duplicate.
CREATE TABLE webhook_messages (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  webhook_id  text NOT NULL UNIQUE,
  customer_id uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  event_type  text NOT NULL,
  payload     text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_messages_created_idx ON webhook_messages (created_at);

-- A message on its way to one endpoint. A worker claims a due row (state pending,
-- next_attempt_at passed, no live lease), counts the attempt and sets lease_expires_at, commits,
-- sends outside any transaction, then records the result. A worker that dies leaves a lease
-- that expires, and another one delivers: at least once.
CREATE TABLE webhook_deliveries (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  message_id       bigint NOT NULL REFERENCES webhook_messages (id) ON DELETE CASCADE,
  customer_id      uuid NOT NULL,
  endpoint_id      uuid NOT NULL,
  state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
  attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at  timestamptz,
  lease_expires_at timestamptz,
  last_attempt_at  timestamptz,
  last_status_code integer,
  last_error       text,
  last_response    text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (message_id, endpoint_id),
  CHECK ((state = 'pending') = (next_attempt_at IS NOT NULL)),
  FOREIGN KEY (customer_id, endpoint_id) REFERENCES webhook_endpoints (customer_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
-- "Is a delivery to this endpoint in flight?" (one at a time per endpoint), and the listing.
CREATE INDEX webhook_deliveries_leased_idx ON webhook_deliveries (endpoint_id)
  WHERE state = 'pending' AND lease_expires_at IS NOT NULL;
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, id DESC);

-- A timestamptz as the API writes it (shared/db/timestamps.cpp): RFC 3339 in UTC with the
-- fraction PostgreSQL prints (trailing zeros dropped) and a Z.
CREATE FUNCTION webhook_time(t timestamptz) RETURNS text LANGUAGE sql STABLE STRICT AS $$
  SELECT regexp_replace(to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), '\.?0+$', '') || 'Z'
$$;

-- A connection as GET .../connections/{id} returns it (model/encode.cpp), grants included.
-- Only for connection.status_changed, which the trigger below writes; every other event's data
-- is encoded by the control plane itself.
CREATE FUNCTION webhook_connection_json(c connections) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'auth_type', c.auth_type, 'created_at', webhook_time(c.created_at), 'customer_id', c.customer_id,
    'error_message', c.error_message, 'expires_at', webhook_time(c.expires_at),
    'grants', COALESCE((SELECT jsonb_agg(jsonb_build_object(
                          'capabilities', g.capabilities, 'connection_id', g.connection_id,
                          'expires_at', webhook_time(g.expires_at), 'granted_at', webhook_time(g.granted_at),
                          'id', g.id, 'instance_id', g.instance_id)
                        ORDER BY g.granted_at, g.id)
                        FROM grants g WHERE g.customer_id = c.customer_id AND g.connection_id = c.id), '[]'::jsonb),
    'id', c.id, 'last_used_at', webhook_time(c.last_used_at), 'metadata_json', c.metadata_json, 'name', c.name,
    'provider', c.provider, 'scopes', c.scopes, 'status', c.status, 'updated_at', webhook_time(c.updated_at))
$$;

-- The one way into the outbox: a message {"type","timestamp","data"} and a delivery to each
-- enabled endpoint of the customer that subscribed to the type, in the caller's transaction.
-- Nothing is stored when no endpoint listens.
CREATE FUNCTION webhook_emit(p_customer_id uuid, p_event_type text, p_data jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_message_id bigint;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM webhook_endpoints
                 WHERE customer_id = p_customer_id AND enabled AND p_event_type = ANY (events)) THEN
    RETURN;
  END IF;
  INSERT INTO webhook_messages (webhook_id, customer_id, event_type, payload)
  VALUES ('msg_' || replace(gen_random_uuid()::text, '-', ''), p_customer_id, p_event_type,
          '{"type":' || to_json(p_event_type)::text || ',"timestamp":' || to_json(webhook_time(now()))::text ||
          ',"data":' || p_data::text || '}')
  RETURNING id INTO v_message_id;
  INSERT INTO webhook_deliveries (message_id, customer_id, endpoint_id, next_attempt_at)
  SELECT v_message_id, customer_id, id, now() FROM webhook_endpoints
  WHERE customer_id = p_customer_id AND enabled AND p_event_type = ANY (events);
END $$;

-- connection.status_changed for every change of a connection's status, whoever makes it: the
-- broker marking it error (invalid_grant) or expired, the control plane reactivating it with new
-- credentials. The control plane never writes this event itself, so it is never sent twice.
-- SECURITY DEFINER: the broker's UPDATE reaches the outbox through this function, which its
-- role may not even call directly; the broker gains no privilege on any webhook table.
CREATE FUNCTION webhook_connection_status_changed() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  PERFORM webhook_emit(NEW.customer_id, 'connection.status_changed', webhook_connection_json(NEW));
  RETURN NULL;
END $$;
CREATE TRIGGER connections_webhook_status_changed AFTER UPDATE OF status ON connections
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION webhook_connection_status_changed();

-- Functions run with the schema they were created in and pg_temp last, so no role's temporary
-- table can stand in for an outbox table inside the definer's function.
DO $$
BEGIN
  EXECUTE format('ALTER FUNCTION webhook_time(timestamptz) SET search_path = %I, pg_temp', current_schema());
  EXECUTE format('ALTER FUNCTION webhook_connection_json(connections) SET search_path = %I, pg_temp', current_schema());
  EXECUTE format('ALTER FUNCTION webhook_emit(uuid, text, jsonb) SET search_path = %I, pg_temp', current_schema());
  EXECUTE format('ALTER FUNCTION webhook_connection_status_changed() SET search_path = %I, pg_temp', current_schema());
END $$;

-- Functions are executable by PUBLIC unless revoked: none of these is.
REVOKE ALL ON FUNCTION webhook_time(timestamptz), webhook_connection_json(connections),
  webhook_emit(uuid, text, jsonb), webhook_connection_status_changed() FROM PUBLIC;

-- Control plane: manages endpoints, writes the outbox with its own changes, delivers, and
-- trims delivered history. The broker gains nothing.
GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_endpoints, webhook_deliveries TO hydracore_control_plane;
GRANT SELECT, INSERT, DELETE ON webhook_messages TO hydracore_control_plane;
GRANT EXECUTE ON FUNCTION webhook_time(timestamptz), webhook_emit(uuid, text, jsonb) TO hydracore_control_plane;
