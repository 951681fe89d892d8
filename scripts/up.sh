#!/usr/bin/env bash
# Brings FuzzForge up on this machine and runs a first real scan of examples/secrets with the
# secret-detection workflow, printing its findings. Re-running it reuses what is already up.
#   scripts/up.sh            the dev cluster (docker-compose.yml) through deploy/compose.sh:
#                            installs docker.io and docker-compose where missing, starts the
#                            engine, builds every image from Debian packages, starts
#                            PostgreSQL, RabbitMQ, the controller (port 8000) and a worker,
#                            waits for /readyz, scans
#   scripts/up.sh --native   the same without containers for the platform: installs the
#                            packages, starts PostgreSQL, RabbitMQ and dockerd on this
#                            machine, builds, starts one ff-controller and one ff-worker
#   scripts/up.sh down       stops what either way started (the cluster keeps its volumes)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
state=${FF_STATE_DIR:-/tmp/fuzzforge}
mkdir -p "$state"
export FF_URL=${FF_URL:-http://127.0.0.1:8000}

# The --native controller's key, in $state/api-key (the cluster's is deploy/compose.sh's).
# Written under umask 077 to a mktemp file (0600 whatever the umask) and renamed into place,
# so no one else can read it at any moment, even when it replaces an older, looser file.
native_key() {
	local file=$state/api-key
	if [ -z "${FF_API_KEY:-}" ] && [ -s "$file" ]; then
		FF_API_KEY=$(cat "$file")
	else
		FF_API_KEY=${FF_API_KEY:-ff_$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')}
		(
			umask 077
			tmp=$(mktemp "$file.XXXXXX")
			printf '%s\n' "$FF_API_KEY" >"$tmp"
			mv -f "$tmp" "$file"
		)
	fi
	export FF_API_KEY
}

stop() {
	for p in worker controller; do
		if [ -f "$state/$p.pid" ]; then
			kill "$(cat "$state/$p.pid")" 2>/dev/null || true
			rm -f "$state/$p.pid"
		fi
	done
}
case ${1:-} in
down)
	stop
	if docker ps -q --filter label=com.docker.compose.project="${COMPOSE_PROJECT_NAME:-fuzzforge}" 2>/dev/null | grep -q .; then
		bash deploy/compose.sh down
	fi
	echo "up: stopped"
	exit 0
	;;
--native) ;;
"")
	bash deploy/compose.sh up
	echo "up: first scan: deploy/compose.sh scan examples/secrets secret-detection"
	exec bash deploy/compose.sh scan examples/secrets secret-detection
	;;
*) echo "usage: $0 [--native|down]" >&2; exit 2 ;;
esac

native_key
bash deploy/install-deps.sh
bash deploy/services.sh start
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >"$state/build.log" 2>&1 || { cat "$state/build.log"; exit 1; }
echo "up: built build/"
bash deploy/build-images.sh

running() { [ -f "$state/$1.pid" ] && kill -0 "$(cat "$state/$1.pid")" 2>/dev/null; }
if ! running controller; then
	nohup build/controller/ff-controller >"$state/controller.log" 2>&1 &
	echo $! >"$state/controller.pid"
fi
if ! running worker; then
	nohup build/worker/ff-worker >"$state/worker.log" 2>&1 &
	echo $! >"$state/worker.pid"
fi
for i in $(seq 1 300); do
	curl -fs "$FF_URL/readyz" >/dev/null && break
	[ "$i" = 300 ] && { echo "up: controller not ready; see $state/controller.log" >&2; exit 1; }
	sleep 0.2
done
echo "up: controller ready at $FF_URL; logs in $state/"
echo "up: the API key is in $state/api-key: export FF_API_KEY=\$(cat $state/api-key)"
echo "up: first scan: ff scan secret-detection examples/secrets"
build/cli/ff scan secret-detection examples/secrets --timeout 300
