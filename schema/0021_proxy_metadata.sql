-- The proxy (issue 19) reads a connection's metadata where the registry makes the upstream
-- depend on it (Deputy's install host, Xero's tenant header); what the registry allows of a
-- value is checked by the broker before any call (broker/providers/upstream.hpp).
GRANT SELECT (metadata_json) ON connections TO hydracore_broker;
