-- A connection granted to an instance with capabilities. The composite foreign keys make a
-- cross-customer grant impossible even for a buggy caller.
CREATE TABLE grants (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  customer_id   uuid NOT NULL,
  connection_id uuid NOT NULL,
  instance_id   uuid NOT NULL,
  capabilities  jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(capabilities) = 'array'),
  granted_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (connection_id, instance_id),
  FOREIGN KEY (customer_id, connection_id) REFERENCES connections (customer_id, id) ON DELETE CASCADE,
  FOREIGN KEY (customer_id, instance_id) REFERENCES instances (customer_id, id) ON DELETE CASCADE
);
-- The broker looks grants up by instance; connection deletes cascade via the UNIQUE index.
CREATE INDEX grants_instance_idx ON grants (instance_id);
