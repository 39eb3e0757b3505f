-- The broker records each code exchange of the connect flow (issue 20) in its journal, and so in
-- the trail: "connected" (tokens sealed into the connection) or "connect_failed" (the session
-- failed: the provider refused the code or the client, was down past the retries, or the code
-- could not be opened), beside the decisions of fetches and the refreshes.
--
-- audit_events is partitioned by week (0022): constraints on the parent recurse to every
-- partition. A validated ADD would scan the whole trail (every partition, some minutes at 100M
-- events) under the ACCESS EXCLUSIVE lock this migration's transaction holds, and shipping would
-- wait meanwhile. NOT VALID skips that scan and loses nothing: the constraint only widens, so
-- every row already there passed the narrower check it replaces; new rows, and every partition
-- made from now on, are checked (such partitions' copies are valid). An operator who wants
-- pg_constraint to say so may run `ALTER TABLE audit_events VALIDATE CONSTRAINT
-- audit_events_outcome_check` at any time: it scans under SHARE UPDATE EXCLUSIVE, which lets
-- shipping go on.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_outcome_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_outcome_check
  CHECK (outcome IN ('allowed', 'denied', 'error', 'refreshed', 'refresh_failed', 'connected', 'connect_failed'))
  NOT VALID;
