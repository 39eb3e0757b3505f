-- The broker records each code exchange of the connect flow (issue 20) in its journal, and so in
-- the trail: "connected" (tokens sealed into the connection) or "connect_failed" (the session
-- failed: the provider refused the code or the client, was down past the retries, or the code
-- could not be opened), beside the decisions of fetches and the refreshes.
--
-- audit_events is partitioned by week (0022): constraints on the parent recurse to every
-- partition. Adding the CHECK validates it on every partition, a full scan of the trail under
-- an ACCESS EXCLUSIVE lock (PostgreSQL 15 allows no NOT VALID CHECK on a partitioned table's
-- partitions through the parent); the check is cheap per row, so this costs about one
-- sequential read of the table: seconds per million rows, some minutes at 100M. Shipping waits
-- meanwhile (brokers keep journaling), as for 0023's index builds.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_outcome_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_outcome_check
  CHECK (outcome IN ('allowed', 'denied', 'error', 'refreshed', 'refresh_failed', 'connected', 'connect_failed'));
