#!/usr/bin/env bash
# The audit trail at scale (issue 21, listing): seeds AUDIT_SCALE_ROWS audit events (default
# 100,000,000) over 1,000 customers straight into PostgreSQL (SQL generate_series, in parallel,
# not through the API), then starts the real control plane and measures, with wrk, p50 and p99
# of the listing: the first page, deep pages (a random `before`), each filter alone (first and
# deep pages), time windows and a combination; then the export's throughput. Prints a table,
# the seeding time and what the trail takes on disk; last, PostgreSQL's CPU per record shipped
# into a trail of this size (hydra-bench-audit-ingest).
#   bench/audit_scale.sh [SECONDS per run, default 10]
# Settings (environment):
#   AUDIT_SCALE_ROWS     events to seed (default 100000000)
#   AUDIT_SCALE_WEEKS    how far back they reach from now (default 8)
#   AUDIT_SCALE_JOBS     seeding sessions at once (default: the cores)
#   AUDIT_SCALE_CLIENTS  wrk connections per run (default 2)
#   AUDIT_SCALE_KEEP=1   keep the data folder (its path is printed; AUDIT_SCALE_REUSE=DIR
#                        measures again on a kept one without seeding)
#   BENCH_EXPLAIN=1      also print PostgreSQL's plan (EXPLAIN ANALYZE, BUFFERS) of one request
#                        of each kind, as the control plane's own prepared statements ran it
#   BENCH_SKIP_BUILD=1   use the binaries build-bench holds
# The data: each customer has 10 connections, 5 instances and a proxy key per instance; events
# are spread evenly over the customers and over time (ids follow time, as brokers ship in time
# order, with up to 2 s of jitter), 93 % allowed, 5 % denied, 2 % error, 30 % proxied calls
# (method, path, upstream status, byte counts, duration), from four brokers' journals (journal
# ids as brokers make them, sequence numbers increasing). The trail's indexes and constraints
# are dropped while seeding and built again after it (a build sorts: far faster than keeping
# them up to date row by row, and the indexes come out compact; ones grown by inserts are about
# 1.6 times larger), then the table is vacuumed and analyzed, as autovacuum would have, and
# the weeks that have ended get their connection and instance indexes (audit-index, as the
# operator's daily job; schema/0027).
#   AUDIT_SCALE_FULL_HOT_WEEK=1  the last week that ended without them (see below)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/pg.sh
seconds=${1:-10}
rows=${AUDIT_SCALE_ROWS:-100000000}
weeks=${AUDIT_SCALE_WEEKS:-8}
jobs=${AUDIT_SCALE_JOBS:-$(nproc)}
clients=${AUDIT_SCALE_CLIENTS:-2}
chunk=1000000

scripts/install-deps.sh
command -v wrk >/dev/null || { sudo_=(); [ "$(id -u)" -ne 0 ] && sudo_=(sudo); "${sudo_[@]}" apt-get install -y -qq wrk >/dev/null; }
if [ -z "${BENCH_SKIP_BUILD:-}" ]; then
  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DHYDRA_BUILD_TESTS=OFF >/dev/null
  cmake --build build-bench -j"$(nproc)" --target hydracore-control-plane hydra-bench-audit-ingest >/dev/null
fi

if [ -n "${AUDIT_SCALE_REUSE:-}" ]; then
  work=$AUDIT_SCALE_REUSE
else
  work=$(mktemp -d /tmp/hydracore-audit-scale.XXXXXX)
fi
chmod 755 "$work"
cleanup() {
  [ -n "${cp_pid:-}" ] && kill "$cp_pid" 2>/dev/null || true
  pg_stop "$work/pg"
  if [ -n "${AUDIT_SCALE_KEEP:-}" ] || [ -n "${AUDIT_SCALE_REUSE:-}" ]; then
    echo "data kept in $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

# A cluster for a large, read-mostly data set on this machine: memory for the cache, and no
# durability while seeding (nothing here must survive a crash; measurements are reads).
mem_kb=$(awk '/MemTotal/ { print $2 }' /proc/meminfo)
opts=(-c shared_buffers=$((mem_kb / 6 / 1024))MB -c effective_cache_size=$((mem_kb * 3 / 4 / 1024))MB
  -c maintenance_work_mem=1GB -c work_mem=64MB -c max_parallel_maintenance_workers="$jobs"
  -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c wal_level=minimal -c max_wal_senders=0
  -c max_wal_size=2GB -c checkpoint_timeout=30min -c autovacuum=off -c random_page_cost=1.1
  -c shared_preload_libraries=auto_explain)
export PG_EXTRA_OPTS="${opts[*]} ${PG_EXTRA_OPTS:-}"  # one line: pg_ctl hands it to a shell
pg_start "$work/pg"
base="postgresql://postgres@127.0.0.1:$PG_PORT/postgres"
q() { psql -qAtX -v ON_ERROR_STOP=1 -d "$base" "$@"; }
since() { awk -v a="$1" -v b="$(date +%s%N)" 'BEGIN { printf "%.0f", (b - a) / 1e9 }'; }

if [ -z "${AUDIT_SCALE_REUSE:-}" ]; then
  HYDRA_DATABASE_URL="$base" build-bench/control-plane/hydracore-control-plane migrate 2>/dev/null
  echo "schema: $(q -c "SELECT string_agg(name, ' ' ORDER BY name) FROM schema_migrations" | tr ' ' '\n' | tail -n 3 | tr '\n' ' ')"
  echo "audit_events: $(q -c "SELECT CASE relkind WHEN 'p' THEN 'partitioned' ELSE 'one table' END FROM pg_class WHERE oid = 'audit_events'::regclass")"
  q -v weeks="$weeks" -f bench/audit_scale_setup.sql
  # The trail is partitioned by week (schema/0022: brokers make a week's partition before they
  # ship into it); the weeks seeded get theirs.
  if [ "$(q -c "SELECT relkind FROM pg_class WHERE oid = 'audit_events'::regclass")" = p ]; then
    q -c "SELECT audit_events_create_partition(w) FROM generate_series(bench_start(), now() + interval '1 week', interval '1 week') w" >/dev/null
  fi

  # The trail's indexes and constraints: saved, dropped, built again after seeding.
  q <<'SQL'
CREATE TABLE bench_saved_ddl AS
  SELECT 1 AS phase, c.conname::text AS name,
         'ALTER TABLE audit_events ADD CONSTRAINT ' || quote_ident(c.conname) || ' ' || pg_get_constraintdef(c.oid) AS ddl
  FROM pg_constraint c WHERE c.conrelid = 'audit_events'::regclass AND c.contype IN ('p', 'u')
  UNION ALL
  SELECT 2, i.indexrelid::regclass::text, replace(pg_get_indexdef(i.indexrelid), ' ON ONLY ', ' ON ')
  FROM pg_index i WHERE i.indrelid = 'audit_events'::regclass
    AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid);
SQL
  q -c "SELECT 'ALTER TABLE audit_events DROP CONSTRAINT ' || quote_ident(name) || ';' FROM bench_saved_ddl WHERE phase = 1
        UNION ALL SELECT 'DROP INDEX ' || name || ';' FROM bench_saved_ddl WHERE phase = 2" | q >/dev/null
  # What fits: about 610 bytes an event on disk (table and indexes, measured at 2M), plus WAL
  # and room for the index builds' sorting; fewer events when the disk has no room for more.
  free_gb=$(df --output=avail -B1G "$work" | tail -n 1 | tr -d ' ')
  fits=$(( (free_gb - ${AUDIT_SCALE_RESERVE_GB:-8}) * 1000000000 / 610 ))
  if [ "$fits" -lt "$rows" ]; then
    echo "note: $free_gb GB free holds about $fits events, not $rows: seeding $fits (AUDIT_SCALE_RESERVE_GB, default 8, is kept free)"
    rows=$(( fits / chunk * chunk ))
  fi
  echo "seeding $rows events over $weeks weeks, 1,000 customers, $jobs sessions ($(q -c "SELECT count(*) FROM bench_saved_ddl") indexes and constraints dropped meanwhile)..."
  start=$(date +%s%N)
  seq 1 "$chunk" "$rows" | xargs -P "$jobs" -I{} sh -c \
    'psql -qAtX -v ON_ERROR_STOP=1 -d "$1" -v lo="$2" -v hi="$(( $2 + $3 > $4 + 1 ? $4 + 1 : $2 + $3 ))" -v total="$4" -v weeks="$5" -f bench/audit_scale_seed.sql &&
     if [ $(( ($2 - 1) % 10000000 )) -eq 0 ]; then echo "  $(( ($2 - 1) / 1000000 ))M+ at $(date +%T)"; fi' \
    _ "$base" {} "$chunk" "$rows" "$weeks"
  seed_s=$(since "$start")
  q -c "SELECT setval(pg_get_serial_sequence('audit_events', 'id'), $rows)" >/dev/null
  echo "seeded in $seed_s s; building the indexes and constraints again..."
  start=$(date +%s%N)
  while IFS=$'\t' read -r name ddl; do
    t=$(date +%s%N)
    q -c "$ddl"
    echo "  $name: $(since "$t") s"
  done < <(q -F $'\t' -c "SELECT name, ddl FROM bench_saved_ddl ORDER BY phase, name")
  index_s=$(since "$start")
  start=$(date +%s%N)
  q -c "VACUUM (ANALYZE) audit_events"
  vacuum_s=$(since "$start")
  q -c "CHECKPOINT"
  echo "seeding $seed_s s, indexes $index_s s, vacuum and analyze $vacuum_s s: $((seed_s + index_s + vacuum_s)) s in all"
  echo "$seed_s $index_s $vacuum_s" >"$work/seed-times"
fi

# The connection and instance indexes of the weeks that have ended (schema/0027), as the
# operator's daily job builds them (CONCURRENTLY; nothing to do on a trail measured before).
start=$(date +%s%N)
HYDRA_DATABASE_URL="$base" build-bench/control-plane/hydracore-control-plane audit-index | sed 's/^/  /'
echo "audit-index: $(since "$start") s"
# AUDIT_SCALE_FULL_HOT_WEEK=1: the last week that ended loses them again, so that the listing
# reads a whole week through the customer index, as it does the week being written on its last
# day (the most the design leaves unindexed, with the daily job running; audit-index restores them).
if [ -n "${AUDIT_SCALE_FULL_HOT_WEEK:-}" ]; then
  drop=$(q -c "SELECT format('DROP INDEX %I, %I', partition_name || '_connection_idx', partition_name || '_instance_idx')
               FROM audit_events_weeks() WHERE until <= now() ORDER BY until DESC LIMIT 1")
  echo "$drop"
  q -c "$drop"
  echo "(AUDIT_SCALE_FULL_HOT_WEEK: the last week that ended is listed without its connection and instance indexes)"
fi

echo "--- disk"
q -F '|' <<'SQL' | awk -F '|' '{ printf "  %-38s %8.2f GB\n", $1, $2 / 1e9 }'
-- A relation and its partitions (pg_partition_tree lists nothing for one that is not partitioned).
CREATE TEMP VIEW bench_parts AS
  SELECT c.oid AS root, coalesce(t.relid, c.oid) AS relid, coalesce(t.isleaf, true) AS isleaf
  FROM pg_class c LEFT JOIN LATERAL pg_partition_tree(c.oid) t ON true
  WHERE c.oid = 'audit_events'::regclass OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = 'audit_events'::regclass);
-- The weeks' own connection and instance indexes (schema/0027), by their names.
CREATE TEMP VIEW bench_week_indexes AS
  SELECT kind, to_regclass(w.partition_name || '_' || kind || '_idx') AS relid
  FROM audit_events_weeks() w CROSS JOIN (VALUES ('connection'), ('instance')) k(kind)
  WHERE to_regclass(w.partition_name || '_' || kind || '_idx') IS NOT NULL;
SELECT 'audit_events (heap, ' || count(*) || ' table' || CASE WHEN count(*) > 1 THEN 's' ELSE '' END || ')',
       sum(pg_table_size(relid)) FROM bench_parts WHERE root = 'audit_events'::regclass AND isleaf
UNION ALL
SELECT root::regclass::text, sum(pg_relation_size(relid)) FROM bench_parts WHERE root <> 'audit_events'::regclass
GROUP BY root
UNION ALL
SELECT 'weeks'' ' || kind || ' indexes (' || count(*) || ')', sum(pg_relation_size(relid)) FROM bench_week_indexes GROUP BY kind
UNION ALL
SELECT 'all indexes', (SELECT sum(pg_relation_size(relid)) FROM bench_parts WHERE root <> 'audit_events'::regclass)
  + (SELECT coalesce(sum(pg_relation_size(relid)), 0) FROM bench_week_indexes);
SQL
echo "  data folder: $(du -sh "$work/pg" | cut -f1), disk free: $(df -h --output=avail "$work" | tail -n 1 | tr -d ' ')"
total=$(q -c "SELECT reltuples::bigint FROM pg_class WHERE oid = 'audit_events'::regclass")
[ "$total" -le 0 ] && total=$(q -c "SELECT sum(reltuples)::bigint FROM pg_class WHERE oid IN (SELECT relid FROM pg_partition_tree('audit_events') WHERE isleaf)")
echo "  events: ~$total"

# The control plane, as deployed: 4 threads, a pool of 4; the access log off (warning level).
port=$((20000 + RANDOM % 40000))
url="http://127.0.0.1:$port"
admin=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
HYDRA_DATABASE_URL="$base" HYDRA_LISTEN="127.0.0.1:$port" HYDRA_ADMIN_TOKEN="$admin" HYDRA_LOG_LEVEL=warning \
HYDRA_WEBHOOK_WORKERS=0 \
HYDRA_BROKER_PUBLIC_KEY=tests/data/test-broker-public.pem \
  build-bench/control-plane/hydracore-control-plane serve 2>"$work/cp.log" &
cp_pid=$!
for _ in $(seq 50); do curl -sf "$url/healthz" >/dev/null && break; sleep 0.1; done
curl -sf "$url/healthz" >/dev/null || { echo "control plane did not start"; cat "$work/cp.log"; exit 1; }

# An API key per customer, through the API.
export BENCH_URL=$url BENCH_ADMIN=$admin
q -c "SELECT no, id FROM bench_customers ORDER BY no" | tr '|' ' ' |
  xargs -P 4 -n 2 sh -c 'printf "%s %s\n" "$1" "$(curl -sf -X POST "$BENCH_URL/v1/customers/$2/api-keys" \
    -H "Authorization: Bearer $BENCH_ADMIN" -d "{\"name\":\"bench\"}" | sed "s/.*\"api_key\":\"\([^\"]*\)\".*/\1/")"' _ \
  >"$work/keys.txt"
q -c "DROP TABLE IF EXISTS bench_keys" -c "CREATE TABLE bench_keys (no int PRIMARY KEY, api_key text)" 2>/dev/null
q -c "\\copy bench_keys FROM '$work/keys.txt' WITH (DELIMITER ' ')"

# Targets: 20,000 random requests of each kind, "API_KEY PATH". Times: random instants within
# the trail; a deep page: a random id as `before` (on average half the trail back).
targets() {  # kind, SQL expression of the query string (c: the customer row, t: a random time, b: a random id)
  q -c "SELECT k.api_key || ' /v1/customers/' || c.id || '/audit-events?limit=50' || $2
        FROM (SELECT (random() * 999)::int AS no,
                     bench_start() + random() * (now() - bench_start()) AS t,
                     1 + (random() * ($total - 1))::bigint AS b,
                     (random() * 9)::int AS r
              FROM generate_series(1, 20000)) x
        JOIN bench_customers c USING (no) JOIN bench_keys k USING (no)" >"$work/$1.txt"
}
ts() { echo "to_char(($1) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"; }
targets first "''"
targets deep "'&before=' || b"
targets connection "'&connection_id=' || c.connections[1 + r]"
targets connection_deep "'&connection_id=' || c.connections[1 + r] || '&before=' || b"
targets instance "'&instance_id=' || c.instances[1 + r % 5]"
targets instance_deep "'&instance_id=' || c.instances[1 + r % 5] || '&before=' || b"
targets allowed "'&outcome=allowed'"
targets denied "'&outcome=denied'"
targets denied_deep "'&outcome=denied&before=' || b"
targets error "'&outcome=error'"
targets error_deep "'&outcome=error&before=' || b"
targets since "'&since=' || $(ts t)"
targets until "'&until=' || $(ts t)"
targets day "'&since=' || $(ts t) || '&until=' || $(ts "t + interval '1 day'")"
targets hour "'&since=' || $(ts t) || '&until=' || $(ts "t + interval '1 hour'")"
targets combined "'&connection_id=' || c.connections[1 + r] || '&outcome=denied&since=' || $(ts t) || '&until=' || $(ts "t + interval '1 week'")"
targets combined_deep "'&connection_id=' || c.connections[1 + r] || '&outcome=denied&since=' || $(ts "bench_start()") || '&before=' || b"
targets denied_connection "'&outcome=denied&connection_id=' || c.connections[1 + r]"
targets connection_instance "'&connection_id=' || c.connections[1 + r] || '&instance_id=' || c.instances[1 + r % 5]"
kinds="first deep connection connection_deep instance instance_deep allowed denied denied_deep error error_deep since until day hour combined combined_deep denied_connection connection_instance"

if [ -n "${BENCH_EXPLAIN:-}" ]; then
  echo "--- plans (auto_explain: one request of each kind)"
  q -c "ALTER SYSTEM SET auto_explain.log_min_duration = 0" -c "ALTER SYSTEM SET auto_explain.log_analyze = on" \
    -c "ALTER SYSTEM SET auto_explain.log_buffers = on" -c "SELECT pg_reload_conf()" >/dev/null
  sleep 1
  for kind in $kinds; do
    read -r key path < <(head -n 1 "$work/$kind.txt")
    lines=$(wc -l <"$work/pg/server.log")
    curl -sf -o /dev/null "$url$path" -H "X-Api-Key: $key"
    sleep 0.3
    echo "## $kind: ${path#*audit-events}"
    # The trail's statement only (the request's API key lookup is logged too).
    tail -n +"$((lines + 1))" "$work/pg/server.log" |
      awk '/Query Text:/ { show = /FROM audit_events/ } / LOG: / && !/Query Text/ { next } show' || true
  done
  q -c "ALTER SYSTEM RESET ALL" -c "SELECT pg_reload_conf()" >/dev/null
  sleep 1
fi

echo "load average before measuring: $(cut -d ' ' -f 1-3 /proc/loadavg) ($(nproc) cores; other work on the machine shows in p99)"
# Warm-up: what the first runs would otherwise pay alone (the cache is as the seeding left it).
wrk -t1 -c"$clients" -d5s -s bench/audit_scale.lua "$url" -- "$work/deep.txt" >/dev/null

echo "--- listing: $clients connections, ${seconds} s per kind, 20,000 random targets each (all customers)"
printf '%-15s %9s %9s %9s %9s %8s\n' kind req/s p50 p90 p99 non-2xx
for kind in $kinds; do
  wrk -t1 -c"$clients" -d"${seconds}s" --latency -s bench/audit_scale.lua "$url" -- "$work/$kind.txt" >"$work/$kind.out"
  awk -v kind="$kind" '
    /Requests\/sec/ { rps = $2 }
    $1 == "50%" { p50 = $2 } $1 == "90%" { p90 = $2 } $1 == "99%" { p99 = $2 }
    /non-2xx/ { errors = $2 }
    END { printf "%-15s %9.0f %9s %9s %9s %8s\n", kind, rps, p50, p90, p99, (errors == "" ? 0 : errors) }' "$work/$kind.out"
done

echo "--- export (JSON lines, 1,000 rows per query and chunk): whole trails, one at a time; the first"
echo "    customer's twice (the second from a warm cache), then one outcome's and one connection's"
rss() { awk '/VmRSS/ { print $2 }' "/proc/$cp_pid/status"; }
printf '%-34s %9s %9s %10s %10s %14s\n' export rows seconds rows/s MB/s "RSS growth KB"
read -r first_no < <(q -c "SELECT (random() * 999)::int")
for run in "$first_no" "$first_no again" "random &outcome=denied" "random &connection_id="; do
  no=${run%% *}
  filter=${run#* }
  [ "$filter" = "$run" ] && filter=""
  [ "$no" = random ] && no=$(q -c "SELECT (random() * 999)::int")
  read -r id key conn < <(q -F ' ' -c "SELECT c.id, k.api_key, c.connections[1] FROM bench_customers c
                                       JOIN bench_keys k USING (no) WHERE no = $no")
  query="since=2000-01-01T00:00:00Z"
  case $filter in "&"*) query+="$filter" ;; esac
  [ "$filter" = "&connection_id=" ] && query+="$conn"
  r0=$(rss)
  start=$(date +%s%N)
  curl -sf "$url/v1/customers/$id/audit-events/export?$query" -H "X-Api-Key: $key" -o "$work/export.ndjson"
  took=$(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
  n=$(wc -l <"$work/export.ndjson")
  bytes=$(stat -c %s "$work/export.ndjson")
  label="customer $no ${filter#&}"
  printf '%-34s %9d %9.2f %10.0f %10.1f %14d\n' "${label%=}" "$n" "$took" "$(awk -v n="$n" -v t="$took" 'BEGIN { print n / t }')" \
    "$(awk -v b="$bytes" -v t="$took" 'BEGIN { print b / t / 1e6 }')" "$(($(rss) - r0))"
done
rm -f "$work/export.ndjson"
echo "control plane resident memory: $(rss) KB"

# Ingest into a trail of this size: the indexes are as large as the seeded trail made them, so
# each insert's index work is what it would be on a deployment holding this much.
echo "--- ingest: PostgreSQL's backend CPU per record the broker's own statement ships into this trail"
echo "    (as hydracore_broker; a new journal of 100,000 records of now, by batch size)"
for batch in 1000 100 10; do
  build-bench/bench/hydra-bench-audit-ingest "postgresql://hydracore_broker@127.0.0.1:$PG_PORT/postgres" 100000 "$batch"
done
