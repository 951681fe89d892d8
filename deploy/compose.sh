#!/usr/bin/env bash
# Runs the FuzzForge dev cluster (docker-compose.yml) with Docker Compose, v2 (`docker compose`)
# or v1 (`docker-compose`, what Debian 12 ships), whichever this machine has.
#   deploy/compose.sh up                    install what is missing, start the engine, build
#                                           the images, start the cluster, wait until ready
#   deploy/compose.sh build                 only build every image the project needs (base,
#                                           controller, worker, postgres, rabbitmq, registry,
#                                           workflows), skipping those that are up to date
#   deploy/compose.sh scan DIR [WORKFLOW] [ff options...]
#                                           scan DIR (default workflow: secret-detection)
#   deploy/compose.sh scale N               run N workers
#   deploy/compose.sh metrics               start Prometheus (the metrics profile) on
#                                           127.0.0.1:${FF_PROMETHEUS_PORT:-9090}, scraping
#                                           the controller and every worker
#   deploy/compose.sh ha                    a second controller and HAProxy in front of both
#                                           (the ha profile) on
#                                           127.0.0.1:${FF_BALANCER_PORT:-8080}
#   deploy/compose.sh ps                    the cluster's containers
#   deploy/compose.sh logs [options] [SERVICE...]   e.g. logs -f worker
#   deploy/compose.sh key                   print the API key (FF_API_KEY=$(deploy/compose.sh key))
#   deploy/compose.sh down [-v]             stop and remove the containers (-v: and the data,
#                                           and the secrets file, which only they needed)
# Secrets: the first `up` of a project generates the PostgreSQL and RabbitMQ passwords and the
# API key (random, from /dev/urandom) into deploy/.secrets/<project>.env (git-ignored; mode
# 0600 from its creation, in a 0700 directory; FF_SECRETS_FILE elsewhere); every later command
# reuses it, because the data volumes were initialised with those passwords. A value set in
# the environment (or in a .env next to docker-compose.yml) wins over the file; at the first
# `up` the file records it instead of a generated one. Nothing prints them but `key`.
# Environment: everything docker-compose.yml documents (FF_API_KEY, FF_CONTROLLER_PORT, ...),
# and COMPOSE_PROJECT_NAME (default fuzzforge), FF_UP_TIMEOUT (seconds `up` may take once the
# images are built, default 300), FF_WORKERS (workers `up` starts, default 1), FF_CLI (the ff
# client `scan` uses, default build/cli/ff; without it, the one in the controller image),
# FF_SCAN_TIMEOUT (default 600).
#
# The engine: when it is not running, deploy/services.sh starts it. The cluster publishes its
# PostgreSQL and RabbitMQ on 127.0.0.1:5433 and 127.0.0.1:5673 by default (FF_PG_PORT,
# FF_AMQP_PORT), not 5432/5672, where the native setup (scripts/test.sh, scripts/up.sh
# --native) runs the host's own.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cwd=$PWD
cd "$root"
project=${COMPOSE_PROJECT_NAME:-fuzzforge}
secrets_file=${FF_SECRETS_FILE:-$root/deploy/.secrets/$project.env}
# what the secrets file holds: the two passwords the volumes are created with, and the key
secret_vars=(FF_PG_PASSWORD FF_RABBITMQ_PASSWORD FF_API_KEY)
export FF_IMAGE_TAG=${FF_IMAGE_TAG:-local}
COMPOSE=()

say() { echo "compose: $*"; }
die() {
	echo "compose: $*" >&2
	exit 1
}

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

find_compose() {
	if docker compose version >/dev/null 2>&1; then
		COMPOSE=(docker compose)
	elif command -v docker-compose >/dev/null 2>&1; then
		COMPOSE=(docker-compose)
	else
		return 1
	fi
}

dc() {
	"${COMPOSE[@]}" -p "$project" -f "$root/docker-compose.yml" "$@"
}

# Whether this machine has the Docker engine's daemon (any client on PATH may be a client
# alone): the same places deploy/services.sh looks in to start it.
have_dockerd() {
	local d
	for d in "$(command -v dockerd 2>/dev/null || true)" /usr/sbin/dockerd /usr/bin/dockerd \
		/usr/local/sbin/dockerd /usr/local/bin/dockerd; do
		[ -n "$d" ] && [ -x "$d" ] && return 0
	done
	return 1
}

# The Docker engine and CLI, Compose, curl (readiness checks) and debootstrap, from Debian's
# archive when missing; says what it installed and why.
ensure_tools() {
	local pkgs=() why=()
	if ! command -v docker >/dev/null 2>&1; then
		pkgs+=(docker.io) why+=("docker.io: no docker client")
	elif ! docker version >/dev/null 2>&1 && ! have_dockerd; then
		# a client with no engine behind it and none on this machine to start
		pkgs+=(docker.io) why+=("docker.io: the Docker engine (dockerd) is not installed; the client $(command -v docker) alone is not enough")
	fi
	command -v curl >/dev/null 2>&1 || { pkgs+=(curl) why+=("curl: readiness checks"); }
	# the base image is made with debootstrap when the engine has no debian:bookworm-slim
	if ! [ -x /usr/sbin/debootstrap ] && ! command -v debootstrap >/dev/null 2>&1; then
		pkgs+=(debootstrap) why+=("debootstrap: the offline base image")
	fi
	find_compose || { pkgs+=(docker-compose) why+=("docker-compose: no docker compose"); }
	[ ${#pkgs[@]} -gt 0 ] || return 0
	say "installing ${pkgs[*]} from Debian's archive (apt-get):"
	printf '  %s\n' "${why[@]}"
	# On a systemd host docker.io's package scripts start the engine; elsewhere
	# ensure_engine starts it with deploy/services.sh.
	as_root env DEBIAN_FRONTEND=noninteractive sh -c "apt-get update -qq &&
		apt-get install -y -qq --no-install-recommends ${pkgs[*]} >/dev/null" ||
		die "installing ${pkgs[*]} failed"
	say "installed ${pkgs[*]}"
	find_compose || die "no docker compose after installing docker-compose"
	if [[ " ${pkgs[*]} " == *" docker.io "* ]]; then
		have_dockerd || die "no dockerd after installing docker.io"
	fi
}

ensure_engine() {
	docker version >/dev/null 2>&1 && return 0
	say "the Docker engine is not running: starting it with deploy/services.sh"
	as_root bash "$root/deploy/services.sh" start docker
	docker version >/dev/null 2>&1 || die "the Docker engine did not start"
}

# 48 hex digits from /dev/urandom: URL-safe, since the passwords go into DATABASE_URL and
# AMQP_URL. od reads a fixed count, so no pipe is cut short under pipefail.
random_hex() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }

# Whether the user set VAR: in the environment, or in the .env compose reads itself.
user_set() { # user_set <var>
	[ -n "${!1:-}" ] && return 0
	[ -f "$root/.env" ] && grep -Eq "^[[:space:]]*(export[[:space:]]+)?$1=" "$root/.env"
}

# Creates the secrets file when there is none. It is written under umask 077 to a mktemp file
# (0600 whatever the umask) and renamed into place: at no moment is it readable by others,
# nor half written. A value the user set is recorded as it is, so later ups match the volumes.
make_secrets() {
	[ -f "$secrets_file" ] && return 0
	# Volumes without their secrets file (made by plain `docker compose up`, or before this
	# file existed: fuzzforge/fuzzforge) keep their passwords: new ones would lock us out.
	if docker volume inspect "${project}_pgdata" >/dev/null 2>&1 &&
		! { user_set FF_PG_PASSWORD && user_set FF_RABBITMQ_PASSWORD; }; then
		die "project $project has data volumes but no $secrets_file: set FF_PG_PASSWORD and" \
			"FF_RABBITMQ_PASSWORD to the ones they were created with (fuzzforge if by an older" \
			"version or a plain 'docker compose up'), or drop them: compose.sh down -v"
	fi
	(
		umask 077
		mkdir -p "$(dirname "$secrets_file")"
		tmp=$(mktemp "$secrets_file.XXXXXX")
		trap 'rm -f "$tmp"' EXIT
		{
			echo "# FuzzForge dev cluster $project: generated by deploy/compose.sh; keep private"
			for v in "${secret_vars[@]}"; do
				case $v in
				FF_API_KEY) printf '%s=%s\n' "$v" "${!v:-ff_$(random_hex)}" ;;
				*) printf '%s=%s\n' "$v" "${!v:-$(random_hex)}" ;;
				esac
			done
		} >"$tmp"
		mv -f "$tmp" "$secrets_file"
		trap - EXIT
	)
	say "generated the passwords and API key of project $project in $secrets_file (mode 0600)"
}

# Exports the file's values the user did not set, for compose's interpolation (every command:
# a `scale` creates containers too). No `source`: the file is data, only known names count.
load_secrets() {
	[ -f "$secrets_file" ] || return 0
	local k v m
	m=$(stat -c %a "$secrets_file")
	if [ "$m" != 600 ]; then
		say "$secrets_file had mode $m: back to 0600" >&2
		chmod 600 "$secrets_file"
	fi
	while IFS='=' read -r k v; do
		[[ " ${secret_vars[*]} " == *" $k "* ]] || continue
		user_set "$k" || export "$k=$v"
	done <"$secrets_file"
}

# host:port the controller is published on (works when FF_CONTROLLER_PORT is empty, too)
controller_addr() {
	local a
	a=$(dc port controller 8000 2>/dev/null | tail -n 1)
	[ -n "$a" ] || a=127.0.0.1:${FF_CONTROLLER_PORT:-8000}
	echo "$a"
}

# The key: FF_API_KEY (the environment's, else the secrets file's, loaded before); without
# either, the one the running controller was given (a cluster started by plain compose).
api_key() {
	if [ -n "${FF_API_KEY:-}" ]; then
		echo "$FF_API_KEY"
		return
	fi
	local id
	id=$(dc ps -q controller 2>/dev/null | head -n 1)
	if [ -n "$id" ]; then
		docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$id" |
			sed -n 's/^FF_API_KEY=//p' | head -n 1
	fi
}

# Builds the workflow images on the host's engine, where the workers start them, with the
# cluster's own one-shot builder (fuzzforge/workflow-images: deploy/build-images.sh and the
# binaries it needs, built in the platform image), so no compiler is needed on the host;
# `up` runs it again as the workflow-images service, which then finds them up to date.
# FF_BUILD_DIR, when set, points deploy/build-images.sh at a local build instead.
build_workflow_images() {
	if [ -n "${FF_BUILD_DIR:-}" ]; then
		bash "$root/deploy/build-images.sh"
		return
	fi
	docker run --rm --network none -e FF_BASE_IMAGE \
		-v "${FF_DOCKER_SOCKET:-/var/run/docker.sock}:/var/run/docker.sock" \
		"fuzzforge/workflow-images:$FF_IMAGE_TAG"
}

wait_ready() { # wait_ready <deadline (epoch s)> [URL (default: the controller's /readyz)]
	local url=${2:-}
	[ -n "$url" ] || url=http://$(controller_addr)/readyz
	until curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; do
		if [ "$(date +%s)" -ge "$1" ]; then
			dc ps >&2 || true
			dc logs --tail=30 controller >&2 || true
			die "no 200 from $url in time"
		fi
		sleep 1
	done
}

# The base every Debian-based image is built on: made without a registry unless given
# (docker-compose.yml's default, debian:bookworm-slim, is for machines that can pull it).
base_image() {
	if [ -z "${FF_BASE_IMAGE:-}" ]; then
		bash "$root/deploy/build-base-image.sh"
		FF_BASE_IMAGE=fuzzforge/debian-base:bookworm
	fi
	export FF_BASE_IMAGE
}

cmd_build() {
	local start
	start=$(date +%s)
	ensure_tools
	ensure_engine
	base_image
	bash "$root/deploy/build-platform-images.sh"
	build_workflow_images
	say "images ready in $(($(date +%s) - start)) s"
}

cmd_up() {
	local start t0 timeout=${FF_UP_TIMEOUT:-300} addr amqp ui pg reg
	start=$(date +%s)
	cmd_build
	make_secrets
	load_secrets
	say "starting project $project with ${COMPOSE[*]}"
	t0=$(date +%s)
	timeout "$timeout" "${COMPOSE[@]}" -p "$project" -f "$root/docker-compose.yml" \
		up -d --remove-orphans --scale "worker=${FF_WORKERS:-1}" ||
		{ dc ps >&2 || true; die "'up -d' failed or took more than ${timeout} s"; }
	wait_ready $((t0 + timeout))
	addr=$(controller_addr)
	pg=$(dc port postgres 5432 2>/dev/null || true)
	amqp=$(dc port rabbitmq 5672 2>/dev/null || true)
	ui=$(dc port rabbitmq 15672 2>/dev/null || true)
	reg=$(dc port registry 5000 2>/dev/null || true)
	say "FuzzForge is ready at http://$addr" \
		"(cluster up in $(($(date +%s) - t0)) s, $(($(date +%s) - start)) s in all)"
	# how to get the key, for this project (the default needs no COMPOSE_PROJECT_NAME)
	local keycmd='deploy/compose.sh key'
	[ "$project" = fuzzforge ] || keycmd="COMPOSE_PROJECT_NAME=$project $keycmd"
	cat <<EOF
  API key      in $secrets_file (FF_API_KEY): export FF_API_KEY=\$($keycmd)
  scan         deploy/compose.sh scan examples/secrets [WORKFLOW]
  ff client    FF_URL=http://$addr FF_API_KEY=\$($keycmd) build/cli/ff scan secret-detection DIR
  workers      deploy/compose.sh scale N
               (now ${FF_WORKERS:-1}, each running ${FF_WORKER_CONCURRENCY:-2} runs at once)
  logs         deploy/compose.sh logs -f [controller|worker|postgres|rabbitmq]
  registry     http://${reg:-?}  (the workflow images; workers on other hosts: deploy/add-worker.sh)
  RabbitMQ UI  http://${ui:-?}  (user ${FF_RABBITMQ_USER:-fuzzforge}, FF_RABBITMQ_PASSWORD in the same file)
  AMQP         amqp://${FF_RABBITMQ_USER:-fuzzforge}:<password>@${amqp:-?}/
  PostgreSQL   postgresql://${FF_PG_USER:-fuzzforge}:<password>@${pg:-?}/${FF_PG_DB:-fuzzforge}
  stop         deploy/compose.sh down           (down -v also drops the data volumes and secrets)
EOF
}

cmd_scan() {
	[ $# -ge 1 ] || die "usage: compose.sh scan DIR [WORKFLOW] [ff options...]"
	local dir=$1 wf=${2:-secret-detection} cli=${FF_CLI:-$root/build/cli/ff}
	shift
	[ $# -eq 0 ] || shift
	# relative to where the script was called from, not to the repository
	[ "${dir#/}" != "$dir" ] || dir=$cwd/$dir
	[ -d "$dir" ] || die "$dir is not a directory"
	# a local client only if it runs here (a build from another machine may lack libraries)
	if [ -x "$cli" ] && "$cli" help >/dev/null 2>&1; then
		FF_URL=http://$(controller_addr) FF_API_KEY=$(api_key) \
			"$cli" scan "$wf" "$dir" --timeout "${FF_SCAN_TIMEOUT:-600}" "$@"
	else
		# No client that runs on this host: the controller image carries one. It reads DIR
		# through a read-only bind mount, as the calling user, and reaches the published
		# API port over the host's network.
		# The key goes through the environment, not docker's arguments, which ps shows.
		FF_API_KEY=$(api_key) docker run --rm --network host --user "$(id -u):$(id -g)" \
			-v "$dir:/scan:ro" -e FF_URL="http://$(controller_addr)" -e FF_API_KEY \
			"fuzzforge/controller:$FF_IMAGE_TAG" \
			ff scan "$wf" /scan --timeout "${FF_SCAN_TIMEOUT:-600}" "$@"
	fi
}

cmd_scale() {
	if [ $# -ne 1 ] || ! [[ $1 =~ ^[0-9]+$ ]]; then
		die "usage: compose.sh scale N"
	fi
	local n=$1 deadline running
	dc up -d --no-deps --no-recreate --scale "worker=$n" worker
	deadline=$(($(date +%s) + 120))
	while :; do
		running=$(docker ps -q --filter "label=com.docker.compose.project=$project" \
			--filter label=com.docker.compose.service=worker --filter status=running | wc -l)
		[ "$running" -eq "$n" ] && break
		[ "$(date +%s)" -lt "$deadline" ] || die "$running workers running, not $n, after 120 s"
		sleep 1
	done
	say "$n worker(s) running"
}

cmd_down() {
	local args=(down --remove-orphans -t 30) kept="data volumes kept (down -v drops them)"
	case ${1:-} in
	-v | --volumes) args+=(-v) kept="data volumes removed" ;;
	"") ;;
	*) die "usage: compose.sh down [-v]" ;;
	esac
	# with the profiles on, so that Prometheus, the second controller and the balancer go too
	COMPOSE_PROFILES=metrics,ha dc "${args[@]}"
	# the volumes are gone, and with them what the passwords protected: the next up makes new
	if [[ " ${args[*]} " == *" -v "* ]] && [ -f "$secrets_file" ]; then
		rm -f "$secrets_file"
		kept="$kept, and $secrets_file"
	fi
	say "stopped project $project; $kept"
}

cmd_ha() {
	local addr=127.0.0.1:${FF_BALANCER_PORT:-8080}
	base_image
	bash "$root/deploy/build-platform-images.sh" haproxy
	dc --profile ha up -d --no-deps --no-build controller2 balancer
	wait_ready $(($(date +%s) + 120)) "http://$addr/readyz"
	say "two controllers behind HAProxy on http://$addr (each checked on /readyz every 500 ms)"
}

cmd_metrics() {
	base_image
	bash "$root/deploy/build-platform-images.sh" prometheus
	dc --profile metrics up -d --no-deps --no-build prometheus
	say "Prometheus on http://127.0.0.1:${FF_PROMETHEUS_PORT:-9090} (scraping every 5 s)"
}

usage() {
	awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"
	exit 2
}

# Sourced (tests/e2e/compose_secrets_test.sh), it only defines the functions.
[ "${BASH_SOURCE[0]}" = "$0" ] || return 0
[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
build) cmd_build ;;
key)
	find_compose || true
	load_secrets
	key=$(api_key)
	[ -n "$key" ] || die "no FF_API_KEY, no $secrets_file, no controller running: run deploy/compose.sh up"
	echo "$key"
	;;
up | scan | scale | metrics | ha | ps | logs | down)
	if [ "$cmd" = up ]; then
		cmd_up "$@"
		exit
	fi
	find_compose || die "neither 'docker compose' nor 'docker-compose' found: run 'deploy/compose.sh up'"
	load_secrets
	case $cmd in
	scan) cmd_scan "$@" ;;
	scale) cmd_scale "$@" ;;
	metrics) cmd_metrics ;;
	ha) cmd_ha ;;
	ps) dc ps "$@" ;;
	logs) if [ $# -eq 0 ]; then dc logs --tail=100; else dc logs "$@"; fi ;;
	down) cmd_down "$@" ;;
	esac
	;;
-h | --help | help) usage ;;
*) usage ;;
esac
