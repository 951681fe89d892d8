#!/bin/sh
# Entrypoint of fuzzforge/worker: runs ff-worker as the unprivileged user ff, with the group
# that owns the Docker socket mounted from the host, so the worker can talk to the engine.
#
# Why here and not `group_add` in docker-compose.yml: the socket's gid differs from host to
# host (docker group 106 here, 999 or 998 elsewhere, root on Docker Desktop), and a compose
# file cannot compute it, so a plain `docker compose up` would need the user to look it up.
# The container starts as root (compose drops every capability but SETUID/SETGID) only for
# the stat and the setpriv below; ff-worker itself never runs as root.
# Started with --user / `user:` already (and the group given with --group-add), it just runs.
set -eu

if [ "$(id -u)" != 0 ]; then
	exec "$@"
fi

groups=
case "${DOCKER_HOST:-unix:///var/run/docker.sock}" in
unix://*)
	sock=${DOCKER_HOST#unix://}
	if [ -S "$sock" ]; then
		groups=$(stat -c %g "$sock")
	else
		echo "ff-worker-entrypoint: $sock is not a socket: mount the host's Docker socket" \
			"(-v /var/run/docker.sock:/var/run/docker.sock)" >&2
	fi
	;;
esac

if [ -n "$groups" ]; then
	exec setpriv --reuid=ff --regid=ff --groups="$groups" --inh-caps=-all -- "$@"
fi
exec setpriv --reuid=ff --regid=ff --clear-groups --inh-caps=-all -- "$@"
