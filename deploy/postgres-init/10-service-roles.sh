#!/bin/bash
# Runs once, when the postgres container initialises its data directory: creates the two
# service roles with the passwords from compose secrets. The migrations (schema/0009) find
# them and grant their privileges.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v cp_password="$(cat /run/secrets/control_plane_db_password)" \
  -v broker_password="$(cat /run/secrets/broker_db_password)" <<'SQL'
CREATE ROLE hydracore_control_plane LOGIN PASSWORD :'cp_password';
CREATE ROLE hydracore_broker LOGIN PASSWORD :'broker_password';
SQL
