#!/usr/bin/env bash
# scripts/runtime-cert.sh must issue what the broker's runtime identity requires (issue 17):
# exactly one URI SAN, the SPIFFE id of the customer and instance asked for; clientAuth; a leaf
# (CA:FALSE, digitalSignature) chaining to the CA it made; keys 0600; the validity asked for.
# Bad input must be refused, writing nothing. Checked with openssl, not with the script itself.
set -euo pipefail
script=$(cd "$(dirname "$0")/.." && pwd)/scripts/runtime-cert.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "runtime-cert.sh: $*" >&2; exit 1; }

customer=0f5e2c1a-3b4d-4e6f-8a9b-1c2d3e4f5a6b
instance=9a8b7c6d-5e4f-4a3b-9c2d-1e0f2a3b4c5d
td=hydracore.test
expected="spiffe://$td/hydracore/customers/$customer/instances/$instance"
issue() { "$script" issue --ca-dir "$work/ca" --trust-domain "$td" --customer "$customer" --instance "$instance" "$@"; }

"$script" --help | grep -q "spiffe://TD/hydracore/customers/ID/instances/ID" || fail "--help does not show the SPIFFE id format"
printed=$(issue --out "$work/rt/one" --hours 2 2>/dev/null) || fail "issue failed"
[ "$(echo "$printed" | head -n 1)" = "$expected" ] || fail "printed '$printed', not the SPIFFE id $expected"
cert=$work/rt/one.pem key=$work/rt/one-key.pem ca=$work/ca/runtime-ca.pem
[ -f "$cert" ] && [ -f "$key" ] && [ -f "$ca" ] || fail "expected $cert, $key and $ca"

# Exactly one subjectAltName entry, and it is the URI of the SPIFFE id.
san=$(openssl x509 -in "$cert" -noout -ext subjectAltName | tail -n +2 | tr ',' '\n' | sed 's/^ *//;/^$/d')
[ "$(echo "$san" | wc -l)" -eq 1 ] || fail "expected one SAN entry, got: $san"
[ "$san" = "URI:$expected" ] || fail "SAN is '$san', not URI:$expected"
eku=$(openssl x509 -in "$cert" -noout -ext extendedKeyUsage | tail -n +2 | sed 's/^ *//')
[ "$eku" = "TLS Web Client Authentication" ] || fail "extendedKeyUsage is '$eku', not clientAuth only"
openssl x509 -in "$cert" -noout -ext basicConstraints | grep -q "CA:FALSE" || fail "not CA:FALSE"
[ "$(openssl x509 -in "$cert" -noout -ext keyUsage | tail -n +2 | sed 's/^ *//')" = "Digital Signature" ] ||
  fail "keyUsage is not digitalSignature only"
openssl x509 -in "$cert" -noout -text | grep -q "ASN1 OID: prime256v1" || fail "the key is not EC P-256"

openssl verify -CAfile "$ca" -purpose sslclient "$cert" >/dev/null || fail "the certificate does not chain to the CA"
other=$(mktemp -d -p "$work")
"$script" ca "$other" 2>/dev/null
openssl verify -CAfile "$other/runtime-ca.pem" "$cert" >/dev/null 2>&1 && fail "the certificate chains to another CA too"
[ "$(openssl x509 -in "$cert" -noout -pubkey)" = "$(openssl pkey -in "$key" -pubout)" ] || fail "the key is not the certificate's"

[ "$(stat -c %a "$key")" = 600 ] || fail "the certificate's key is mode $(stat -c %a "$key"), not 0600"
[ "$(stat -c %a "$work/ca/runtime-ca-key.pem")" = 600 ] || fail "the CA's key is not mode 0600"

# --hours 2: still valid in an hour, not in three (the start is set a few minutes back for skew).
openssl x509 -in "$cert" -noout -checkend 3600 >/dev/null || fail "--hours 2 expires within an hour"
openssl x509 -in "$cert" -noout -checkend 10800 >/dev/null && fail "--hours 2 is valid for more than three hours"
# The default is 24 hours; issuing again reuses the CA rather than replacing it.
ca_before=$(openssl x509 -in "$ca" -noout -fingerprint -sha256)
issue --out "$work/rt/two" >/dev/null 2>&1 || fail "issue with the default hours failed"
[ "$(openssl x509 -in "$ca" -noout -fingerprint -sha256)" = "$ca_before" ] || fail "a second issue replaced the CA"
openssl x509 -in "$work/rt/two.pem" -noout -checkend $((23 * 3600)) >/dev/null || fail "the default expires within 23 hours"
openssl x509 -in "$work/rt/two.pem" -noout -checkend $((25 * 3600)) >/dev/null && fail "the default is longer than 24 hours"
openssl verify -CAfile "$ca" -purpose sslclient "$work/rt/two.pem" >/dev/null || fail "the second certificate does not chain"

refused() {  # description, then the arguments of issue: must exit non-zero and write nothing
  local what=$1; shift
  if "$script" issue --ca-dir "$work/ca" --out "$work/rt/bad" "$@" >/dev/null 2>&1; then fail "accepted $what"; fi
  [ ! -e "$work/rt/bad.pem" ] && [ ! -e "$work/rt/bad-key.pem" ] || fail "wrote files for $what"
}
refused "an uppercase customer id" --trust-domain "$td" --customer "${customer^^}" --instance "$instance"
refused "an uppercase instance id" --trust-domain "$td" --customer "$customer" --instance "${instance^^}"
refused "a non-UUID instance id" --trust-domain "$td" --customer "$customer" --instance "instance-1"
refused "a braced UUID" --trust-domain "$td" --customer "{$customer}" --instance "$instance"
refused "an uppercase trust domain" --trust-domain "Hydracore.test" --customer "$customer" --instance "$instance"
refused "a trust domain with a slash" --trust-domain "hydracore.test/x" --customer "$customer" --instance "$instance"
refused "a trust domain with a port" --trust-domain "hydracore.test:443" --customer "$customer" --instance "$instance"
refused "an empty trust domain" --trust-domain "" --customer "$customer" --instance "$instance"
refused "no instance" --trust-domain "$td" --customer "$customer"
refused "zero hours" --trust-domain "$td" --customer "$customer" --instance "$instance" --hours 0
refused "hours that are not a number" --trust-domain "$td" --customer "$customer" --instance "$instance" --hours 2h
# A certificate may not outlive its CA.
"$script" ca "$work/short-ca" --days 1 2>/dev/null
if "$script" issue --ca-dir "$work/short-ca" --trust-domain "$td" --customer "$customer" --instance "$instance" \
  --out "$work/rt/long" --hours 48 >/dev/null 2>&1; then fail "issued a certificate outliving its CA"; fi
echo "runtime-cert.sh: issues verifiable SPIFFE certificates"
