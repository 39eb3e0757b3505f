-- Every decision of the broker, allowed or denied. No foreign keys: the trail outlives the
-- connections, instances and keys it names.
CREATE TABLE audit_events (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  occurred_at   timestamptz NOT NULL DEFAULT now(),
  customer_id   uuid,
  instance_id   uuid,
  proxy_key_id  uuid,
  connection_id uuid,
  provider      text,
  name          text,
  capability    text,
  outcome       text NOT NULL CHECK (outcome IN ('allowed', 'denied', 'error')),
  reason        text NOT NULL,
  request_id    text NOT NULL,
  peer          text
);
CREATE INDEX audit_events_customer_idx ON audit_events (customer_id, id DESC);

-- The trail is append-only for every role, owner included (privileges below also keep the
-- service roles to INSERT/SELECT; this covers whoever owns the table).
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
