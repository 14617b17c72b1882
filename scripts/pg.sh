#!/usr/bin/env bash
# A throw-away PostgreSQL 15 cluster on a private port, for tests and benchmarks.
#   scripts/pg.sh start   -> initdb (if needed) + start; prints the DATABASE_URL
#   scripts/pg.sh stop    -> stop and delete the data directory
# Runs the server as the `postgres` user when invoked as root (PostgreSQL refuses root).
# With CI=true a missing PostgreSQL is an error; elsewhere too: the suite needs it.
set -euo pipefail

PORT="${BILLFOLD_PG_PORT:-55432}"
DATA="${BILLFOLD_PG_DATA:-/tmp/billfold-pg-${PORT}}"
DB="${BILLFOLD_PG_DB:-billfold}"

find_bin() {
  for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
    [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
  done
  command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/pg_ctl" ] && { pg_config --bindir; return 0; }
  return 1
}

PGBIN="$(find_bin || true)"
if [ -z "$PGBIN" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "pg.sh: PostgreSQL not found; installing postgresql-15 with apt-get" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15) >&2 || true
  PGBIN="$(find_bin || true)"
fi
if [ -z "$PGBIN" ]; then
  echo "pg.sh: PostgreSQL 15 server binaries not found (looked in /usr/lib/postgresql/*/bin)." >&2
  exit 3
fi

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
  start)
    if [ ! -s "$DATA/PG_VERSION" ]; then
      rm -rf "$DATA"; mkdir -p "$DATA"
      [ "$(id -u)" = 0 ] && chown postgres: "$DATA"
      as_pg "$PGBIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    if ! as_pg "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
      # Throw-away cluster: durability off unless BILLFOLD_PG_DURABLE=1 (benchmarks).
      opts="-p $PORT -k $DATA -c listen_addresses=127.0.0.1 -c max_connections=200"
      if [ "${BILLFOLD_PG_DURABLE:-0}" != 1 ]; then
        opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
      fi
      as_pg "$PGBIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -t 60 -o "$opts" start >/dev/null
    fi
    as_pg "$PGBIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname='$DB'" postgres | grep -q 1 \
      || as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DB"
    echo "postgres://postgres@127.0.0.1:${PORT}/${DB}"
    ;;
  stop)
    if [ -d "$DATA" ]; then
      as_pg "$PGBIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null 2>&1 || true
      rm -rf "$DATA"
    fi
    ;;
  *)
    echo "usage: scripts/pg.sh start|stop" >&2; exit 2 ;;
esac
