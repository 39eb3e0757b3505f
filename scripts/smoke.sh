#!/usr/bin/env bash
# One credential from customer to runtime through the running services:
#   scripts/smoke.sh CONTROL_PLANE_URL BROKER_URL ADMIN_TOKEN
set -euo pipefail
cp=$1 broker=$2 admin=$3
field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }
post() { curl -sf -X POST "$cp$1" -H "Authorization: Bearer $2" -H 'Content-Type: application/json' -d "$3"; }

customer=$(post /v1/admin/customers "$admin" '{"name":"smoke test"}' | field id)
key=$(post "/v1/customers/$customer/api-keys" "$admin" '{"name":"smoke"}' | field api_key)
instance=$(post "/v1/customers/$customer/instances" "$key" '{"name":"smoke-agent"}' | field id)
canary="smoke-$RANDOM$RANDOM"
connection=$(post "/v1/customers/$customer/connections" "$key" \
  "{\"provider\":\"deputy\",\"name\":\"roster\",\"auth_type\":\"api_key\",\"credentials\":{\"api_key\":\"$canary\"}}" |
  sed -n 's/.*"id":"\([^"]*\)","last_used_at".*/\1/p')
post "/v1/customers/$customer/connections/$connection/grants" "$key" \
  "{\"instance_id\":\"$instance\",\"capabilities\":[\"read_roster\"]}" >/dev/null
proxy_key=$(post "/v1/customers/$customer/instances/$instance/proxy-keys" "$key" '{}' | field proxy_key)
fetched=$(curl -sf "$broker/internal/v1/instances/$instance/connections?provider=deputy&capability=read_roster" \
  -H "Authorization: Bearer $proxy_key")
case "$fetched" in
  *"\"api_key\":\"$canary\""*) echo "smoke: customer -> control plane -> broker -> runtime: credentials delivered" ;;
  *) echo "smoke: FAILED, broker answered: $fetched" >&2; exit 1 ;;
esac
