-- TRUNCATE fires no row trigger, so 0012's notifications never told brokers that a table a fetch
-- reads was emptied (issue 18): their memory kept "allowed" entries until eviction. A statement
-- trigger on each of those tables sends NOTIFY hydra_authz '<table> *', which every broker reads
-- as a change of every customer. (TRUNCATE ... CASCADE fires it on each table it empties.)
-- Changes made with triggers off (session_replication_role = replica, ALTER TABLE ... DISABLE
-- TRIGGER, a restore) still send nothing: the broker's HYDRA_AUTHZ_MAX_AGE_SECONDS bounds those.
CREATE FUNCTION notify_authz_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('hydra_authz', TG_TABLE_NAME || ' *');
  RETURN NULL;
END $$;

CREATE TRIGGER proxy_keys_notify_truncate AFTER TRUNCATE ON proxy_keys
  FOR EACH STATEMENT EXECUTE FUNCTION notify_authz_truncate();
CREATE TRIGGER instances_notify_truncate AFTER TRUNCATE ON instances
  FOR EACH STATEMENT EXECUTE FUNCTION notify_authz_truncate();
CREATE TRIGGER grants_notify_truncate AFTER TRUNCATE ON grants
  FOR EACH STATEMENT EXECUTE FUNCTION notify_authz_truncate();
CREATE TRIGGER connection_secrets_notify_truncate AFTER TRUNCATE ON connection_secrets
  FOR EACH STATEMENT EXECUTE FUNCTION notify_authz_truncate();
CREATE TRIGGER connections_notify_truncate AFTER TRUNCATE ON connections
  FOR EACH STATEMENT EXECUTE FUNCTION notify_authz_truncate();
