#!/usr/bin/env bash
# compose.yaml must be a valid Compose file with the network and secret layout the design
# asks for. Docker cannot run on the build machines, so this is what can be checked here:
# docker-compose (Debian's v1) parses and resolves it, then the resolved form is inspected.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$repo/compose.yaml" "$repo/Dockerfile" "$repo/deploy" "$work/"
mkdir "$work/secrets"
for s in postgres-password control-plane-db-password broker-db-password admin-token broker-public.pem broker-private.pem \
  tls-ca.pem control-plane.pem control-plane-key.pem broker.pem broker-key.pem runtime-ca.pem audit-signing.pem; do
  touch "$work/secrets/$s"
done
resolved=$(cd "$work" && docker-compose -f compose.yaml config)

service() {  # the resolved block of one service
  echo "$resolved" | awk -v name="  $1:" '$0 == name { p = 1; next } /^  [a-z-]+:$/ { p = 0 } /^[a-z]/ { p = 0 } p'
}
fail() { echo "compose.yaml: $*" >&2; exit 1; }
networks_of() {  # the networks a service is attached to, one a line
  service "$1" | awk '/^    networks:$/ { p = 1; next } /^    [a-z_]/ { p = 0 } p && /^      [a-z]/ { sub(":.*", ""); sub("^ +", ""); print }'
}

service postgres | grep -q "public\|runtime" && fail "postgres must be on the database networks only"
# A compromised control plane must have no path to the broker: its database role may write
# proxy keys and grants, so with one it could mint both and fetch every credential.
cp_networks=$(networks_of control-plane)
broker_networks=$(networks_of broker)
[ -n "$cp_networks" ] && [ -n "$broker_networks" ] || fail "cannot read the services' networks"
shared=$(comm -12 <(echo "$cp_networks" | sort) <(echo "$broker_networks" | sort))
[ -z "$shared" ] || fail "the control plane and the broker share network(s): $shared"
for s in control-plane broker; do
  service $s | grep -q "network_mode" && fail "$s must not use network_mode (it would share another's network stack)"
done
service broker | grep -q "^    ports:" && fail "the broker must publish no port on the host"
service broker | grep -q "HYDRA_LISTEN: 0.0.0.0" && fail "the broker must listen only on its runtime network address"
for s in control-plane broker; do
  service $s | grep -q "HYDRA_TLS_CERT_FILE:" || fail "$s must serve TLS (HYDRA_TLS_CERT_FILE)"
  service $s | grep -q "HYDRA_TLS_KEY_FILE:" || fail "$s must serve TLS (HYDRA_TLS_KEY_FILE)"
done
service broker | grep -q "public" && fail "the broker must not be on the public network"
service broker | grep -q "runtime" || fail "the broker must be on the runtime network"
service broker | grep -q "broker_private_key" || fail "the broker must get the private key"
service control-plane | grep -q "broker_private_key" && fail "the control plane must not get the private key"
service control-plane | grep -q "hydracore_control_plane:" || fail "the control plane must connect as its own role"
service broker | grep -q "hydracore_broker:" || fail "the broker must connect as its own role"
# The audit journal is the point of durability: a volume of its own, and the signing key only here.
service broker | grep -q "HYDRA_AUDIT_DIR: /var/lib/hydracore/audit" || fail "the broker must keep its journal in HYDRA_AUDIT_DIR"
service broker | grep -q -- "- audit:/var/lib/hydracore/audit" || fail "the broker's audit journal must be on the named volume 'audit'"
service broker | grep -q "audit_signing_key" || fail "the broker must get the audit signing key"
service control-plane | grep -q "audit_signing_key" && fail "the control plane must not get the audit signing key"
for net in runtime cp-database broker-database; do
  echo "$resolved" | awk -v n="  $net:" '$0 == n { getline; print }' | grep -q "internal: true" ||
    fail "network $net must be internal"
done
echo "compose.yaml: valid"
