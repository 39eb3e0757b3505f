#!/usr/bin/env bash
# Sets up and runs HydraCore Connections on this machine: installs packages, builds, starts a
# PostgreSQL cluster under .run/, migrates, creates the broker key pair and an admin token
# (once), starts the control plane, and prints the URLs and the admin token.
# Ctrl-C stops everything. `scripts/run.sh --smoke` starts, checks one request, and stops.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/pg.sh

smoke=false
[ "${1:-}" = "--smoke" ] && smoke=true
CP_PORT=${HYDRA_CP_PORT:-8080}

scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target hydracore-control-plane

run=.run
mkdir -p "$run"
chmod 700 "$run"
# PostgreSQL runs as the postgres user when we are root; it must be able to reach its folder.
pg_data="$PWD/$run/pg"
if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$PWD/$run" 2>/dev/null; then
  pg_data=/var/tmp/hydracore-pg-$(echo "$PWD" | md5sum | cut -c1-8)
  ln -sfn "$pg_data" "$run/pg"
fi

cleanup() {
  [ -n "${cp_pid:-}" ] && kill "$cp_pid" 2>/dev/null && wait "$cp_pid" 2>/dev/null || true
  pg_stop "$pg_data"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
pg_start "$pg_data"
export HYDRA_DATABASE_URL="$PG_URL"
build/control-plane/hydracore-control-plane migrate 2>>"$run/control-plane.log"

if [ ! -f "$run/keys/broker-private.pem" ]; then
  mkdir -p "$run/keys" && chmod 700 "$run/keys"
  openssl genpkey -algorithm X25519 -out "$run/keys/broker-private.pem" 2>/dev/null
  chmod 600 "$run/keys/broker-private.pem"
  openssl pkey -in "$run/keys/broker-private.pem" -pubout -out "$run/keys/broker-public.pem"
fi
if [ ! -f "$run/admin-token" ]; then
  (umask 077 && openssl rand -hex 24 >"$run/admin-token")
fi
export HYDRA_ADMIN_TOKEN=$(cat "$run/admin-token")
export HYDRA_BROKER_PUBLIC_KEY="$PWD/$run/keys/broker-public.pem"
export HYDRA_LISTEN="127.0.0.1:$CP_PORT"

build/control-plane/hydracore-control-plane serve 2>>"$run/control-plane.log" &
cp_pid=$!
for _ in $(seq 50); do
  curl -sf "http://$HYDRA_LISTEN/healthz" >/dev/null && break
  kill -0 "$cp_pid" 2>/dev/null || { tail -n 5 "$run/control-plane.log" >&2; exit 1; }
  sleep 0.1
done

cat <<INFO

HydraCore Connections is running.
  control plane   http://$HYDRA_LISTEN      (log: $run/control-plane.log)
  PostgreSQL      $PG_URL
  admin token     $HYDRA_ADMIN_TOKEN
  broker key      $run/keys/broker-private.pem (public: $run/keys/broker-public.pem)

Try:  curl -s -X POST http://$HYDRA_LISTEN/v1/admin/customers \\
        -H "Authorization: Bearer $HYDRA_ADMIN_TOKEN" -d '{"name":"Acme"}'
INFO

if $smoke; then
  status=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://$HYDRA_LISTEN/v1/admin/customers" \
    -H "Authorization: Bearer $HYDRA_ADMIN_TOKEN" -d '{"name":"smoke test"}')
  echo "smoke: POST /v1/admin/customers -> $status"
  [ "$status" = 201 ]
  exit 0
fi
echo "Press Ctrl-C to stop."
wait "$cp_pid"
