-- Shipping audit records at scale (issue 21, ingest): PostgreSQL stored each record twice, as
-- its journal line and as the columns it parsed out of that line with jsonb. The broker now
-- parses the line itself and ships the columns only; `audit verify --database` rebuilds the
-- exact line from them (the journal's line format is fixed and canonical, see
-- broker/audit/record.cpp), so a changed column still changes the hashed bytes and fails
-- verification. `line` is kept only for a record whose line the columns cannot rebuild (one an
-- earlier broker wrote from bytes that were not valid UTF-8), and for rows shipped before this.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_journal_record;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_journal_record
  CHECK ((journal_id IS NULL) = (seq IS NULL) AND (journal_id IS NOT NULL OR line IS NULL)) NOT VALID;
-- The former constraint implies this one: the check cannot fail, and validating it does not
-- block inserts while it reads the table.
ALTER TABLE audit_events VALIDATE CONSTRAINT audit_events_journal_record;
