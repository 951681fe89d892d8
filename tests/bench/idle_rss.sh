#!/usr/bin/env bash
# idle_rss: the resident memory of a controller and one worker at idle (connected to
# PostgreSQL and RabbitMQ, waiting for work), beside the target for the pair (issue 8: 20 MB),
# twice: the binaries of a build directory, then the platform images (fuzzforge/controller
# and fuzzforge/worker, rebuilt first when stale by deploy/build-platform-images.sh) run with
# --network host, as docker-compose.yml runs them. Both against the local services
# (deploy/services.sh), in a database and a broker vhost of their own.
# VmRSS from /proc/<pid>/status, read SETTLE_S after both are ready (the controller's
# /readyz, the worker's "consuming" log line); the median of ROUNDS starts.
#   tests/bench/idle_rss.sh [BUILD_DIR]       (default: build)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
rounds=${ROUNDS:-3} settle=${SETTLE_S:-3} tag=${FF_IMAGE_TAG:-local}
target_mib=$(awk 'BEGIN { printf "%.1f", 20e6 / 1048576 }')
name=ff_bench_idle_rss
db=postgresql://fuzzforge:fuzzforge@127.0.0.1:5432/$name
amqp=amqp://guest:guest@127.0.0.1:5672/$name
key=ff_bench_idle_rss_key

bash "$root/deploy/services.sh" start >/dev/null
psql -q postgresql://fuzzforge:fuzzforge@127.0.0.1:5432/postgres \
	-c "DROP DATABASE IF EXISTS $name WITH (FORCE)" -c "CREATE DATABASE $name" 2>/dev/null
rabbitmqctl -q delete_vhost "$name" >/dev/null 2>&1 || true
rabbitmqctl -q add_vhost "$name" >/dev/null
rabbitmqctl -q set_permissions -p "$name" guest '.*' '.*' '.*' >/dev/null
bash "$root/deploy/build-platform-images.sh" controller worker >/dev/null

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
work=$(mktemp -d)
pids=() containers=()
stop_all() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	for c in "${containers[@]}"; do docker rm -f "$c" >/dev/null 2>&1 || true; done
	pids=() containers=()
}
trap 'stop_all; rm -rf "$work"' EXIT

kib() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"; }
wait_until() { # wait_until <what> <command...>: 60 s at most
	local what=$1 deadline=$((SECONDS + 60))
	shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] || { echo "idle_rss: $what not ready within 60 s" >&2; exit 1; }
		sleep 0.1
	done
}
ready() { curl -fsS "http://127.0.0.1:$port/readyz"; }

# start_host / start_image: sets controller_pid, worker_pid and worker_log
start_host() {
	export DATABASE_URL=$db AMQP_URL=$amqp FF_API_KEY=$key FF_LISTEN=127.0.0.1:$port \
		FF_WORKFLOWS_DIR=$root/workflows
	"$build/controller/ff-controller" >"$work/controller.log" 2>&1 &
	controller_pid=$! && pids+=("$controller_pid")
	wait_until "the controller" ready
	"$build/worker/ff-worker" >"$work/worker.log" 2>&1 &
	worker_pid=$! && pids+=("$worker_pid")
	worker_log=(cat "$work/worker.log")
}
start_image() {
	local c w
	c=$(docker run -d --network host -e DATABASE_URL="$db" -e AMQP_URL="$amqp" -e FF_API_KEY="$key" \
		-e FF_LISTEN="127.0.0.1:$port" "fuzzforge/controller:$tag")
	containers+=("$c")
	wait_until "the controller image" ready
	w=$(docker run -d --network host -e DATABASE_URL="$db" -e AMQP_URL="$amqp" \
		-v /var/run/docker.sock:/var/run/docker.sock "fuzzforge/worker:$tag")
	containers+=("$w")
	controller_pid=$(docker inspect -f '{{.State.Pid}}' "$c")
	worker_pid=$(docker inspect -f '{{.State.Pid}}' "$w")
	worker_log=(docker logs "$w")
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

printf '%-34s %10s %10s %10s %10s\n' "idle VmRSS, MiB (median of $rounds)" controller worker pair target
for how in host image; do
	: >"$work/c" && : >"$work/w"
	for _ in $(seq "$rounds"); do
		"start_$how"
		wait_until "the worker" bash -c '"$@" 2>&1 | grep -q consuming' _ "${worker_log[@]}"
		sleep "$settle"
		kib "$controller_pid" >>"$work/c"
		kib "$worker_pid" >>"$work/w"
		stop_all
	done
	c=$(median <"$work/c") w=$(median <"$work/w")
	label="binaries ($build)"
	[ "$how" = image ] && label="images (fuzzforge/*:$tag)"
	awk -v label="$label" -v c="$c" -v w="$w" -v target="$target_mib" \
		'BEGIN { printf "%-34s %10.1f %10.1f %10.1f %10s\n", label, c / 1024, w / 1024, (c + w) / 1024, target }'
done
