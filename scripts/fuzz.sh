#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, clang-16 with AddressSanitizer and
# UndefinedBehaviorSanitizer) and runs each for SECONDS (default 60) from its committed seed
# corpus, then prints executions and crashes per target. Exits non-zero if any target crashed;
# the crashing inputs are kept under the work folder it names.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
# Environment: HYDRA_FUZZ_RUNS=N ends a target after N executions if that comes first (so
# `HYDRA_FUZZ_RUNS=1000000 scripts/fuzz.sh 3600` runs each target to a million executions);
# HYDRA_FUZZ_JOBS (default: the number of cores) targets at once;
# HYDRA_FUZZ_BUILD_DIR (default build-fuzz; scripts/test.sh shares its sanitizer build);
# HYDRA_FUZZ_WORK (default: a fresh folder under /tmp; new corpus entries and crashes go there,
# never into tests/fuzz/corpus).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
build=${HYDRA_FUZZ_BUILD_DIR:-build-fuzz}

scripts/install-deps.sh --fuzz
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S . -B "$build" -DCMAKE_CXX_COMPILER=clang++-16 -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHYDRA_WERROR=ON \
    -DHYDRA_FUZZ=ON >/dev/null
fi
cmake --build "$build" -j"$(nproc)" --target fuzz_targets

targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets <"$build/tests/fuzz/targets.txt"
work=${HYDRA_FUZZ_WORK:-$(mktemp -d /tmp/hydracore-fuzz.XXXXXX)}
mkdir -p "$work"

# A report ends the run at once and is printed with its stack; leaks count as crashes. No
# use-after-return detection here: its fake stacks are collected at every thrown exception, and
# several parsers refuse by throwing (it made some targets three times slower); the unit and
# end-to-end runs of scripts/test.sh keep it.
# Stacks with names: clang-16 brings no llvm-symbolizer of its own, binutils' addr2line will do.
symbolizer=$(command -v llvm-symbolizer-16 llvm-symbolizer addr2line 2>/dev/null | head -n 1 || true)
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=0${symbolizer:+:external_symbolizer_path=$symbolizer}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
runs=()
[ -n "${HYDRA_FUZZ_RUNS:-}" ] && runs=(-runs="$HYDRA_FUZZ_RUNS")

# One target's run; its line of the summary goes to $work/<target>.summary.
run_target() {
  local target=$1 binary="$build/tests/fuzz/fuzz_$1" seeds="tests/fuzz/corpus/$1" start status elapsed executions crashes
  mkdir -p "$work/corpus/$target" "$work/crashes/$target"
  # New inputs go to the first folder (the work copy); the committed seeds are only read.
  # -timeout: one input running 25 s is a hang, reported like a crash.
  start=$(date +%s.%N)
  status=0
  "$binary" -max_total_time="$seconds" "${runs[@]}" -timeout=25 -print_final_stats=1 \
    -artifact_prefix="$work/crashes/$target/" "$work/corpus/$target" "$seeds" >"$work/$target.log" 2>&1 || status=$?
  elapsed=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.0f", e - s }')
  executions=$(awk '/^stat::number_of_executed_units/ { n = $NF } END { print n + 0 }' "$work/$target.log")
  crashes=$(find "$work/crashes/$target" -type f | wc -l)
  if [ "$status" -ne 0 ] && [ "$crashes" -eq 0 ]; then crashes=1; fi  # died without an artifact
  printf '%-24s %14s %8s %10s %8s\n' "$target" "$executions" "$elapsed" \
    "$(awk -v n="$executions" -v s="$elapsed" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')" "$crashes" \
    >"$work/$target.summary"
  cat "$work/$target.summary"
}

for target in "${targets[@]}"; do
  [ -x "$build/tests/fuzz/fuzz_$target" ] || { echo "fuzz: no target $target" >&2; exit 2; }
done
# Targets run side by side, HYDRA_FUZZ_JOBS (default: one per core) at a time: each is one
# single-threaded process.
jobs_max=${HYDRA_FUZZ_JOBS:-$(nproc)}
for target in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n || true; done
  run_target "$target" &
done
wait

failed=0
for target in "${targets[@]}"; do
  cat "$work/$target.summary" >>"$work/summary.txt"
  if ! awk '{ exit ($NF == 0 ? 0 : 1) }' "$work/$target.summary"; then
    failed=1
    echo "fuzz: $target crashed; log $work/$target.log, inputs in $work/crashes/$target/:" >&2
    grep -m 20 -E "ERROR: |runtime error|FUZZ_CHECK|SUMMARY|terminate called|what\(\)" "$work/$target.log" >&2 || true
  fi
done
echo
cat "$work/summary.txt"
echo "fuzz: logs and new corpus entries in $work"
exit "$failed"
