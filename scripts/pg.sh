# Sourced by run.sh, test.sh and the benchmarks: a throwaway PostgreSQL cluster in a folder
# of ours, on a private port, trusting only loopback. Never touches a system cluster.
#   pg_start DIR   -> starts (initdb first if DIR is empty); sets PG_PORT and PG_URL (superuser)
#   pg_stop DIR
#   pg_restart DIR [DOWN_SECONDS]  -> stops it (fast: sessions are cut), waits, starts it again
#                                     on the same port with the same settings (bench/soak.sh)

# Looked up on use: sourcing this must work before PostgreSQL is installed.
_pg_bin() { ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1; }

# initdb and postgres refuse to run as root: as root, run them as the postgres user.
_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_start() {
  local dir=$1 port attempt
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
  chmod 700 "$dir"
  if [ ! -f "$dir/PG_VERSION" ]; then
    _pg "$(_pg_bin)/initdb" -D "$dir" -U postgres -A trust -E UTF8 --no-locale >"$dir.initdb.log" 2>&1 ||
      { cat "$dir.initdb.log" >&2; return 1; }
  fi
  for attempt in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 40000))
    if _pg_ctl_start "$dir" "$port"; then
      PG_PORT=$port
      PG_URL="postgresql://postgres@127.0.0.1:$port/postgres"
      return 0
    fi
  done
  echo "pg_start: PostgreSQL did not start; see $dir/server.log" >&2
  return 1
}

_pg_ctl_start() {  # dir port
  _pg "$(_pg_bin)/pg_ctl" -D "$1" -l "$1/server.log" -w -t 30 \
    -o "-p $2 -k $1 -c listen_addresses=127.0.0.1 -c max_connections=200 ${PG_EXTRA_OPTS:-}" start >/dev/null
}

pg_restart() {
  local dir=$1 down=${2:-0}
  _pg "$(_pg_bin)/pg_ctl" -D "$dir" -m fast -w stop >/dev/null
  sleep "$down"
  _pg_ctl_start "$dir" "$PG_PORT"
}

pg_stop() {
  local dir=$1
  [ -f "$dir/postmaster.pid" ] && _pg "$(_pg_bin)/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
}
