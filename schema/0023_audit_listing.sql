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
--    INSERT pays nothing for it. It holds the connection and the instance too: a rare outcome
--    of one connection (what a customer asks when one misbehaves) is then found from the index
--    alone, not by reading every denied row of the customer's to see whose it is.
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
CREATE INDEX audit_events_rare_outcome_idx ON audit_events (customer_id, outcome, id DESC)
  INCLUDE (occurred_at, connection_id, instance_id) WHERE outcome <> 'allowed';

-- The planner's estimates for these filters: a connection and an instance belong to one
-- customer, but PostgreSQL takes "customer_id = $1 AND connection_id = $2" to match as few
-- rows as the two independently would (1 in 1,000 customers times 1 in 10,000 connections) and,
-- expecting a row or two per partition, reads every match of every week to sort them instead of
-- merging the partitions' indexes in id order and stopping at the page's end (at 100M rows:
-- 10,000 rows read for a page of 50). Statistics of their dependencies fix the estimates. A
-- partition's own statistics are what its scans are planned with, and a partition made later
-- does not inherit the partitioned table's: each week's partition gets them where it is made.
CREATE OR REPLACE FUNCTION audit_events_tenant_statistics(partition_name text) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  EXECUTE format('CREATE STATISTICS IF NOT EXISTS %I (dependencies) ON customer_id, connection_id, instance_id FROM %I',
                 partition_name || '_tenant_stats', partition_name);
END $$;
REVOKE ALL ON FUNCTION audit_events_tenant_statistics(text) FROM PUBLIC;

-- As in 0022, and the statistics above for each partition it makes.
CREATE OR REPLACE FUNCTION audit_events_create_partition(at timestamptz) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  week_start timestamptz := date_trunc('week', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
  partition_name text := 'audit_events_' || to_char(week_start AT TIME ZONE 'UTC', 'YYYYMMDD');
BEGIN
  IF to_regclass(partition_name) IS NOT NULL THEN
    RETURN;
  END IF;
  BEGIN
    EXECUTE format('CREATE TABLE %I PARTITION OF audit_events FOR VALUES FROM (%L) TO (%L)',
                   partition_name, week_start, week_start + interval '1 week');
    EXECUTE format('CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON %I'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()', partition_name);
    PERFORM audit_events_tenant_statistics(partition_name);
  EXCEPTION
    -- Made meanwhile by another broker, or inside the partition of everything before.
    WHEN duplicate_table OR unique_violation OR invalid_object_definition THEN NULL;
  END;
END $$;

-- The partitions there are (ANALYZE, or autovacuum's, fills the statistics in).
SELECT audit_events_tenant_statistics(c.relname)
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'audit_events'::regclass;
