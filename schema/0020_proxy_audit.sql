-- The audit record of a proxied call (issue 19): the broker journals every call through its
-- egress proxy, allowed or refused, with the method, the normalised path (no query string), how
-- the provider answered, the body bytes each way and the upstream exchange's duration. A row
-- with a method is a proxied call's; a fetch's or a refresh's row has NULL in all six, and its
-- journal line none of these fields (broker/audit/record.cpp), so earlier lines still verify.
-- `audit verify --database` rebuilds a row's line from these columns too: changing one fails.
ALTER TABLE audit_events
  ADD COLUMN method          text,
  ADD COLUMN path            text,
  ADD COLUMN upstream_status integer,
  ADD COLUMN request_bytes   bigint,
  ADD COLUMN response_bytes  bigint,
  ADD COLUMN duration_us     bigint;
-- NOT VALID: every existing row has NULL in the new columns, so the checks hold for them, and
-- validating would scan the whole trail under this migration's exclusive lock (shipping waits).
-- New rows are checked all the same.
ALTER TABLE audit_events
  ADD CONSTRAINT audit_events_upstream_status CHECK (upstream_status BETWEEN 100 AND 599) NOT VALID,
  ADD CONSTRAINT audit_events_proxy_bytes CHECK (request_bytes >= 0 AND response_bytes >= 0) NOT VALID,
  ADD CONSTRAINT audit_events_duration CHECK (duration_us >= 0) NOT VALID,
  -- The journal line's shape: the other five only with a method.
  ADD CONSTRAINT audit_events_proxy_call
    CHECK (method IS NOT NULL OR (path IS NULL AND upstream_status IS NULL AND request_bytes IS NULL
                                  AND response_bytes IS NULL AND duration_us IS NULL)) NOT VALID;

-- Nothing else to change, and why:
--  - the checks hold for every line the broker writes: journalLine writes an out-of-range number
--    as null, and the method as any other string field (valid UTF-8 without NUL), so no check
--    on the method's text could refuse what a broker journaled;
--  - the new columns have no default, so adding them rewrites no row and the append-only
--    triggers (0008) do not fire; those are row triggers on the whole table, so they refuse an
--    UPDATE of the new columns too;
--  - privileges: 0009 grants INSERT on audit_events to the broker and SELECT to the control
--    plane, table-wide, which covers columns added later; the broker's column-level SELECT
--    (journal_id, seq; 0011) stays what its shipping needs.
