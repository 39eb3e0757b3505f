-- bench/audit_scale.sh: the data set's fixed parts, before the trail is seeded (psql -v weeks=..).
-- 1,000 customers, each with 10 connections, 5 instances and a proxy key per instance; five
-- providers; four brokers' journals. The trail ends now and reaches back :weeks weeks.
CREATE TABLE bench_customers AS
  SELECT no, gen_random_uuid() AS id,
         ARRAY(SELECT gen_random_uuid() FROM generate_series(1, 10) s WHERE s > no - no) AS connections,
         ARRAY(SELECT gen_random_uuid() FROM generate_series(1, 5) s WHERE s > no - no) AS instances,
         ARRAY(SELECT gen_random_uuid() FROM generate_series(1, 5) s WHERE s > no - no) AS proxy_keys
  FROM generate_series(0, 999) no;
CREATE UNIQUE INDEX ON bench_customers (no);
INSERT INTO customers (id, name) SELECT id, 'bench customer ' || no FROM bench_customers;
CREATE TABLE bench_providers (no int PRIMARY KEY, provider text, capability text, path text);
INSERT INTO bench_providers VALUES
  (0, 'gmail', 'send_mail', '/gmail/v1/users/me/messages/'), (1, 'xero', 'read_invoices', '/api.xro/2.0/Invoices/'),
  (2, 'google_calendar', 'read_events', '/calendar/v3/calendars/primary/events/'),
  (3, 'deputy', 'read_roster', '/api/v1/resource/Roster/'), (4, 'slack', 'post_message', '/api/chat.postMessage/');
CREATE TABLE bench_journals (no int PRIMARY KEY, journal_id text);
INSERT INTO bench_journals SELECT no, 'hydracore-broker/' || gen_random_uuid() FROM generate_series(0, 3) no;
SELECT format('CREATE FUNCTION bench_start() RETURNS timestamptz LANGUAGE sql IMMUTABLE AS %L',
              'SELECT ' || quote_literal(date_trunc('hour', now()) - (:weeks * interval '1 week')) || '::timestamptz')
\gexec
