-- The broker's audit journal (issue 7): the point of durability is now a local append-only log
-- that only the broker writes and anyone holding its verifier key can check (an RFC 6962 tree
-- with signed checkpoints). PostgreSQL keeps the queryable copy the broker ships: each record
-- with its journal id, sequence number and the exact line that was hashed, so `hydracore-broker
-- audit verify --database` can tell a changed, deleted, inserted or reordered row.
ALTER TABLE audit_events
  ADD COLUMN journal_id text,
  ADD COLUMN seq        bigint CHECK (seq >= 0),
  ADD COLUMN line       text,
  ADD COLUMN shipped_at timestamptz,
  ADD CONSTRAINT audit_events_journal_record
    CHECK ((journal_id IS NULL) = (seq IS NULL) AND (journal_id IS NULL) = (line IS NULL)),
  ADD CONSTRAINT audit_events_journal_seq UNIQUE (journal_id, seq);
-- Records shipped from now on say when they reached PostgreSQL (the shipping lag); earlier
-- rows keep NULL.
ALTER TABLE audit_events ALTER COLUMN shipped_at SET DEFAULT now();

-- Signed checkpoints (C2SP signed notes), shipped after the records they cover.
CREATE TABLE audit_checkpoints (
  journal_id text NOT NULL,
  tree_size  bigint NOT NULL CHECK (tree_size > 0),
  note       text NOT NULL,
  shipped_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (journal_id, tree_size)
);

CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_checkpoints_no_update_delete BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

-- The broker inserts (never updates or deletes) records and checkpoints, and reads only where
-- its shipping stands.
GRANT SELECT (journal_id, seq), INSERT ON audit_events TO hydracore_broker;
GRANT SELECT (journal_id, tree_size), INSERT ON audit_checkpoints TO hydracore_broker;
GRANT SELECT ON audit_checkpoints TO hydracore_control_plane;
