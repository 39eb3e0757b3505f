#!/usr/bin/env bash
# compose.yaml must be a valid Compose file. Docker cannot run on the build machines, so this
# is what can be checked here: docker-compose (Debian's v1) parses and resolves it, and the
# network layout keeps the database off the public network.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$repo/compose.yaml" "$repo/Dockerfile" "$work/"
mkdir "$work/secrets"
touch "$work/secrets/postgres-password" "$work/secrets/admin-token" "$work/secrets/broker-public.pem"
resolved=$(cd "$work" && docker-compose -f compose.yaml config)
echo "$resolved" | grep -q "internal: true" || { echo "the database network must be internal"; exit 1; }
# postgres is on the database network only.
echo "$resolved" | awk '/^  postgres:/{p=1;next} /^  [a-z-]+:$/{p=0} p' | grep -q "public" &&
  { echo "postgres must not be on the public network"; exit 1; }
echo "compose.yaml: valid"
