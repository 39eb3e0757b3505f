-- The connect flow (issue 20): an end user authorises a provider in the browser; the control
-- plane runs the pages and the redirects, and stores the authorization code sealed to the
-- broker's key; the broker opens it, exchanges it at the provider's token endpoint and seals
-- the tokens into the connection. The control plane never holds a token, a code, a PKCE
-- verifier or a client secret in the clear, and its role cannot even read their ciphertexts.

-- A connection the connect flow made at the callback, before the broker has its tokens: no
-- fetch or proxied call releases or uses it (broker/services/decision.cpp).
ALTER TABLE connections DROP CONSTRAINT connections_status_check;
ALTER TABLE connections ADD CONSTRAINT connections_status_check
  CHECK (status IN ('pending', 'active', 'expired', 'error'));

-- What the control plane needs of a provider to send a browser there, as the brokers' provider
-- registry says (HYDRA_PROVIDERS_FILE and the built-ins): each broker writes every provider
-- that has an authorization_url at start-up. Nothing secret: a shared (operator's) client's
-- secret stays in the broker's registry; only its client_id is here.
CREATE TABLE connect_providers (
  provider           text PRIMARY KEY CHECK (length(provider) BETWEEN 1 AND 50),
  authorization_url  text NOT NULL CHECK (authorization_url ~ '^https?://'),
  pkce               boolean NOT NULL,
  shared_client_id   text,                 -- NULL: customers must bring their own OAuth client
  default_scopes     jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(default_scopes) = 'array'),
  -- scope -> what it allows, in words, for the connect page
  scope_descriptions jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(scope_descriptions) = 'object'),
  updated_at         timestamptz NOT NULL DEFAULT now()
);

-- A customer's own OAuth app for a provider. The secret is sealed to the broker's public key
-- at once (AAD: crypto::oauthClientAad(customer_id, id)); the API never returns it.
CREATE TABLE oauth_clients (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  customer_id          uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  provider             text NOT NULL CHECK (length(provider) BETWEEN 1 AND 50),
  client_id            text NOT NULL CHECK (length(client_id) BETWEEN 1 AND 1024),
  secret_key_id        text NOT NULL,
  secret_ciphertext    bytea NOT NULL,
  scopes               jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(scopes) = 'array'),
  authorization_params jsonb CHECK (authorization_params IS NULL OR jsonb_typeof(authorization_params) = 'object'),
  created_at           timestamptz NOT NULL DEFAULT now(),
  UNIQUE (customer_id, id)
);
CREATE INDEX oauth_clients_customer_idx ON oauth_clients (customer_id, created_at, id);

-- Where a connect session may send the browser afterwards: exact URLs, per customer.
CREATE TABLE connect_settings (
  customer_id           uuid PRIMARY KEY REFERENCES customers (id) ON DELETE CASCADE,
  allowed_redirect_urls jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(allowed_redirect_urls) = 'array'),
  updated_at            timestamptz NOT NULL DEFAULT now()
);

-- One connect link. Its token (the link's credential) and the OAuth state are stored as
-- SHA-256 hashes only; the browser's cookie too. status: pending (link made) -> authorizing
-- (Continue pressed, browser sent to the provider) -> exchanging (the callback stored the code,
-- sealed) -> connected | failed. "expired" is not stored: a pending or authorizing session past
-- expires_at is expired.
CREATE TABLE connect_sessions (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  customer_id        uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  token_hash         bytea NOT NULL UNIQUE,
  provider           text NOT NULL CHECK (length(provider) BETWEEN 1 AND 50),
  connection_name    text CHECK (length(connection_name) BETWEEN 1 AND 255),  -- a new connection's
  -- The connection to re-authorise, or the one the callback made; set once connected at the latest.
  connection_id      uuid,
  oauth_client_id    uuid,                -- NULL: the provider's shared client
  scopes             jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(scopes) = 'array'),
  metadata_json      jsonb CHECK (metadata_json IS NULL OR jsonb_typeof(metadata_json) = 'object'),
  -- The grants to create with the connection: [{"instance_id", "capabilities", "proxy_only",
  -- "rate_limit", "expires_at"}], as POST .../grants takes them.
  grants             jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(grants) = 'array'),
  success_url        text,
  error_url          text,
  status             text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'authorizing', 'exchanging', 'connected', 'failed')),
  error              text CHECK (length(error) <= 1024),
  state_hash         bytea UNIQUE,        -- set at Continue
  browser_hash       bytea,               -- the cookie set at Continue
  -- {"code", "code_verifier", "redirect_uri"} sealed to the broker (AAD:
  -- crypto::connectSessionAad(customer_id, id)); set at the callback, erased by the broker once
  -- it has exchanged it (or failed to).
  code_key_id        text,
  code_ciphertext    bytea,
  expires_at         timestamptz NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  CHECK ((connection_name IS NULL) <> (connection_id IS NULL) OR status IN ('exchanging', 'connected', 'failed')),
  CHECK ((code_key_id IS NULL) = (code_ciphertext IS NULL)),
  FOREIGN KEY (customer_id, oauth_client_id) REFERENCES oauth_clients (customer_id, id) ON DELETE SET NULL (oauth_client_id),
  FOREIGN KEY (customer_id, connection_id) REFERENCES connections (customer_id, id) ON DELETE SET NULL (connection_id)
);
CREATE INDEX connect_sessions_customer_idx ON connect_sessions (customer_id, created_at, id);
CREATE INDEX connect_sessions_exchanging_idx ON connect_sessions (updated_at) WHERE status = 'exchanging';

-- Brokers hear at once of a session to exchange (they also look every few seconds).
CREATE FUNCTION notify_connect_exchange() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('hydra_connect', NEW.id::text);
  RETURN NULL;
END $$;
CREATE TRIGGER connect_sessions_notify_exchange AFTER INSERT OR UPDATE OF status ON connect_sessions
  FOR EACH ROW WHEN (NEW.status = 'exchanging') EXECUTE FUNCTION notify_connect_exchange();

-- connect_session.connected / connect_session.failed, whoever ends the session (the broker, or
-- the control plane for a denial at the provider or a bad state), through the outbox like
-- connection.status_changed (0014): the broker gains no privilege on any webhook table. The data
-- is the session as GET .../connect-sessions/{id} shows it (model/connect_encode.cpp).
CREATE FUNCTION webhook_connect_session_ended() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  PERFORM webhook_emit(NEW.customer_id, 'connect_session.' || NEW.status, jsonb_build_object(
    'connection_id', NEW.connection_id, 'created_at', webhook_time(NEW.created_at), 'error', NEW.error,
    'expires_at', webhook_time(NEW.expires_at), 'id', NEW.id, 'provider', NEW.provider, 'status', NEW.status,
    'updated_at', webhook_time(NEW.updated_at)));
  RETURN NULL;
END $$;
CREATE TRIGGER connect_sessions_webhook_ended AFTER UPDATE OF status ON connect_sessions
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status AND NEW.status IN ('connected', 'failed'))
  EXECUTE FUNCTION webhook_connect_session_ended();
DO $$
BEGIN
  EXECUTE format('ALTER FUNCTION webhook_connect_session_ended() SET search_path = %I, pg_temp', current_schema());
END $$;
REVOKE ALL ON FUNCTION notify_connect_exchange(), webhook_connect_session_ended() FROM PUBLIC;

-- The control plane: everything but the ciphertexts, which it writes and never reads.
GRANT SELECT ON connect_providers TO hydracore_control_plane;
GRANT SELECT (id, customer_id, provider, client_id, secret_key_id, scopes, authorization_params, created_at),
  INSERT, DELETE ON oauth_clients TO hydracore_control_plane;
GRANT SELECT, INSERT, UPDATE ON connect_settings TO hydracore_control_plane;
GRANT SELECT (id, customer_id, token_hash, provider, connection_name, connection_id, oauth_client_id, scopes,
              metadata_json, grants, success_url, error_url, status, error, state_hash, browser_hash, code_key_id,
              expires_at, created_at, updated_at),
  INSERT,
  UPDATE (connection_id, status, error, state_hash, browser_hash, code_key_id, code_ciphertext, updated_at)
  ON connect_sessions TO hydracore_control_plane;

-- The broker, and why:
--  - connect_providers: writes what its registry says (the control plane reads it).
--  - oauth_clients: reads a customer's client, secret included, to exchange a code; replaces
--    the sealed secret only (`hydracore-broker rewrap`, key rotation), as it does a connection's.
--  - connect_sessions: reads a session to exchange, the sealed code included; ends it
--    (status, error, the connection it made active) and erases the sealed code.
--  - connection_secrets: INSERT, for a connection the flow made (it has no secret row yet);
--    UPDATE it has had since 0009, for a re-authorised one.
GRANT SELECT, INSERT, UPDATE ON connect_providers TO hydracore_broker;
GRANT SELECT (id, customer_id, provider, client_id, secret_key_id, secret_ciphertext, scopes),
  UPDATE (secret_key_id, secret_ciphertext) ON oauth_clients TO hydracore_broker;
GRANT SELECT (id, customer_id, provider, connection_id, oauth_client_id, scopes, status, code_key_id,
              code_ciphertext, expires_at, updated_at),
  UPDATE (status, error, code_key_id, code_ciphertext, updated_at)
  ON connect_sessions TO hydracore_broker;
GRANT INSERT ON connection_secrets TO hydracore_broker;
