-- The audit trail's listing filters (issue 21, "Listing"): a customer's events newest first by
-- id, narrowed by connection, instance, outcome and time (control-plane/db/statements.cpp,
-- one statement per combination of filters). Each index below exists for a filter whose
-- matches would otherwise be found only by walking the customer's whole trail backwards through
-- audit_events_customer_idx (customer_id, id DESC) and throwing most rows away: every index costs
-- the broker's shipping INSERT, so only those that bench/audit_scale.sh showed to be needed.
--  - connection_id, instance_id: a customer has many of each, so a page of one needs as many
--    index entries and heap rows as a page of the whole trail times their number. customer_id
--    leads so that a connection id a customer names is searched only within its own trail (no
--    other customer's rows are read, and the time taken says nothing about them).
--  - outcome: "allowed" is nearly every row, served by audit_events_customer_idx with a filter;
--    the others are rare and found through a partial index that holds only them, so the common
--    INSERT pays nothing for it. The statements repeat outcome <> 'allowed' so the planner can
--    use it with the outcome still a parameter.
--  - since/until: no index. The trail is partitioned by occurred_at (0022), so a window skips the
--    partitions outside it, and within the rest occurred_at follows id closely (brokers ship in
--    time order, seconds behind): walking by id reaches the window's edge within a few rows.
CREATE INDEX audit_events_connection_idx ON audit_events (customer_id, connection_id, id DESC);
CREATE INDEX audit_events_instance_idx ON audit_events (customer_id, instance_id, id DESC);
CREATE INDEX audit_events_rare_outcome_idx ON audit_events (customer_id, outcome, id DESC)
  WHERE outcome <> 'allowed';
