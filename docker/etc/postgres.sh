#!/bin/sh
# PostgreSQL 15 for the chaos stack: a fresh cluster per container (kept when
# the container is killed and started again: it recovers from its WAL), trust
# on the project's own network only, room for 5 api pools of 20+10 plus workers.
set -eu
PGBIN=/usr/lib/postgresql/15/bin
PGDATA=${PGDATA:-/var/lib/postgresql/data}
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$PGDATA" && chown postgres:postgres "$PGDATA"
  su postgres -c "$PGBIN/initdb -D $PGDATA -U postgres --auth=trust -E UTF8" >/dev/null
  echo "host all all 0.0.0.0/0 trust" >> "$PGDATA/pg_hba.conf"
  su postgres -c "$PGBIN/pg_ctl -D $PGDATA -o '-c listen_addresses=127.0.0.1' -w start" >/dev/null
  su postgres -c "psql -q -c \"CREATE USER ${POSTGRES_USER:-billing} PASSWORD '${POSTGRES_PASSWORD:-billing}'\""
  su postgres -c "psql -q -c \"CREATE DATABASE ${POSTGRES_DB:-billing} OWNER ${POSTGRES_USER:-billing}\""
  su postgres -c "$PGBIN/pg_ctl -D $PGDATA -m fast -w stop" >/dev/null
fi
exec su postgres -c "exec $PGBIN/postgres -D $PGDATA -c listen_addresses='*' -c max_connections=400 \
  -c shared_buffers=128MB -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
