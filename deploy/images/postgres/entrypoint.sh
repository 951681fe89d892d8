#!/bin/sh
# Entrypoint of fuzzforge/postgres: creates the cluster in $PGDATA at first start, then runs
# PostgreSQL in the foreground, listening on every address of the container.
#   POSTGRES_USER      superuser and owner of the database (default fuzzforge)
#   POSTGRES_PASSWORD  its password (default fuzzforge; the dev cluster publishes the port on
#                      127.0.0.1 only)
#   POSTGRES_DB        the database (default fuzzforge)
# A marker file is written last, so a start interrupted during initialisation starts over
# instead of leaving a cluster without its database.
set -eu
: "${POSTGRES_USER:=fuzzforge}" "${POSTGRES_PASSWORD:=fuzzforge}" "${POSTGRES_DB:=fuzzforge}"
marker=$PGDATA/.ff-initialised

if [ "${1:-postgres}" != postgres ]; then
	exec "$@"
fi
if [ $# -gt 0 ]; then shift; fi

if [ ! -f "$marker" ]; then
	if [ -n "$(ls -A "$PGDATA")" ]; then
		echo "ff-postgres: $PGDATA holds an unfinished initialisation: starting over" >&2
		find "$PGDATA" -mindepth 1 -delete
	fi
	pwfile=$(mktemp)
	printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
	initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" --encoding=UTF8 \
		--locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256 >/dev/null
	rm -f "$pwfile"
	# initdb allows TCP from loopback only; the platform connects from the compose network.
	printf '%s\n' 'host all all 0.0.0.0/0 scram-sha-256' 'host all all ::/0 scram-sha-256' \
		>>"$PGDATA/pg_hba.conf"
	if [ "$POSTGRES_DB" != postgres ]; then
		# Single-user mode: no server, no socket, nothing can connect before this is done.
		db=$(printf '%s' "$POSTGRES_DB" | sed 's/"/""/g')
		user=$(printf '%s' "$POSTGRES_USER" | sed 's/"/""/g')
		echo "CREATE DATABASE \"$db\" OWNER \"$user\"" |
			postgres --single -D "$PGDATA" postgres >/dev/null
	fi
	touch "$marker"
	echo "ff-postgres: initialised $PGDATA (user $POSTGRES_USER, database $POSTGRES_DB)" >&2
fi

exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
