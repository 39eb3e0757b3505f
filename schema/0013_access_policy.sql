-- Access policy for agents (issue 11): grants that expire, proxy keys bound to source networks,
-- and a kill switch per instance. The broker reads all three on every decision (from memory
-- kept current by the notification triggers of 0012, which already cover these tables).
ALTER TABLE grants ADD COLUMN expires_at timestamptz;
ALTER TABLE proxy_keys ADD COLUMN allowed_cidrs cidr[] CHECK (cardinality(allowed_cidrs) <= 32);
ALTER TABLE instances ADD COLUMN disabled boolean NOT NULL DEFAULT false;

GRANT SELECT (allowed_cidrs) ON proxy_keys TO hydracore_broker;
GRANT SELECT (id, customer_id, disabled) ON instances TO hydracore_broker;
