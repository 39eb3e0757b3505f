#!/usr/bin/env bash
# Broker benchmark: starts PostgreSQL and both binaries, loads a realistic data set (1,000
# customers, 2,000 instances, 10,000 connections, 20,000 grants), then drives with wrk from a
# second process, 64 keep-alive connections:
#   0. the cold pass: every (instance, connection) once, on a broker that has just started,
#   1. GET /healthz (the ceiling of the HTTP stack),
#   2. the credential fetch over random (instance, connection) pairs,
# and prints req/s, p50, p99 of each, the fetch's ratio to /healthz, the broker's resident
# memory, the audit journal's shipping lag to PostgreSQL and this disk's fdatasync latency.
# For each run it also prints the CPU time the broker and PostgreSQL spent per request, read
# from /proc (utime + stime of the broker, and of the bench cluster's postmaster and every
# process under it, exited ones included), and the ratio of each to the broker's CPU per
# /healthz request. A fetch run's PostgreSQL time includes shipping its audit records: the
# reading after the run waits until PostgreSQL holds every record journaled. CPU time stays
# meaningful on a machine shared with other work; req/s and latencies do not.
#   bench/broker.sh [SECONDS per run, default 10] [CUSTOMERS, default 1000]
#   BENCH_CONNECTIONS="64 8": the wrk connection counts the healthz and fetch runs are made at.
# HYDRA_BENCH_TLS=tls|identity|all (default off): then the HTTPS section at the end runs too.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/pg.sh
seconds=${1:-10}
customers=${2:-1000}

# --- HTTPS and runtime identity (issue 17): option -------------------------------------------
bench_tls=${HYDRA_BENCH_TLS:-off}
case $bench_tls in
  off|tls|identity|all) ;;
  *) echo "HYDRA_BENCH_TLS must be off, tls, identity or all (not '$bench_tls')" >&2; exit 2 ;;
esac
# --- end of HTTPS option ----------------------------------------------------------------------

scripts/install-deps.sh
command -v wrk >/dev/null || { sudo_=(); [ "$(id -u)" -ne 0 ] && sudo_=(sudo); "${sudo_[@]}" apt-get install -y -qq wrk >/dev/null; }
# BENCH_SKIP_BUILD=1: run the binaries build-bench holds (say, built from another commit).
if [ -z "${BENCH_SKIP_BUILD:-}" ]; then
  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DHYDRA_BUILD_TESTS=OFF >/dev/null
  cmake --build build-bench -j"$(nproc)" --target hydracore-control-plane hydracore-broker hydra-bench-seed \
    hydra-bench-fsync hydra-bench-tls-load >/dev/null
fi

work=$(mktemp -d /tmp/hydracore-bench.XXXXXX)
chmod 755 "$work"
cleanup() {
  [ -n "${broker_pid:-}" ] && kill "$broker_pid" 2>/dev/null || true
  pg_stop "$work/pg"
  rm -rf "$work"
}
trap cleanup EXIT
# BENCH_PG_STATEMENTS=1: PostgreSQL's own account of its statements (pg_stat_statements), printed
# at the end: which statements the fetches and the shipping cost it.
[ -n "${BENCH_PG_STATEMENTS:-}" ] && export PG_EXTRA_OPTS="${PG_EXTRA_OPTS:-} -c shared_preload_libraries=pg_stat_statements"
pg_start "$work/pg"
base="postgresql://postgres@127.0.0.1:$PG_PORT/postgres"
HYDRA_DATABASE_URL="$base" build-bench/control-plane/hydracore-control-plane migrate 2>/dev/null
build-bench/broker/hydracore-broker keygen --private-key "$work/broker.pem" --public-key "$work/broker.pub" \
  --audit-key "$work/audit.pem" --verifier-key "$work/audit-verifier.txt" >/dev/null

echo "loading $customers customers..."
build-bench/bench/hydra-bench-seed "$base" "$work/broker.pub" "$customers" >"$work/targets.txt"
psql -qAt -d "$base" -c "ANALYZE" -c "SELECT 'data set: ' || (SELECT count(*) FROM customers) || ' customers, ' ||
  (SELECT count(*) FROM instances) || ' instances, ' || (SELECT count(*) FROM connections) || ' connections, ' ||
  (SELECT count(*) FROM grants) || ' grants'"

port=$((20000 + RANDOM % 40000))
url="http://127.0.0.1:$port"
# The access log is off (warning level): one line per request would be measured too.
# BENCH_DB_SOCKET=1: the broker reaches PostgreSQL over its Unix socket instead of TCP.
broker_db="postgresql://hydracore_broker@127.0.0.1:$PG_PORT/postgres"
[ -n "${BENCH_DB_SOCKET:-}" ] && broker_db="postgresql://hydracore_broker@/postgres?host=$work/pg&port=$PG_PORT"
HYDRA_DATABASE_URL="$broker_db${BENCH_DB_PARAMS:-}" \
HYDRA_BROKER_PRIVATE_KEYS="$work/broker.pem" HYDRA_LISTEN="127.0.0.1:$port" HYDRA_LOG_LEVEL=warning \
HYDRA_AUDIT_DIR="$work/audit" HYDRA_AUDIT_SIGNING_KEY="$work/audit.pem" \
  build-bench/broker/hydracore-broker serve 2>"$work/broker.log" &
broker_pid=$!
for _ in $(seq 50); do curl -sf "$url/healthz" >/dev/null && break; sleep 0.1; done
curl -sf "$url/healthz" >/dev/null || { echo "broker did not start"; cat "$work/broker.log"; exit 1; }

connections=${BENCH_CONNECTIONS:-64 8}
clients=64  # of the run being made

# CPU time in clock ticks: the broker's; the bench cluster's (postmaster, its children alive,
# and through the postmaster's cutime/cstime, those that exited).
broker_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$broker_pid/stat"; }
pg_ticks() {
  local postmaster
  postmaster=$(head -n 1 "$work/pg/postmaster.pid")
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v pm="$postmaster" '{
      pid = $1; sub(/^.*\) /, "")  # fields after the command name: $2 is the ppid
      if (pid == pm) total += $12 + $13 + $14 + $15; else if ($2 == pm) total += $12 + $13
    } END { print total + 0 }'
}
# Fetches the broker's memory did not answer (an entry ages out after HYDRA_AUTHZ_MAX_AGE_SECONDS,
# 60 s by default: the cold pass's entries are all loaded again about a minute later, in
# whichever run is then going): each reads proxy_keys by its index. Part of PostgreSQL's CPU
# per fetch is theirs, not the audit shipping's. (Statistics reach the view within a second.)
lookups() { psql -qAt -d "$base" -c "SELECT coalesce(idx_scan, 0) FROM pg_stat_user_tables WHERE relname = 'proxy_keys'"; }
# The broker's shipping session (application_name 'hydracore-broker audit shipper'), in clock
# ticks: how much of PostgreSQL's CPU the shipping statements themselves take (the rest: WAL
# writer, checkpointer, autovacuum, the broker's other sessions).
shipper_ticks() {
  local pid
  pid=$(psql -qAt -d "$base" -c "SELECT pid FROM pg_stat_activity WHERE usename = 'hydracore_broker' AND application_name = 'hydracore-broker audit shipper' LIMIT 1")
  # Printed with its pid: a reading of another session than the one before is none.
  [ -n "$pid" ] && awk -v pid="$pid" '{ sub(/^.*\) /, ""); print pid ":" $12 + $13 }' "/proc/$pid/stat" 2>/dev/null || echo "none:0"
}
journaled_count() { { cat "$work"/audit/segment-*.jsonl 2>/dev/null || true; } | wc -l; }
journal_origin() { head -n 1 "$(ls "$work"/audit/segment-*.jsonl | head -n 1)" | sed 's/.*"journal":"\([^"]*\)".*/\1/'; }
# Waits (at most 30 s) until PostgreSQL holds every record journaled so far; through the
# (journal_id, seq) key, so that the wait costs PostgreSQL next to nothing.
wait_shipped() {
  local want origin held
  want=$(journaled_count)
  [ "$want" -eq 0 ] && return 0
  origin=$(journal_origin)
  for _ in $(seq 150); do
    held=$(psql -qAt -d "$base" -c "SELECT coalesce(max(seq) + 1, 0) FROM audit_events WHERE journal_id = '$origin'")
    [ "$held" -ge "$want" ] && return 0
    sleep 0.2
  done
  echo "warning: PostgreSQL holds $held of $want records after 30 s"
}
tick_us=$(awk -v hz="$(getconf CLK_TCK)" 'BEGIN { print 1000000 / hz }')

run() {  # name, wrk args...
  local name=$1; shift
  local b0 p0 b1 p1 l0 l1 s0 s1 requests
  wait_shipped  # what earlier runs journaled is not this run's
  sleep 1; l0=$(lookups)
  s0=$(shipper_ticks)
  b0=$(broker_ticks); p0=$(pg_ticks)
  wrk -t2 -c"$clients" -d"${seconds}s" --latency "$@" >"$work/$name.txt"
  wait_shipped
  b1=$(broker_ticks); p1=$(pg_ticks)
  s1=$(shipper_ticks)
  requests=$(awk '/requests in/ { print $1 }' "$work/$name.txt")
  sleep 1; l1=$(lookups)
  awk -v b="$((b1 - b0))" -v p="$((p1 - p0))" -v n="$requests" -v t="$tick_us" -v l="$((l1 - l0))" \
    -v sh="$([ "${s0%%:*}" = "${s1%%:*}" ] && echo $((${s1#*:} - ${s0#*:})) || echo -1)" 'BEGIN { printf "%s %.1f %.1f %.3f %.1f\n", n, b * t / n, p * t / n, l / n, sh * t / n }' \
    >"$work/$name.cpu"
  awk -v name="$name" '
    /Requests\/sec/ { rps = $2 }
    $1 == "50%" { p50 = $2 } $1 == "99%" { p99 = $2 }
    /non-2xx/ { errors = $2 }
    END { printf "%-11s %10.0f req/s   p50 %8s   p99 %8s   non-2xx %s\n", name, rps, p50, p99, (errors == "" ? 0 : errors) }' \
    "$work/$name.txt"
}

targets=$(wc -l <"$work/targets.txt")
echo "cold pass: $targets fetches, each (instance, connection) once, memory empty"
# wrk runs for its whole -d; the pass is over when the journal holds a record per target.
wrk -t2 -c64 -d120s --latency -s bench/cold.lua "$url" -- "$work/targets.txt" 2 >"$work/cold.txt" &
wrk_pid=$!
cold_start=$(date +%s%N)
while [ "$(cat "$work"/audit/segment-*.jsonl 2>/dev/null | wc -l)" -lt "$targets" ] && kill -0 "$wrk_pid" 2>/dev/null; do
  sleep 0.05
done
cold_ms=$(( ($(date +%s%N) - cold_start) / 1000000 ))
kill -INT "$wrk_pid" 2>/dev/null || true
wait "$wrk_pid" || true
awk -v n="$targets" -v ms="$cold_ms" '$1 == "50%" { p50 = $2 } $1 == "99%" { p99 = $2 } /non-2xx/ { e = $2 }
     END { printf "cold     %10.0f req/s   p50 %8s   p99 %8s   non-2xx %s   (%d fetches in %.1f s)\n", n * 1000 / ms, p50, p99, e, n, ms / 1000 }' \
  "$work/cold.txt"

echo "warming up..."
wrk -t2 -c64 -d3s -s bench/fetch.lua "$url" -- "$work/targets.txt" >/dev/null
# BENCH_PROFILE=PREFIX: where the CPU goes in each run, across the broker, PostgreSQL and wrk
# (perf at 499 Hz on all CPUs, software clock: works without hardware counters; needs
# linux-perf): PREFIX.<run>.by-thread.txt, .by-symbol.txt and .perf.data.
profiled() {  # name, wrk args...
  local name=$1
  if [ -z "${BENCH_PROFILE:-}" ]; then run "$@"; return; fi
  perf record -F 499 -a -g -o "$work/$name.perf.data" -- sleep "$seconds" >/dev/null 2>&1 &
  local perf_pid=$!
  run "$@"
  wait "$perf_pid" || true
  local out="$BENCH_PROFILE.$name"
  perf report -i "$work/$name.perf.data" --no-children --sort pid --stdio -g none 2>/dev/null | grep -E "^ +[0-9]" |
    head -12 >"$out.by-thread.txt" || true  # head ends the pipe early
  perf report -i "$work/$name.perf.data" --no-children --sort comm,dso,symbol --stdio -g none -w 8,16,24,70 2>/dev/null |
    cut -c1-140 | grep -E "^ +[0-9]" | head -60 >"$out.by-symbol.txt" || true
  cp "$work/$name.perf.data" "$out.perf.data"
  echo "profile: $out.by-thread.txt, $out.by-symbol.txt, $out.perf.data"
}
cpu_rows=()
for c in $connections; do
  clients=$c
  echo "--- $c connections"
  profiled "healthz-c$c" -H "Connection: keep-alive" "$url/healthz"
  profiled "fetch-c$c" -s bench/fetch.lua "$url" -- "$work/targets.txt"
  ceiling=$(awk '/Requests\/sec/ { print $2 }' "$work/healthz-c$c.txt")
  fetch=$(awk '/Requests\/sec/ { print $2 }' "$work/fetch-c$c.txt")
  echo "fetch / ceiling: $(awk -v a="$fetch" -v b="$ceiling" 'BEGIN { printf "%.0f%%", 100 * a / b }')"
  cpu_rows+=("$c $(cat "$work/healthz-c$c.cpu") $(cat "$work/fetch-c$c.cpu")")
done
echo "CPU per request (from /proc; x = ratio to the broker's CPU per /healthz request at the same connections):"
printf '%5s %10s %12s %10s %16s %20s %18s %20s\n' conns healthz fetches "broker/fetch" "PostgreSQL/fetch" \
  "PostgreSQL/healthz" "db lookups/fetch" "shipping session"
for row in "${cpu_rows[@]}"; do
  # conns, healthz: requests broker_us pg_us lookups shipper_us, fetch: the same
  echo "$row" | awk '{ h = $3 > 0 ? $3 : 0.001
    printf "%5d %8.1fus %12d %6.1fus %4.2fx %10.1fus %4.2fx %17.1fus %18.3f %20.1fus\n", $1, $3, $7, $8, $8 / h, $9, $9 / h, $4, $10, $11 }'
done
echo "broker resident memory: $(awk '/VmRSS/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$broker_pid/status") (peak $(awk '/VmHWM/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$broker_pid/status"))"
journaled=$(cat "$work"/audit/segment-*.jsonl | wc -l)
for _ in $(seq 100); do
  shipped=$(psql -qAt -d "$base" -c "SELECT count(*) FROM audit_events")
  [ "$shipped" -ge "$journaled" ] && break
  sleep 0.1
done
echo "audit records: $journaled journaled, $shipped shipped to PostgreSQL"
psql -qAt -d "$base" -c "SELECT 'shipping lag under load (journal time to PostgreSQL): p50 ' ||
  round((percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM shipped_at - occurred_at)) * 1000)::numeric, 1) ||
  ' ms, p99 ' || round((percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM shipped_at - occurred_at)) * 1000)::numeric, 1) ||
  ' ms, max ' || round((max(extract(epoch FROM shipped_at - occurred_at)) * 1000)::numeric, 1) || ' ms' FROM audit_events"
# Idle: one fetch at a time, each given time to ship.
before=$(psql -qAt -d "$base" -c "SELECT coalesce(max(id), 0) FROM audit_events")
head -n 20 "$work/targets.txt" | while read -r instance key provider name; do
  curl -s -o /dev/null -H "Authorization: Bearer $key" \
    "$url/internal/v1/instances/$instance/connections?provider=$provider&name=$name"
  sleep 0.2
done
sleep 1
psql -qAt -d "$base" -c "SELECT 'shipping lag when idle: p50 ' ||
  round((percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM shipped_at - occurred_at)) * 1000)::numeric, 1) ||
  ' ms, max ' || round((max(extract(epoch FROM shipped_at - occurred_at)) * 1000)::numeric, 1) || ' ms'
  FROM audit_events WHERE id > $before"
build-bench/bench/hydra-bench-fsync "$work/fsync-probe" 1000
if [ -n "${BENCH_PG_STATEMENTS:-}" ]; then
  echo "PostgreSQL statements since the start (calls, total ms, ms per call, rows):"
  psql -qAt -F ' | ' -d "$base" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" -c "SELECT calls,
    round(total_exec_time::numeric, 0), round(mean_exec_time::numeric, 3), rows, left(regexp_replace(query, '\s+', ' ', 'g'), 110)
    FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 12"
fi

# --- HTTPS and runtime identity (issue 17): HYDRA_BENCH_TLS=tls|identity|all -----------------
# wrk presents no client certificate, so hydra-bench-tls-load drives these runs, as a runtime
# would: each connection bound to one instance (the first 64 of targets.txt), with that
# instance's proxy key and, for identity, its runtime certificate; fetches at random among that
# instance's connections. Per mode: /healthz and the fetch with 64 keep-alive connections, the
# fetch with 1 (its p50), and the fetch on a new connection each time (full handshake, no
# resumption), 8 at a time. The same client first measures the plain-HTTP broker above, so the
# rows compare. Broker CPU per request, from /proc (utime + stime of the broker, all threads,
# before and after each run, which waits until PostgreSQL holds every audit record journaled),
# holds better than req/s when other work shares the machine.
if [ "$bench_tls" != off ]; then
  tls_load=build-bench/bench/hydra-bench-tls-load
  tls_dir="$work/tls"
  mkdir -p "$tls_dir/runtime"
  tls_connections=64
  trust_domain=bench.hydracore.test
  # A throwaway server CA and certificate for 127.0.0.1, EC P-256 as the runtime certificates.
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=bench TLS CA" \
    -addext "basicConstraints=critical,CA:TRUE" -keyout "$tls_dir/ca-key.pem" -out "$tls_dir/ca.pem" 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$tls_dir/server-key.pem" -out "$tls_dir/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$tls_dir/server.ext"
  openssl x509 -req -in "$tls_dir/server.csr" -CA "$tls_dir/ca.pem" -CAkey "$tls_dir/ca-key.pem" -CAcreateserial \
    -days 2 -extfile "$tls_dir/server.ext" -out "$tls_dir/server.pem" 2>/dev/null
  chmod 600 "$tls_dir/server-key.pem"
  # Runtime certificates only for the instances the client uses: one per connection.
  # (awk stops by itself: head would end the pipe early, which pipefail turns into an exit)
  awk -v n="$tls_connections" '!seen[$1]++ { print $1; if (++k == n) exit }' "$work/targets.txt" >"$tls_dir/instances.txt"
  scripts/runtime-cert.sh ca "$tls_dir/runtime-ca" 2>/dev/null
  psql -qAt -F ' ' -d "$base" -c "SELECT id, customer_id FROM instances
    WHERE id IN ($(sed "s/.*/'&'/" "$tls_dir/instances.txt" | paste -sd,))" |
    while read -r instance customer; do
      scripts/runtime-cert.sh issue --ca-dir "$tls_dir/runtime-ca" --trust-domain "$trust_domain" \
        --customer "$customer" --instance "$instance" --out "$tls_dir/runtime/$instance" >/dev/null
    done
  echo "https: $(ls "$tls_dir"/runtime/*-key.pem | wc -l) runtime certificates issued (one per instance the client uses)"

  # Every broker's journal (audit, audit-tls, audit-identity) shipped: a run's CPU then includes
  # shipping its own audit records and none of the run before's.
  tls_wait_shipped() {
    local want held
    want=$({ cat "$work"/audit*/segment-*.jsonl 2>/dev/null || true; } | wc -l)
    for _ in $(seq 150); do
      held=$(psql -qAt -d "$base" -c "SELECT count(*) FROM audit_events")
      [ "$held" -ge "$want" ] && return 0
      sleep 0.2
    done
    echo "warning: PostgreSQL holds $held of $want records after 30 s"
  }
  tls_run() {  # mode, run name, hydra-bench-tls-load args...
    local mode=$1 name=$2; shift 2
    local before after out
    tls_wait_shipped
    before=$(broker_ticks)
    out=$("$tls_load" --port "$tls_port" --duration "$seconds" "$@" 2>"$work/tls-$mode-$name.err") ||
      { echo "$mode $name: failed: $out"; cat "$work/tls-$mode-$name.err"; }
    tls_wait_shipped
    after=$(broker_ticks)
    echo "$out" | tr ' ' '\n' | awk -F= -v mode="$mode" -v name="$name" -v ticks=$((after - before)) \
      -v hz="$(getconf CLK_TCK)" '
      { v[$1] = $2 }
      END { printf "%-9s %-13s %8.0f req/s   p50 %7.2f ms   p99 %7.2f ms   errors %s+%s   broker CPU %6.0f us/req   client CPU %5.0f us/req\n",
              mode, name, v["rps"], v["p50_ms"], v["p99_ms"], v["errors"], v["io_errors"],
              v["requests"] ? ticks * 1e6 / hz / v["requests"] : 0, v["client_cpu_us_per_request"] }'
    [ "$name" = fetch-64 ] && echo "$mode: $(echo "$out" | tr ' ' '\n' | grep -E '^(tls|connections_opened)=' | paste -sd' ')" || true
  }
  tls_suite() {  # mode, hydra-bench-tls-load args for the connection
    local mode=$1; shift
    "$tls_load" --port "$tls_port" --duration 3 --targets "$work/targets.txt" "$@" >/dev/null 2>&1 || true  # warm-up
    # What the broker spends with no request (audit shipping, timers), 10-20 ms/s here: a few us
    # of the 1-connection run's CPU per request (several times the 64-connection run's: nothing
    # is shared among requests there; not profiled).
    tls_wait_shipped
    local idle_before idle_after
    idle_before=$(broker_ticks)
    sleep 2
    idle_after=$(broker_ticks)
    echo "$mode: broker CPU when idle: $(( (idle_after - idle_before) * 1000 / $(getconf CLK_TCK) / 2 )) ms/s"
    tls_run "$mode" healthz-64 --path /healthz --connections "$tls_connections" "$@"
    tls_run "$mode" fetch-64 --targets "$work/targets.txt" --connections "$tls_connections" "$@"
    tls_run "$mode" fetch-1 --targets "$work/targets.txt" --connections 1 "$@"
    tls_run "$mode" new-conn-8 --targets "$work/targets.txt" --connections 8 --new-connection "$@"
  }
  stop_broker() {
    kill "$broker_pid" 2>/dev/null || true
    wait "$broker_pid" 2>/dev/null || true
  }
  start_tls_broker() {  # mode: tls | identity
    local mode=$1 attempt
    local identity=()
    if [ "$mode" = identity ]; then
      identity=(HYDRA_RUNTIME_CA_FILE="$tls_dir/runtime-ca/runtime-ca.pem" HYDRA_RUNTIME_TRUST_DOMAIN="$trust_domain")
    fi
    for attempt in 1 2 3 4 5; do
      # Below the ephemeral range (32768-60999): the new-connection runs leave thousands of
      # client ports in TIME_WAIT there, and a listener picked among them can find it taken.
      tls_port=$((20000 + RANDOM % 12000))
      env HYDRA_DATABASE_URL="$broker_db${BENCH_DB_PARAMS:-}" \
        HYDRA_BROKER_PRIVATE_KEYS="$work/broker.pem" HYDRA_LISTEN="127.0.0.1:$tls_port" HYDRA_LOG_LEVEL=warning \
        HYDRA_AUDIT_DIR="$work/audit-$mode" HYDRA_AUDIT_SIGNING_KEY="$work/audit.pem" \
        HYDRA_TLS_CERT_FILE="$tls_dir/server.pem" HYDRA_TLS_KEY_FILE="$tls_dir/server-key.pem" "${identity[@]}" \
        build-bench/broker/hydracore-broker serve 2>"$work/broker-$mode.log" &
      broker_pid=$!
      for _ in $(seq 100); do
        curl -sf --cacert "$tls_dir/ca.pem" "https://127.0.0.1:$tls_port/healthz" >/dev/null && return 0
        kill -0 "$broker_pid" 2>/dev/null || break
        sleep 0.1
      done
      stop_broker
      grep -q "Address already in use" "$work/broker-$mode.log" || break
    done
    echo "the $mode broker did not start"; cat "$work/broker-$mode.log"; exit 1
  }


  echo "same client on HTTP and HTTPS, $seconds s per run; errors: non-200 + I/O"
  tls_port=$port
  tls_suite http --plain
  stop_broker
  modes=$bench_tls
  [ "$bench_tls" = all ] && modes="tls identity"
  for mode in $modes; do
    start_tls_broker "$mode"
    if [ "$mode" = identity ]; then
      tls_suite identity --ca "$tls_dir/ca.pem" --cert-dir "$tls_dir/runtime"
    else
      tls_suite tls --ca "$tls_dir/ca.pem"
    fi
    stop_broker
  done
fi
# --- end of HTTPS section ---------------------------------------------------------------------
