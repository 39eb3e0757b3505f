#!/usr/bin/env bash
# The whole test suite, as on a fresh Debian 12 machine: installs what it needs, builds with
# warnings as errors, starts a throwaway PostgreSQL on a private port, runs every test under
# CTest, and removes the cluster again. Then the same code once more under AddressSanitizer and
# UndefinedBehaviorSanitizer (clang-16, build-sanitize/): the unit suites, the end-to-end suite
# against the sanitized binaries, and a short run of every fuzz target (scripts/fuzz.sh).
#   scripts/test.sh [CTEST ARGS...]   (the arguments go to the two normal CTest runs)
# HYDRA_SANITIZE_TESTS=0 skips the sanitizer part; HYDRA_FUZZ_SECONDS (default 4) is each
# fuzz target's run; HYDRA_TEST_JOBS (default 8) how many test cases run at once. It prints
# the time of each phase at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/pg.sh
sanitize=${HYDRA_SANITIZE_TESTS:-1}

# Time of each phase, printed at the end (and when a phase fails: the trap prints what ran).
phases=()
phase_start=$(date +%s)
phase_done() { phases+=("$(printf '%-44s %5d s' "$1" $(($(date +%s) - phase_start)))"); phase_start=$(date +%s); }
report() { [ ${#phases[@]} -eq 0 ] || { echo "test.sh: time per phase"; printf '  %s\n' "${phases[@]}"; }; }

if [ "$sanitize" = 1 ]; then scripts/install-deps.sh --fuzz --browser; else scripts/install-deps.sh --browser; fi
# Chromium, node and tests/browser's packages are installed now: a browser test that finds
# none fails instead of skipping (tests/support/browser.hpp).
export HYDRA_REQUIRE_BROWSER=1
phase_done "install packages"
# -O2 without debug information: a third less compile time than RelWithDebInfo, and a
# failing test's report names the test case and its assertion, not a stack.
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" -DHYDRA_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)"
phase_done "build (gcc, -O2)"

pg_dir=$(mktemp -d /tmp/hydracore-test-pg.XXXXXX)
chmod 755 "$pg_dir"  # the postgres user must reach its data folder inside
sanitizer_build_pid=
cleanup() {
  [ -z "$sanitizer_build_pid" ] || kill "$sanitizer_build_pid" 2>/dev/null || true
  pg_stop "$pg_dir/data"; rm -rf "$pg_dir"; report
}
trap cleanup EXIT
# Up to 8 test cases at once, each with its own database and servers' pools.
PG_EXTRA_OPTS="-c fsync=off -c synchronous_commit=off -c max_connections=500" pg_start "$pg_dir/data"

# Every test gets its own database cloned from this migrated template (tests/support/pg.hpp).
export HYDRA_TEST_ADMIN_URL="$PG_URL"
psql -q -d "$PG_URL" -c "CREATE DATABASE hydra_template" >/dev/null
HYDRA_DATABASE_URL="postgresql://postgres@127.0.0.1:$PG_PORT/hydra_template" \
  build/control-plane/hydracore-control-plane migrate 2>/dev/null

# --- The sanitizer build, in the background -------------------------------------------------
# Only what runs below: the binaries, the unit suites and the fuzz targets. The end-to-end
# suite's own driver (build/tests/hydra_e2e_tests, an HTTP client) is reused: it starts the
# sanitized binaries (HYDRA_TEST_*_BIN), and any sanitizer report in their output fails the
# test case that started them (tests/support/control_plane.cpp). It builds, niced, while the
# end-to-end suite below mostly waits on sockets and PostgreSQL.
if [ "$sanitize" = 1 ]; then
  # -O1 and line tables only: the usual sanitizer settings, and half the build time of -O2 -g.
  (cmake -S . -B build-sanitize -DCMAKE_CXX_COMPILER=clang++-16 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" -DHYDRA_WERROR=ON -DHYDRA_FUZZ=ON &&
    nice -n 10 cmake --build build-sanitize -j"$(nproc)" --target hydracore-control-plane hydracore-broker \
      hydracore-audit hydra_unit_tests hydra_crypto_tests fuzz_targets) >"$pg_dir/sanitizer-build.log" 2>&1 &
  sanitizer_build_pid=$!
fi

# Tests whose assertions are about time or load (a revocation under load, throttles, slow
# clients, shutdown deadlines, delivery retries): they run afterwards, two at a time, on a
# machine no longer busy with the other tests and the sanitizer build.
timed='^e2e:(authz|shutdown|limits|tls|webhook cluster|webhooks|a database outage|revocation wait|identity: a kept-alive)'
(cd build && ctest --output-on-failure -j"${HYDRA_TEST_JOBS:-8}" -E "$timed" "$@")
phase_done "tests, 8 at a time (sanitizer build beside)"
if [ -n "$sanitizer_build_pid" ]; then
  wait "$sanitizer_build_pid" || { tail -n 40 "$pg_dir/sanitizer-build.log"; echo "test.sh: sanitizer build failed" >&2; exit 1; }
  sanitizer_build_pid=
  phase_done "rest of the sanitizer build (clang-16)"
fi
(cd build && ctest --output-on-failure -j2 -R "$timed" "$@")
phase_done "timed tests, 2 at a time"
[ "$sanitize" = 1 ] || exit 0

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
export HYDRA_TEST_AUDIT_BIN="$PWD/build-sanitize/audit/hydracore-audit"
(cd build-sanitize && ctest --output-on-failure -j"$(nproc)" -R '^(unit|crypto):')
# The end-to-end suite against the sanitized binaries, but for the timed tests: they check
# deadlines and throughput, which the sanitizers' slowdown distorts, on code the other cases
# also run. HYDRA_SANITIZE_E2E (a CTest regex) picks other cases, e.g. '^e2e:' for all.
# Six at a time: most cases spend their time waiting (servers starting, a provider's delay),
# not on the cores.
if [ -n "${HYDRA_SANITIZE_E2E:-}" ]; then
  (cd build && ctest --output-on-failure -j6 -R "$HYDRA_SANITIZE_E2E")
else
  (cd build && ctest --output-on-failure -j6 -R '^e2e:' -E "$timed")
fi
phase_done "unit and end-to-end suites, sanitized"
# Each fuzz target briefly, from its committed corpus: a regression check in CI; the long
# runs are scripts/fuzz.sh's own.
HYDRA_FUZZ_BUILD_DIR=build-sanitize scripts/fuzz.sh "${HYDRA_FUZZ_SECONDS:-4}"
phase_done "fuzz targets, ${HYDRA_FUZZ_SECONDS:-4} s each"
