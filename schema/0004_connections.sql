-- Third-party accounts. Credentials are not here: see connection_secrets.
CREATE TABLE connections (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  customer_id   uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  provider      text NOT NULL CHECK (length(provider) BETWEEN 1 AND 50),
  name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
  auth_type     text NOT NULL CHECK (auth_type IN ('oauth2', 'api_key', 'basic')),
  scopes        jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(scopes) = 'array'),
  metadata_json jsonb CHECK (metadata_json IS NULL OR jsonb_typeof(metadata_json) = 'object'),
  status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'expired', 'error')),
  error_message text,
  expires_at    timestamptz,
  last_used_at  timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (customer_id, provider, name),
  UNIQUE (customer_id, id)
);
-- Listing filters by customer and optionally provider/status; (customer_id, provider, name)
-- above serves the provider filter and the broker's lookup.
CREATE INDEX connections_customer_created_idx ON connections (customer_id, created_at, id);
