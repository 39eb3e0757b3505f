-- psql -v lo=.. -v hi=.. -v total=.. -v weeks=..
INSERT INTO audit_events (id, occurred_at, shipped_at, customer_id, instance_id, proxy_key_id, connection_id,
  provider, name, capability, outcome, reason, request_id, peer, journal_id, seq,
  method, path, upstream_status, request_bytes, response_bytes, duration_us)
OVERRIDING SYSTEM VALUE
SELECT g.n, g.t, g.t + interval '2 seconds', c.id, c.instances[1 + g.k % 5], c.proxy_keys[1 + g.k % 5],
  c.connections[1 + g.k / 5 % 10], p.provider, p.provider || '-' || (g.k / 5 % 10), p.capability,
  g.outcome,
  CASE g.outcome WHEN 'allowed' THEN 'granted' WHEN 'denied' THEN 'the grant does not allow this capability'
                 ELSE 'the provider did not answer' END,
  lpad(to_hex(g.h % 281474976710656), 16, '0'), '10.' || (g.k % 256) || '.' || (g.k / 256 % 256) || '.7',
  j.journal_id, g.n / 4,
  CASE WHEN g.proxied THEN (ARRAY['GET', 'POST'])[1 + g.k % 2] END,
  CASE WHEN g.proxied THEN p.path || (g.k % 100000) END,
  CASE WHEN g.proxied AND g.outcome = 'allowed' THEN 200 WHEN g.proxied AND g.outcome = 'error' THEN 502 END,
  CASE WHEN g.proxied THEN g.k % 2000 END, CASE WHEN g.proxied THEN g.k % 50000 END,
  CASE WHEN g.proxied THEN 20000 + g.k % 300000 END
FROM (
  SELECT n, h, h / 1000 AS k,
    -- the trail ends now; a broker's clock and shipping put up to 2 s of jitter on the order
    bench_start() + (n * (:weeks * 604800.0 / :total)) * interval '1 second' - (h % 2000) * interval '1 millisecond' AS t,
    CASE WHEN h / 1000 / 50 % 100 < 93 THEN 'allowed' WHEN h / 1000 / 50 % 100 < 98 THEN 'denied' ELSE 'error' END AS outcome,
    h / 1000 / 5000 % 10 < 3 AS proxied
  FROM (SELECT n, hashint8extended(n, 42) & 9223372036854775807 AS h FROM generate_series(:lo, :hi - 1) n) x
) g
JOIN bench_customers c ON c.no = g.h % 1000
JOIN bench_providers p ON p.no = g.k / 5 % 10 % 5
JOIN bench_journals j ON j.no = g.n % 4;
