#!/usr/bin/env bash
# Starts the services FuzzForge needs on this machine — PostgreSQL, RabbitMQ and the Docker
# engine — unless they already answer, and waits until each one does. Idempotent.
#   deploy/services.sh [start]               start what is not running
#   deploy/services.sh start docker ...      only those named (postgres, rabbitmq, docker)
#   deploy/services.sh stop [SERVICE...]     stop what this script started, and only that
# A service this script starts gets a marker file, $FF_STATE_DIR/started-<service> (with the
# dockerd PID in $FF_STATE_DIR/dockerd.pid); `stop` stops only the services that have one
# and removes it. A service that was already running (the system's, another user's) is
# never stopped: `stop` says it left it alone.
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

mark_started() { touch "$FF_STATE_DIR/started-$1"; }
started_here() { [ -f "$FF_STATE_DIR/started-$1" ]; }

start_postgres() {
	if pg_isready -q -h 127.0.0.1; then echo "services: postgresql already up"; return; fi
	pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" main start
	mark_started postgres
	wait_for postgresql 30 pg_isready -h 127.0.0.1
	# The test harness's database: user/password fuzzforge, fixed on purpose and not secret.
	# The integration tests (tests/integration/itest.c) and the native setup's defaults
	# connect with it, and Debian's PostgreSQL listens on localhost only; RabbitMQ likewise
	# keeps its guest/guest, which it accepts from loopback only. The dev cluster
	# (deploy/compose.sh) generates its own passwords instead.
	su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='fuzzforge'\"" | grep -q 1 ||
		su postgres -c "psql -qc \"CREATE ROLE fuzzforge LOGIN SUPERUSER PASSWORD 'fuzzforge'\""
	su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='fuzzforge'\"" | grep -q 1 ||
		su postgres -c "createdb -O fuzzforge fuzzforge"
	echo "services: postgresql up"
}

start_rabbitmq() {
	if rabbitmq-diagnostics -q ping >/dev/null 2>&1; then echo "services: rabbitmq already up"; return; fi
	rabbitmq-server -detached
	mark_started rabbitmq
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

# The engine's daemon, wherever Debian's docker.io (or another package) put it; a docker
# client on PATH says nothing about it (it may be a client alone, for a remote engine).
find_dockerd() {
	local d
	for d in "$(command -v dockerd 2>/dev/null || true)" /usr/sbin/dockerd /usr/bin/dockerd \
		/usr/local/sbin/dockerd /usr/local/bin/dockerd; do
		if [ -n "$d" ] && [ -x "$d" ]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

start_docker() {
	local dockerd pid i
	if docker version >/dev/null 2>&1; then echo "services: docker already up"; return; fi
	dockerd=$(find_dockerd) || {
		echo "services: the Docker engine (dockerd) is not installed: install Debian's" \
			"docker.io (deploy/install-deps.sh, or scripts/up.sh, which does it)" >&2
		return 1
	}
	remove_stale_pidfile /var/run/docker.pid dockerd
	remove_stale_pidfile /var/run/docker/containerd/containerd.pid containerd
	nohup "$dockerd" >"$FF_STATE_DIR/dockerd.log" 2>&1 &
	pid=$!
	echo "$pid" >"$FF_STATE_DIR/dockerd.pid"
	mark_started docker
	# The first start after an unclean stop cleans up old containers and can take a while;
	# a dockerd that exits (bad configuration, no permission) is reported at once.
	for ((i = 0; i < 180 * 5; i++)); do
		if docker version >/dev/null 2>&1; then
			echo "services: docker up ($dockerd, pid $pid)"
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			rm -f "$FF_STATE_DIR/dockerd.pid" "$FF_STATE_DIR/started-docker"
			echo "services: dockerd exited at start:" >&2
			tail -n 30 "$FF_STATE_DIR/dockerd.log" >&2
			return 1
		fi
		sleep 0.2
	done
	echo "services: dockerd did not come up within 180s" >&2
	tail -n 30 "$FF_STATE_DIR/dockerd.log" >&2
	return 1
}

stop_docker() {
	local pid i
	pid=$(cat "$FF_STATE_DIR/dockerd.pid" 2>/dev/null || true)
	# only the dockerd this script started: the pid may since belong to another process
	if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ]; then
		kill "$pid" 2>/dev/null || true
		for ((i = 0; i < 30 * 5; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
	fi
	rm -f "$FF_STATE_DIR/dockerd.pid"
}
stop_rabbitmq() { rabbitmqctl -q stop 2>/dev/null || true; }
stop_postgres() { pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" main stop 2>/dev/null || true; }

stop_started() { # stop_started <service>...
	local svc
	for svc in "$@"; do
		if started_here "$svc"; then
			"stop_$svc"
			rm -f "$FF_STATE_DIR/started-$svc"
			echo "services: stopped $svc"
		else
			echo "services: left $svc alone (not started by deploy/services.sh)"
		fi
	done
}

check_names() {
	local svc
	for svc in "$@"; do
		case $svc in
		postgres | rabbitmq | docker) ;;
		*) echo "services: unknown service '$svc' (postgres, rabbitmq, docker)" >&2; exit 2 ;;
		esac
	done
}

case "${1:-start}" in
start)
	shift $(($# > 0 ? 1 : 0))
	[ $# -gt 0 ] || set -- postgres rabbitmq docker
	check_names "$@"
	for svc in "$@"; do "start_$svc" & done
	fail=0
	for job in $(jobs -p); do wait "$job" || fail=1; done
	exit $fail
	;;
stop)
	shift
	# the engine last: the others may run in it one day, and it takes longest
	[ $# -gt 0 ] || set -- rabbitmq postgres docker
	check_names "$@"
	stop_started "$@"
	;;
*) echo "usage: $0 [start [postgres|rabbitmq|docker]...|stop [postgres|rabbitmq|docker]...]" >&2; exit 2 ;;
esac
