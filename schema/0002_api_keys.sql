-- Customer admin API keys. Only SHA-256 of the key is stored; the key itself is shown once.
CREATE TABLE api_keys (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  customer_id uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  name        text NOT NULL DEFAULT '' CHECK (length(name) <= 255),
  key_hash    bytea NOT NULL UNIQUE CHECK (length(key_hash) = 32),
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);
-- Authentication looks keys up by key_hash (the UNIQUE index); listing by customer.
CREATE INDEX api_keys_customer_idx ON api_keys (customer_id, created_at);
