-- Per-instance keys that runtimes present to the broker. Only SHA-256 of the key is stored.
-- Several live keys per instance let a runtime rotate without downtime.
CREATE TABLE proxy_keys (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  customer_id uuid NOT NULL,
  instance_id uuid NOT NULL,
  key_hash    bytea NOT NULL UNIQUE CHECK (length(key_hash) = 32),
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz,
  revoked_at  timestamptz,
  -- Deleting an instance deletes its keys: a deleted instance's key is dead at once.
  FOREIGN KEY (customer_id, instance_id) REFERENCES instances (customer_id, id) ON DELETE CASCADE
);
CREATE INDEX proxy_keys_instance_idx ON proxy_keys (instance_id, created_at);
