#!/usr/bin/env bash
# Soak: both services under a mixed load from a second process (wrk, loopback) for SECONDS while
# PostgreSQL is restarted twice and the broker gets SIGTERM and is started again once:
#   0 ............ warm-up (1/8) ...... PostgreSQL restart (1/4, down 5 s) ...... broker SIGTERM
#   and restart (9/20) ...... broker warm-up again (4/7) ...... PostgreSQL restart (7/10) ...... end
# Prints the requests sent and answered by status per service, then fails on
#   - any 500 from either service,
#   - a released credential without its audit record: the X-Request-Id of every 200 fetch must
#     be the request_id of an "allowed" record in the broker's journal (HYDRA_AUDIT_DIR),
#   - resident memory growing after warm-up by more than max(32 MiB, 25%) (SOAK_RSS_GROWTH_MIB
#     sets a fixed bound): the control plane over the whole run, the broker over each of its lives,
#   - the broker not exiting 0 on SIGTERM, or the journal failing `hydracore-audit verify` at the end.
#   bench/soak.sh [SECONDS, default 240] [CUSTOMERS, default 200]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/pg.sh
seconds=${1:-240}
customers=${2:-200}
[ "$seconds" -ge 80 ] || { echo "soak: at least 80 seconds" >&2; exit 2; }

scripts/install-deps.sh
command -v wrk >/dev/null || { sudo_=(); [ "$(id -u)" -ne 0 ] && sudo_=(sudo); "${sudo_[@]}" apt-get install -y -qq wrk >/dev/null; }
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DHYDRA_BUILD_TESTS=OFF >/dev/null
cmake --build build-bench -j"$(nproc)" --target hydracore-control-plane hydracore-broker hydracore-audit hydra-bench-seed >/dev/null

work=$(mktemp -d /tmp/hydracore-soak.XXXXXX)
chmod 755 "$work"
cleanup() {
  for pid in ${sampler_pid:-} ${wrk_cp_pid:-} ${wrk_fetch_pid:-} ${cp_pid:-} ${broker_pid:-}; do
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  done
  pg_stop "$work/pg"
  if [ -n "${SOAK_KEEP:-}" ]; then echo "soak: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pg_start "$work/pg"
base="postgresql://postgres@127.0.0.1:$PG_PORT/postgres"
HYDRA_DATABASE_URL="$base" build-bench/control-plane/hydracore-control-plane migrate 2>/dev/null
build-bench/broker/hydracore-broker keygen --private-key "$work/broker.pem" --public-key "$work/broker.pub" \
  --audit-key "$work/audit.pem" --verifier-key "$work/audit-verifier.txt" >/dev/null
build-bench/bench/hydra-bench-seed "$base" "$work/broker.pub" "$customers" >"$work/targets.txt"

cp_port=$((20000 + RANDOM % 40000))
broker_port=$((cp_port == 59999 ? 20000 : cp_port + 1))
cp_url="http://127.0.0.1:$cp_port"
broker_url="http://127.0.0.1:$broker_port"
admin_token=$(openssl rand -hex 24)

wait_healthy() {  # url pid log
  for _ in $(seq 100); do
    curl -sf "$1/healthz" >/dev/null && return 0
    kill -0 "$2" 2>/dev/null || break
    sleep 0.1
  done
  echo "soak: a service did not start; last lines of $3:" >&2
  tail -n 5 "$3" >&2
  exit 1
}
start_broker() {
  HYDRA_DATABASE_URL="postgresql://hydracore_broker@127.0.0.1:$PG_PORT/postgres" HYDRA_LISTEN="127.0.0.1:$broker_port" \
  HYDRA_BROKER_PRIVATE_KEYS="$work/broker.pem" HYDRA_AUDIT_DIR="$work/audit" HYDRA_AUDIT_SIGNING_KEY="$work/audit.pem" \
  HYDRA_LOG_LEVEL=warning build-bench/broker/hydracore-broker serve 2>>"$work/broker.log" &
  broker_pid=$!
  echo "$broker_pid" >"$work/broker.pid"
  wait_healthy "$broker_url" "$broker_pid" "$work/broker.log"
}
HYDRA_DATABASE_URL="postgresql://hydracore_control_plane@127.0.0.1:$PG_PORT/postgres" HYDRA_ADMIN_TOKEN="$admin_token" \
HYDRA_LISTEN="127.0.0.1:$cp_port" HYDRA_BROKER_PUBLIC_KEY="$work/broker.pub" HYDRA_LOG_LEVEL=warning \
  build-bench/control-plane/hydracore-control-plane serve 2>>"$work/control-plane.log" &
cp_pid=$!
wait_healthy "$cp_url" "$cp_pid" "$work/control-plane.log"
start_broker

# The customer admin of the control-plane load.
customer=$(curl -sf -X POST "$cp_url/v1/admin/customers" -H "Authorization: Bearer $admin_token" -d '{"name":"soak"}' |
  sed 's/.*"id":"\([^"]*\)".*/\1/')
api_key=$(curl -sf -X POST "$cp_url/v1/customers/$customer/api-keys" -H "Authorization: Bearer $admin_token" \
  -d '{"name":"soak"}' | sed 's/.*"api_key":"\([^"]*\)".*/\1/')
echo "soak: ${seconds} s; $(wc -l <"$work/targets.txt") proxy keys over $customers customers; control plane $cp_url, broker $broker_url"

# Resident memory every second: "<second> <control plane KiB> <broker KiB> <broker pid>".
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
(
  t=0
  while :; do
    b=$(cat "$work/broker.pid")
    echo "$t $(rss "$cp_pid") $(rss "$b") $b"
    sleep 1
    t=$((t + 1))
  done
) >"$work/rss.txt" &
sampler_pid=$!

mkdir -p "$work/ids"
# Paced, not flat out: a soak, not a benchmark (2 cores shared with the services and PostgreSQL).
wrk -t2 -c8 -d"${seconds}s" --timeout 10s -s bench/soak_fetch.lua "$broker_url" -- "$work/targets.txt" "$work/ids" 4 \
  >"$work/wrk-fetch.txt" 2>&1 &
wrk_fetch_pid=$!
wrk -t1 -c4 -d"${seconds}s" --timeout 10s -s bench/soak_cp.lua "$cp_url" -- "$customer" "$api_key" 8 \
  >"$work/wrk-cp.txt" 2>&1 &
wrk_cp_pid=$!
started=$(date +%s)
at() {  # wait until second $1 of the run
  local now=$(($(date +%s) - started))
  [ "$now" -lt "$1" ] && sleep $(($1 - now))
  return 0
}
event() { echo "  [$(printf '%3d' $(($(date +%s) - started))) s] $*"; }

warm=$((seconds / 8))
at "$warm"
event "warm-up over"
at $((seconds / 4))
event "PostgreSQL: stop (fast), down 5 s"
pg_restart "$work/pg" 5
event "PostgreSQL: up again"
at $((seconds * 9 / 20))
event "broker: SIGTERM"
kill -TERM "$broker_pid"
broker_exit=0
wait "$broker_pid" || broker_exit=$?
event "broker: exited with $broker_exit; starting it again"
broker_restart=$(($(date +%s) - started))
start_broker
event "broker: serving again"
broker_warm=$((seconds * 4 / 7))
at $((seconds * 7 / 10))
event "PostgreSQL: stop (fast), down 5 s"
pg_restart "$work/pg" 5
event "PostgreSQL: up again"
wait "$wrk_fetch_pid" || true
wait "$wrk_cp_pid" || true
wrk_fetch_pid= wrk_cp_pid=
event "load over"
kill "$sampler_pid" 2>/dev/null && wait "$sampler_pid" 2>/dev/null || true
sampler_pid=
# A clean stop signs a last checkpoint: the journal must verify as a whole.
kill -TERM "$broker_pid"
final_exit=0
wait "$broker_pid" || final_exit=$?
broker_pid=

failures=()
report() {  # name file: one line per service; fails if it answered a 500
  { grep '^status' "$2" | sort -k2,2n; grep '^errors' "$2"; } | awk -v name="$1" '
    $1 == "status" { line = line sprintf("%d: %d  ", $2, $3); answered += $3; if ($2 == 500) bad += $3 }
    $1 == "errors" { connect = $3; lost = $5 + $7 + $9 }
    END {
      printf "%-13s sent %d, answered %d (%s), no answer %d (connection cut or timed out), refused connections %d\n",
        name, answered + lost, answered, line, lost, connect
      exit (bad > 0 ? 1 : 0)
    }'
}
echo
echo "requests (by HTTP status)"
report "control plane" "$work/wrk-cp.txt" || failures+=("the control plane answered 500")
report "broker fetch" "$work/wrk-fetch.txt" || failures+=("the broker answered 500")
grep -qE '^status' "$work/wrk-cp.txt" || failures+=("no control-plane answers: $(head -c 300 "$work/wrk-cp.txt")")
grep -qE '^status' "$work/wrk-fetch.txt" || failures+=("no broker answers: $(head -c 300 "$work/wrk-fetch.txt")")

# Every released credential has its audit record.
cat "$work"/ids/ids-*.txt 2>/dev/null | sort -u >"$work/released.txt" || true
cat "$work"/audit/segment-*.jsonl | grep -o '"outcome":"allowed","reason":"[^"]*","request_id":"[^"]*"' |
  sed 's/.*"request_id":"\([^"]*\)"/\1/' | sort -u >"$work/allowed.txt"
released=$(wc -l <"$work/released.txt")
missing=$(comm -23 "$work/released.txt" "$work/allowed.txt" | wc -l)
echo
echo "audit: $released credentials released (200), $(wc -l <"$work/allowed.txt") allowed records in the journal" \
  "($(cat "$work"/audit/segment-*.jsonl | wc -l) records in all); released without a record: $missing"
[ "$missing" -eq 0 ] || failures+=("$missing released credentials have no audit record, e.g. $(comm -23 "$work/released.txt" "$work/allowed.txt" | head -3 | tr '\n' ' ')")
[ "$released" -gt 0 ] || failures+=("no credential was released")
verify=$(build-bench/audit/hydracore-audit verify --journal "$work/audit" --verifier-key "$work/audit-verifier.txt" 2>&1) ||
  failures+=("audit verify: $verify")
echo "audit verify: $verify"
echo "broker exit codes on SIGTERM: $broker_exit (mid-run), $final_exit (end)"
[ "$broker_exit" -eq 0 ] && [ "$final_exit" -eq 0 ] || failures+=("the broker did not exit 0 on SIGTERM")

# Resident memory after warm-up, per life of each process.
memory() {  # name column from to (seconds of the run)
  awk -v name="$1" -v col="$2" -v from="$3" -v to="$4" -v fixed="${SOAK_RSS_GROWTH_MIB:-}" '
    $1 >= from && $1 <= to && $col > 0 { if (base == "") base = $col; if ($col > peak) peak = $col; last = $col }
    END {
      bound = fixed != "" ? fixed * 1024 : (base / 4 > 32768 ? base / 4 : 32768)
      printf "%-27s after warm-up %6.1f MiB, peak %6.1f MiB, at the end %6.1f MiB (growth bound %.1f MiB)\n",
        name, base / 1024, peak / 1024, last / 1024, bound / 1024
      exit (peak - base > bound ? 1 : 0)
    }' "$work/rss.txt"
}
end=$(tail -n 1 "$work/rss.txt" | cut -d' ' -f1)
echo
echo "resident memory"
memory "control plane" 2 "$warm" "$end" || failures+=("the control plane's memory grew past its bound")
memory "broker (first life)" 3 "$warm" $((broker_restart - 1)) || failures+=("the broker's memory grew past its bound")
memory "broker (after its restart)" 3 "$broker_warm" "$end" || failures+=("the restarted broker's memory grew past its bound")

echo
grep -c "" "$work/control-plane.log" >/dev/null && grep -E "error|ALARM" "$work/control-plane.log" | sort | uniq -c | sort -rn | head -5 |
  sed 's/^/control plane log: /' || true
grep -E "error|ALARM" "$work/broker.log" | sed 's/^[^ ]* [^ ]* //' | sort | uniq -c | sort -rn | head -5 | sed 's/^/broker log: /' || true
if [ ${#failures[@]} -gt 0 ]; then
  printf 'FAIL: %s\n' "${failures[@]}"
  SOAK_KEEP=1
  exit 1
fi
echo "PASS"
