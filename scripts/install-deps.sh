#!/usr/bin/env bash
# Installs the Debian 12 packages the project builds, runs and tests with.
# Skips apt entirely when everything is already there.
#   scripts/install-deps.sh [--fuzz]
# --fuzz adds clang-16 with libFuzzer and the sanitizer runtimes, for the sanitizer build and
# the fuzz targets (scripts/test.sh, scripts/fuzz.sh); scripts/run.sh does without them.
set -euo pipefail

packages=(
  # build
  cmake g++ make ninja-build pkg-config
  libpistache-dev libpoco-dev libpqxx-dev libpq-dev libbotan-2-dev rapidjson-dev doctest-dev libssl-dev
  prometheus-cpp-dev  # metrics: the core library (Registry, text format)
  # run and test: a throwaway PostgreSQL, key generation, the curl walk-through
  postgresql openssl curl ca-certificates
  # validating compose.yaml (no Docker engine needed)
  docker-compose
)

if [ "${1:-}" = "--fuzz" ]; then
  # libfuzzer-16-dev alone is not enough: the runtimes -fsanitize=fuzzer,address,undefined
  # links are in libclang-rt-16-dev.
  packages+=(clang-16 libfuzzer-16-dev libclang-rt-16-dev)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
