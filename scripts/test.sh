#!/usr/bin/env bash
# The whole test suite, as on a fresh Debian 12 machine: installs what it needs, builds with
# warnings as errors, starts a throwaway PostgreSQL on a private port, runs every test under
# CTest, and removes the cluster again. Then the same code once more under AddressSanitizer and
# UndefinedBehaviorSanitizer (clang-16, build-sanitize/): the unit suites, the end-to-end suite
# against the sanitized binaries, and a short run of every fuzz target (scripts/fuzz.sh).
#   scripts/test.sh [CTEST ARGS...]   (the arguments go to the first, normal CTest run)
# HYDRA_SANITIZE_TESTS=0 skips the sanitizer part; HYDRA_FUZZ_SECONDS (default 10) is each
# fuzz target's run.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/pg.sh
sanitize=${HYDRA_SANITIZE_TESTS:-1}

if [ "$sanitize" = 1 ]; then scripts/install-deps.sh --fuzz; else scripts/install-deps.sh; fi
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

(cd build && ctest --output-on-failure -j"$(nproc)" "$@")
[ "$sanitize" = 1 ] || exit 0

# --- The sanitizer build -------------------------------------------------------------------
# Only what runs below: the binaries, the unit suites and the fuzz targets. The end-to-end
# suite's own driver (build/tests/hydra_e2e_tests, an HTTP client) is reused: it starts the
# sanitized binaries (HYDRA_TEST_*_BIN), and any sanitizer report in their output fails the
# test case that started them (tests/support/control_plane.cpp).
echo "test.sh: sanitizer build (clang-16, address + undefined, build-sanitize/)"
# -O1 and line tables only: the usual sanitizer settings, and half the build time of -O2 -g.
cmake -S . -B build-sanitize -DCMAKE_CXX_COMPILER=clang++-16 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" -DHYDRA_WERROR=ON -DHYDRA_FUZZ=ON >/dev/null
cmake --build build-sanitize -j"$(nproc)" --target hydracore-control-plane hydracore-broker hydra_unit_tests \
  hydra_crypto_tests fuzz_targets

# What reaches every sanitized process, the servers the tests start included (they inherit the
# environment): the first report ends the process (-fno-sanitize-recover=all; abort_on_error
# for a core-less SIGABRT the tests see as a crash) and its text is on stderr, where the test
# support finds it. LeakSanitizer stays on: our servers free what they allocate when they shut
# down on SIGTERM, and the few one-time allocations of the libraries we link that never are
# freed are listed with their reasons in tests/sanitizer/lsan.supp.
symbolizer=$(command -v llvm-symbolizer-16 llvm-symbolizer addr2line 2>/dev/null | head -n 1 || true)
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:check_initialization_order=1:strict_init_order=1:\
detect_stack_use_after_return=1:print_summary=1${symbolizer:+:external_symbolizer_path=$symbolizer}"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:print_summary=1"
export LSAN_OPTIONS="suppressions=$PWD/tests/sanitizer/lsan.supp:print_suppressions=0"
export HYDRA_TEST_CONTROL_PLANE_BIN="$PWD/build-sanitize/control-plane/hydracore-control-plane"
export HYDRA_TEST_BROKER_BIN="$PWD/build-sanitize/broker/hydracore-broker"
start=$(date +%s)
(cd build-sanitize && ctest --output-on-failure -j"$(nproc)" -R '^(unit|crypto):')
(cd build && ctest --output-on-failure -j"$(nproc)" -R "${HYDRA_SANITIZE_E2E:-^e2e:}")
echo "test.sh: unit and end-to-end suites under the sanitizers in $(($(date +%s) - start)) s"
HYDRA_FUZZ_BUILD_DIR=build-sanitize scripts/fuzz.sh "${HYDRA_FUZZ_SECONDS:-10}"
