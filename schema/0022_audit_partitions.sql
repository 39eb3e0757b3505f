-- The audit copy at scale (issue 21, retention): audit_events grows by every decision of every
-- broker and had no way to shrink, append-only as it is. It becomes a table partitioned by week
-- of occurred_at, so the schema owner can drop whole weeks (`hydracore-control-plane
-- audit-retention`), after a signed checkpoint covers them and a retention record says where
-- verification now starts (audit_retention below). No row is rewritten: the table as it is
-- becomes the partition of everything up to the week after this migration, and later weeks get
-- their own partitions, made ahead by the brokers' shippers (audit_events_create_partition).

-- 1. The table as it is, made fit to be a partition: names the partitioned table takes over,
-- a primary key and journal key that hold per partition only with the partition key in them,
-- the row trigger the partitioned table gives each partition, and the checks validated (a
-- partition must hold the parent's checks as valid ones; validating is one read of the rows,
-- as attaching is anyway).
ALTER TABLE audit_events RENAME TO audit_events_before_partitioning;
ALTER TABLE audit_events_before_partitioning DROP CONSTRAINT audit_events_pkey;
ALTER TABLE audit_events_before_partitioning DROP CONSTRAINT audit_events_journal_seq;
ALTER INDEX audit_events_customer_idx RENAME TO audit_events_before_partitioning_customer_idx;
DROP TRIGGER audit_events_no_update_delete ON audit_events_before_partitioning;
REVOKE ALL ON audit_events_before_partitioning FROM hydracore_control_plane, hydracore_broker;
ALTER TABLE audit_events_before_partitioning VALIDATE CONSTRAINT audit_events_duration;
ALTER TABLE audit_events_before_partitioning VALIDATE CONSTRAINT audit_events_proxy_bytes;
ALTER TABLE audit_events_before_partitioning VALIDATE CONSTRAINT audit_events_proxy_call;
ALTER TABLE audit_events_before_partitioning VALIDATE CONSTRAINT audit_events_upstream_status;
-- PostgreSQL 15 has no identity column on a partitioned table: ids come from a sequence that
-- goes on where the identity stopped.
CREATE SEQUENCE audit_events_id_seq_partitioned AS bigint;
SELECT setval('audit_events_id_seq_partitioned',
              coalesce((SELECT max(id) FROM audit_events_before_partitioning), 0) + 1, false);
ALTER TABLE audit_events_before_partitioning ALTER COLUMN id DROP IDENTITY;
ALTER SEQUENCE audit_events_id_seq_partitioned RENAME TO audit_events_id_seq;

-- 2. The partitioned table: the same columns and checks. Shipping a record twice still stores
-- it once: the journal key holds occurred_at too, which is the record's own time (from its
-- journal line), the same however often it is shipped.
CREATE TABLE audit_events (
  id              bigint NOT NULL DEFAULT nextval('audit_events_id_seq'),
  occurred_at     timestamptz NOT NULL DEFAULT now(),
  customer_id     uuid,
  instance_id     uuid,
  proxy_key_id    uuid,
  connection_id   uuid,
  provider        text,
  name            text,
  capability      text,
  outcome         text NOT NULL,
  reason          text NOT NULL,
  request_id      text NOT NULL,
  peer            text,
  journal_id      text,
  seq             bigint,
  line            text,
  shipped_at      timestamptz DEFAULT now(),
  method          text,
  path            text,
  upstream_status integer,
  request_bytes   bigint,
  response_bytes  bigint,
  duration_us     bigint,
  CONSTRAINT audit_events_outcome_check
    CHECK (outcome IN ('allowed', 'denied', 'error', 'refreshed', 'refresh_failed')),
  CONSTRAINT audit_events_seq_check CHECK (seq >= 0),
  CONSTRAINT audit_events_journal_record
    CHECK ((journal_id IS NULL) = (seq IS NULL) AND (journal_id IS NOT NULL OR line IS NULL)),
  CONSTRAINT audit_events_upstream_status CHECK (upstream_status BETWEEN 100 AND 599),
  CONSTRAINT audit_events_proxy_bytes CHECK (request_bytes >= 0 AND response_bytes >= 0),
  CONSTRAINT audit_events_duration CHECK (duration_us >= 0),
  CONSTRAINT audit_events_proxy_call
    CHECK (method IS NOT NULL OR (path IS NULL AND upstream_status IS NULL AND request_bytes IS NULL
                                  AND response_bytes IS NULL AND duration_us IS NULL)),
  PRIMARY KEY (id, occurred_at),
  CONSTRAINT audit_events_journal_seq UNIQUE (journal_id, seq, occurred_at)
) PARTITION BY RANGE (occurred_at);
ALTER SEQUENCE audit_events_id_seq OWNED BY audit_events.id;
CREATE INDEX audit_events_customer_idx ON audit_events (customer_id, id DESC);

-- Append-only as before, on every partition: the row trigger is the partitioned table's and
-- each partition gets it; TRUNCATE fires a statement trigger of the table named only, so each
-- partition has its own (audit_events_create_partition adds it).
CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- 3. A week's partition, made by the schema owner for whoever may call this (the broker's
-- shipper, before it ships a record of a week it has not seen): weeks start on Monday 00:00
-- UTC and are named audit_events_<yyyymmdd> after that Monday. Making one that exists, or a
-- week the partition of everything before partitioning covers, changes nothing.
CREATE FUNCTION audit_events_create_partition(at timestamptz) RETURNS void
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
  EXCEPTION
    -- Made meanwhile by another broker, or inside the partition of everything before.
    WHEN duplicate_table OR unique_violation OR invalid_object_definition THEN NULL;
  END;
END $$;
REVOKE ALL ON FUNCTION audit_events_create_partition(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_events_create_partition(timestamptz) TO hydracore_broker;

-- 4. The table as it was becomes the partition of everything up to the week after this
-- migration (PostgreSQL checks every row against that bound); an empty one (a new install) is
-- dropped instead. The weeks after get their own partitions.
DO $$
DECLARE
  bound timestamptz := date_trunc('week', greatest(now(), (SELECT max(occurred_at) FROM audit_events_before_partitioning))
                                  AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + interval '1 week';
BEGIN
  IF EXISTS (SELECT FROM audit_events_before_partitioning) THEN
    EXECUTE format('ALTER TABLE audit_events ATTACH PARTITION audit_events_before_partitioning'
                   ' FOR VALUES FROM (MINVALUE) TO (%L)', bound);
  ELSE
    DROP TABLE audit_events_before_partitioning;
    PERFORM audit_events_create_partition(bound - interval '1 week');
  END IF;
  PERFORM audit_events_create_partition(bound);
  PERFORM audit_events_create_partition(bound + interval '1 week');
END $$;

-- Privileges as before, on the partitioned table (a partition is reached through it: no role
-- but the owner has any privilege on a partition itself, so none can drop or detach one).
GRANT SELECT ON audit_events TO hydracore_control_plane;
-- The broker reads occurred_at too, which it wrote: an ON CONFLICT target's columns need it.
GRANT SELECT (journal_id, seq, occurred_at), INSERT ON audit_events TO hydracore_broker;
GRANT USAGE ON SEQUENCE audit_events_id_seq TO hydracore_broker;

-- 5. What retention dropped: per journal, the records before `tree_size` are gone, and
-- `frontier` holds the roots of the tree's perfect subtrees over them (largest first, base64),
-- from which `hydracore-audit verify --database` goes on hashing the records that remain. It
-- trusts the frontier only because the result must match the signed checkpoint of
-- `covering_tree_size` (at least tree_size): a frontier made up matches no signed root.
CREATE TABLE audit_retention (
  journal_id         text NOT NULL,
  tree_size          bigint NOT NULL CHECK (tree_size > 0),
  frontier           text[] NOT NULL,
  covering_tree_size bigint NOT NULL,
  dropped_before     timestamptz NOT NULL,
  partitions         text[] NOT NULL,
  retained_at        timestamptz NOT NULL DEFAULT now(),
  retained_by        text NOT NULL DEFAULT current_user,
  PRIMARY KEY (journal_id, tree_size),
  CHECK (covering_tree_size >= tree_size)
);
CREATE TRIGGER audit_retention_no_update_delete BEFORE UPDATE OR DELETE ON audit_retention
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_retention_no_truncate BEFORE TRUNCATE ON audit_retention
  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
-- The broker starts shipping a journal at the first record PostgreSQL holds or dropped.
GRANT SELECT (journal_id, tree_size) ON audit_retention TO hydracore_broker;
GRANT SELECT ON audit_retention TO hydracore_control_plane;
