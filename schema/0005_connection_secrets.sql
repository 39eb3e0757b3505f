-- Encrypted credentials, one row per connection, in a table of their own so that database
-- privileges can separate who may read ciphertext from who may read connection metadata.
-- ciphertext is HPKE (RFC 9180) to the broker key named by key_id, with associated data
-- bound to (customer_id, connection_id).
CREATE TABLE connection_secrets (
  connection_id uuid PRIMARY KEY REFERENCES connections (id) ON DELETE CASCADE,
  key_id        text NOT NULL,
  ciphertext    bytea NOT NULL,
  updated_at    timestamptz NOT NULL DEFAULT now()
);
-- Rotation (rewrap) finds ciphertexts that are not under the current key.
CREATE INDEX connection_secrets_key_idx ON connection_secrets (key_id);
