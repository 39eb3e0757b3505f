#!/usr/bin/env bash
# The whole test suite, as on a fresh Debian 12 machine: installs what it needs, builds with
# warnings as errors, starts a throwaway PostgreSQL on a private port, runs every test under
# CTest, and removes the cluster again.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/pg.sh

scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHYDRA_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)"

pg_dir=$(mktemp -d /tmp/hydracore-test-pg.XXXXXX)
chmod 755 "$pg_dir"  # the postgres user must reach its data folder inside
cleanup() { pg_stop "$pg_dir/data"; rm -rf "$pg_dir"; }
trap cleanup EXIT
PG_EXTRA_OPTS="-c fsync=off -c synchronous_commit=off" pg_start "$pg_dir/data"

# Every test gets its own database cloned from this migrated template (tests/support/pg.hpp).
export HYDRA_TEST_ADMIN_URL="$PG_URL"
psql -q -d "$PG_URL" -c "CREATE DATABASE hydra_template" >/dev/null
HYDRA_DATABASE_URL="postgresql://postgres@127.0.0.1:$PG_PORT/hydra_template" \
  build/control-plane/hydracore-control-plane migrate 2>/dev/null

cd build
ctest --output-on-failure -j"$(nproc)" "$@"
