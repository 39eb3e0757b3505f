-- Brokers keep what fetches need in memory and must hear of every change to it at once
-- (issue 8): each change to a table a fetch reads sends NOTIFY hydra_authz '<table> <customer
-- id>'. PostgreSQL delivers notifications after commit, in commit order; identical payloads of
-- one transaction are sent once.
CREATE FUNCTION notify_authz_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed record := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
  customer uuid;
BEGIN
  IF TG_TABLE_NAME = 'connection_secrets' THEN
    SELECT customer_id INTO customer FROM connections WHERE id = changed.connection_id;
    -- A secret deleted with its connection: the connection's own notification covers it.
    IF customer IS NULL THEN RETURN NULL; END IF;
  ELSE
    customer := changed.customer_id;
  END IF;
  PERFORM pg_notify('hydra_authz', TG_TABLE_NAME || ' ' || customer::text);
  RETURN NULL;
END $$;

CREATE TRIGGER proxy_keys_notify AFTER INSERT OR UPDATE OR DELETE ON proxy_keys
  FOR EACH ROW EXECUTE FUNCTION notify_authz_change();
CREATE TRIGGER instances_notify AFTER INSERT OR UPDATE OR DELETE ON instances
  FOR EACH ROW EXECUTE FUNCTION notify_authz_change();
CREATE TRIGGER grants_notify AFTER INSERT OR UPDATE OR DELETE ON grants
  FOR EACH ROW EXECUTE FUNCTION notify_authz_change();
CREATE TRIGGER connection_secrets_notify AFTER INSERT OR UPDATE OR DELETE ON connection_secrets
  FOR EACH ROW EXECUTE FUNCTION notify_authz_change();
CREATE TRIGGER connections_notify_insert_delete AFTER INSERT OR DELETE ON connections
  FOR EACH ROW EXECUTE FUNCTION notify_authz_change();
-- Every column counts but the usage timestamp the audit shipper keeps up to date: a column
-- added later is covered without anyone having to remember it here.
CREATE TRIGGER connections_notify_update AFTER UPDATE ON connections
  FOR EACH ROW WHEN (to_jsonb(OLD) - 'last_used_at' IS DISTINCT FROM to_jsonb(NEW) - 'last_used_at')
  EXECUTE FUNCTION notify_authz_change();
