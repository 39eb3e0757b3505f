-- Operations (issue 9): each service's readiness check compares the migrations compiled into
-- its binary with those applied, so both service roles read schema_migrations (names and
-- times only; migrate() creates the table before the first migration).
GRANT SELECT ON schema_migrations TO hydracore_control_plane, hydracore_broker;
