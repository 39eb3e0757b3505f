-- The audit trail's connection and instance indexes (0023) only on weeks that have ended
-- (issue 21, ingest). Every record shipped went into both at a random place (customer_id
-- leads), and with COPY they were half of PostgreSQL's CPU per shipped record
-- (hydra-bench-audit-ingest, 1M records: 12.0 us with them, 6.1 us without). The week being
-- written keeps the journal key, the primary key, the customer index and the rare outcomes'
-- partial index; the weeks before it get theirs from `hydracore-control-plane audit-index`
-- once they have ended: one sorted pass over the week, CONCURRENTLY (shipping and listing go
-- on), run daily by the operator with audit-retention (compose.yaml's audit-maintenance job).
--
-- A listing filtered by connection or instance finds the page's ids from an index alone
-- (control-plane/db/statements.cpp): in a week that has ended its connection or instance index,
-- in the week being written the customer index, which now holds both as well. Walking the
-- customer's entries there reads index pages, not a row for each (with a filter that matches one
-- row in ten, ten entries per row of the page): bench/audit_scale.sh at 100M events with a whole
-- week unindexed measured the connection filter's p99 at 33 ms reading a row for each, from disk.
-- Where autovacuum has not marked the newest rows' pages all-visible yet, their rows are read
-- (just written: the ones most likely in memory). A week not indexed yet is listed correctly, only
-- more slowly.
DROP INDEX audit_events_connection_idx;
DROP INDEX audit_events_instance_idx;
DROP INDEX audit_events_customer_idx;
CREATE INDEX audit_events_customer_idx ON audit_events (customer_id, id DESC)
  INCLUDE (occurred_at, connection_id, instance_id);

-- The weeks of audit_events and when each ends: a partition's upper bound, read from its
-- definition ("FOR VALUES FROM (...) TO ('...')"). audit-retention drops by it too.
CREATE FUNCTION audit_events_weeks() RETURNS TABLE (partition_name name, until timestamptz)
LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
  SELECT p.relname, (regexp_match(pg_get_expr(p.relpartbound, p.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz
  FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhrelid
  WHERE i.inhparent = 'audit_events'::regclass
$$;
REVOKE ALL ON FUNCTION audit_events_weeks() FROM PUBLIC;

-- The statements that index the weeks that have ended and lack their indexes, for the owner
-- to run (CREATE INDEX CONCURRENTLY runs neither in a function nor in a transaction). A build
-- CONCURRENTLY that failed leaves an invalid index behind: it is dropped and built again.
-- Newest week first: the one most listed.
CREATE FUNCTION audit_events_week_index_statements(online boolean) RETURNS SETOF text
LANGUAGE plpgsql STABLE SET search_path FROM CURRENT AS $$
DECLARE
  how text := CASE WHEN online THEN 'CONCURRENTLY ' ELSE '' END;
  week record;
  kind text;
  index_name text;
  valid boolean;
BEGIN
  FOR week IN SELECT w.partition_name FROM audit_events_weeks() w WHERE w.until <= now() ORDER BY w.until DESC LOOP
    FOREACH kind IN ARRAY ARRAY['connection', 'instance'] LOOP
      index_name := week.partition_name || '_' || kind || '_idx';
      valid := (SELECT x.indisvalid FROM pg_index x WHERE x.indexrelid = to_regclass(index_name));
      CONTINUE WHEN valid;
      IF valid IS NOT NULL THEN
        RETURN NEXT format('DROP INDEX %s%I', how, index_name);
      END IF;
      RETURN NEXT format('CREATE INDEX %s%I ON %I (customer_id, %I, id DESC) INCLUDE (occurred_at)',
                         how, index_name, week.partition_name, kind || '_id');
    END LOOP;
  END LOOP;
END $$;
REVOKE ALL ON FUNCTION audit_events_week_index_statements(boolean) FROM PUBLIC;

-- The weeks that have ended already get theirs now (with the customer index above, about 4-5
-- minutes per 100M records on the development machine).
DO $$
DECLARE
  statement text;
BEGIN
  FOR statement IN SELECT audit_events_week_index_statements(false) LOOP
    EXECUTE statement;
  END LOOP;
END $$;
