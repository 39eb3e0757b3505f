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
# Every file secret compose.yaml names must exist for `config` to resolve it.
for s in $(sed -n 's|.*file: *\./secrets/\([^ },]*\).*|\1|p' "$repo/compose.yaml"); do
  touch "$work/secrets/$s"
done
resolved=$(cd "$work" && docker-compose -f compose.yaml config)

service() {  # the resolved block of one service
  echo "$resolved" | awk -v name="  $1:" '$0 == name { p = 1; next } /^  [a-z-]+:$/ { p = 0 } /^[a-z]/ { p = 0 } p'
}
fail() { echo "compose.yaml: $*" >&2; exit 1; }
mounts_of() {  # the secrets mounted into a service: "SOURCE PATH" a line (target or source under /run/secrets)
  service "$1" | awk '
    function out() { if (src != "") { t = (tgt != "" ? tgt : src); if (t !~ /^\//) t = "/run/secrets/" t; print src, t }
                     src = ""; tgt = "" }
    /^    secrets:$/ { p = 1; next }
    p && /^    [^ -]/ { out(); p = 0 }
    p && /^    - / { out(); sub(/^    - /, "      ") }
    p && /^      source: / { src = $2 }
    p && /^      target: / { tgt = $2 }
    END { if (p) out() }'
}
env_of() {  # the value of one environment variable of a service (empty if unset)
  service "$1" | awk -v k="      $2:" 'index($0, k) == 1 { sub(k " *", ""); print }'
}
healthcheck_files() {  # the files a service's health check names: /run/secrets/... and what curl's file options take
  service "$1" | awk '/^    healthcheck:$/ { p = 1; next } /^    [a-z_]/ { p = 0 } p && /^      - / { sub(/^      - /, ""); print }' |
    awk 'f { print; f = 0; next } /^(--cacert|--cert|-E|--key|--capath|--crlfile|--proxy-cacert)$/ { f = 1; next } /^\/run\/secrets\// { print }'
}
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
echo "$broker_networks" | grep -qx "runtime" || fail "the broker must be on the runtime network"
service broker | grep -q "broker_private_key" || fail "the broker must get the private key"
service control-plane | grep -q "broker_private_key" && fail "the control plane must not get the private key"
service control-plane | grep -q "hydracore_control_plane:" || fail "the control plane must connect as its own role"
service broker | grep -q "hydracore_broker:" || fail "the broker must connect as its own role"
# The audit journal is the point of durability: a volume of its own, and the signing key only here.
service broker | grep -q "HYDRA_AUDIT_DIR: /var/lib/hydracore/audit" || fail "the broker must keep its journal in HYDRA_AUDIT_DIR"
service broker | grep -q -- "- audit:/var/lib/hydracore/audit" || fail "the broker's audit journal must be on the named volume 'audit'"
service broker | grep -q "audit_signing_key" || fail "the broker must get the audit signing key"
service control-plane | grep -q "audit_signing_key" && fail "the control plane must not get the audit signing key"
# Metrics and readiness (issue 9): /metrics on a listener of its own, never the public or the
# runtime address; health checks ask for readiness.
service broker | grep -q "HYDRA_METRICS_LISTEN: broker.metrics:" || fail "the broker's metrics must have a listener of their own"
service control-plane | grep -q "HYDRA_METRICS_LISTEN: control-plane.metrics:" || fail "the control plane's metrics must have a listener of their own"
for s in control-plane broker; do
  service $s | grep -q "/readyz" || fail "$s's health check must ask /readyz"
done
# Every secret file a service's settings or health check name is mounted into it: the review of
# issue 17 found the broker's health check naming a CA the broker did not have (never healthy).
for s in control-plane broker; do
  mounted=$(mounts_of $s | awk '{ print $2 }')
  [ -n "$mounted" ] || fail "cannot read $s's secrets"
  for f in $(service $s | grep -o '/run/secrets/[A-Za-z0-9_.-]*' | sort -u) $(healthcheck_files $s); do
    echo "$mounted" | grep -qxF "$f" || fail "$s names $f, which is not mounted into it"
  done
done
# Runtime identity (issue 17): the broker releases only to runtime certificates of a CA the
# control plane never sees; HYDRA_TLS_CLIENT_CA_FILE (any certificate, no identity) is exclusive with it.
runtime_ca=$(env_of broker HYDRA_RUNTIME_CA_FILE)
[ -n "$runtime_ca" ] || fail "the broker must turn runtime identity on (HYDRA_RUNTIME_CA_FILE)"
env_of broker HYDRA_RUNTIME_TRUST_DOMAIN | grep -qE '^[a-z0-9._-]+$' ||
  fail "the broker needs HYDRA_RUNTIME_TRUST_DOMAIN (lowercase letters, digits, '.', '-', '_')"
[ -z "$(env_of broker HYDRA_TLS_CLIENT_CA_FILE)" ] || fail "HYDRA_TLS_CLIENT_CA_FILE and HYDRA_RUNTIME_CA_FILE are exclusive"
runtime_ca_secret=$(mounts_of broker | awk -v f="$runtime_ca" '$2 == f { print $1 }')
[ -n "$runtime_ca_secret" ] || fail "HYDRA_RUNTIME_CA_FILE ($runtime_ca) is not a secret mounted into the broker"
secret_file() {  # the file behind a top-level secret
  echo "$resolved" | awk -v n="  $1:" '/^[a-z]/ { top = $0 } top == "secrets:" && $0 == n { getline; sub(/^ *file: */, ""); print }'
}
runtime_ca_file=$(secret_file "$runtime_ca_secret")
[ -n "$runtime_ca_file" ] || fail "cannot read the file of secret $runtime_ca_secret"
for source in $(mounts_of control-plane | awk '{ print $1 }'); do
  [ "$source" != "$runtime_ca_secret" ] && [ "$(secret_file "$source")" != "$runtime_ca_file" ] ||
    fail "the control plane must not see the runtime CA (secret $source)"
done
service control-plane | grep -q "HYDRA_RUNTIME_\|HYDRA_TLS_CLIENT_CA_FILE" && fail "the control plane must have no runtime CA setting"
# The runtime CA's key stays with whoever issues runtime certificates: no CA key is a secret here.
echo "$resolved" | awk '/^[a-z]/ { top = $0 } top == "secrets:" && /^    file:/' | grep -qi "ca-key\|ca_key\|ca\.key" &&
  fail "a CA's private key must not be in compose.yaml (it stays with the issuer of runtime certificates)"
# With runtime identity the handshake asks for a certificate but does not require one: the
# broker's probe needs none, and a runtime certificate in the broker's container would be an
# identity anyone there could present.
service broker | awk '/^    healthcheck:$/ { p = 1; next } /^    [a-z_]/ { p = 0 } p' | grep -qE -- "- (--cert|-E|--key)$" &&
  fail "the broker's health check must present no client certificate"
for net in runtime cp-database broker-database cp-metrics broker-metrics; do
  echo "$resolved" | awk -v n="  $net:" '$0 == n { getline; print }' | grep -q "internal: true" ||
    fail "network $net must be internal"
done
echo "compose.yaml: valid"
