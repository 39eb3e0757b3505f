#!/usr/bin/env bash
# How long `hydracore-audit verify` and `hydracore-audit proof` take on a large journal: fills a
# journal with N records (default 1,000,000) through the broker's own journal code, then times
# both commands.
#   bench/audit_verify.sh [RECORDS]
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-1000000}
scripts/install-deps.sh
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DHYDRA_BUILD_TESTS=OFF >/dev/null
cmake --build build-bench -j"$(nproc)" --target hydracore-broker hydracore-audit hydra-bench-journal >/dev/null
work=$(mktemp -d /tmp/hydracore-verify-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
build-bench/broker/hydracore-broker keygen --audit-key "$work/audit.pem" --verifier-key "$work/verifier.txt" >/dev/null
since() { awk -v a="$1" -v b="$(date +%s%N)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }
start=$(date +%s%N)
build-bench/bench/hydra-bench-journal "$work/audit" "$work/audit.pem" "$records"
echo "filled in $(since "$start") s; journal size $(du -sh "$work/audit" | cut -f1)"
start=$(date +%s%N)
build-bench/audit/hydracore-audit verify --journal "$work/audit" --verifier-key "$work/verifier.txt"
took=$(since "$start")
echo "audit verify: $took s for $records records ($(awk -v t="$took" -v n="$records" 'BEGIN { printf "%.2f", t * 1e6 / n }') s per million)"
start=$(date +%s%N)
build-bench/audit/hydracore-audit proof --journal "$work/audit" --seq $((records / 2)) >/dev/null
echo "audit proof of one record: $(since "$start") s"
