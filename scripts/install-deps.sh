#!/usr/bin/env bash
# Installs the Debian 12 packages the project builds, runs and tests with.
# Skips apt entirely when everything is already there.
#   scripts/install-deps.sh [--fuzz] [--browser]
# --fuzz adds clang-16 with libFuzzer and the sanitizer runtimes, for the sanitizer build and
# the fuzz targets (scripts/test.sh, scripts/fuzz.sh); scripts/run.sh does without them.
# --browser adds what the browser tests run on (scripts/test.sh): node, npm and Chromium from
# Debian, and tests/browser's npm packages at their locked versions (npm ci).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  # build
  cmake g++ make pkg-config
  libpistache-dev libpoco-dev libpqxx-dev libpq-dev libbotan-2-dev rapidjson-dev doctest-dev libssl-dev
  prometheus-cpp-dev  # metrics: the core library (Registry, text format)
  # run and test: a throwaway PostgreSQL, key generation, the curl walk-through
  postgresql openssl curl ca-certificates
  # validating compose.yaml (no Docker engine needed)
  docker-compose
)

browser=0
for flag in "$@"; do
  case "$flag" in
    --fuzz)
      # libfuzzer-16-dev alone is not enough: the runtimes -fsanitize=fuzzer,address,undefined
      # links are in libclang-rt-16-dev.
      packages+=(clang-16 libfuzzer-16-dev libclang-rt-16-dev)
      ;;
    --browser)
      browser=1
      packages+=(nodejs chromium)
      # Debian's npm, unless npm is there already: a nodejs from elsewhere (NodeSource) carries
      # its own and conflicts with Debian's package.
      command -v npm >/dev/null || packages+=(npm)
      ;;
    *) echo "install-deps: unknown option $flag" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
  echo "install-deps: installing ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# puppeteer-core (tests/browser/package-lock.json: exact versions and integrity hashes) into
# tests/browser/node_modules, again only when the lock file changed since the last install.
# puppeteer-core downloads no browser: the tests drive Debian's chromium.
if [ "$browser" = 1 ]; then
  installed=tests/browser/node_modules/.package-lock.json
  if [ ! -f "$installed" ] || [ tests/browser/package-lock.json -nt "$installed" ]; then
    echo "install-deps: npm ci in tests/browser"
    (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
