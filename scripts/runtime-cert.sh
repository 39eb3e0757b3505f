#!/usr/bin/env bash
# Runtime certificates for tests and the quick start: a throwaway runtime CA, and short-lived
# certificates naming one customer and one instance, in the form the broker's runtime identity
# (HYDRA_RUNTIME_CA_FILE, HYDRA_RUNTIME_TRUST_DOMAIN) requires. Production issues the same
# identity with SPIRE, cert-manager or Vault PKI (README, "Runtime identity"). Needs only openssl.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage:
  scripts/runtime-cert.sh ca DIR [--days N]
      Makes a runtime CA in DIR: runtime-ca.pem (the certificate: give it to the broker as
      HYDRA_RUNTIME_CA_FILE) and runtime-ca-key.pem (EC P-256, mode 0600: keep it with whoever
      issues runtime certificates, never with the broker or the control plane). Leaves an
      existing CA as it is. --days: the CA's validity (default 365).

  scripts/runtime-cert.sh issue --ca-dir DIR --trust-domain TD --customer ID --instance ID
                                --out PREFIX [--hours N]
      Issues a runtime certificate: PREFIX.pem (the certificate) and PREFIX-key.pem (EC P-256,
      mode 0600), replacing them if they exist (renewal). It carries exactly one URI SAN,
        spiffe://TD/hydracore/customers/ID/instances/ID
      extendedKeyUsage clientAuth, keyUsage digitalSignature and CA:FALSE, and is valid for N
      hours (default 24, at most 8760): short-lived certificates are the only revocation, so
      renew often rather than issue for long. Makes the CA in DIR first if it has none.
      Ids are canonical lowercase UUIDs; TD is lowercase letters, digits, '.', '-' and '_'.
      Prints the SPIFFE id and the end of validity.

  scripts/runtime-cert.sh --help
USAGE
}

die() { echo "runtime-cert.sh: $*" >&2; exit 2; }
uuid_re='^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
trust_domain_re='^[a-z0-9._-]{1,255}$'

# The CA: made once, never replaced (a new one would orphan every certificate it issued).
make_ca() {  # DIR DAYS
  local dir=$1 days=$2
  if [ -f "$dir/runtime-ca.pem" ] && [ -f "$dir/runtime-ca-key.pem" ]; then return 0; fi
  [ -e "$dir/runtime-ca.pem" ] || [ -e "$dir/runtime-ca-key.pem" ] &&
    die "$dir holds only half a CA (runtime-ca.pem or runtime-ca-key.pem); remove it or complete it"
  mkdir -p -m 700 "$dir"
  (
    umask 077
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/runtime-ca-key.pem" 2>/dev/null
    openssl req -x509 -new -key "$dir/runtime-ca-key.pem" -sha256 -days "$days" \
      -subj "/O=HydraCore Connections/CN=HydraCore runtime CA (throwaway)" \
      -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -addext "subjectKeyIdentifier=hash" \
      -out "$dir/runtime-ca.pem"
  )
  chmod 644 "$dir/runtime-ca.pem"  # the certificate is public; its key stays 0600
  echo "runtime CA: $dir/runtime-ca.pem (key: $dir/runtime-ca-key.pem, keep it off the broker and the control plane)" >&2
}

cmd_ca() {
  local dir="" days=365
  while [ $# -gt 0 ]; do
    case $1 in
      --days) [ $# -ge 2 ] || die "--days needs a value"; days=$2; shift 2 ;;
      -h|--help) usage; exit 0 ;;
      -*) die "unknown option $1 (see --help)" ;;
      *) [ -z "$dir" ] || die "one DIR only (see --help)"; dir=$1; shift ;;
    esac
  done
  [ -n "$dir" ] || die "ca needs a DIR (see --help)"
  [[ $days =~ ^[1-9][0-9]{0,4}$ ]] || die "--days must be a whole number of days from 1 to 99999"
  make_ca "$dir" "$days"
}

cmd_issue() {
  local ca_dir="" td="" customer="" instance="" out="" hours=24
  while [ $# -gt 0 ]; do
    case $1 in
      --ca-dir|--trust-domain|--customer|--instance|--out|--hours)
        [ $# -ge 2 ] || die "$1 needs a value"
        case $1 in
          --ca-dir) ca_dir=$2 ;; --trust-domain) td=$2 ;; --customer) customer=$2 ;;
          --instance) instance=$2 ;; --out) out=$2 ;; --hours) hours=$2 ;;
        esac
        shift 2 ;;
      -h|--help) usage; exit 0 ;;
      *) die "unknown argument $1 (see --help)" ;;
    esac
  done
  [ -n "$ca_dir" ] || die "--ca-dir is required"
  [ -n "$out" ] || die "--out is required"
  [[ $td =~ $trust_domain_re ]] ||
    die "--trust-domain '$td' is not a trust domain (lowercase letters, digits, '.', '-', '_')"
  [[ $customer =~ $uuid_re ]] || die "--customer '$customer' is not a lowercase UUID"
  [[ $instance =~ $uuid_re ]] || die "--instance '$instance' is not a lowercase UUID"
  [[ $hours =~ ^[1-9][0-9]{0,3}$ ]] && [ "$hours" -le 8760 ] || die "--hours must be a whole number from 1 to 8760"

  make_ca "$ca_dir" 365
  local ca="$ca_dir/runtime-ca.pem" ca_key="$ca_dir/runtime-ca-key.pem"
  # A certificate outliving its CA would be refused by the broker once the CA expires.
  openssl x509 -in "$ca" -noout -checkend $((hours * 3600)) >/dev/null ||
    die "the CA in $ca_dir expires within $hours hours: make a new CA or ask for fewer hours"

  local spiffe_id="spiffe://$td/hydracore/customers/$customer/instances/$instance"
  work=$(mktemp -d)  # global: the EXIT trap runs after this function has returned
  trap 'rm -rf "$work"' EXIT
  # openssl x509 -req takes days only; `openssl ca` takes exact start and end times. A start a
  # few minutes back tolerates clock skew between the issuer and the broker.
  local now start end
  now=$(date -u +%s)
  start=$(date -u -d "@$((now - 300))" +%y%m%d%H%M%SZ)
  end=$(date -u -d "@$((now + hours * 3600))" +%y%m%d%H%M%SZ)
  touch "$work/index.txt"
  cat >"$work/openssl.cnf" <<CNF
[ca]
default_ca = runtime
[runtime]
database = $work/index.txt
serial = $work/serial
new_certs_dir = $work
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
organizationName = optional
commonName = supplied
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = URI:$spiffe_id
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
  (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/key.pem" 2>/dev/null)
  openssl req -new -key "$work/key.pem" -subj "/O=HydraCore runtime/CN=$instance" -out "$work/req.csr"
  openssl ca -batch -notext -config "$work/openssl.cnf" -extensions leaf -rand_serial \
    -cert "$ca" -keyfile "$ca_key" -startdate "$start" -enddate "$end" \
    -in "$work/req.csr" -out "$work/cert.pem" 2>"$work/ca.log" ||
    { cat "$work/ca.log" >&2; die "openssl ca refused to issue"; }

  # Next to the destination first, then renamed: a reader never sees half a pair of files.
  mkdir -p "$(dirname "$out")"
  cp "$work/key.pem" "$out-key.pem.new" && chmod 600 "$out-key.pem.new"
  cp "$work/cert.pem" "$out.pem.new" && chmod 644 "$out.pem.new"
  mv -f "$out-key.pem.new" "$out-key.pem"
  mv -f "$out.pem.new" "$out.pem"
  echo "$spiffe_id"
  echo "certificate: $out.pem  key: $out-key.pem  $(openssl x509 -in "$out.pem" -noout -enddate)"
}

case ${1:-} in
  ca) shift; cmd_ca "$@" ;;
  issue) shift; cmd_issue "$@" ;;
  -h|--help|help) usage ;;
  "") usage >&2; exit 2 ;;
  *) die "unknown command '$1' (see --help)" ;;
esac
