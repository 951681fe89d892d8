#!/usr/bin/env bash
# Starts the services FuzzForge needs on this machine — PostgreSQL, RabbitMQ and the Docker
# engine — unless they already answer, and waits until each one does. Idempotent.
#   deploy/services.sh [start]               start what is not running
#   deploy/services.sh start docker ...      only those named (postgres, rabbitmq, docker)
#   deploy/services.sh stop                  stop what this script started (PIDs kept under
#                                            $FF_STATE_DIR)
set -euo pipefail

FF_STATE_DIR=${FF_STATE_DIR:-/tmp/fuzzforge}
PG_VERSION=${PG_VERSION:-15}
mkdir -p "$FF_STATE_DIR"

wait_for() { # wait_for <what> <seconds> <command...>
	local what=$1 secs=$2 i
	shift 2
	for ((i = 0; i < secs * 5; i++)); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.2
	done
	echo "services: $what did not come up within ${secs}s" >&2
	return 1
}

start_postgres() {
	if pg_isready -q -h 127.0.0.1; then echo "services: postgresql already up"; return; fi
	pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" main start
	wait_for postgresql 30 pg_isready -h 127.0.0.1
	# The dev database: user/password fuzzforge, trusted only on this machine.
	su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='fuzzforge'\"" | grep -q 1 ||
		su postgres -c "psql -qc \"CREATE ROLE fuzzforge LOGIN SUPERUSER PASSWORD 'fuzzforge'\""
	su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='fuzzforge'\"" | grep -q 1 ||
		su postgres -c "createdb -O fuzzforge fuzzforge"
	echo "services: postgresql up"
}

start_rabbitmq() {
	if rabbitmq-diagnostics -q ping >/dev/null 2>&1; then echo "services: rabbitmq already up"; return; fi
	rabbitmq-server -detached
	wait_for rabbitmq 120 rabbitmq-diagnostics -q check_port_connectivity
	echo "services: rabbitmq up"
}

# A pid file left by a dockerd or containerd that was killed (a machine handed on, a session
# ended) makes the next dockerd refuse to start when its pid now belongs to another process.
remove_stale_pidfile() { # remove_stale_pidfile <file> <process name>
	local file=$1 name=$2 pid
	[ -f "$file" ] || return 0
	pid=$(cat "$file" 2>/dev/null || true)
	if [ -z "$pid" ] || [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != "$name" ]; then
		echo "services: removing stale $file"
		rm -f "$file"
	fi
}

start_docker() {
	if docker version >/dev/null 2>&1; then echo "services: docker already up"; return; fi
	remove_stale_pidfile /var/run/docker.pid dockerd
	remove_stale_pidfile /var/run/docker/containerd/containerd.pid containerd
	nohup dockerd >"$FF_STATE_DIR/dockerd.log" 2>&1 &
	echo $! >"$FF_STATE_DIR/dockerd.pid"
	# The first start after an unclean stop cleans up old containers and can take a while.
	wait_for dockerd 180 docker version || { tail -n 30 "$FF_STATE_DIR/dockerd.log" >&2; return 1; }
	echo "services: docker up"
}

stop_all() {
	if [ -f "$FF_STATE_DIR/dockerd.pid" ]; then
		kill "$(cat "$FF_STATE_DIR/dockerd.pid")" 2>/dev/null || true
		rm -f "$FF_STATE_DIR/dockerd.pid"
	fi
	rabbitmqctl -q stop 2>/dev/null || true
	pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" main stop 2>/dev/null || true
}

case "${1:-start}" in
start)
	shift $(($# > 0 ? 1 : 0))
	[ $# -gt 0 ] || set -- postgres rabbitmq docker
	for svc in "$@"; do
		case $svc in
		postgres | rabbitmq | docker) ;;
		*) echo "services: unknown service '$svc' (postgres, rabbitmq, docker)" >&2; exit 2 ;;
		esac
	done
	for svc in "$@"; do "start_$svc" & done
	fail=0
	for job in $(jobs -p); do wait "$job" || fail=1; done
	exit $fail
	;;
stop) stop_all ;;
*) echo "usage: $0 [start [postgres|rabbitmq|docker]...|stop]" >&2; exit 2 ;;
esac
