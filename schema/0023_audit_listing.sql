-- The audit trail's listing filters (issue 21, "Listing"): a customer's events newest first by
-- id (the export: oldest first), narrowed by connection, instance, outcome and time
-- (control-plane/db/statements.cpp: one statement per combination of filters). Every index
-- costs the broker's shipping INSERT, so there is one only where bench/audit_scale.sh showed a
-- filter's page would otherwise walk far through the customer's trail, reading a row for each
-- index entry and throwing most away:
--  - connection_id, instance_id: a customer has many of each, so a page of one would take as
--    many rows as a page of the whole trail times their number. customer_id leads, so a
--    connection id a customer names is searched within its own trail only (no other customer's
--    rows are read, and the time taken says nothing about them).
--  - outcome: "allowed" is nearly every row, found through the customer index with a filter;
--    the others are rare and found through a partial index that holds only them, so the common
--    INSERT pays nothing for it.
--  - since/until: no index of their own. The trail is partitioned by occurred_at (0022), so a
--    window skips the partitions outside it; within the rest, occurred_at follows id closely
--    (brokers ship in time order) but a page must still walk past the rows on the wrong side
--    of the window's edge, up to a week of the customer's trail. So every index above, and the
--    customer index, holds occurred_at (INCLUDE): that walk reads index entries only, and the
--    page's rows are read once found (statements.cpp).
DROP INDEX audit_events_customer_idx;
CREATE INDEX audit_events_customer_idx ON audit_events (customer_id, id DESC) INCLUDE (occurred_at);
CREATE INDEX audit_events_connection_idx ON audit_events (customer_id, connection_id, id DESC) INCLUDE (occurred_at);
CREATE INDEX audit_events_instance_idx ON audit_events (customer_id, instance_id, id DESC) INCLUDE (occurred_at);
CREATE INDEX audit_events_rare_outcome_idx ON audit_events (customer_id, outcome, id DESC) INCLUDE (occurred_at)
  WHERE outcome <> 'allowed';
