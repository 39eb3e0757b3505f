-- One LOGIN role per binary, least privilege. Passwords are the operator's to set
-- (ALTER ROLE ... PASSWORD). Roles are cluster-wide while the migration lock is per database,
-- so creation tolerates a concurrent migration of another database creating them first.
DO $$
DECLARE
  role_name text;
BEGIN
  FOREACH role_name IN ARRAY ARRAY['hydracore_control_plane', 'hydracore_broker'] LOOP
    BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = role_name) THEN
        EXECUTE format('CREATE ROLE %I LOGIN', role_name);
      END IF;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL;  -- created meanwhile by another migration
    END;
  END LOOP;
END $$;

-- Control plane: manages everything but can never read a ciphertext.
GRANT SELECT, INSERT, UPDATE, DELETE ON customers, api_keys, instances, connections, grants, proxy_keys
  TO hydracore_control_plane;
GRANT INSERT, DELETE ON connection_secrets TO hydracore_control_plane;
GRANT SELECT (connection_id, key_id, updated_at), UPDATE (key_id, ciphertext, updated_at)
  ON connection_secrets TO hydracore_control_plane;
GRANT SELECT ON audit_events TO hydracore_control_plane;

-- Broker: reads what a fetch needs, writes only usage/status, refreshed ciphertext and audit.
GRANT SELECT ON grants, connection_secrets TO hydracore_broker;
GRANT SELECT (id, customer_id, provider, name, auth_type, status, error_message, expires_at, last_used_at)
  ON connections TO hydracore_broker;
GRANT SELECT (id, customer_id, instance_id, key_hash, expires_at, revoked_at) ON proxy_keys TO hydracore_broker;
GRANT UPDATE (last_used_at, status, error_message, expires_at, updated_at) ON connections TO hydracore_broker;
GRANT UPDATE (key_id, ciphertext, updated_at) ON connection_secrets TO hydracore_broker;
GRANT INSERT ON audit_events TO hydracore_broker;
