#!/usr/bin/env bash
# Sets up and runs HydraCore Connections on this machine: installs packages, builds, starts a
# PostgreSQL cluster under .run/, migrates, creates the broker key pair, the audit signing key
# and an admin token (once), starts the control plane and the broker (each as its own database
# role; the broker's audit journal in .run/audit), and prints the URLs and the admin token.
# Ctrl-C stops everything. The broker runs without runtime identity (no runtime certificates,
# loopback HTTP), and says so; README.md, "Runtime identity", turns it on.
# `scripts/run.sh --smoke` starts, walks one credential from customer to runtime, stops, and
# verifies the audit journal with the verifier key (hydracore-audit).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/pg.sh

smoke=false
[ "${1:-}" = "--smoke" ] && smoke=true
CP_PORT=${HYDRA_CP_PORT:-8080}
BROKER_PORT=${HYDRA_BROKER_PORT:-8081}

scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target hydracore-control-plane hydracore-broker hydracore-audit

run=.run
mkdir -p "$run"
chmod 700 "$run"
# PostgreSQL runs as the postgres user when we are root; it must be able to reach its folder.
pg_data="$PWD/$run/pg"
if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$PWD/$run" 2>/dev/null; then
  pg_data=/var/tmp/hydracore-pg-$(echo "$PWD" | md5sum | cut -c1-8)
  # A shared folder: never adopt one (or a link) that someone else put there.
  if [ -L "$pg_data" ] || { [ -e "$pg_data" ] && [ "$(stat -c %U "$pg_data")" != postgres ]; }; then
    echo "run.sh: $pg_data exists and is not a PostgreSQL folder of ours; remove it or move the project" >&2
    exit 1
  fi
  ln -sfn "$pg_data" "$run/pg"
fi

cleanup() {
  for pid in ${cp_pid:-} ${broker_pid:-}; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  pg_stop "$pg_data"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
pg_start "$pg_data"
# Migrations run as the cluster's owner; each service then connects as its own role
# (schema/0009_service_roles.sql), with only the privileges it needs.
HYDRA_DATABASE_URL="$PG_URL" build/control-plane/hydracore-control-plane migrate 2>>"$run/control-plane.log"
cp_db="postgresql://hydracore_control_plane@127.0.0.1:$PG_PORT/postgres"
broker_db="postgresql://hydracore_broker@127.0.0.1:$PG_PORT/postgres"

if [ ! -f "$run/keys/broker-private.pem" ]; then
  mkdir -p "$run/keys" && chmod 700 "$run/keys"
  build/broker/hydracore-broker keygen --private-key "$run/keys/broker-private.pem" \
    --public-key "$run/keys/broker-public.pem" >/dev/null
fi
if [ ! -f "$run/keys/audit-signing.pem" ]; then
  build/broker/hydracore-broker keygen --audit-key "$run/keys/audit-signing.pem" \
    --verifier-key "$run/keys/audit-verifier.txt" >/dev/null
fi
if [ ! -f "$run/admin-token" ]; then
  (umask 077 && openssl rand -hex 24 >"$run/admin-token")
fi
admin_token=$(cat "$run/admin-token")
cp_url="http://127.0.0.1:$CP_PORT"
broker_url="http://127.0.0.1:$BROKER_PORT"

wait_healthy() {  # url pid log
  for _ in $(seq 50); do
    curl -sf "$1/healthz" >/dev/null && return 0
    kill -0 "$2" 2>/dev/null || break
    sleep 0.1
  done
  echo "a service did not start; last lines of $3:" >&2
  tail -n 5 "$3" >&2
  exit 1
}

# HYDRA_PUBLIC_URL: connect links and the OAuth redirect URI point at this control plane (the
# connect flow works from a browser on this machine; set it to reach it from elsewhere).
HYDRA_DATABASE_URL="$cp_db" HYDRA_ADMIN_TOKEN="$admin_token" HYDRA_LISTEN="127.0.0.1:$CP_PORT" \
HYDRA_BROKER_PUBLIC_KEY="$PWD/$run/keys/broker-public.pem" HYDRA_PUBLIC_URL="${HYDRA_PUBLIC_URL:-$cp_url}" \
  build/control-plane/hydracore-control-plane serve 2>>"$run/control-plane.log" &
cp_pid=$!
HYDRA_DATABASE_URL="$broker_db" HYDRA_LISTEN="127.0.0.1:$BROKER_PORT" \
HYDRA_BROKER_PRIVATE_KEYS="$PWD/$run/keys/broker-private.pem" \
HYDRA_AUDIT_DIR="$PWD/$run/audit" HYDRA_AUDIT_SIGNING_KEY="$PWD/$run/keys/audit-signing.pem" \
  build/broker/hydracore-broker serve 2>>"$run/broker.log" &
broker_pid=$!
wait_healthy "$cp_url" "$cp_pid" "$run/control-plane.log"
wait_healthy "$broker_url" "$broker_pid" "$run/broker.log"

cat <<INFO

HydraCore Connections is running.
  control plane   $cp_url   (log: $run/control-plane.log; database role hydracore_control_plane)
  broker          $broker_url   (log: $run/broker.log; database role hydracore_broker)
  PostgreSQL      $PG_URL
  admin token     $admin_token
  broker keys     $run/keys/broker-private.pem (public: $run/keys/broker-public.pem)
  audit journal   $run/audit (verifier key: $run/keys/audit-verifier.txt)

Runtime identity is OFF here (loopback development: a proxy key alone releases credentials). Production turns it on: HYDRA_RUNTIME_CA_FILE + HYDRA_RUNTIME_TRUST_DOMAIN on a TLS broker, see README.md, "Runtime identity".

Try:  curl -s -X POST $cp_url/v1/admin/customers \\
        -H "Authorization: Bearer $admin_token" -d '{"name":"Acme"}'
The README walks through every endpoint from there.
INFO

if $smoke; then
  scripts/smoke.sh "$cp_url" "$broker_url" "$admin_token"
  # A stopped broker has signed a checkpoint of everything: the journal must verify.
  kill "$broker_pid" && wait "$broker_pid" || true
  broker_pid=
  build/audit/hydracore-audit verify --journal "$run/audit" --verifier-key "$run/keys/audit-verifier.txt"
  exit 0
fi
echo "Press Ctrl-C to stop."
wait -n "$cp_pid" "$broker_pid"
